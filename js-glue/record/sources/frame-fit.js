// A stream whose frames change size while it is recorded (a window the user resizes, a tab that is
// zoomed, a camera that switches resolution): the file keeps the size it started with, and each frame of
// another size is scaled into it whole, its aspect ratio kept, centred on black (letterboxed or
// pillarboxed). Left to itself VideoEncoder stretches such frames to the configured size (Chromium) or
// refuses them; a video player cannot follow a WebM track whose frames change size mid-stream.
export class FrameFitter {
  #canvas = null;
  #g = null;

  constructor(width, height) {
    this.width = width;
    this.height = height;
    /** Frames scaled so far. */
    this.fitted = 0;
  }

  /** `vf` itself when it has the size, else a new frame of the size (and `vf` is closed). */
  fit(vf) {
    const w = vf.displayWidth;
    const h = vf.displayHeight;
    if (w === this.width && h === this.height) return vf;
    if (!this.#canvas) {
      this.#canvas = new OffscreenCanvas(this.width, this.height);
      this.#g = this.#canvas.getContext('2d', { alpha: false });
    }
    const g = this.#g;
    const s = Math.min(this.width / w, this.height / h);
    const dw = Math.max(1, Math.round(w * s));
    const dh = Math.max(1, Math.round(h * s));
    g.fillStyle = '#000';
    g.fillRect(0, 0, this.width, this.height);
    try {
      g.drawImage(vf, Math.floor((this.width - dw) / 2), Math.floor((this.height - dh) / 2), dw, dh);
      const init = { timestamp: vf.timestamp };
      if (vf.duration) init.duration = vf.duration;
      this.fitted++;
      return new VideoFrame(this.#canvas, init);
    } finally {
      vf.close();
    }
  }
}
