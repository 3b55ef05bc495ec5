// The capture Worker: loads the same wasm as the page (SIMD or baseline, as the page chose) and runs
// pipeline.js off the main thread. Created by worker-client.js as
//   new Worker(new URL('./worker.js', import.meta.url), { type: 'module' })
// which bundlers (Vite, webpack 5, Rollup plugins) recognise and emit as a separate chunk.
import { init } from '../core.js';
import { processCapture } from './pipeline.js';

let ready = null;

self.onmessage = async (e) => {
  const msg = e.data;
  if (msg.type === 'init') {
    ready = init(msg.options || {});
    try {
      await ready;
      self.postMessage({ type: 'ready' });
    } catch (err) {
      self.postMessage({ type: 'init-error', error: { name: err.name, message: err.message } });
    }
    return;
  }
  if (msg.type !== 'job') return;
  try {
    await (ready || (ready = init()));
    const out = await processCapture(msg.job);
    const transfer = [out.bytes.buffer];
    if (out.thumbnail) transfer.push(out.thumbnail.bytes.buffer);
    self.postMessage({ type: 'done', id: msg.id, out }, transfer);
  } catch (err) {
    self.postMessage({ type: 'error', id: msg.id, error: { name: err && err.name, message: err && err.message ? err.message : String(err) } });
  }
};
