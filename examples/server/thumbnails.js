// Screenshot thumbnails made with capturekit's own wasm (probe -> decode -> thumbnail -> JPEG), in a
// worker thread (thumbnail-worker.js), never on the event loop.
//
// The pixel budget: an image whose header declares more than maxPixels pixels is not decoded at all
// (probeImage reads the header, after the file's structure check, without allocating pixels); the
// thumbnail fails with kind 'budget'. Decoding costs 4 bytes of wasm memory per pixel plus the
// decoder's own buffers, so the default of 50 Mpx (an 8K screen is 33 Mpx, a 48 MP phone photo
// 48 Mpx) keeps one decode near 200-400 MiB.
//
// The worker: one job at a time in one thread that owns the wasm. Wasm memory never shrinks, so the
// thread is ended (and its memory given back) after a decode larger than recycleAbovePixels, after
// maxJobsPerWorker jobs, after idleMs without work, and when a job takes longer than jobTimeoutMs
// (that job fails). The next job starts a fresh thread. At most maxQueued jobs wait; more are refused
// at once as 'busy'.
//
// Failures are ThumbnailError with .kind: 'budget' (over the pixel budget), 'image' (the decoder
// refused the file, or it took too long, or it ended the worker: the file's fault, worth remembering),
// 'busy' / 'unavailable' (the server's state, worth retrying later); .sourceWidth / .sourceHeight when
// the header was read.
import { Worker } from 'node:worker_threads';

/** Default pixel budget for thumbnails (width x height of the source image). */
export const DEFAULT_MAX_IMAGE_PIXELS = 50_000_000;

const WORKER_URL = new URL('./thumbnail-worker.js', import.meta.url);

export class ThumbnailError extends Error {
  constructor(message, { kind, sourceWidth = null, sourceHeight = null } = {}) {
    super(message);
    this.name = 'ThumbnailError';
    this.kind = kind;
    this.sourceWidth = sourceWidth;
    this.sourceHeight = sourceHeight;
  }

  /** True when the same file would fail again (remember it); false for the server's own trouble. */
  get permanent() {
    return this.kind === 'budget' || this.kind === 'image';
  }
}

/**
 * A thumbnailer with its own worker thread. Options (all optional): maxPixels (DEFAULT_MAX_IMAGE_PIXELS),
 * recycleAbovePixels (8 Mpx), maxJobsPerWorker (200), jobTimeoutMs (30 s), loadTimeoutMs (30 s: the
 * wasm's start), idleMs (20 s), maxQueued (64).
 * @returns {{ make(input: string|Uint8Array, size?: {width, height, quality}): Promise<{jpeg: Buffer,
 *   width, height, sourceWidth, sourceHeight}>, stats(): object, close(): Promise<void> }}
 */
export function createThumbnailer(options = {}) {
  const o = {
    maxPixels: DEFAULT_MAX_IMAGE_PIXELS, recycleAbovePixels: 8_000_000, maxJobsPerWorker: 200,
    jobTimeoutMs: 30_000, loadTimeoutMs: 30_000, idleMs: 20_000, maxQueued: 64,
    ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)),
  };
  for (const k of Object.keys(o)) {
    if (!Number.isSafeInteger(o[k]) || o[k] <= 0) throw new RangeError(`createThumbnailer: ${k} must be a positive integer, got ${o[k]}`);
  }
  const queue = [];
  let worker = null;       // { thread, ready, jobs, exited }
  let current = null;      // the job being run: { id, message, resolve, reject, timer }
  let idleTimer = null;
  let nextId = 1;
  let closed = false;
  const counters = { jobs: 0, workersStarted: 0, workersEnded: 0, recycled: 0, timeouts: 0, refused: 0 };

  function startWorker() {
    const thread = new Worker(WORKER_URL);
    thread.unref(); // never holds the process open
    const w = { thread, ready: false, jobs: 0, exited: false };
    counters.workersStarted++;
    thread.on('message', (msg) => {
      if (msg && msg.ready) { w.ready = true; armTimer(); return; }
      if (!current || msg.id !== current.id) return;
      const job = current;
      finishJob();
      if (msg.ok) {
        if (msg.pixels > o.recycleAbovePixels) { counters.recycled++; endWorker(); }
        job.resolve({
          jpeg: Buffer.from(msg.jpeg), width: msg.width, height: msg.height,
          sourceWidth: msg.sourceWidth, sourceHeight: msg.sourceHeight,
        });
      } else {
        job.reject(new ThumbnailError(msg.error, { kind: msg.kind, sourceWidth: msg.sourceWidth, sourceHeight: msg.sourceHeight }));
      }
      pump();
    });
    thread.on('error', (e) => onExit(w, `the thumbnail worker failed: ${e.message}`));
    thread.on('exit', (code) => onExit(w, `the thumbnail worker exited (code ${code})`));
    return w;
  }

  // The worker went away: the job it was running failed with it (the file's fault once the wasm had
  // loaded: an out-of-memory or a crash in the decoder).
  function onExit(w, why) {
    if (w.exited) return;
    w.exited = true;
    counters.workersEnded++;
    if (worker === w) worker = null;
    if (current && current.worker === w) {
      const job = current;
      finishJob();
      job.reject(new ThumbnailError(`${why} while making this thumbnail`, { kind: w.ready ? 'image' : 'unavailable' }));
    }
    pump();
  }

  function endWorker() {
    const w = worker;
    if (!w) return;
    worker = null;
    w.exited = true;
    counters.workersEnded++;
    w.thread.terminate().catch(() => {});
  }

  // The current job's deadline: loadTimeoutMs until the wasm is ready, then jobTimeoutMs.
  function armTimer() {
    if (!current) return;
    clearTimeout(current.timer);
    const w = current.worker;
    const ms = w.ready ? o.jobTimeoutMs : o.loadTimeoutMs;
    current.timer = setTimeout(() => {
      const job = current;
      if (!job || job.worker !== w) return;
      counters.timeouts++;
      finishJob();
      endWorker();
      job.reject(w.ready
        ? new ThumbnailError(`making the thumbnail took longer than ${o.jobTimeoutMs} ms`, { kind: 'image' })
        : new ThumbnailError(`the thumbnail worker's wasm did not load within ${o.loadTimeoutMs} ms`, { kind: 'unavailable' }));
      pump();
    }, ms);
    current.timer.unref?.();
  }

  function finishJob() {
    if (current) clearTimeout(current.timer);
    current = null;
  }

  function pump() {
    if (current || closed) return;
    clearTimeout(idleTimer);
    const job = queue.shift();
    if (!job) {
      if (worker) {
        idleTimer = setTimeout(() => { if (!current && !queue.length) endWorker(); }, o.idleMs);
        idleTimer.unref?.();
      }
      return;
    }
    if (worker && worker.jobs >= o.maxJobsPerWorker) endWorker();
    if (!worker) worker = startWorker();
    worker.jobs++;
    counters.jobs++;
    current = job;
    job.worker = worker;
    armTimer();
    worker.thread.postMessage(job.message);
  }

  return {
    options: o,
    make(input, { width = 200, height = 200, quality = 85 } = {}) {
      if (closed) return Promise.reject(new ThumbnailError('the thumbnailer is closed', { kind: 'unavailable' }));
      if (queue.length >= o.maxQueued) {
        counters.refused++;
        return Promise.reject(new ThumbnailError(`the thumbnailer is busy (${queue.length} images waiting)`, { kind: 'busy' }));
      }
      const id = nextId++;
      const message = { id, width, height, quality, maxPixels: o.maxPixels };
      if (typeof input === 'string') message.path = input;
      else message.bytes = new Uint8Array(input.buffer, input.byteOffset, input.byteLength).slice();
      return new Promise((resolve, reject) => {
        queue.push({ id, message, resolve, reject, timer: null, worker: null });
        pump();
      });
    },
    /** Counters and state, for tests and monitoring. */
    stats: () => ({ ...counters, queued: queue.length, running: !!current, workerAlive: !!worker }),
    async close() {
      closed = true;
      clearTimeout(idleTimer);
      const err = new ThumbnailError('the thumbnailer was closed', { kind: 'unavailable' });
      for (const job of queue.splice(0)) job.reject(err);
      if (current) { const job = current; finishJob(); job.reject(err); }
      endWorker();
    },
  };
}

let shared = null;

/**
 * Makes a JPEG thumbnail that fits in width x height (aspect kept) from PNG/JPEG bytes or a file path,
 * in a process-wide thumbnailer with the default budget. Returns { jpeg: Buffer, width, height,
 * sourceWidth, sourceHeight }; throws ThumbnailError.
 */
export function makeThumbnail(input, size) {
  if (!shared) shared = createThumbnailer();
  return shared.make(input, size);
}
