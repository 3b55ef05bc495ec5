// One shared capture Worker per page, started on first use. Jobs carry their pixels as transferred
// ArrayBuffers (no copy); results come back the same way. Errors keep their class (RangeError, ...).
import { getImageModule } from '../image.js';

let worker = null;
let starting = null;
let nextId = 1;
const pending = new Map();

// Pixel buffers by byte size, ready to be read into (their pages already faulted in). At most two of
// a size and 64 MiB in all are kept (the most recently used size wins); more would only hold memory.
const POOL_PER_SIZE = 2;
const POOL_MAX_BYTES = 64 * 1024 * 1024;
const pool = new Map();
const requested = new Map(); // size -> buffers asked of the Worker and not yet arrived

function putBuffer(buf) {
  if (!buf || !buf.byteLength || buf.byteLength > POOL_MAX_BYTES) return;
  const list = pool.get(buf.byteLength) || [];
  if (list.length < POOL_PER_SIZE) list.push(buf);
  pool.delete(buf.byteLength);
  pool.set(buf.byteLength, list); // most recent size last
  let total = 0;
  for (const [size, l] of pool) total += size * l.length;
  for (const [size, l] of pool) {
    if (total <= POOL_MAX_BYTES || size === buf.byteLength) continue;
    total -= size * l.length;
    pool.delete(size);
  }
}

/** A pooled Uint8Array of `size` bytes, or null (then the caller allocates). */
export function takeBuffer(size) {
  const list = pool.get(size);
  const buf = list && list.pop();
  return buf ? new Uint8Array(buf) : null;
}

/**
 * Makes sure a buffer of `size` bytes will be in the pool soon: asks the (running) Worker for one.
 * Call it when a capture starts; the buffer arrives while the capture waits for its frame and fence.
 */
export function prefetchBuffer(size) {
  if (!worker) return;
  const have = (pool.get(size) || []).length + (requested.get(size) || 0);
  if (have >= 1) return;
  requested.set(size, (requested.get(size) || 0) + 1);
  worker.postMessage({ type: 'alloc', size });
}

export function rebuildError(e) {
  const Ctor = e && e.name === 'RangeError' ? RangeError : e && e.name === 'TypeError' ? TypeError : Error;
  return new Ctor(e && e.message ? e.message : 'capturekit: the capture Worker failed');
}

function failAll(err) {
  for (const { reject } of pending.values()) reject(err);
  pending.clear();
}

function simdChoice() {
  try {
    return { simd: getImageModule().capturekitSimd };
  } catch {
    return {}; // the page has not loaded the image module: the Worker picks by itself
  }
}

/** Starts (once) and returns a ready Worker; rejects with a clear Error when it cannot start. */
export function getCaptureWorker() {
  if (starting) return starting;
  starting = new Promise((resolve, reject) => {
    let w;
    try {
      w = new Worker(new URL('./worker.js', import.meta.url), { type: 'module', name: 'capturekit-capture' });
    } catch (err) {
      reject(new Error(`capturekit: could not start the capture Worker (${err.message}); pass { worker: false } to process on the main thread`));
      return;
    }
    const onStartError = (ev) => {
      ev.preventDefault?.();
      reject(new Error(`capturekit: the capture Worker failed to load (${ev.message || 'script error'}); pass { worker: false } to process on the main thread`));
    };
    w.addEventListener('error', onStartError);
    w.onmessage = (e) => {
      const m = e.data;
      if (m.type === 'ready') {
        w.removeEventListener('error', onStartError);
        w.addEventListener('error', (ev) => { ev.preventDefault?.(); failAll(new Error(`capturekit: the capture Worker crashed (${ev.message || 'error'})`)); });
        worker = w;
        resolve(w);
      } else if (m.type === 'init-error') {
        reject(rebuildError(m.error));
      } else if (m.type === 'buffer') {
        requested.set(m.buffer.byteLength, Math.max(0, (requested.get(m.buffer.byteLength) || 1) - 1));
        putBuffer(m.buffer);
      } else {
        if (m.recycled) putBuffer(m.recycled);
        const p = pending.get(m.id);
        if (!p) return;
        pending.delete(m.id);
        if (m.type === 'done') p.resolve(m.out);
        else p.reject(rebuildError(m.error));
      }
    };
    w.postMessage({ type: 'init', options: simdChoice() });
  }).catch((err) => {
    starting = null;
    throw err;
  });
  return starting;
}

/**
 * Posts a job to the Worker. `job.pixels` is transferred (the caller's buffer becomes detached; the
 * Worker sends it back to the pool when done). The postMessage happens synchronously when the Worker
 * is already running.
 */
export async function runInWorker(job) {
  const w = worker || (await getCaptureWorker());
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    w.postMessage({ type: 'job', id, job }, [job.pixels.buffer]);
  });
}

/** Terminates the shared Worker (it restarts on the next capture). */
export function terminateCaptureWorker() {
  if (worker) worker.terminate();
  failAll(new Error('capturekit: the capture Worker was terminated'));
  worker = null;
  starting = null;
  pool.clear();
  requested.clear();
}
