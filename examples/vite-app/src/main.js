// A WebGL2 scene (no preserveDrawingBuffer) drawing colour bands that drift, and a screenshot button.
import { init, isSimd, captureCanvas, createDownloadLink } from 'capturekit';
import 'capturekit/web/capture-button.js';

export const BANDS = [[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 255]];
const canvas = document.getElementById('scene');
const gl = canvas.getContext('webgl2', { antialias: false });

function draw() {
  const w = gl.drawingBufferWidth; const h = gl.drawingBufferHeight;
  gl.enable(gl.SCISSOR_TEST);
  BANDS.forEach((c, i) => {
    const y0 = Math.round(h - ((i + 1) * h) / BANDS.length); const y1 = Math.round(h - (i * h) / BANDS.length);
    gl.scissor(0, y0, w, y1 - y0);
    gl.clearColor(c[0] / 255, c[1] / 255, c[2] / 255, 1);
    gl.clear(gl.COLOR_BUFFER_BIT);
  });
  gl.disable(gl.SCISSOR_TEST);
}
let frames = 0;
(function loop() { frames++; draw(); requestAnimationFrame(loop); })();

const status = document.getElementById('status');
await init();
status.textContent = `wasm loaded (${isSimd() ? 'SIMD' : 'baseline'})`;

const shot = document.getElementById('shot');
shot.addEventListener('capture', (e) => {
  const { result } = e.detail;
  const img = document.createElement('img');
  img.src = URL.createObjectURL(result.blob);
  const { link } = createDownloadLink(result);
  document.getElementById('gallery').append(img, link);
});
shot.addEventListener('captureerror', (e) => { status.textContent = e.detail.error.message; });

// For the browser test: a capture through the bundled Worker and one inline.
window.app = {
  BANDS,
  frames: () => frames,
  simd: isSimd(),
  async capture(options) {
    const r = await captureCanvas(canvas, options);
    let s = '';
    for (let i = 0; i < r.bytes.length; i += 0x8000) s += String.fromCharCode.apply(null, r.bytes.subarray(i, i + 0x8000));
    return { b64: btoa(s), width: r.width, height: r.height, format: r.format, timing: r.timing };
  },
};
window.appReady = true;
