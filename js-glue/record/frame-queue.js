// The recorder's intake: frames waiting to be encoded, at most maxQueuedFrames of them, handed to the
// backend strictly in the order they were taken. A full queue is backpressure, never a silent loss: in
// auto mode (the recorder takes frames from the render loop or a stream by itself) the frame is skipped
// and counted; a frame the app hands over (addFrame, captureFrame) is refused with an Error. Either way
// the 'backpressure' report says so, and `ready` resolves when there is room again.
export class FrameQueue {
  #max;
  #inFlight = 0;
  #chain = Promise.resolve();
  #readyWaiters = [];
  #idleWaiters = [];
  #report;

  /** Frames accepted so far; frames in the file; frames skipped because the queue was full. */
  accepted = 0;
  encoded = 0;
  skipped = 0;

  /**
   * @param {number} max maxQueuedFrames
   * @param {(detail: {queued: number, maxQueuedFrames: number, skippedFrames: number, what: string}) => void} report
   */
  constructor(max, report) {
    this.#max = max;
    this.#report = report;
  }

  /** Frames accepted and not yet in the file. */
  get inFlight() { return this.#inFlight; }
  /** Frames that may still be queued before backpressure (<= 0: full). */
  get room() { return this.#max - this.#inFlight; }

  /** Resolves when a frame may be added without backpressure (now when `open` is false). */
  ready(open) {
    if (this.#inFlight < this.#max || !open) return Promise.resolve();
    return new Promise((resolve, reject) => this.#readyWaiters.push({ resolve, reject }));
  }

  backpressure(what) {
    this.#report({ queued: this.#inFlight, maxQueuedFrames: this.#max, skippedFrames: this.skipped, what });
  }

  /** Whether there is room for a frame; skipped (false) in auto mode, an Error for the app's own call. */
  checkRoom(what, auto) {
    if (this.#inFlight < this.#max) return true;
    if (auto) {
      this.skipped++;
      this.backpressure('skipped');
      return false;
    }
    this.backpressure('refused');
    throw new Error(`recorder.${what}: ${this.#inFlight} frames are waiting to be encoded (maxQueuedFrames ${this.#max}); ` +
      'wait for `await recorder.ready` before adding more (nothing was recorded for this call)');
  }

  /** A frame that did not go through the queue (MediaRecorder takes the canvas itself). */
  countDirect() {
    this.accepted++;
    this.encoded++;
  }

  /**
   * Queues one frame: `step()` runs after every earlier frame's step and returns { done } (a promise that
   * settles when the frame is in the file). Resolves like `done`; on failure `onfail(err)` runs first.
   */
  submit(step, onfail) {
    this.#inFlight++;
    this.accepted++;
    const run = this.#chain.then(step);
    this.#chain = run.then(() => {}, () => {});
    const done = run.then((s) => s.done).then(
      () => {
        this.encoded++;
        this.#settle();
      },
      (err) => {
        this.#settle();
        onfail(err);
        throw err;
      },
    );
    done.catch(() => {});
    return done;
  }

  #settle() {
    this.#inFlight--;
    if (this.#inFlight < this.#max) for (const w of this.#readyWaiters.splice(0)) w.resolve();
    if (this.#inFlight === 0) for (const w of this.#idleWaiters.splice(0)) w.resolve();
  }

  /** Resolves once every queued frame is in the file. */
  async idle() {
    if (this.#inFlight > 0) await new Promise((resolve, reject) => this.#idleWaiters.push({ resolve, reject }));
    await this.#chain;
  }

  /** The recording failed or was aborted: everyone waiting hears `err`. */
  rejectAll(err) {
    for (const w of this.#readyWaiters.splice(0)) w.reject(err);
    for (const w of this.#idleWaiters.splice(0)) w.reject(err);
  }
}
