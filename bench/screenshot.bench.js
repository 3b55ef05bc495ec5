// Screenshot of a 1920x1080 WebGL canvas to JPEG, end to end, in Chromium (playwright-core, Debian's
// chromium, SwiftShader), three peers in the same page on the same canvas and frames:
//   capturekit   captureCanvas: readPixels (WebGL2: async via a pixel-pack buffer) -> wasm flip +
//                un-premultiply + JPEG encode in a Worker (or inline with worker: false)
//   toBlob       canvas.toBlob('image/jpeg', q) called right after the app draws
//   JS flip      readPixels -> per-pixel JS flip -> putImageData -> toBlob (what apps usually write)
// Times: median of 7 after 2 warm-ups. "main thread" is the synchronous work the page's main thread
// does for one capture (capturekit: result.timing.mainThreadMs, the sum of its synchronous slices;
// toBlob: the toBlob() call; seed: everything from readPixels to the toBlob() call). "longest frame"
// is the longest interval between the app's animation frames while the capture runs (what a user sees
// as a stall); the first row gives the app's own longest frame without any capture.
import { launchBrowser, serveStatic } from '../tests/browser/browser.mjs';
import { table, fmt } from './timing.js';

const PAGE = `<!doctype html><meta charset="utf-8"><body style="margin:0">
<canvas id="c" width="1920" height="1080" style="width:960px;height:540px"></canvas>
<script type="module">
import * as ck from '/js-glue/index.js';
await ck.init();
const W = 1920, H = 1080;
const canvas = document.getElementById('c');
const gl = canvas.getContext(new URLSearchParams(location.search).get('gl') || 'webgl2', { antialias: false }); // no preserveDrawingBuffer
// Deterministic photo-like content: gradients, rings and per-pixel hash noise (so JPEG has work to do).
const vs = 'attribute vec2 p; void main() { gl_Position = vec4(p, 0.0, 1.0); }';
const fs = \`precision highp float; uniform float t;
  float h(vec2 v) { return fract(sin(dot(v, vec2(12.9898, 78.233))) * 43758.5453); }
  void main() {
    vec2 uv = gl_FragCoord.xy / vec2(${'${W}'}.0, ${'${H}'}.0);
    float r = length(uv - vec2(0.5 + 0.1 * sin(t), 0.5));
    vec3 c = vec3(uv.x, uv.y, 0.5 + 0.5 * sin(30.0 * r - t));
    c = mix(c, vec3(h(gl_FragCoord.xy)), 0.15);
    gl_FragColor = vec4(c, 1.0);
  }\`;
function sh(type, src) { const s = gl.createShader(type); gl.shaderSource(s, src); gl.compileShader(s); return s; }
const prog = gl.createProgram();
gl.attachShader(prog, sh(gl.VERTEX_SHADER, vs)); gl.attachShader(prog, sh(gl.FRAGMENT_SHADER, fs)); gl.linkProgram(prog);
const buf = gl.createBuffer(); gl.bindBuffer(gl.ARRAY_BUFFER, buf);
gl.bufferData(gl.ARRAY_BUFFER, new Float32Array([-1, -1, 3, -1, -1, 3]), gl.STATIC_DRAW);
const uT = gl.getUniformLocation(prog, 't');
let frame = 0;
function draw() {
  gl.viewport(0, 0, W, H);
  gl.useProgram(prog);
  gl.bindBuffer(gl.ARRAY_BUFFER, buf);
  gl.enableVertexAttribArray(0); gl.vertexAttribPointer(0, 2, gl.FLOAT, false, 0, 0);
  gl.uniform1f(uT, frame * 0.05);
  gl.drawArrays(gl.TRIANGLES, 0, 3);
}
(function loop() { frame++; draw(); requestAnimationFrame(loop); })();

// Longest interval between animation frames while fn() runs (and two frames after it resolves, so a
// block that ends with the promise is seen too).
async function withFrameProbe(fn) {
  let last = null, worst = 0, on = true;
  const tick = (t) => { if (last !== null) worst = Math.max(worst, t - last); last = t; if (on) requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
  try {
    const value = await fn();
    await nextFrame(); await nextFrame();
    return { value, longest: () => worst };
  } finally { on = false; }
}
const nextFrame = () => new Promise((r) => requestAnimationFrame(r));

const peers = {
  async idle() {
    const t0 = performance.now();
    for (let i = 0; i < 10; i++) await nextFrame();
    return { total: performance.now() - t0, main: 0, bytes: 0 };
  },
  async capturekit(q, worker) {
    const t0 = performance.now();
    const r = await ck.captureCanvas(canvas, { format: 'image/jpeg', quality: q, worker });
    return { total: performance.now() - t0, main: r.timing.mainThreadMs, bytes: r.blob.size, slices: r.timing.mainThread };
  },
  async toBlob(q) {
    await nextFrame();
    let main = 0; const t0 = performance.now();
    const blob = await new Promise((resolve) => requestAnimationFrame(() => {
      draw(); // the app's frame, drawn again right before the call (same content as the loop's)
      const s = performance.now();
      canvas.toBlob(resolve, 'image/jpeg', q);
      main += performance.now() - s;
    }));
    return { total: performance.now() - t0, main, bytes: blob.size };
  },
  async seed(q) {
    await nextFrame();
    let main = 0; const t0 = performance.now();
    const blob = await new Promise((resolve) => requestAnimationFrame(() => {
      draw();
      const s = performance.now();
      const pixels = new Uint8Array(W * H * 4);
      gl.readPixels(0, 0, W, H, gl.RGBA, gl.UNSIGNED_BYTE, pixels);
      const c2 = document.createElement('canvas'); c2.width = W; c2.height = H;
      const ctx = c2.getContext('2d');
      const imageData = ctx.createImageData(W, H);
      for (let y = 0; y < H; y++) {
        for (let x = 0; x < W; x++) {
          const srcIdx = (y * W + x) * 4; const dstIdx = ((H - y - 1) * W + x) * 4;
          imageData.data[dstIdx] = pixels[srcIdx]; imageData.data[dstIdx + 1] = pixels[srcIdx + 1];
          imageData.data[dstIdx + 2] = pixels[srcIdx + 2]; imageData.data[dstIdx + 3] = pixels[srcIdx + 3];
        }
      }
      ctx.putImageData(imageData, 0, 0);
      c2.toBlob(resolve, 'image/jpeg', q);
      main += performance.now() - s;
    }));
    return { total: performance.now() - t0, main, bytes: blob.size };
  },
};

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[s.length >> 1]; };
window.measure = async (name, q, arg, { warmup = 2, runs = 7 } = {}) => {
  for (let i = 0; i < warmup; i++) await peers[name](q, arg);
  const rows = [];
  for (let i = 0; i < runs; i++) {
    const { value, longest } = await withFrameProbe(() => peers[name](q, arg));
    rows.push({ ...value, longest: longest() });
  }
  const slices = {};
  for (const k of Object.keys(rows[0].slices || {})) slices[k] = median(rows.map((r) => (r.slices && r.slices[k]) || 0));
  return { total: median(rows.map((r) => r.total)), main: median(rows.map((r) => r.main)), longest: median(rows.map((r) => r.longest)), bytes: median(rows.map((r) => r.bytes)), slices };
};
window.simd = ck.isSimd();
window.ready = true;
</script>`;

export default async function run({ report }) {
  const browser = await launchBrowser();
  const site = await serveStatic({ routes: { '/bench/screenshot.html': (req, res) => { res.writeHead(200, { 'content-type': 'text/html' }); res.end(PAGE); } } });
  try {
    const results = {};
    for (const gl of ['webgl2', 'webgl']) {
      const page = await browser.newPage();
      page.on('pageerror', (e) => console.error('bench page:', e));
      await page.goto(`${site.url}/bench/screenshot.html?gl=${gl}`);
      await page.waitForFunction(() => window.ready, null, { timeout: 60000 });
      results.simd = await page.evaluate(() => window.simd);
      const m = (name, q, arg) => page.evaluate(([n, qq, a]) => window.measure(n, qq, a), [name, q, arg]);
      results[`${gl}-idle`] = await m('idle', 0);
      for (const q of [0.92, 0.9]) {
        results[`${gl}-${q}`] = {
          worker: await m('capturekit', q, true),
          inline: await m('capturekit', q, false),
          toBlob: await m('toBlob', q),
          seed: await m('seed', q),
        };
      }
      await page.close();
    }

    const rows = [];
    const slices = [];
    for (const key of Object.keys(results).filter((k) => k !== 'simd' && !k.endsWith('-idle'))) {
      const [gl, q] = key.split('-');
      const r = results[key];
      if (q === '0.92') rows.push([gl, '–', 'app alone (no capture)', '–', '–', '–', '–', fmt(results[`${gl}-idle`].longest, 1), '–']);
      for (const [label, v] of [['capturekit (Worker)', r.worker], ['capturekit (worker: false)', r.inline], ['canvas.toBlob', r.toBlob], ['hand-written JS flip + toBlob', r.seed]]) {
        rows.push([gl, q, label, fmt(v.total, 1), fmt(v.total / r.toBlob.total), fmt(v.total / r.seed.total), fmt(v.main, 1), fmt(v.longest, 1), `${(v.bytes / 1024).toFixed(0)} KiB`]);
      }
      for (const [label, v] of [['Worker', r.worker], ['worker: false', r.inline]]) {
        slices.push([gl, q, label, ...['setup', 'read', 'readback', 'post', 'process', 'finish'].map((k) => fmt(v.slices[k] || 0, 2)), fmt(v.main, 2)]);
      }
    }
    report('Screenshot: 1920x1080 WebGL canvas to JPEG, end to end (Chromium, SwiftShader)',
      `Canvas: a deterministic fragment shader (gradients, rings, 15% per-pixel hash noise), redrawn every frame, ` +
      `context without preserveDrawingBuffer. capturekit wasm build: ${results.simd ? 'SIMD' : 'baseline'}. ` +
      `Medians of 7 after 2 warm-ups. Ratios are time / peer's time (lower is better). JPEG quality q for every peer ` +
      `(capturekit's encoder uses 4:4:4 chroma above 0.90 and 4:2:0 at or below; Chromium's toBlob always 4:2:0).\n\n` +
      table(['context', 'q', 'peer', 'total ms', '× toBlob', '× seed', 'main thread ms', 'longest frame ms', 'size'], rows));
    report('Screenshot: where capturekit\'s main-thread time goes (1920x1080 WebGL, medians, ms)',
      `setup: option and canvas checks; read: binding and issuing readPixels (WebGL2 + Worker: into a pixel-pack ` +
      `buffer, so no GPU wait; otherwise a synchronous readPixels that waits for the frame to finish rendering); ` +
      `readback: fence polls and getBufferSubData into a pooled, pre-faulted buffer; post: postMessage to the Worker ` +
      `(pixels transferred); process: flip, un-premultiply and JPEG encode (inline only); finish: Blob and metadata. ` +
      `Target: at most 5 ms per 1080p capture with the Worker.\n\n` +
      table(['context', 'q', 'mode', 'setup', 'read', 'readback', 'post', 'process', 'finish', 'total'], slices));
  } finally {
    await browser.close();
    await site.close();
  }
}
