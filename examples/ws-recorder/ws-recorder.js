// Server-side recording over a WebSocket: the browser sends low-rate JPEG snapshots (5 FPS),
// the server writes a 30 FPS WebM by repeating each snapshot until the next one is due, and keeps a
// metadata record (duration, frame count, size) next to the video. Decoding (stb) and encoding
// (libvpx + libwebm) are capturekit's wasm: decodeImage + VideoWriter, in Node.
//
//   import { attachWsRecorder } from './examples/ws-recorder/ws-recorder.js';
//   const rec = attachWsRecorder(httpServer, { path: '/ws/record', dir: './recordings' });
//   // the reference server could mount it on its fastify instance: attachWsRecorder(app.server, {...})
//
// Protocol (one recording per connection at a time):
//   client -> server, text:   {"type":"start", "fps"?: 30, "inputFps"?: 5, "codec"?: "vp8"|"vp9",
//                              "bitrate"?: bits/s, "width"?, "height"?, "name"?: "label"}
//                             {"type":"stop"}
//   client -> server, binary: a snapshot: 8 bytes big-endian float64 capture time in ms (any clock,
//                             increasing) followed by the JPEG (or PNG); or the image alone, then the
//                             arrival time is used
//   server -> client, text:   {"type":"started", id, fps, codec}
//                             {"type":"status", snapshots, frames, bytes, recording: {enabled, active}}
//                             {"type":"stopped", recording: {id, file, metadataFile, codec, fps, width,
//                              height, duration, frameCount, snapshotCount, bytes, startedAt, endedAt}}
//                             {"type":"error", message, fatal}
//
// Frame timing: output frame k is shown at k / fps. Snapshot i (time t_i after the first) fills the
// output frames from round(t_i * fps) up to the next snapshot's; at stop the last snapshot lasts as long
// as the interval before it (1 / inputFps when there was only one). So 10 snapshots 200 ms apart give
// 60 frames at 30 fps, 2 s. The file is written as it is encoded (bounded memory) under a .partial name
// and renamed only when finished: a connection that drops without "stop" leaves no complete-looking file.
import { WebSocketServer } from 'ws';
import { open, rename, rm, writeFile, mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import { init, decodeImage, resize, VideoWriter, VIDEO_LIMITS } from '../../js-glue/index.js';

export const WS_RECORDER_DEFAULTS = Object.freeze({
  path: '/ws/record',
  dir: resolve('recordings'),
  fps: 30,
  inputFps: 5,
  codec: 'vp8',
  bitrate: 2_000_000,
  maxSide: 4096,
  maxSnapshotBytes: 16 << 20,
  maxPendingSnapshots: 32,
});

class WsRecording {
  constructor(server, ws, o) {
    this.server = server;
    this.ws = ws;
    this.o = o;
    this.id = null;
    this.writer = null;
    this.fd = null;
    this.chain = Promise.resolve();
    this.pending = 0;
    this.snapshots = 0;
    this.frames = 0;
    this.prev = null;      // { image, slot, t }
    this.firstT = null;
    this.lastInterval = null;
    this.state = 'idle';   // idle | recording | stopping
    this.size = null;
  }

  send(obj) {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(JSON.stringify(obj));
  }

  error(message, fatal = false) {
    this.send({ type: 'error', message, fatal });
  }

  // Everything happens in arrival order, one message at a time.
  enqueue(fn) {
    this.pending++;
    this.chain = this.chain.then(fn).catch((e) => this.error(e.message, true)).finally(() => { this.pending--; });
    return this.chain;
  }

  async start(msg) {
    if (this.state !== 'idle') throw new Error('ws-recorder: already recording; send "stop" first');
    const o = this.o;
    const fps = msg.fps === undefined ? o.fps : Number(msg.fps);
    const inputFps = msg.inputFps === undefined ? o.inputFps : Number(msg.inputFps);
    if (!(fps >= 1 && fps <= 120)) throw new RangeError(`ws-recorder: fps must be between 1 and 120, got ${msg.fps}`);
    if (!(inputFps > 0 && inputFps <= fps)) throw new RangeError(`ws-recorder: inputFps must be between 0 and fps (${fps}), got ${msg.inputFps}`);
    const codec = msg.codec === undefined ? o.codec : msg.codec;
    if (codec !== 'vp8' && codec !== 'vp9') throw new RangeError(`ws-recorder: codec must be "vp8" or "vp9", got ${JSON.stringify(msg.codec)}`);
    const bitrate = msg.bitrate === undefined ? o.bitrate : Number(msg.bitrate);
    if (!(bitrate >= VIDEO_LIMITS.minBitrate && bitrate <= VIDEO_LIMITS.maxBitrate)) throw new RangeError(`ws-recorder: bitrate must be between ${VIDEO_LIMITS.minBitrate} and ${VIDEO_LIMITS.maxBitrate}`);
    if ((msg.width === undefined) !== (msg.height === undefined)) throw new TypeError('ws-recorder: give both width and height, or neither');
    if (msg.width !== undefined) {
      for (const k of ['width', 'height']) {
        if (!Number.isInteger(msg[k]) || msg[k] < 2 || msg[k] > o.maxSide) throw new RangeError(`ws-recorder: ${k} must be an integer from 2 to ${o.maxSide}, got ${msg[k]}`);
      }
      this.size = { width: msg.width, height: msg.height };
    }
    this.id = `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomUUID().slice(0, 8)}`;
    this.name = typeof msg.name === 'string' ? msg.name.slice(0, 200) : null;
    this.cfg = { fps, inputFps, codec, bitrate };
    this.file = join(o.dir, `${this.id}.webm`);
    this.partial = `${this.file}.partial`;
    this.startedAt = new Date();
    this.state = 'recording';
    this.send({ type: 'started', id: this.id, fps, codec });
  }

  async openWriter(width, height) {
    await mkdir(this.o.dir, { recursive: true });
    this.fd = await open(this.partial, 'w');
    const fd = this.fd;
    this.writer = await VideoWriter.create({
      codec: this.cfg.codec, width, height, fps: this.cfg.fps, bitrate: this.cfg.bitrate,
      // Positioned writes: appends and the header patches at the end land where they belong.
      ondata: (bytes, offset) => fd.write(bytes, 0, bytes.length, offset).then(() => {}),
    });
  }

  /** A snapshot: decode, scale to the recording size, emit the previous one for its time. */
  async snapshot(buf, arrival) {
    if (this.state !== 'recording') throw new Error('ws-recorder: a snapshot before "start" (or after "stop") was ignored');
    let t = arrival;
    let image = buf;
    if (!(buf[0] === 0xff && buf[1] === 0xd8) && !(buf[0] === 0x89 && buf[1] === 0x50)) {
      if (buf.length < 10) throw new Error('ws-recorder: a binary message must be [8-byte float64 time in ms] + JPEG/PNG, or a JPEG/PNG');
      t = new DataView(buf.buffer, buf.byteOffset, 8).getFloat64(0);
      if (!Number.isFinite(t)) throw new RangeError('ws-recorder: the snapshot time is not a finite number');
      image = buf.subarray(8);
    }
    let img;
    try {
      img = decodeImage(image, { maxWidth: this.o.maxSide, maxHeight: this.o.maxSide });
    } catch (e) {
      this.error(`ws-recorder: snapshot ignored: ${e.message}`);
      return;
    }
    if (!this.size) this.size = { width: img.width, height: img.height };
    if (img.width !== this.size.width || img.height !== this.size.height) img = resize(img, { ...this.size });
    if (this.firstT === null) this.firstT = t;
    const rel = (t - this.firstT) / 1000;
    if (this.prev && rel <= this.prev.t) {
      this.error(`ws-recorder: snapshot ignored: its time (${(rel * 1000).toFixed(1)} ms) is not after the previous one`);
      return;
    }
    const slot = Math.round(rel * this.cfg.fps);
    if (!this.writer) await this.openWriter(this.size.width, this.size.height);
    if (this.prev) {
      this.lastInterval = rel - this.prev.t;
      await this.emit(this.prev.image, Math.max(1, slot - this.prev.slot));
    }
    this.prev = { image: img, slot: this.prev ? Math.max(slot, this.prev.slot + 1) : slot, t: rel };
    this.snapshots++;
    this.send({ type: 'status', snapshots: this.snapshots, frames: this.frames, bytes: this.writer.bytes, recording: { enabled: true, active: true } });
  }

  async emit(image, count) {
    for (let i = 0; i < count; i++) {
      this.writer.addFrame(image);
      this.frames++;
    }
    // Let the positioned writes of these frames settle before taking more input.
    await new Promise((r) => setImmediate(r));
  }

  async stop() {
    if (this.state !== 'recording') throw new Error('ws-recorder: "stop" without a recording');
    this.state = 'stopping';
    if (!this.prev) {
      this.state = 'idle';
      await this.cleanup();
      throw new Error('ws-recorder: no snapshots were received, so there is no video');
    }
    const last = this.lastInterval ?? 1 / this.cfg.inputFps;
    await this.emit(this.prev.image, Math.max(1, Math.round(last * this.cfg.fps)));
    const r = await this.writer.finish();
    await this.fd.close();
    this.fd = null;
    await rename(this.partial, this.file);
    const record = {
      id: this.id, name: this.name, file: this.file, metadataFile: this.file.replace(/\.webm$/, '.json'),
      codec: r.codec, fps: this.cfg.fps, inputFps: this.cfg.inputFps, width: r.width, height: r.height,
      duration: r.duration, frameCount: r.frames, snapshotCount: this.snapshots, bytes: r.bytes,
      startedAt: this.startedAt.toISOString(), endedAt: new Date().toISOString(),
    };
    await writeFile(record.metadataFile, JSON.stringify(record, null, 2));
    this.writer = null;
    this.reset();
    this.server.recordings.push(record);
    this.server.onrecording?.(record);
    this.send({ type: 'stopped', recording: record });
    return record;
  }

  reset() {
    this.state = 'idle';
    this.prev = null;
    this.firstT = null;
    this.lastInterval = null;
    this.snapshots = 0;
    this.frames = 0;
    this.size = null;
  }

  /** A recording that did not finish: no file stays behind that looks complete. */
  async cleanup() {
    try { this.writer?.abort(); } catch { /* finished */ }
    this.writer = null;
    if (this.fd) await this.fd.close().catch(() => {});
    this.fd = null;
    if (this.partial) await rm(this.partial, { force: true });
    this.reset();
  }
}

/**
 * Attaches the WebSocket recording endpoint to an http(s) server (Node's, or fastify's app.server).
 * @returns {{ wss: WebSocketServer, recordings: object[], close(): Promise<void>, onrecording?: Function }}
 */
export function attachWsRecorder(httpServer, options = {}) {
  const o = { ...WS_RECORDER_DEFAULTS, ...options };
  o.dir = resolve(o.dir);
  const wss = new WebSocketServer({ noServer: true, maxPayload: o.maxSnapshotBytes + 8 });
  const ready = init(); // the core module (decodeImage, resize); the video module loads on first use
  const server = { wss, recordings: [], onrecording: o.onrecording, options: o };
  const onUpgrade = (req, socket, head) => {
    const path = new URL(req.url, 'http://x').pathname;
    if (path !== o.path) return; // someone else's upgrade
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  };
  httpServer.on('upgrade', onUpgrade);
  wss.on('connection', (ws) => {
    const rec = new WsRecording(server, ws, o);
    ws.on('message', (data, isBinary) => {
      const arrival = performance.now();
      if (rec.pending >= o.maxPendingSnapshots) {
        rec.error(`ws-recorder: more than ${o.maxPendingSnapshots} messages waiting; slow down`, true);
        ws.close(1013, 'too many pending snapshots');
        return;
      }
      if (isBinary) {
        const buf = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
        rec.enqueue(async () => { await ready; await rec.snapshot(buf, arrival); });
        return;
      }
      let msg;
      try {
        msg = JSON.parse(data.toString());
      } catch {
        rec.error('ws-recorder: text messages must be JSON ({"type":"start"} or {"type":"stop"})');
        return;
      }
      if (msg.type === 'start') rec.enqueue(async () => { await ready; await rec.start(msg); });
      else if (msg.type === 'stop') rec.enqueue(() => rec.stop());
      else rec.error(`ws-recorder: unknown message type ${JSON.stringify(msg.type)}`);
    });
    ws.on('close', () => { rec.chain.then(() => { if (rec.state !== 'idle') return rec.cleanup(); }); });
  });
  server.close = async () => {
    httpServer.off('upgrade', onUpgrade);
    for (const ws of wss.clients) ws.terminate();
    await new Promise((r) => wss.close(() => r()));
  };
  return server;
}
