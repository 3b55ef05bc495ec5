// Stream recording benchmarks in Chromium (playwright-core, Debian's chromium, SwiftShader, no GPU).
//
//   1. A 1920x1080 stream at 30 fps with sound, recorded for CK_BENCH_STREAM_SECONDS (default 60; e.g. 5
//      for a short try) by capturekit webcodecs, capturekit mediarecorder and mediabunny (npm,
//      MediaStreamVideoTrackSource + MediaStreamAudioTrackSource into WebM), one after the other, each
//      in a fresh page on the same stream content; all VP8 at 4 Mb/s + Opus 128 kb/s. The stream is
//      Chromium's fake camera and microphone playing files made here (a 1080p30 y4m that looks like a
//      screen: a still desktop, a white window, a test pattern playing in another window, and a white band
//      at the top for three frames every 2 s; a wav that clicks at the same instants). Not getDisplayMedia:
//      headless Chromium's screen here is 1920x1080, but its fake screen device delivers 20 fps of a
//      pattern nobody controls (no flash to measure A/V by), whatever frameRate is asked for. Not a canvas
//      either: reading a 1080p canvas back into the stream costs the page's main thread more than the
//      recorders do (measured: with a recorder attached, 750 to 900 of 1800 frames could not even be
//      drawn in time, against 3 of 600 with none), which hides what is being compared. The fake camera
//      makes its frames in the browser process, as a screen capture does.
//      Measured: frames in the file (ffprobe packets) / frames the track delivered meanwhile
//      (MediaStreamTrack.stats); main-thread ms per frame (the gaps between requestAnimationFrame
//      callbacks beyond 1.5 refreshes, summed, and the long tasks summed), beside a run with no recorder;
//      the file's size; the A/V offset (click minus flash, ffmpeg signalstats / silencedetect) against
//      the same offset as the tracks delivered it (the fake devices wander apart on a busy machine), at
//      the start and at the end of the file.
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
const W = 1920, H = 1080, FPS = 30, PERIOD = 2, FLASH_FRAMES = 3;

const PAGE = `<!doctype html><meta charset="utf-8"><body style="margin:0">
<script type="module">
import * as ck from '/js-glue/index.js';
import * as mb from '/node_modules/mediabunny/dist/bundles/mediabunny.mjs';
const W = ${W}, H = ${H}, FPS = ${FPS};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const RAW_MIC = { echoCancellation: false, noiseSuppression: false, autoGainControl: false };

/**
 * When the tracks delivered each flash and click (page clock, µs), read from clones of them: the flash
 * band only (a 64x16 corner of each frame is copied, so the watcher costs every peer the same little);
 * frame timestamps are put on the page clock by requestVideoFrameCallback's captureTime over the first
 * 300 frames (the offset most pairs agree on), as the A/V sync tests do.
 */
function watch(stream) {
  const video = stream.getVideoTracks()[0].clone();
  const audio = stream.getAudioTracks()[0].clone();
  const ts = [], flashTs = [], clicks = [], captureTimes = [];
  let on = true;
  const el = document.createElement('video');
  el.muted = true;
  el.srcObject = new MediaStream([video]);
  const onFrame = (now, m) => {
    if (m.captureTime !== undefined) captureTimes.push(m.captureTime * 1000);
    if (on && captureTimes.length < 300) el.requestVideoFrameCallback(onFrame); else el.srcObject = null;
  };
  el.requestVideoFrameCallback(onFrame);
  el.play().catch(() => {});
  const rect = { x: 0, y: 0, width: 64, height: 16 };
  const readVideo = (async () => {
    const r = new MediaStreamTrackProcessor({ track: video }).readable.getReader();
    let prev = 0;
    while (on) {
      const { value: vf, done } = await r.read();
      if (done) break;
      try {
        const buf = new Uint8Array(vf.allocationSize({ rect }));
        const layout = await vf.copyTo(buf, { rect });
        let sum = 0;
        for (let y = 0; y < 16; y++) for (let x = 0; x < 64; x++) sum += buf[layout[0].offset + y * layout[0].stride + x];
        const top = sum / 1024;
        if (ts.length < 300) ts.push(vf.timestamp);
        if (top > 128 && prev <= 128) flashTs.push(vf.timestamp);
        prev = top;
      } finally {
        vf.close();
      }
    }
    r.cancel().catch(() => {});
  })();
  const readAudio = (async () => {
    const r = new MediaStreamTrackProcessor({ track: audio }).readable.getReader();
    let quiet = Infinity;
    while (on) {
      const { value: ad, done } = await r.read();
      if (done) break;
      try {
        const pcm = new Float32Array(ad.numberOfFrames);
        ad.copyTo(pcm, { planeIndex: 0, format: 'f32-planar' });
        for (let i = 0; i < pcm.length; i++) {
          if (Math.abs(pcm[i]) > 0.2) { if (quiet > ad.sampleRate / 2) clicks.push(ad.timestamp + (i / ad.sampleRate) * 1e6); quiet = 0; } else quiet++;
        }
      } finally {
        ad.close();
      }
    }
    r.cancel().catch(() => {});
  })();
  return {
    async stop() {
      on = false; video.stop(); audio.stop();
      await Promise.race([Promise.all([readVideo, readAudio]), sleep(1000)]);
      const votes = new Map();
      for (const t of ts) for (const c of captureTimes) { const k = Math.round((t - c) / 500); votes.set(k, (votes.get(k) || 0) + 1); }
      let best = null;
      for (const [k, v] of votes) if (best === null || v > votes.get(best)) best = k;
      const near = [];
      for (const t of ts) for (const c of captureTimes) if (Math.abs((t - c) / 500 - best) <= 1) near.push(t - c);
      const offset = near.reduce((x, y) => x + y, 0) / near.length;
      return { flashes: flashTs.map((t) => t - offset), clicks, agreeing: votes.get(best) ?? 0 };
    },
  };
}

async function save(name, blob) {
  const res = await fetch('/save?name=' + encodeURIComponent(name), { method: 'POST', body: blob });
  if (!res.ok) throw new Error('saving ' + name + ': ' + res.status);
}

/** Records the fake camera + microphone for \`seconds\` with \`peer\` ('none' = the stream alone); returns what the page measured. */
window.runPeer = async (peer, seconds) => {
  const stream = await navigator.mediaDevices.getUserMedia({ video: { width: W, height: H, frameRate: FPS }, audio: RAW_MIC });
  const [videoTrack] = stream.getVideoTracks();
  const [audioTrack] = stream.getAudioTracks();
  const watcher = watch(stream);
  await sleep(500); // the devices and the watcher settle

  let stop, startUs;
  let skipped = 0;
  if (peer === 'webcodecs' || peer === 'mediarecorder') {
    const rec = await ck.createRecorder(stream, { backend: peer, codec: 'vp8', bitrate: 4_000_000, audioBitrate: 128_000,
      onbackpressure: (info) => { skipped = Math.max(skipped, info.skippedFrames ?? 0); } });
    stop = async () => { const r = await rec.stop(); startUs = rec.startTime * 1000; return r.blob ?? new Blob([r.data]); };
  } else if (peer === 'mediabunny') {
    const output = new mb.Output({ format: new mb.WebMOutputFormat(), target: new mb.BufferTarget() });
    // frameRate: null = every frame as the track delivers it, as capturekit records them (by default it
    // takes the track's settings.frameRate and makes a constant-rate file of it, repeating frames)
    const vs = new mb.MediaStreamVideoTrackSource(videoTrack, { codec: 'vp8', bitrate: 4_000_000 }, { frameRate: null });
    const as = new mb.MediaStreamAudioTrackSource(audioTrack, { codec: 'opus', bitrate: 128_000 });
    let failed = null;
    vs.errorPromise.catch((e) => { failed = e; });
    as.errorPromise.catch((e) => { failed = e; });
    output.addVideoTrack(vs, { frameRate: FPS });
    output.addAudioTrack(as);
    startUs = performance.now() * 1000; // its time 0 is its first sample's arrival, shortly after
    await output.start();
    stop = async () => { await output.finalize(); if (failed) throw failed; return new Blob([output.target.buffer]); };
  } else {
    stop = async () => null;
  }

  // main-thread probes
  let longMs = 0;
  const po = new PerformanceObserver((l) => { for (const e of l.getEntries()) longMs += e.duration; });
  po.observe({ type: 'longtask', buffered: false });
  let rafOn = true, rafExcess = 0, last = null;
  const onRaf = (t) => { if (last !== null) rafExcess += Math.max(0, t - last - 1.5 * 1000 / 60); last = t; if (rafOn) requestAnimationFrame(onRaf); };
  requestAnimationFrame(onRaf);

  const d0 = videoTrack.stats.deliveredFrames, x0 = videoTrack.stats.discardedFrames;
  const t0 = performance.now();
  await sleep(seconds * 1000);
  const offered = videoTrack.stats.deliveredFrames - d0, discarded = videoTrack.stats.discardedFrames - x0;
  const blob = await stop();
  const stopMs = performance.now() - t0 - seconds * 1000;
  rafOn = false; po.disconnect();
  const captured = await watcher.stop();
  for (const t of stream.getTracks()) t.stop();
  if (blob) await save(peer + '.webm', blob);
  return { peer, offered, discarded, rafExcess, longMs, stopMs, bytes: blob ? blob.size : 0, skipped, startUs: startUs ?? null, captured };
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
  const out = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-f', 'lavfi', `amovie=${file},silencedetect=n=-20dB:d=0.2`,
    '-show_entries', 'frame_tags=lavfi.silence_end', '-of', 'json'], { encoding: 'utf8', maxBuffer: 1 << 28 }));
  return out.frames.map((f) => f.tags?.['lavfi.silence_end']).filter((x) => x !== undefined).map(Number);
}

function videoPackets(file) {
  const s = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-count_packets', '-show_entries',
    'stream=nb_read_packets:format=duration', '-of', 'json', file], { encoding: 'utf8' }));
  return { packets: Number(s.streams[0].nb_read_packets), duration: Number(s.format.duration) };
}

const median = (a) => (a.length ? [...a].sort((p, q) => p - q)[a.length >> 1] : NaN);

const nearest = (list, x, within) => {
  let best = null;
  for (const y of list) if (best === null || Math.abs(y - x) < Math.abs(best - x)) best = y;
  return best !== null && Math.abs(best - x) < within ? best : null;
};

/**
 * A/V offset of a file against what the tracks delivered: for each click in the file and the flash
 * nearest to it, (click - flash in the file) - (the same at capture), s; the fake devices' own offset
 * wanders on a busy machine, the recorder should keep it. Medians of the first 3 and the last 3 pairs.
 */
function avOffsets(file, startUs, captured) {
  const f = flashes(file);
  const errs = [];
  for (const c of clicks(file)) {
    const fl = nearest(f, c, PERIOD / 2);
    if (fl === null) continue;
    const tc = nearest(captured.clicks, startUs + c * 1e6, 0.5e6);
    const tf = nearest(captured.flashes, startUs + fl * 1e6, 0.5e6);
    if (tc === null || tf === null) continue;
    errs.push(c - fl - (tc - tf) / 1e6);
  }
  return { pairs: errs.length, start: median(errs.slice(0, 3)), end: median(errs.slice(-3)) };
}

/** The fake camera's file: 1920x1080 at 30 fps, 2 s (one flash period): a still desktop, a white window, a test pattern playing in another, the flash band. */
function makeScreenCapture(dir) {
  const video = join(dir, 'screen1080.y4m');
  const audio = join(dir, 'click.wav');
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', `color=c=0x1d3557:s=${W}x${H}:r=${FPS}:d=${PERIOD}`,
    '-f', 'lavfi', '-i', `testsrc2=s=640x360:r=${FPS}:d=${PERIOD}`, '-filter_complex',
    `[0][1]overlay=x=900:y=400,drawbox=x=300:y=200:w=500:h=700:color=white:t=fill,drawbox=x=0:y=0:w=iw:h=120:color=white:t=fill:enable='lt(n\\,${FLASH_FRAMES})'`,
    '-pix_fmt', 'yuv420p', video]);
  execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', `aevalsrc='if(lt(t\\,0.02)\\,0.8*sin(2*PI*1000*t)\\,0)':s=48000:d=${PERIOD}`, '-ac', '1', audio]);
  return { video, audio };
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
  const files = makeScreenCapture(dir);
  const browser = await launchBrowser({ args: ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', '--autoplay-policy=no-user-gesture-required',
    `--use-file-for-fake-video-capture=${files.video}`, `--use-file-for-fake-audio-capture=${files.audio}`] });
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
      const av = avOffsets(file, r.startUs, r.captured);
      const pf = perFrame(r);
      m[peer] = { kept: v.packets / r.offered, fps: v.packets / v.duration, raf: pf.raf, long: pf.long, bytes: statSync(file).size, av };
      const { captured, ...rest } = r;
      console.log(`record-stream: ${peer}: ${JSON.stringify({ ...rest, ...v, av, watched: { flashes: captured.flashes.length, clicks: captured.clicks.length, agreeing: captured.agreeing } })}`);
    }
    const names = { webcodecs: 'capturekit webcodecs', mediarecorder: 'capturekit mediarecorder', mediabunny: 'mediabunny (MediaStream*TrackSource → WebM)' };
    const ratio = (a, c) => (Number.isFinite(a) && Number.isFinite(c) && c !== 0 ? fmt(a / c, 2) : 'n/a');
    for (const peer of ['webcodecs', 'mediarecorder', 'mediabunny']) {
      const x = m[peer], y = m.mediabunny, r = runs[peer];
      rows.push([names[peer], r.offered, Math.round(x.kept * r.offered), `${fmt(100 * x.kept, 1)} %`, ratio(x.kept, y.kept), fmt(x.fps, 1), ratio(x.fps, y.fps),
        fmt(x.raf, 2), fmt(x.raf - b.raf, 2), ratio(x.raf, y.raf), fmt(x.long, 2),
        fmt(x.bytes / 1048576, 1), ratio(x.bytes, y.bytes),
        x.av.pairs, fmt(x.av.start * 1000, 1), fmt(x.av.end * 1000, 1), fmt(r.stopMs, 0)]);
    }
    report(`Stream recording: ${W}x${H} at ${FPS} fps + Opus (Chromium's fake camera and microphone playing a screen-like file), ${SECONDS} s, VP8 4 Mb/s (Chromium, SwiftShader)`,
      `Each peer records the same content in a fresh page, one after the other. "kept" = video packets in the file / frames the track ` +
      `delivered meanwhile (track.stats); the camera delivers fewer when the encoder leaves it less CPU, so "fps in the file" (packets / duration) ` +
      `is the other half of the picture. Ratios are ours / mediabunny (kept, fps: higher is better; main-thread ms and size: lower is better). ` +
      `Main thread: requestAnimationFrame gaps beyond 1.5 refreshes, summed, per frame offered (beside it: minus the same ` +
      `measure with no recorder, ${fmt(b.raf, 2)} ms/frame over ${base.offered} frames), and long tasks (≥ 50 ms) summed per frame. ` +
      `A/V offset: (click minus flash in the file) minus (the same as the tracks delivered them, watched in the page), ms, median of the ` +
      `first 3 and of the last 3 pairs judged (a pair is judged when the file kept a frame of its flash). "stop ms" = stop() to the complete file. ` +
      `Load average (1 min) ${fmt(loadBefore, 1)} before, ${fmt(loadAfter, 1)} after: on a machine shared with other work, the absolute figures move with it; the ratios are of one run.\n\n` +
      table(['peer', 'delivered', 'in the file', 'kept', 'kept vs mediabunny', 'fps in the file', 'fps vs mediabunny', 'main ms/frame', 'above source only', 'main vs mediabunny', 'long tasks ms/frame',
        'MiB', 'size vs mediabunny', 'A/V pairs', 'A/V start ms', 'A/V end ms', 'stop ms'], rows) +
      `\n\nFrames capturekit webcodecs reported skipping (backpressure: the encoder was behind): ${runs.webcodecs.skipped}.` +
      `\n\nFrames the camera track discarded before delivering them: ${Object.entries(runs).map(([k, r]) => `${k} ${r.discarded}`).join(', ')}.` +
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
