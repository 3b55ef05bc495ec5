// Recording benchmarks in Chromium (playwright-core, Debian's chromium, SwiftShader, no GPU), peers in the
// same page on the same frames:
//   1. VP9 1280x720 encode throughput through createRecorder: backend 'webcodecs' (the browser's
//      VideoEncoder, capturekit's muxer) vs 'wasm' (libvpx in the record Worker), fed RGBA frames
//      (addFrame) and a WebGL canvas (captureFrame: a VideoFrame from the canvas vs readPixels).
//      fps = frames / (first frame handed over -> stop() resolved, file complete).
//   2. Frame drops at 720p, 30 fps offered in real time: MediaRecorder VP8 (captureStream(0) +
//      requestFrame() per frame; dropped = requested - frames in its file) vs the wasm path (VP8;
//      dropped = frames refused because maxQueuedFrames were already waiting: reported, never silent).
// Frames: a deterministic WebGL shader (gradients, moving rings, per-pixel hash noise) at frame index t;
// the RGBA frames are 16 of those read back once and cycled.
import { launchBrowser, serveStatic } from '../tests/browser/browser.mjs';
import { table, fmt } from './timing.js';

const PAGE = `<!doctype html><meta charset="utf-8"><body style="margin:0">
<canvas id="c" width="1280" height="720" style="width:640px;height:360px"></canvas>
<script type="module">
import * as ck from '/js-glue/index.js';
const W = 1280, H = 720;
const canvas = document.getElementById('c');
const gl = canvas.getContext('webgl2', { antialias: false });
const vs = 'attribute vec2 p; void main() { gl_Position = vec4(p, 0.0, 1.0); }';
const fs = \`precision highp float; uniform float t;
  float h(vec2 v) { return fract(sin(dot(v + t, vec2(12.9898, 78.233))) * 43758.5453); }
  void main() {
    vec2 uv = gl_FragCoord.xy / vec2(1280.0, 720.0);
    float r = length(uv - vec2(0.5 + 0.2 * sin(t * 0.1), 0.5));
    vec3 c = vec3(uv.x, uv.y, 0.5 + 0.5 * sin(30.0 * r - t * 0.3));
    c = mix(c, vec3(h(floor(gl_FragCoord.xy / 4.0))), 0.08);
    gl_FragColor = vec4(c, 1.0);
  }\`;
function sh(type, src) { const s = gl.createShader(type); gl.shaderSource(s, src); gl.compileShader(s); return s; }
const prog = gl.createProgram();
gl.attachShader(prog, sh(gl.VERTEX_SHADER, vs)); gl.attachShader(prog, sh(gl.FRAGMENT_SHADER, fs)); gl.linkProgram(prog);
const buf = gl.createBuffer(); gl.bindBuffer(gl.ARRAY_BUFFER, buf);
gl.bufferData(gl.ARRAY_BUFFER, new Float32Array([-1, -1, 3, -1, -1, 3]), gl.STATIC_DRAW);
const uT = gl.getUniformLocation(prog, 't');
function draw(i) {
  gl.viewport(0, 0, W, H); gl.useProgram(prog); gl.bindBuffer(gl.ARRAY_BUFFER, buf);
  gl.enableVertexAttribArray(0); gl.vertexAttribPointer(0, 2, gl.FLOAT, false, 0, 0);
  gl.uniform1f(uT, i); gl.drawArrays(gl.TRIANGLES, 0, 3);
}
let rgba = null;
function frames() {
  if (rgba) return rgba;
  rgba = [];
  for (let i = 0; i < 16; i++) {
    draw(i);
    const px = new Uint8Array(W * H * 4);
    gl.readPixels(0, 0, W, H, gl.RGBA, gl.UNSIGNED_BYTE, px);
    rgba.push({ data: px, width: W, height: H });
  }
  return rgba;
}

window.throughput = async (backend, codec, n, source) => {
  const rec = await ck.createRecorder(source === 'canvas' ? canvas : null,
    { backend, codec, fps: 30, bitrate: 3_000_000, frames: 'manual', size: { width: W, height: H }, maxQueuedFrames: 8 });
  const imgs = source === 'rgba' ? frames() : null;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    await rec.ready;
    if (imgs) rec.addFrame(imgs[i % imgs.length]);
    else { draw(i); rec.captureFrame(); }
  }
  const r = await rec.stop();
  const ms = performance.now() - t0;
  return { backend: r.backend, frames: r.frames, ms, fps: r.frames / (ms / 1000), bytes: r.bytes };
};

// Real time: frame i is drawn and offered at i / fps (a timer, as a 30 fps app would), whatever the
// recorder is doing; nobody waits for the encoder.
window.drops = async (kind, n, fps) => {
  const rec = kind === 'mediarecorder'
    ? await ck.createRecorder(canvas, { backend: 'mediarecorder', codec: 'vp8', fps, bitrate: 3_000_000, frames: 'manual', repair: false })
    : await ck.createRecorder(canvas, { backend: 'wasm', codec: 'vp8', fps, bitrate: 3_000_000, frames: 'manual' });
  let refused = 0;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const due = t0 + (i * 1000) / fps;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    draw(i);
    if (kind !== 'mediarecorder' && rec.desiredSize <= 0) { refused++; continue; }
    rec.captureFrame();
  }
  const offeredMs = performance.now() - t0;
  const r = await rec.stop();
  const doneMs = performance.now() - t0;
  return { kind, offered: n, recorded: r.frames, refused, dropped: n - r.frames, offeredMs, doneMs, backend: r.backend };
};
window.ready = true;
</script>`;

export default async function run({ report }) {
  const site = await serveStatic({ routes: { '/bench-recorder.html': (req, res) => { res.writeHead(200, { 'content-type': 'text/html' }); res.end(PAGE); } } });
  const browser = await launchBrowser();
  try {
    const open = async () => {
      const page = await browser.newPage();
      await page.goto(`${site.url}/bench-recorder.html`);
      await page.waitForFunction(() => window.ready);
      return page;
    };

    // 1. VP9 720p throughput.
    const N = 45;
    const rows = [];
    const results = {};
    for (const source of ['rgba', 'canvas']) {
      for (const backend of ['webcodecs', 'wasm']) {
        const page = await open();
        await page.evaluate(([b, s]) => throughput(b, 'vp9', 5, s), [backend, source]); // warm-up: modules, Worker, encoder
        const r = await page.evaluate(([b, s, n]) => throughput(b, 'vp9', n, s), [backend, source, N]);
        await page.close();
        results[`${source}/${backend}`] = r;
        rows.push([source === 'rgba' ? 'RGBA frames (addFrame)' : 'WebGL canvas (captureFrame)', backend, r.frames, fmt(r.ms, 0), fmt(r.fps, 1), fmt(r.bytes / 1024, 0)]);
      }
    }
    for (const row of rows) {
      const source = row[0].startsWith('RGBA') ? 'rgba' : 'canvas';
      const wasm = results[`${source}/wasm`].fps;
      row.push(row[1] === 'wasm' ? '1.00' : fmt(results[`${source}/${row[1]}`].fps / wasm, 2));
    }
    report(`Recorder: VP9 1280x720 encode throughput, ${N} frames (Chromium, SwiftShader; deterministic WebGL shader frames)`,
      `fps = frames / (first frame handed over -> stop() resolved with the complete file). Speed ratio: fps / wasm fps (higher is faster).\n\n` +
      table(['source', 'backend', 'frames', 'ms', 'fps', 'KiB', 'speed vs wasm'], rows));

    // 2. Drops at 720p, 30 fps offered in real time.
    const M = 90;
    const drops = [];
    for (const kind of ['mediarecorder', 'wasm']) {
      const page = await open();
      const r = await page.evaluate(([k, n]) => drops(k, n, 30), [kind, M]);
      await page.close();
      drops.push([kind === 'mediarecorder' ? 'MediaRecorder VP8 (captureStream(0) + requestFrame)' : 'capturekit wasm VP8 (Worker, maxQueuedFrames 8)',
        r.offered, r.recorded, r.dropped, `${fmt((100 * r.dropped) / r.offered, 1)} %`,
        kind === 'mediarecorder' ? 'silent (missing from the file)' : `reported (${r.refused} refused with backpressure)`, fmt(r.offeredMs, 0), fmt(r.doneMs, 0)]);
    }
    report(`Recorder: frame drops, VP8 1280x720, ${M} frames offered at 30 fps in real time (Chromium, SwiftShader)`,
      'Both peers get the same frames on the same WebGL canvas, one every 33.3 ms from a timer; nobody waits for the encoder. ' +
      'The wasm path accepts a frame only while fewer than maxQueuedFrames wait (else the app is told, via the recorder\'s backpressure), ' +
      'MediaRecorder takes every request and decides itself. "done" = when stop() resolved.\n\n' +
      table(['peer', 'offered', 'in the file', 'dropped', 'drop rate', 'how', 'offering ms', 'done ms'], drops));
  } finally {
    await browser.close();
    await site.close();
  }
}
