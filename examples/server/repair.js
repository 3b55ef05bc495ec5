// Making a finished recording seekable on the server (capturekit's makeSeekable), in a worker thread
// of its own (repair-worker.js) that ends with the job: the wasm memory the repair grows (wasm memory
// never shrinks) is the thread's and is given back when it ends, and the repair's CPU time never holds
// the event loop, so a hostile file (millions of tiny Clusters or Blocks) costs one thread for a
// while, not the server.
import { Worker } from 'node:worker_threads';

const WORKER_URL = new URL('./repair-worker.js', import.meta.url);

/**
 * Writes a seekable copy of the WebM at `input` to `output` (a path; nothing is left there on failure).
 * Rejects with the repair's own message when the file cannot be repaired, or when it takes longer than
 * `timeoutMs` (the thread is ended).
 */
export function makeSeekableOffThread(input, output, { timeoutMs = 10 * 60 * 1000 } = {}) {
  return runRepairWorker({ input, output }, timeoutMs);
}

/**
 * Reads a video's facts with makeSeekable's first pass only (the file parsed and checked whole, nothing
 * written), in a thread of its own like the repair: { docType, codecs, duration, frames }. Rejects with
 * the reader's message when the file is not whole or not what it says.
 */
export function readFactsOffThread(input, { timeoutMs = 10 * 60 * 1000 } = {}) {
  return runRepairWorker({ input, factsOnly: true }, timeoutMs);
}

function runRepairWorker(workerData, timeoutMs) {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_URL, { workerData });
    let settled = false;
    const settle = (fn, value) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      worker.terminate().catch(() => {});
      fn(value);
    };
    const timer = setTimeout(() => settle(reject, new Error(`the repair took longer than ${timeoutMs} ms`)), timeoutMs);
    worker.on('message', (m) => (m.ok ? settle(resolve, m.info) : settle(reject, new Error(m.error))));
    worker.on('error', (e) => settle(reject, e));
    worker.on('exit', (code) => settle(reject, new Error(`the repair thread exited (code ${code}) before it finished`)));
  });
}
