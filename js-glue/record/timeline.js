// The recording's time line with pauses taken out. pause() and resume() mark spans of page time (µs,
// performance.now() * 1000); a frame or an audio chunk stamped inside a span is not recorded, and one
// stamped after it moves back by the span's length. Video and audio go through the same spans, so they
// stay in sync across any number of pauses, and the file has no gap and no frozen frame where the
// recording was paused. (Frames are judged by their own capture time, not by when they arrive, so a
// frame captured just before pause() and delivered after it is still recorded.)

export class Timeline {
  constructor() {
    this.spans = [];      // [start, end] of each finished pause, in order
    this.pausedAt = null; // start of the current pause
    this.total = 0;       // length of the finished pauses
  }

  get paused() { return this.pausedAt !== null; }

  pause(us) {
    if (this.pausedAt === null) this.pausedAt = us;
  }

  resume(us) {
    if (this.pausedAt === null) return;
    const end = Math.max(us, this.pausedAt);
    this.spans.push([this.pausedAt, end]);
    this.total += end - this.pausedAt;
    this.pausedAt = null;
  }

  /** Paused time so far, µs (the current pause up to `now` included). */
  pausedUs(now) {
    return this.total + (this.pausedAt !== null ? Math.max(0, now - this.pausedAt) : 0);
  }

  /** The recording time of page time `us`, or null when `us` falls in a pause. */
  map(us) {
    if (this.pausedAt !== null && us >= this.pausedAt) return null;
    const n = this.spans.length;
    if (n === 0) return us;
    if (us >= this.spans[n - 1][1]) return us - this.total; // after every pause: the usual case
    let shift = 0;
    for (const [start, end] of this.spans) {
      if (us < start) break;
      if (us < end) return null;
      shift += end - start;
    }
    return us - shift;
  }
}
