// Record / Stop for a WebGL scene with capturekit's createRecorder. The app keeps its own render loop;
// the recorder takes each frame right after the app drew it (frames: 'auto').
import { createRecorder } from '/js-glue/index.js';

const $ = (id) => document.getElementById(id);
const canvas = $('scene');
const gl = canvas.getContext('webgl', { antialias: true }); // preserveDrawingBuffer: false (the default)

// ---- a spinning cube, one colour per face ----
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
const faces = [
  [[1, 0.2, 0.2], [[1, -1, -1], [1, 1, -1], [1, 1, 1], [1, -1, 1]]],
  [[0.2, 1, 1], [[-1, -1, 1], [-1, 1, 1], [-1, 1, -1], [-1, -1, -1]]],
  [[0.2, 1, 0.2], [[-1, 1, -1], [-1, 1, 1], [1, 1, 1], [1, 1, -1]]],
  [[1, 0.2, 1], [[-1, -1, 1], [-1, -1, -1], [1, -1, -1], [1, -1, 1]]],
  [[0.2, 0.2, 1], [[-1, -1, 1], [1, -1, 1], [1, 1, 1], [-1, 1, 1]]],
  [[1, 1, 0.2], [[1, -1, -1], [-1, -1, -1], [-1, 1, -1], [1, 1, -1]]],
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
  const R = [ca, sa * sb, -sa * cb, 0, 0, cb, sb, 0, sa, -ca * sb, ca * cb, 0, 0, 0, -6, 1];
  const out = new Array(16).fill(0);
  for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) for (let k = 0; k < 4; k++) out[j * 4 + i] += P[k * 4 + i] * R[j * 4 + k];
  return out;
}
function draw(t) {
  const w = gl.drawingBufferWidth; const h = gl.drawingBufferHeight;
  gl.viewport(0, 0, w, h);
  gl.clearColor(0.08, 0.09, 0.12, 1);
  gl.clear(gl.COLOR_BUFFER_BIT | gl.DEPTH_BUFFER_BIT);
  gl.enable(gl.DEPTH_TEST);
  gl.useProgram(prog);
  gl.bindBuffer(gl.ARRAY_BUFFER, buf);
  gl.enableVertexAttribArray(aP); gl.vertexAttribPointer(aP, 3, gl.FLOAT, false, 24, 0);
  gl.enableVertexAttribArray(aC); gl.vertexAttribPointer(aC, 3, gl.FLOAT, false, 24, 12);
  gl.uniformMatrix4fv(uM, false, matrix(t, w / h));
  gl.drawArrays(gl.TRIANGLES, 0, 36);
}
function loop(t) { draw(t); requestAnimationFrame(loop); }
requestAnimationFrame(loop);

// ---- Record / Stop ----
let recorder = null;
let ticker = null;
let lastUrl = null;

function showStats(lines) { $('stats').textContent = lines.join('\n'); }

$('rec').onclick = async () => {
  $('error').textContent = '';
  $('rec').disabled = true;
  try {
    recorder = await createRecorder(canvas, {
      backend: $('backend').value, codec: $('codec').value, fps: Number($('fps').value), timing: $('timing').value,
      bitrate: 4_000_000, metadata: { example: 'recording' },
      onbackpressure: (b) => console.warn('recorder backpressure', b),
      onerror: (e) => { $('error').textContent = e.message; },
    });
  } catch (e) {
    $('error').textContent = e.message;
    $('rec').disabled = false;
    return;
  }
  $('stop').disabled = false;
  $('dot').classList.add('on');
  const started = performance.now();
  ticker = setInterval(() => showStats([
    `recording with ${recorder.backend} (${recorder.mimeType})`,
    `${((performance.now() - started) / 1000).toFixed(1)} s, ${recorder.frames} frames, ${(recorder.bytes / 1024).toFixed(0)} KiB, ${recorder.queued} queued`,
  ]), 250);
};

$('stop').onclick = async () => {
  $('stop').disabled = true;
  clearInterval(ticker);
  $('dot').classList.remove('on');
  try {
    const r = await recorder.stop();
    if (lastUrl) URL.revokeObjectURL(lastUrl);
    lastUrl = URL.createObjectURL(r.blob);
    $('out').src = lastUrl;
    const a = $('download');
    a.href = lastUrl; a.download = `recording-${new Date().toISOString().replace(/[:.]/g, '-')}.webm`; a.hidden = false;
    showStats([
      `${r.backend}: ${r.codec}, ${r.width}×${r.height}`,
      `${r.frames} frames in ${r.duration.toFixed(3)} s (${r.averageFps.toFixed(1)} fps), ${r.keyframes} keyframes`,
      `${(r.bytes / 1024).toFixed(0)} KiB${r.skippedFrames ? `, ${r.skippedFrames} frames skipped (encoder behind)` : ''}`,
    ]);
    window.lastRecording = r;
  } catch (e) {
    $('error').textContent = e.message;
  }
  recorder = null;
  $('rec').disabled = false;
};
document.body.dataset.ready = 'true';
