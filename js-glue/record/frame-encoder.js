// The wasm backend's encoding side: one VideoWriter (libvpx + libwebm in the video module) fed RGBA
// frames. Runs inside the record Worker (record-worker.js) or inline (Node, { worker: false }).
//
// Frames arrive at their source size and orientation: WebGL/WebXR readbacks are bottom-up, which the
// writer's flipY turns upright during its RGBA->I420 conversion (no extra pass); a frame whose size
// differs from the video's is scaled with the core module's resize (only loaded when needed).
import { VideoWriter } from '../video/video-writer.js';

let resizeModule = null;
async function loadResize() {
  if (!resizeModule) {
    resizeModule = Promise.all([import('../image.js'), import('../pixels/resize.js'), import('../pixels/flip.js')])
      .then(async ([image, r, f]) => { await image.initImage(); return { resize: r.resize, flipVertical: f.flipVertical }; });
  }
  return resizeModule;
}

export class FrameEncoder {
  /**
   * @param {object} options VideoWriter options (codec, width, height, fps, bitrate, keyframeInterval,
   *   speed, flipY, audio?) without ondata
   * @param {(bytes: Uint8Array, offset: number) => void} ondata every produced range, in order
   */
  static async create(options, ondata) {
    const writer = await VideoWriter.create({ ...options, ondata });
    const enc = new FrameEncoder(writer, options);
    return enc;
  }

  constructor(writer, options) {
    this.writer = writer;
    this.options = options;
    this.tools = null;
  }

  get info() {
    const w = this.writer;
    return { codec: w.codec, width: w.width, height: w.height, fps: w.fps, keyframeInterval: w.keyframeInterval, speed: w.speed };
  }

  /**
   * frame: { data: Uint8Array, width, height, bottomUp: boolean, timestampUs?: number, metadata?: string }
   * Returns a promise only when the frame needs scaling (the first time the core module loads).
   */
  encode(frame) {
    const w = this.writer;
    const bottomUp = !!frame.bottomUp;
    const needResize = frame.width !== w.width || frame.height !== w.height;
    const needFlip = bottomUp !== !!this.options.flipY;
    if (!needResize && !needFlip) {
      w.addFrame({ data: frame.data, width: frame.width, height: frame.height }, opts(frame));
      return null;
    }
    const run = (t) => {
      let img = { data: frame.data, width: frame.width, height: frame.height };
      if (needFlip) img = t.flipVertical(img);
      if (needResize) img = t.resize(img, { width: w.width, height: w.height });
      w.addFrame(img, opts(frame));
    };
    if (this.tools) {
      run(this.tools);
      return null;
    }
    return loadResize().then((t) => { this.tools = t; run(t); });
  }

  /** Sound: PCM (a Float32Array per channel) heard at `timestampUs` on the frames' clock. */
  addAudio(planes, timestampUs) {
    this.writer.addAudio(planes, { timestampUs });
  }

  finish() {
    return this.writer.finish();
  }

  abort() {
    this.writer.abort();
  }
}

function opts(frame) {
  const o = {};
  if (frame.timestampUs !== undefined && frame.timestampUs !== null) o.timestampUs = frame.timestampUs;
  if (frame.metadata !== undefined && frame.metadata !== null) o.metadata = frame.metadata;
  return o;
}
