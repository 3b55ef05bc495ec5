// The server-side recording worker (a worker_threads Worker, one per live recording, started by
// live-recording.js). It owns its own capturekit wasm (image decode, resize, the video encoder), so
// decoding snapshots and encoding frames never hold the server's event loop, and the wasm memory a
// recording grew goes back when the recording ends with its thread.
//
// Messages in (one at a time; the parent waits for each answer):
//   { type: 'open', path, fps, width, height, codec, container, bitrate, maxSide, maxPixels }
//       width/height null: the size of the first snapshot (each later one is scaled to it)
//   { type: 'snapshot', time, bytes }   time: capture time in ms (any clock, increasing) or null
//                                       (then the arrival time, also in ms, is in `arrival`)
//   { type: 'finish' }                  the last snapshot lasts as long as the interval before it
//   { type: 'abort' }
// Answers: { ok: true, snapshots, frames, bytes } per snapshot; { ok: true, result } for finish;
//          { ok: false, kind: 'image' | 'budget' | 'order' | 'state' | 'internal', error } on a refusal.
//
// Frame timing: output frame k is shown at k / fps. Snapshot i, at time t_i after the first, fills the
// output frames from round(t_i * fps) up to the next snapshot's, so every snapshot is held until the
// next one and the frame count is fps × duration exactly.
import { parentPort } from 'node:worker_threads';
import { open } from 'node:fs/promises';

const glue = import('../../js-glue/index.js').then(async (m) => { await m.initImage(); return m; }); // image only; VideoWriter loads video
glue.catch(() => {});

const FORMAT_NAMES = { 'image/png': 'PNG', 'image/jpeg': 'JPEG' };

class SnapshotVideo {
  constructor(m, o) {
    this.m = m;
    this.o = o;
    this.size = o.width ? { width: o.width, height: o.height } : null;
    this.writer = null;
    this.fd = null;
    this.prev = null; // { image, slot, t }
    this.firstT = null;
    this.lastInterval = null;
    this.snapshots = 0;
    this.frames = 0;
  }

  async snapshot(time, bytes) {
    const { m, o } = this;
    let info;
    try {
      info = m.probeImage(bytes);
    } catch (e) {
      return { ok: false, kind: 'image', error: `not a JPEG or PNG snapshot: ${e.message}` };
    }
    if (info.width > o.maxSide || info.height > o.maxSide || info.width * info.height > o.maxPixels) {
      return {
        ok: false, kind: 'budget',
        error: `the ${FORMAT_NAMES[info.format] || 'image'} snapshot is ${info.width}x${info.height}, over the budget of ${o.maxSide} per side and ${o.maxPixels} pixels`,
      };
    }
    let img;
    try {
      img = m.decodeImage(bytes, { maxPixels: o.maxPixels });
    } catch (e) {
      return { ok: false, kind: 'image', error: `the snapshot could not be decoded: ${e.message}` };
    }
    if (!this.size) this.size = { width: img.width & ~1 || 2, height: img.height & ~1 || 2 };
    if (img.width !== this.size.width || img.height !== this.size.height) img = m.resize(img, { ...this.size });
    if (this.firstT === null) this.firstT = time;
    const rel = (time - this.firstT) / 1000;
    if (this.prev && rel <= this.prev.t) {
      return { ok: false, kind: 'order', error: `snapshot time ${(rel * 1000).toFixed(1)} ms is not after the previous one (${(this.prev.t * 1000).toFixed(1)} ms)` };
    }
    const slot = Math.round(rel * o.fps);
    if (!this.writer) await this.#openWriter();
    if (this.prev) {
      this.lastInterval = rel - this.prev.t;
      await this.#emit(this.prev.image, Math.max(1, slot - this.prev.slot));
    }
    this.prev = { image: img, slot: this.prev ? Math.max(slot, this.prev.slot + 1) : slot, t: rel };
    this.snapshots++;
    return { ok: true, snapshots: this.snapshots, frames: this.frames, bytes: this.writer.bytes };
  }

  async #openWriter() {
    const { o } = this;
    this.fd = await open(o.path, 'w');
    const fd = this.fd;
    this.writer = await this.m.VideoWriter.create({
      container: o.container, codec: o.codec, width: this.size.width, height: this.size.height, fps: o.fps, bitrate: o.bitrate,
      // Positioned writes: appends, and the header patches at the end land where they belong.
      ondata: (bytes, offset) => fd.write(bytes, 0, bytes.length, offset).then(() => {}),
    });
  }

  async #emit(image, count) {
    for (let i = 0; i < count; i++) {
      this.writer.addFrame(image);
      this.frames++;
    }
    await new Promise((r) => setImmediate(r)); // the positioned writes of these frames settle
  }

  async finish() {
    if (!this.prev) return { ok: false, kind: 'state', error: 'no snapshot was received, so there is no video' };
    const last = this.lastInterval ?? 1 / this.o.inputFps;
    await this.#emit(this.prev.image, Math.max(1, Math.round(last * this.o.fps)));
    const r = await this.writer.finish();
    await this.fd.sync();
    await this.fd.close();
    this.fd = null;
    this.writer = null;
    return {
      ok: true,
      result: { codec: r.codec, mimeType: r.mimeType, container: this.o.container, width: r.width, height: r.height, frames: r.frames, duration: r.duration, bytes: r.bytes, snapshots: this.snapshots },
    };
  }

  async abort() {
    try { this.writer?.abort(); } catch { /* finished already */ }
    this.writer = null;
    if (this.fd) await this.fd.close().catch(() => {});
    this.fd = null;
  }
}

let video = null;

async function handle(msg) {
  let m;
  try {
    m = await glue;
  } catch (e) {
    return { ok: false, kind: 'internal', error: `capturekit wasm did not load: ${e.message}` };
  }
  switch (msg.type) {
    case 'open':
      video = new SnapshotVideo(m, msg);
      return { ok: true };
    case 'snapshot':
      if (!video) return { ok: false, kind: 'state', error: 'no recording is open' };
      return video.snapshot(msg.time ?? msg.arrival, new Uint8Array(msg.bytes));
    case 'finish':
      if (!video) return { ok: false, kind: 'state', error: 'no recording is open' };
      return video.finish();
    case 'abort':
      await video?.abort();
      video = null;
      return { ok: true };
    default:
      return { ok: false, kind: 'internal', error: `unknown message ${msg.type}` };
  }
}

parentPort.on('message', async (msg) => {
  let answer;
  try {
    answer = await handle(msg);
  } catch (e) {
    answer = { ok: false, kind: 'internal', error: e && e.message ? e.message : String(e) };
  }
  parentPort.postMessage(answer);
});
