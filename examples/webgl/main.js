// A spinning cube in plain WebGL (no preserveDrawingBuffer) with a <capture-button>.
import { init, createDownloadLink } from '/js-glue/index.js';
import '/web/capture-button.js';

const canvas = document.getElementById('scene');
const gl = canvas.getContext('webgl', { antialias: true }); // preserveDrawingBuffer: false (the default)

function fitCanvas() {
  const r = canvas.getBoundingClientRect();
  canvas.width = Math.round(r.width * devicePixelRatio);
  canvas.height = Math.round(r.height * devicePixelRatio);
}
fitCanvas();
addEventListener('resize', fitCanvas);

const vs = `attribute vec3 p; attribute vec3 c; uniform mat4 m; varying vec3 v;
  void main() { v = c; gl_Position = m * vec4(p, 1.0); }`;
const fs = `precision mediump float; varying vec3 v; void main() { gl_FragColor = vec4(v, 1.0); }`;
function shader(type, src) {
  const s = gl.createShader(type); gl.shaderSource(s, src); gl.compileShader(s);
  if (!gl.getShaderParameter(s, gl.COMPILE_STATUS)) throw new Error(gl.getShaderInfoLog(s));
  return s;
}
const prog = gl.createProgram();
gl.attachShader(prog, shader(gl.VERTEX_SHADER, vs));
gl.attachShader(prog, shader(gl.FRAGMENT_SHADER, fs));
gl.linkProgram(prog);

// 6 faces x 2 triangles, one colour per face.
const faces = [
  [[1, 0, 0], [[1, -1, -1], [1, 1, -1], [1, 1, 1], [1, -1, 1]]],
  [[0, 1, 1], [[-1, -1, 1], [-1, 1, 1], [-1, 1, -1], [-1, -1, -1]]],
  [[0, 1, 0], [[-1, 1, -1], [-1, 1, 1], [1, 1, 1], [1, 1, -1]]],
  [[1, 0, 1], [[-1, -1, 1], [-1, -1, -1], [1, -1, -1], [1, -1, 1]]],
  [[0, 0, 1], [[-1, -1, 1], [1, -1, 1], [1, 1, 1], [-1, 1, 1]]],
  [[1, 1, 0], [[1, -1, -1], [-1, -1, -1], [-1, 1, -1], [1, 1, -1]]],
];
const data = [];
for (const [col, q] of faces) for (const i of [0, 1, 2, 0, 2, 3]) data.push(...q[i], ...col);
const buf = gl.createBuffer();
gl.bindBuffer(gl.ARRAY_BUFFER, buf);
gl.bufferData(gl.ARRAY_BUFFER, new Float32Array(data), gl.STATIC_DRAW);
const aP = gl.getAttribLocation(prog, 'p'); const aC = gl.getAttribLocation(prog, 'c');
const uM = gl.getUniformLocation(prog, 'm');

function matrix(t, aspect) {
  const f = 1 / Math.tan(Math.PI / 8); const n = 0.1; const fa = 100;
  const P = [f / aspect, 0, 0, 0, 0, f, 0, 0, 0, 0, (fa + n) / (n - fa), -1, 0, 0, (2 * fa * n) / (n - fa), 0];
  const a = t * 0.0007; const b = t * 0.0011;
  const ca = Math.cos(a), sa = Math.sin(a), cb = Math.cos(b), sb = Math.sin(b);
  // rotate Y(a) then X(b), translate z -6 (column-major)
  const R = [ca, sa * sb, -sa * cb, 0, 0, cb, sb, 0, sa, -ca * sb, ca * cb, 0, 0, 0, -6, 1];
  const out = new Array(16).fill(0);
  for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) for (let k = 0; k < 4; k++) out[j * 4 + i] += P[k * 4 + i] * R[j * 4 + k];
  return out;
}

let now = 0;
function draw() {
  const w = gl.drawingBufferWidth; const h = gl.drawingBufferHeight;
  gl.viewport(0, 0, w, h);
  gl.clearColor(0.08, 0.09, 0.12, 1);
  gl.clear(gl.COLOR_BUFFER_BIT | gl.DEPTH_BUFFER_BIT);
  gl.enable(gl.DEPTH_TEST);
  gl.useProgram(prog);
  gl.bindBuffer(gl.ARRAY_BUFFER, buf);
  gl.enableVertexAttribArray(aP); gl.vertexAttribPointer(aP, 3, gl.FLOAT, false, 24, 0);
  gl.enableVertexAttribArray(aC); gl.vertexAttribPointer(aC, 3, gl.FLOAT, false, 24, 12);
  gl.uniformMatrix4fv(uM, false, matrix(now, w / h));
  gl.drawArrays(gl.TRIANGLES, 0, 36);
}
function loop(t) { now = t; draw(); requestAnimationFrame(loop); }
requestAnimationFrame(loop);

// Screenshot button: draws the current frame itself (render), so a high-resolution capture
// (scale > 1) renders one frame into the larger canvas and restores it before the next paint.
await init();
const shot = document.getElementById('shot');
const $ = (id) => document.getElementById(id);
const logo = await makeLogo();
function updateOptions() {
  shot.options = {
    format: $('format').value,
    quality: Number($('quality').value),
    scale: Number($('scale').value),
    render: draw,
    thumbnail: 240,
    filters: $('watermark').checked ? [{ op: 'watermark', image: logo, position: 'bottom-right', margin: 16, opacity: 0.8 }] : [],
    metadata: { example: 'webgl' },
  };
}
for (const id of ['format', 'quality', 'scale', 'watermark']) $(id).addEventListener('change', updateOptions);
updateOptions();

shot.addEventListener('capture', (e) => addToGallery(e.detail.result));
shot.addEventListener('captureerror', (e) => { $('error').textContent = e.detail.error.message; });

function addToGallery(result) {
  $('error').textContent = '';
  const fig = document.createElement('figure');
  const img = document.createElement('img');
  img.src = URL.createObjectURL(result.thumbnail ? result.thumbnail.blob : result.blob);
  const { link } = createDownloadLink(result);
  const cap = document.createElement('figcaption');
  cap.append(`${result.width}×${result.height}, ${(result.blob.size / 1024).toFixed(0)} KiB, main thread ${result.timing.mainThreadMs} ms `, document.createElement('br'), link);
  fig.append(img, cap);
  $('gallery').prepend(fig);
}

// A small logo for the image watermark, drawn once into ImageData.
async function makeLogo() {
  const c = new OffscreenCanvas(120, 36);
  const x = c.getContext('2d');
  x.fillStyle = 'rgba(0,0,0,0.55)'; x.beginPath(); x.roundRect(0, 0, 120, 36, 8); x.fill();
  x.fillStyle = '#fff'; x.font = 'bold 18px system-ui, sans-serif'; x.textBaseline = 'middle'; x.fillText('capturekit', 12, 19);
  return x.getImageData(0, 0, 120, 36);
}
