// The record Worker (wasm backend): encodes RGBA frames with the video module off the main thread.
// Created by backends/wasm.js as
//   new Worker(new URL('../record-worker.js', import.meta.url), { type: 'module' })
//
// Messages in:  open {options}, frame {id, data (transferred), width, height, bottomUp, timestampUs?,
//               metadata?}, audio {planes (Float32Array per channel, transferred), timestampUs}, finish, abort.
// Messages out: opened {info} | open-error; data {bytes (transferred), offset}; done {id, buffer} (the
//               frame's pixel buffer handed back for reuse); frame-error {id, error, fatal}; audio-error {error};
//               finished {result} | finish-error.
// Every message is handled in order (frames queue here while one is being encoded), so data ranges
// come out in file order.
import { FrameEncoder } from './frame-encoder.js';

let encoder = null;
let chain = Promise.resolve();

function errorJSON(err) {
  return { name: err && err.name, message: err && err.message ? err.message : String(err) };
}

async function handle(m) {
  if (m.type === 'open') {
    try {
      encoder = await FrameEncoder.create(m.options, (bytes, offset) => {
        self.postMessage({ type: 'data', bytes, offset }, [bytes.buffer]);
      });
      self.postMessage({ type: 'opened', info: encoder.info });
    } catch (err) {
      self.postMessage({ type: 'open-error', error: errorJSON(err) });
    }
    return;
  }
  if (m.type === 'frame') {
    const buffer = m.data.buffer;
    try {
      if (!encoder) throw new Error('recorder: the encoder is not open');
      const p = encoder.encode(m);
      if (p) await p;
      self.postMessage({ type: 'done', id: m.id, buffer }, [buffer]);
    } catch (err) {
      // A frame-level problem leaves the writer usable; an encoder failure ends it (VideoWriter says which).
      const fatal = !encoder || !encoder.writer._native;
      self.postMessage({ type: 'frame-error', id: m.id, error: errorJSON(err), fatal });
    }
    return;
  }
  if (m.type === 'audio') {
    try {
      if (!encoder) throw new Error('recorder: the encoder is not open');
      encoder.addAudio(m.planes, m.timestampUs);
    } catch (err) {
      self.postMessage({ type: 'audio-error', error: errorJSON(err) });
    }
    return;
  }
  if (m.type === 'finish') {
    try {
      const result = await encoder.finish();
      delete result.blob;
      self.postMessage({ type: 'finished', result });
    } catch (err) {
      self.postMessage({ type: 'finish-error', error: errorJSON(err) });
    }
    return;
  }
  if (m.type === 'abort') {
    try { encoder?.abort(); } catch { /* already gone */ }
    encoder = null;
  }
}

self.onmessage = (e) => {
  chain = chain.then(() => handle(e.data));
};
