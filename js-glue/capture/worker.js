// The capture Worker: loads the same wasm as the page (SIMD or baseline, as the page chose) and runs
// pipeline.js off the main thread. Created by worker-client.js as
//   new Worker(new URL('./worker.js', import.meta.url), { type: 'module' })
// which bundlers (Vite, webpack 5, Rollup plugins) recognise and emit as a separate chunk.
//
// Besides jobs it hands out pixel buffers: fresh 1080p ArrayBuffers cost the main thread ~3 ms of
// page faults on first write, so the Worker touches them here and transfers them over, and each job's
// pixel buffer goes back to the page's pool when the job is done.
import { initImage } from '../image.js';
import { toBlob } from '../image/blob.js';
import { processCapture } from './pipeline.js';

let ready = null;

self.onmessage = async (e) => {
  const msg = e.data;
  if (msg.type === 'init') {
    ready = initImage(msg.options || {});
    try {
      await ready;
      self.postMessage({ type: 'ready' });
    } catch (err) {
      self.postMessage({ type: 'init-error', error: { name: err.name, message: err.message } });
    }
    return;
  }
  if (msg.type === 'alloc') {
    const buf = new ArrayBuffer(msg.size);
    new Uint8Array(buf).fill(0); // fault the pages in here, not on the main thread
    self.postMessage({ type: 'buffer', buffer: buf }, [buf]);
    return;
  }
  if (msg.type !== 'job') return;
  const recycled = msg.job.pixels.buffer;
  try {
    await (ready || (ready = initImage()));
    const out = await processCapture(msg.job);
    // The Blob copy happens here too, not on the main thread.
    out.blob = toBlob(out.bytes, msg.job.format);
    if (out.thumbnail) out.thumbnail.blob = toBlob(out.thumbnail.bytes, out.thumbnail.format);
    const transfer = [out.bytes.buffer];
    if (out.thumbnail) transfer.push(out.thumbnail.bytes.buffer);
    if (recycled.byteLength) transfer.push(recycled);
    self.postMessage({ type: 'done', id: msg.id, out, recycled: recycled.byteLength ? recycled : null }, transfer);
  } catch (err) {
    self.postMessage({ type: 'error', id: msg.id, error: { name: err && err.name, message: err && err.message ? err.message : String(err) } });
  }
};
