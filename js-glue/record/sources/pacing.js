// Pacing for sources that offer more frames than the recording wants (a canvas render loop at the
// display's rate, an XR session at the headset's): with timing 'realtime', at most fps frames a second
// are taken, each at least an interval after the one before (a little slack for timer jitter).

export class Pacer {
  constructor(fps, timing) {
    this.interval = 1000 / fps;
    this.realtime = timing === 'realtime';
    this.next = null;
  }

  /** Whether a frame drawn at `time` (ms) is taken. */
  due(time) {
    if (!this.realtime) return true;
    const slack = Math.min(4, this.interval / 4);
    if (this.next === null) this.next = time;
    if (time + slack < this.next) return false;
    this.next += this.interval;
    if (this.next < time) this.next = time + this.interval;
    return true;
  }
}
