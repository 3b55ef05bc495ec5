// One shared capture Worker per page, started on first use. Jobs carry their pixels as transferred
// ArrayBuffers (no copy); results come back the same way. Errors keep their class (RangeError, ...).
import { getCore } from '../core.js';

let worker = null;
let starting = null;
let nextId = 1;
const pending = new Map();

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
    return { simd: getCore().capturekitSimd };
  } catch {
    return {}; // the page has not loaded the core: the Worker picks by itself
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
      } else {
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
 * Posts a job to the Worker. `job.pixels` is transferred (the caller's buffer becomes detached).
 * `onPosted` is called synchronously right after postMessage (used to measure main-thread time).
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
}
