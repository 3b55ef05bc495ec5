// The repair worker (a worker_threads Worker started by repair.js for one job): makes the WebM at
// workerData.input seekable into workerData.output with capturekit's makeSeekable, answers
// { ok: true, info } or { ok: false, error }, and is ended by its parent right after.
import { parentPort, workerData } from 'node:worker_threads';
import { makeSeekable } from '../../js-glue/video/repair.js';

try {
  const info = await makeSeekable(workerData.input, { output: workerData.output });
  parentPort.postMessage({ ok: true, info: { duration: info.duration ?? null, frames: info.frames ?? null } });
} catch (e) {
  parentPort.postMessage({ ok: false, error: e && e.message ? e.message : String(e) });
}
