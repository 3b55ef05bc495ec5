// The spinning cube the WebGL example pages draw: plain WebGL 1, no preserveDrawingBuffer.
//   const drawCube = createCube(gl, faceColors);  drawCube(timeMs)  draws one frame.

// Red, cyan, green, magenta, blue, yellow: the faces in the order below.
export const CUBE_COLORS = [[1, 0, 0], [0, 1, 1], [0, 1, 0], [1, 0, 1], [0, 0, 1], [1, 1, 0]];

const FACES = [
  [[1, -1, -1], [1, 1, -1], [1, 1, 1], [1, -1, 1]],
  [[-1, -1, 1], [-1, 1, 1], [-1, 1, -1], [-1, -1, -1]],
  [[-1, 1, -1], [-1, 1, 1], [1, 1, 1], [1, 1, -1]],
  [[-1, -1, 1], [-1, -1, -1], [1, -1, -1], [1, -1, 1]],
  [[-1, -1, 1], [1, -1, 1], [1, 1, 1], [-1, 1, 1]],
  [[1, -1, -1], [-1, -1, -1], [-1, 1, -1], [1, 1, -1]],
];

const VS = `attribute vec3 p; attribute vec3 c; uniform mat4 m; varying vec3 v;
  void main() { v = c; gl_Position = m * vec4(p, 1.0); }`;
const FS = `precision mediump float; varying vec3 v; void main() { gl_FragColor = vec4(v, 1.0); }`;

// Perspective × (rotate Y(a) then X(b), translate z -6), column-major.
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

export function createCube(gl, colors = CUBE_COLORS) {
  const shader = (type, src) => {
    const s = gl.createShader(type); gl.shaderSource(s, src); gl.compileShader(s);
    if (!gl.getShaderParameter(s, gl.COMPILE_STATUS)) throw new Error(gl.getShaderInfoLog(s));
    return s;
  };
  const prog = gl.createProgram();
  gl.attachShader(prog, shader(gl.VERTEX_SHADER, VS));
  gl.attachShader(prog, shader(gl.FRAGMENT_SHADER, FS));
  gl.linkProgram(prog);
  const data = [];
  FACES.forEach((q, f) => { for (const i of [0, 1, 2, 0, 2, 3]) data.push(...q[i], ...colors[f]); });
  const buf = gl.createBuffer();
  gl.bindBuffer(gl.ARRAY_BUFFER, buf);
  gl.bufferData(gl.ARRAY_BUFFER, new Float32Array(data), gl.STATIC_DRAW);
  const aP = gl.getAttribLocation(prog, 'p'); const aC = gl.getAttribLocation(prog, 'c');
  const uM = gl.getUniformLocation(prog, 'm');

  return function draw(t) {
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
  };
}
