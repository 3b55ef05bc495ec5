// Stream recording benchmarks in Chromium (playwright-core, Debian's chromium, SwiftShader, no GPU).
//
//   1. A 1920x1080 stream at 30 fps with sound, recorded for CK_BENCH_STREAM_SECONDS (default 60; e.g. 5
//      for a short try) by capturekit webcodecs, capturekit mediarecorder and mediabunny (npm,
//      MediaStreamVideoTrackSource + MediaStreamAudioTrackSource into WebM), one after the other, each
//      in a fresh page with the same content; all VP8 at 4 Mb/s + Opus. The stream is a 1920x1080 canvas
//      (captureStream(0), one requestFrame() per frame drawn) and a Web Audio track, not getDisplayMedia:
//      headless Chromium's screen here is 1920x1080 but its fake screen device delivers 20 fps of a
//      synthetic pattern, whatever frameRate is asked for. The canvas looks like a screen: a still
//      desktop, a window whose text scrolls, a moving pointer; a white band flashes at the top for three
//      frames every 2 s (three: an encoder that drops a frame rarely drops all three), and the sound clicks at the same instants (both scheduled from the audio clock).
//      Measured: frames in the file / frames offered (ffprobe packets); main-thread ms per frame (the
//      gaps between requestAnimationFrame callbacks beyond one refresh, summed, and the long tasks
//      summed), beside a run with no recorder (the source alone); the file's size; the A/V offset
//      (click minus flash, ffmpeg signalstats / silencedetect) at the start and at the end of the file,
//      and how far it moved.
//   2. Audio: Opus encode speed (× real time) of capturekit's wasm libopus (OpusEncoder, complexity 10)
//      and of the browser's AudioEncoder (Opus, complexity 10) on the same 10 s of mono 48 kHz PCM, 20 ms
//      frames, 64 kb/s, in the same page; and the gzip size of the audio module beside the video module.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { launchBrowser, serveStatic } from '../tests/browser/browser.mjs';
import { table, fmt } from './timing.js';

const SECONDS = Number(process.env.CK_BENCH_STREAM_SECONDS) || 60;
const W = 1920, H = 1080, FPS = 30, PERIOD = 2;

const PAGE = `<!doctype html><meta charset="utf-8"><body style="margin:0">
<canvas id="c" width="${W}" height="${H}" style="width:480px;height:270px"></canvas>
<script type="module">
import * as ck from '/js-glue/index.js';
import * as mb from '/node_modules/mediabunny/dist/bundles/mediabunny.mjs';
const W = ${W}, H = ${H}, FPS = ${FPS}, PERIOD = ${PERIOD}, FLASH_FRAMES = 3;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const canvas = document.getElementById('c');
const g = canvas.getContext('2d', { alpha: false });

// The desktop: drawn once; each frame redraws only what changes, as a screen does.
function desktop() {
  const grad = g.createLinearGradient(0, 0, W, H);
  grad.addColorStop(0, '#1d3557'); grad.addColorStop(1, '#457b9d');
  g.fillStyle = grad; g.fillRect(0, 0, W, H);
  for (let i = 0; i < 12; i++) { g.fillStyle = '#e0e0e0'; g.fillRect(40, 160 + i * 70, 48, 48); }
  g.fillStyle = '#222'; g.fillRect(0, H - 48, W, 48);
  g.fillStyle = '#fff'; g.fillRect(300, 180, 1200, 760);
}
desktop();
let line = 0;
function draw(i, flash) {
  // the window's text scrolls by one line every 4 frames
  if (i % 4 === 0) {
    line++;
    g.fillStyle = '#fff'; g.fillRect(300, 220, 1200, 720);
    g.fillStyle = '#111'; g.font = '22px sans-serif';
    for (let k = 0; k < 24; k++) g.fillText(\`\${line + k}: the quick brown fox jumps over the lazy dog \${((line + k) * 7919) % 10007}\`, 320, 250 + k * 28);
  }
  // the pointer moves (and leaves a trail: cheap to draw, and it changes the picture everywhere in time)
  const px = 600 + 400 * Math.sin(i / 20), py = 500 + 200 * Math.cos(i / 27);
  g.fillStyle = '#f1c40f'; g.fillRect(px, py, 18, 26);
  // the flash band
  g.fillStyle = flash ? '#fff' : '#2b2d42'; g.fillRect(0, 0, W, 120);
  g.fillStyle = '#000'; g.fillRect(W - 200, H - 40, 180, 32); g.fillStyle = '#0f0'; g.font = '24px monospace'; g.fillText(String(i), W - 190, H - 16);
}

async function save(name, blob) {
  const res = await fetch('/save?name=' + encodeURIComponent(name), { method: 'POST', body: blob });
  if (!res.ok) throw new Error('saving ' + name + ': ' + res.status);
}

/** Records the stream for \`seconds\` with \`peer\` ('none' = the source alone); returns what the page measured. */
window.runPeer = async (peer, seconds) => {
  const ctx = new AudioContext({ sampleRate: 48000 });
  await ctx.resume();
  const osc = ctx.createOscillator(); osc.frequency.value = 1000;
  const gain = ctx.createGain(); gain.gain.value = 0;
  const dest = ctx.createMediaStreamDestination();
  osc.connect(gain).connect(dest); osc.start();
  const videoTrack = canvas.captureStream(0).getVideoTracks()[0];
  const audioTrack = dest.stream.getAudioTracks()[0];
  const stream = new MediaStream([videoTrack, audioTrack]);
  draw(0, false); videoTrack.requestFrame();

  let stop;
  let skipped = 0;
  if (peer === 'webcodecs' || peer === 'mediarecorder') {
    const rec = await ck.createRecorder(stream, { backend: peer, codec: 'vp8', bitrate: 4_000_000, audioBitrate: 128_000,
      onbackpressure: (info) => { skipped = Math.max(skipped, info.skippedFrames ?? 0); } });
    stop = async () => { const r = await rec.stop(); return { blob: r.blob ?? new Blob([r.data]), backend: r.backend, frames: r.frames }; };
  } else if (peer === 'mediabunny') {
    const output = new mb.Output({ format: new mb.WebMOutputFormat(), target: new mb.BufferTarget() });
    // frameRate: null = every frame as the track delivers it, as capturekit records them (by default it
    // takes the track's settings.frameRate, which is 0 for captureStream(0), and then keeps only the first frame)
    const vs = new mb.MediaStreamVideoTrackSource(videoTrack, { codec: 'vp8', bitrate: 4_000_000 }, { frameRate: null });
    const as = new mb.MediaStreamAudioTrackSource(audioTrack, { codec: 'opus', bitrate: 128_000 });
    let failed = null;
    vs.errorPromise.catch((e) => { failed = e; });
    as.errorPromise.catch((e) => { failed = e; });
    output.addVideoTrack(vs, { frameRate: FPS });
    output.addAudioTrack(as);
    await output.start();
    stop = async () => { await output.finalize(); if (failed) throw failed; return { blob: new Blob([output.target.buffer]), backend: 'mediabunny', frames: null }; };
  } else {
    stop = async () => null;
  }

  // main-thread probes
  let longMs = 0, longTasks = 0;
  const po = new PerformanceObserver((l) => { for (const e of l.getEntries()) { longMs += e.duration; longTasks++; } });
  po.observe({ type: 'longtask', buffered: false });
  let rafOn = true, rafs = 0, rafExcess = 0, last = null;
  const refresh = 1000 / 60;
  const onRaf = (t) => { if (last !== null) rafExcess += Math.max(0, t - last - refresh * 1.5); last = t; rafs++; if (rafOn) requestAnimationFrame(onRaf); };
  requestAnimationFrame(onRaf);

  // clicks every PERIOD s on the audio clock, from 0.5 s on
  const c0 = ctx.currentTime + 0.5;
  const n = Math.ceil(seconds / PERIOD) + 1;
  for (let k = 0; k < n; k++) { gain.gain.setValueAtTime(0.8, c0 + k * PERIOD); gain.gain.setValueAtTime(0, c0 + k * PERIOD + 0.02); }
  const audioNow = () => { const ts = ctx.getOutputTimestamp(); return ts.contextTime + (performance.now() - ts.performanceTime) / 1000; };

  // frames at 30 fps from a timer, as an app would draw them; a frame whose time has passed by a whole
  // frame is not drawn (the source's own drop, counted apart from the recorder's)
  const t0 = performance.now();
  let offered = 0, late = 0, flashLeft = 0, nextClick = 0;
  for (let i = 1; ; i++) {
    const due = t0 + (i * 1000) / FPS;
    if (due > t0 + seconds * 1000) break;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    else if (wait < -1000 / FPS) { late++; continue; }
    const a = audioNow();
    if (nextClick < n && a >= c0 + nextClick * PERIOD) { flashLeft = FLASH_FRAMES; while (nextClick < n && a >= c0 + nextClick * PERIOD) nextClick++; }
    draw(i, flashLeft > 0);
    if (flashLeft > 0) flashLeft--;
    videoTrack.requestFrame();
    offered++;
  }
  const offeredMs = performance.now() - t0;
  const out = await stop();
  const doneMs = performance.now() - t0;
  rafOn = false; po.disconnect();
  osc.stop(); await ctx.close(); videoTrack.stop(); audioTrack.stop();
  if (out) await save(peer + '.webm', out.blob);
  return { peer, offered, late, offeredMs, doneMs, rafs, rafExcess, longMs, longTasks, bytes: out ? out.blob.size : 0, reported: out?.frames ?? null, skipped };
};

// Same 10 s of PCM for both: a 440 Hz tone with a click every 0.5 s and a band of noise.
function pcm(seconds) {
  const x = new Float32Array(seconds * 48000);
  let s = 12345;
  for (let i = 0; i < x.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    x[i] = 0.4 * Math.sin((2 * Math.PI * 440 * i) / 48000) + ((s / 4294967296) - 0.5) * 0.1 + (i % 24000 < 480 ? 0.5 * Math.sin((2 * Math.PI * 1000 * i) / 48000) : 0);
  }
  return x;
}
window.audioSpeed = async (runs) => {
  const x = pcm(10);
  const wasm = async () => {
    const enc = await ck.OpusEncoder.create({ sampleRate: 48000, channels: 1, bitrate: 64000, frameMs: 20, complexity: 10 });
    let bytes = 0;
    const t0 = performance.now();
    for (let at = 0; at < x.length; at += 4800) for (const p of enc.encode(x.subarray(at, at + 4800))) bytes += p.data.length;
    for (const p of enc.flush()) bytes += p.data.length;
    const ms = performance.now() - t0;
    enc.close();
    return { ms, bytes };
  };
  const browser = async () => {
    let bytes = 0, err = null;
    const enc = new AudioEncoder({ output: (c) => { bytes += c.byteLength; }, error: (e) => { err = e; } });
    enc.configure({ codec: 'opus', sampleRate: 48000, numberOfChannels: 1, bitrate: 64000, opus: { complexity: 10, frameDuration: 20000 } });
    const t0 = performance.now();
    for (let at = 0; at < x.length; at += 4800) {
      const d = new AudioData({ format: 'f32', sampleRate: 48000, numberOfFrames: 4800, numberOfChannels: 1, timestamp: (at / 48) * 1000, data: x.subarray(at, at + 4800) });
      enc.encode(d); d.close();
    }
    await enc.flush();
    const ms = performance.now() - t0;
    enc.close();
    if (err) throw err;
    return { ms, bytes };
  };
  const median = (a) => a.sort((p, q) => p - q)[a.length >> 1];
  const out = {};
  for (const [name, fn] of [['wasm', wasm], ['AudioEncoder', browser]]) {
    await fn(); // warm-up: module, encoder
    const times = [];
    let bytes = 0;
    for (let i = 0; i < runs; i++) { const r = await fn(); times.push(r.ms); bytes = r.bytes; }
    out[name] = { ms: median(times), bytes };
  }
  return out;
};
window.ready = true;
</script>`;

/** Flash times (s) in the file: the top band's mean luma (signalstats YAVG) over 128. */
function flashes(file) {
  const frames = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-f', 'lavfi', `movie=${file},crop=iw:112:0:0,scale=192:12,signalstats`,
    '-show_entries', 'frame=pts_time:frame_tags=lavfi.signalstats.YAVG', '-of', 'json'], { encoding: 'utf8', maxBuffer: 1 << 28 })).frames;
  const out = [];
  let prev = 0;
  for (const f of frames) {
    const y = Number(f.tags['lavfi.signalstats.YAVG']);
    if (y > 128 && prev <= 128) out.push(Number(f.pts_time));
    prev = y;
  }
  return out;
}

/** Click times (s) in the file's first audio stream: where silencedetect's silence ends. */
function clicks(file) {
  const out = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-f', 'lavfi', `amovie=${file},silencedetect=n=-20dB:d=0.4`,
    '-show_entries', 'frame_tags=lavfi.silence_end', '-of', 'json'], { encoding: 'utf8', maxBuffer: 1 << 28 }));
  return out.frames.map((f) => f.tags?.['lavfi.silence_end']).filter((x) => x !== undefined).map(Number);
}

function videoPackets(file) {
  const s = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-count_packets', '-show_entries',
    'stream=nb_read_packets:format=duration', '-of', 'json', file], { encoding: 'utf8' }));
  return { packets: Number(s.streams[0].nb_read_packets), duration: Number(s.format.duration) };
}

const median = (a) => (a.length ? [...a].sort((p, q) => p - q)[a.length >> 1] : NaN);

/** Click minus nearest flash (s) for each click: the offsets at the start (first 3) and the end (last 3). */
function avOffsets(file) {
  const f = flashes(file);
  const offs = [];
  for (const c of clicks(file)) {
    let best = null;
    for (const x of f) if (best === null || Math.abs(x - c) < Math.abs(best - c)) best = x;
    if (best !== null && Math.abs(best - c) < PERIOD / 2) offs.push(c - best);
  }
  return { pairs: offs.length, start: median(offs.slice(0, 3)), end: median(offs.slice(-3)) };
}

const gz = (file) => {
  const p = new URL(`../dist/${file}`, import.meta.url);
  return existsSync(p) ? gzipSync(readFileSync(p), { level: 9 }).length : NaN;
};

export default async function run({ report }) {
  const dir = mkdtempSync(join(tmpdir(), 'ck-bench-stream-'));
  const routes = {
    '/bench-record-stream.html': (req, res) => { res.writeHead(200, { 'content-type': 'text/html' }); res.end(PAGE); },
    '/save': (req, res) => {
      const name = new URL(req.url, 'http://x').searchParams.get('name') || '';
      if (!/^[\w.-]+$/.test(name)) { res.writeHead(400).end(); return; }
      const parts = [];
      req.on('data', (c) => parts.push(c));
      req.on('end', () => { writeFileSync(join(dir, name), Buffer.concat(parts)); res.writeHead(204).end(); });
    },
  };
  const site = await serveStatic({ routes });
  const browser = await launchBrowser({ args: ['--autoplay-policy=no-user-gesture-required'] });
  try {
    const open = async () => {
      const page = await browser.newPage();
      const errors = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
      await page.goto(`${site.url}/bench-record-stream.html`);
      try {
        await page.waitForFunction(() => window.ready, null, { timeout: 120_000 });
      } catch (err) {
        throw new Error(`the bench page did not load: ${errors.join('; ') || err.message}`);
      }
      page.errors = errors;
      return page;
    };

    // 1. The stream, recorded by each peer in turn (and once by nobody, for the main thread's baseline).
    const runs = {};
    const loadBefore = loadavg()[0];
    for (const peer of ['none', 'webcodecs', 'mediarecorder', 'mediabunny']) {
      const page = await open();
      const seconds = peer === 'none' ? Math.min(SECONDS, 20) : SECONDS;
      console.log(`record-stream: ${peer}, ${seconds} s`);
      runs[peer] = await page.evaluate(([p, s]) => window.runPeer(p, s), [peer, seconds]);
      if (page.errors.length) runs[peer].errors = page.errors;
      await page.close();
    }
    const loadAfter = loadavg()[0];
    const base = runs.none;
    const perFrame = (r) => ({ raf: r.rafExcess / r.offered, long: r.longMs / r.offered });
    const b = perFrame(base);
    const rows = [];
    const m = {};
    for (const peer of ['webcodecs', 'mediarecorder', 'mediabunny']) {
      const r = runs[peer];
      const file = join(dir, `${peer}.webm`);
      const v = videoPackets(file);
      const av = avOffsets(file);
      const pf = perFrame(r);
      m[peer] = { kept: v.packets / r.offered, raf: pf.raf, long: pf.long, bytes: statSync(file).size, av };
      console.log(`record-stream: ${peer}: ${JSON.stringify({ ...r, ...v, av })}`);
    }
    const names = { webcodecs: 'capturekit webcodecs', mediarecorder: 'capturekit mediarecorder', mediabunny: 'mediabunny (MediaStream*TrackSource → WebM)' };
    const ratio = (a, c) => (Number.isFinite(a) && Number.isFinite(c) && c !== 0 ? fmt(a / c, 2) : 'n/a');
    for (const peer of ['webcodecs', 'mediarecorder', 'mediabunny']) {
      const x = m[peer], y = m.mediabunny, r = runs[peer];
      rows.push([names[peer], r.offered, Math.round(x.kept * r.offered), `${fmt(100 * x.kept, 1)} %`, ratio(x.kept, y.kept),
        fmt(x.raf, 2), fmt(x.raf - b.raf, 2), ratio(x.raf, y.raf), fmt(x.long, 2),
        fmt(x.bytes / 1048576, 1), ratio(x.bytes, y.bytes),
        x.av.pairs, fmt(x.av.start * 1000, 1), fmt(x.av.end * 1000, 1), fmt((x.av.end - x.av.start) * 1000, 1), fmt(r.doneMs - r.offeredMs, 0)]);
    }
    report(`Stream recording: ${W}x${H} canvas stream at ${FPS} fps + Opus, ${SECONDS} s, VP8 4 Mb/s (Chromium, SwiftShader)`,
      `Each peer records the same content in a fresh page, one after the other. "kept" = video packets in the file / frames offered ` +
      `(requestFrame calls); ratios are ours / mediabunny (kept: higher is better; main-thread ms and size: lower is better). ` +
      `Main thread: requestAnimationFrame gaps beyond 1.5 refreshes, summed, per frame offered (beside it: minus the same ` +
      `measure with no recorder, ${fmt(b.raf, 2)} ms/frame over ${base.offered} frames), and long tasks (≥ 50 ms) summed per frame. ` +
      `A/V offset: click minus flash in the file (ms), median of the first 3 and of the last 3 pairs; the source itself is not ` +
      `perfectly aligned (a canvas frame and Web Audio), so the move from start to end is the recorder's. "stop ms" = stop() to the complete file. ` +
      `Load average (1 min) ${fmt(loadBefore, 1)} before, ${fmt(loadAfter, 1)} after: on a machine shared with other work, the absolute figures move with it; the ratios are of one run.\n\n` +
      table(['peer', 'offered', 'in the file', 'kept', 'kept vs mediabunny', 'main ms/frame', 'above source only', 'main vs mediabunny', 'long tasks ms/frame',
        'MiB', 'size vs mediabunny', 'A/V pairs', 'A/V start ms', 'A/V end ms', 'A/V moved ms', 'stop ms'], rows) +
      `\n\nFrames capturekit webcodecs reported skipping (backpressure: the encoder was behind): ${runs.webcodecs.skipped}.` +
      (Object.values(runs).some((r) => r.late) ? `\n\nFrames the source itself could not draw in time (not offered): ${Object.entries(runs).map(([k, r]) => `${k} ${r.late}`).join(', ')}.` : '') +
      (Object.values(runs).some((r) => r.errors) ? `\n\nPage errors: ${JSON.stringify(Object.fromEntries(Object.entries(runs).filter(([, r]) => r.errors).map(([k, r]) => [k, r.errors])))}` : ''));

    // 2. Audio encode speed in the browser, and the module sizes.
    const page = await open();
    const a = await page.evaluate((n) => window.audioSpeed(n), 5);
    await page.close();
    const x = (r) => 10_000 / r.ms;
    report('Stream recording: Opus encode speed in Chromium, capturekit wasm libopus vs AudioEncoder (10 s mono 48 kHz, 20 ms frames, 64 kb/s, complexity 10)',
      'Median of 5 runs after a warm-up, the same PCM in the same page. AudioEncoder works off the main thread and is timed from the first encode() to flush() resolved; ' +
      'the wasm encoder runs on the calling thread. Ratio: our speed / AudioEncoder\'s (higher is faster).\n\n' +
      table(['encoder', 'ms for 10 s', '× real time', 'kb/s out', 'speed vs AudioEncoder'], [
        ['capturekit OpusEncoder (wasm libopus)', fmt(a.wasm.ms, 1), `${fmt(x(a.wasm), 0)}×`, fmt((a.wasm.bytes * 8) / 10_000, 1), fmt(x(a.wasm) / x(a.AudioEncoder), 2)],
        ['AudioEncoder (Chromium, Opus)', fmt(a.AudioEncoder.ms, 1), `${fmt(x(a.AudioEncoder), 0)}×`, fmt((a.AudioEncoder.bytes * 8) / 10_000, 1), '1.00'],
      ]));
    const kb = (n) => (Number.isFinite(n) ? `${(n / 1024).toFixed(0)} KB` : 'not built');
    const audio = gz('capturekit-audio.wasm') + gz('capturekit-audio.mjs');
    const video = gz('capturekit-video.wasm') + gz('capturekit-video.mjs');
    report('Stream recording: what audio adds to a page (gzip -9)',
      'Loaded only where Opus is encoded in wasm (no AudioEncoder, or Node); a stream recorded with AudioEncoder loads the video module (the muxer) alone.\n\n' +
      table(['module', 'wasm + JS glue', 'vs the video module'], [
        ['capturekit-audio (libopus encoder)', kb(audio), ratio(audio, video)],
        ['capturekit-video (libvpx + libwebm)', kb(video), '1.00'],
      ]));
  } finally {
    await browser.close();
    await site.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
