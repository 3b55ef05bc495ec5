// The repair worker (a worker_threads Worker started by repair.js for one job): makes the WebM at
// workerData.input seekable into workerData.output with capturekit's makeSeekable, answers
// { ok: true, info } or { ok: false, error }, and is ended by its parent right after.
// With workerData.factsOnly (no output) it only reads: makeSeekable's first pass (the whole file parsed
// and checked, no byte written) and answers its info (docType, codecs, duration, frames).
import { parentPort, workerData } from 'node:worker_threads';
import { makeSeekable } from '../../js-glue/video/repair.js';

const READ_ONLY = Symbol('facts read');
try {
  if (workerData.factsOnly) {
    let facts = null;
    try {
      await makeSeekable(workerData.input, { ondata: () => {}, oninfo: (info) => { facts = info; throw READ_ONLY; } });
    } catch (e) {
      if (e !== READ_ONLY) throw e;
    }
    if (!facts) throw new Error('the file was read but gave no facts');
    parentPort.postMessage({ ok: true, info: { docType: facts.docType, codecs: facts.codecs, duration: facts.duration ?? null, frames: facts.frames ?? null } });
  } else {
    const info = await makeSeekable(workerData.input, { output: workerData.output });
    parentPort.postMessage({ ok: true, info: { duration: info.duration ?? null, frames: info.frames ?? null } });
  }
} catch (e) {
  parentPort.postMessage({ ok: false, error: e && e.message ? e.message : String(e) });
}
