// Canvas source: where a canvas recording's frames come from. A 2D, WebGL or WebGL2 canvas (or an
// OffscreenCanvas) is read right after the app drew: as a VideoFrame (webcodecs: the browser copies the
// picture on the GPU, no readback), a WebGL readPixels (async through a PBO and a fence on WebGL2, the
// screenshot path of capture/readback.js), or getImageData for 2D. In frames 'auto' the source takes
// frames from the page's render loop by itself (nextFrameAfterDraw), paced to the recording's fps.
// The mediarecorder backend records canvas.captureStream() instead (stream()).
import { nextFrameAfterDraw } from '../../capture/frame.js';
import { isWebGL, isWebGL2, readAsync, readSync } from '../../capture/readback.js';

const W = 'createRecorder';

export const isHTMLCanvas = (c) => typeof HTMLCanvasElement === 'function' && c instanceof HTMLCanvasElement;
export const isOffscreen = (c) => typeof OffscreenCanvas === 'function' && c instanceof OffscreenCanvas;

function canvasContext(canvas, given) {
  if (given) {
    if (given.canvas !== canvas) throw new TypeError(`${W}: options.context belongs to a different canvas`);
    return given;
  }
  for (const kind of ['2d', 'webgl2', 'webgl']) {
    let ctx = null;
    try {
      ctx = canvas.getContext(kind);
    } catch (err) {
      if (err && err.name === 'InvalidStateError') throw new Error(`${W}: the canvas was transferred to an OffscreenCanvas; record that OffscreenCanvas instead`);
      throw err;
    }
    if (ctx) return ctx;
  }
  throw new TypeError(`${W}: the canvas has a rendering context capturekit cannot read (only 2d, webgl and webgl2)`);
}

export class CanvasSource {
  /** Checks the canvas and finds its context (throws before anything starts). */
  constructor(canvas, o) {
    this.kind = 'canvas';
    this.canvas = canvas;
    this.o = o;
    if (!canvas.width || !canvas.height) throw new RangeError(`${W}: the canvas has zero size (${canvas.width}x${canvas.height})`);
    this.ctx = canvasContext(canvas, o.context);
    this.gl = isWebGL(this.ctx) ? this.ctx : null;
    if (this.gl && this.gl.isContextLost()) throw new Error(`${W}: the WebGL context is lost`);
    this.loop = null;
  }

  /** The recording's size: the drawing buffer's (WebGL) or the canvas's. */
  get size() {
    return this.gl ? { width: this.gl.drawingBufferWidth, height: this.gl.drawingBufferHeight } : { width: this.canvas.width, height: this.canvas.height };
  }

  /** Rows come bottom-up from WebGL readbacks. */
  get bottomUp() { return !!this.gl; }

  /** For the mediarecorder backend: the canvas as a video track (0: a frame per requestFrame()). */
  stream(fps) {
    if (!isHTMLCanvas(this.canvas) || typeof this.canvas.captureStream !== 'function') {
      throw new TypeError(`${W}: backend "mediarecorder" needs an HTMLCanvasElement with captureStream()`);
    }
    return this.canvas.captureStream(fps);
  }

  /**
   * The canvas as it is now: { videoFrame } (webcodecs) or { pixels (Uint8Array or a promise of one),
   * bottomUp }, with width and height. `what` names the caller in errors.
   */
  read(time, what, { videoFrame = false, takeBuffer } = {}) {
    const canvas = this.canvas;
    const gl = this.gl;
    if (videoFrame && typeof VideoFrame === 'function') {
      // The browser copies the canvas (GPU) into the frame now, while it still holds the picture.
      const { width, height } = this.size;
      return { videoFrame: new VideoFrame(canvas, { timestamp: Math.round(time * 1000), alpha: 'discard' }), width, height };
    }
    if (gl) {
      if (gl.isContextLost()) throw new Error(`recorder.${what}: the WebGL context is lost`);
      const rect = { x: 0, y: 0, width: gl.drawingBufferWidth, height: gl.drawingBufferHeight };
      if (this.o.readback !== 'sync' && isWebGL2(gl)) {
        const r = readAsync(gl, null, [rect], `recorder.${what}`, { takeBuffer });
        return { pixels: r.result, width: r.width, height: r.height, bottomUp: true };
      }
      const r = readSync(gl, null, [rect], `recorder.${what}`);
      return { pixels: r.pixels, width: r.width, height: r.height, bottomUp: true };
    }
    const img = this.ctx.getImageData(0, 0, canvas.width, canvas.height);
    return { pixels: new Uint8Array(img.data.buffer), width: img.width, height: img.height, bottomUp: false };
  }

  /** Per-frame metadata when frameMetadata: true (the app's own, given to captureFrame, replaces it). */
  metadata({ frameNumber, time, startTime }) {
    return this.o.frameMetadata ? { frameNumber, timestamp: time, elapsed: time - startTime } : undefined;
  }

  /** frames 'auto': calls onframe(time) after each frame the page draws, until stop(). */
  start(onframe, onerror) {
    const loop = { stopped: false };
    this.loop = loop;
    (async () => {
      while (!loop.stopped) {
        try {
          await nextFrameAfterDraw({ timeout: 60_000, what: 'recorder' });
        } catch {
          continue; // no frame for a minute (hidden tab): keep waiting
        }
        if (loop.stopped) break;
        try {
          onframe(performance.now());
        } catch (err) {
          onerror(err);
          break;
        }
      }
    })();
  }

  stop() {
    if (this.loop) this.loop.stopped = true;
    this.loop = null;
  }
}
