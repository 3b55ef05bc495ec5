// XR source: where an immersive WebXR session's recorded frames come from. Inside the session's
// requestAnimationFrame callback, after the app drew, the chosen view(s) are read back (readXRViews in
// capture/xr-capture.js, the same readback as XR screenshots) with the viewer pose of that frame, which
// becomes the frame's metadata (frame-metadata.js). In frames 'auto' the source registers its own
// session frame callback (after the app's) and takes a frame per XR frame, paced to the fps.
// The session ending while recording fails the recording (the app should stop() first).
import { isSessionEnded, readXRViews, trackXRSession } from '../../capture/xr-capture.js';
import { getDeviceInfo, inferSessionMode } from '../../capture/metadata.js';
import { xrFrameMetadata } from '../frame-metadata.js';

const W = 'createRecorder';

export const isXRSession = (s) => !!s && typeof s === 'object' && typeof s.requestAnimationFrame === 'function' &&
  typeof s.requestReferenceSpace === 'function' && 'renderState' in s;

export class XRSource {
  constructor(session, o) {
    this.kind = 'xr';
    this.session = session;
    this.o = o;
    trackXRSession(session);
    if (isSessionEnded(session)) throw new Error(`${W}: the XR session has ended`);
    this.device = getDeviceInfo({ session, sessionMode: o.sessionMode || null }).catch(() => null);
    this.loop = null;
    this.onEnd = null;
  }

  /** Unknown until the first frame (the views' viewports decide it). */
  get size() { return null; }

  get bottomUp() { return true; }

  /** Recording-level metadata: the session mode and the recorded view. */
  describe() {
    return { sessionMode: this.o.sessionMode || inferSessionMode(this.session), view: this.o.view };
  }

  /**
   * The chosen views of `frame`: { pixels (or a promise of them), width, height, bottomUp, pose }, or
   * null when the viewer pose is not available this frame (tracking lost: nothing drawn to record).
   */
  read(frame, what, { takeBuffer } = {}) {
    const o = this.o;
    const v = readXRViews(frame, {
      referenceSpace: o.referenceSpace, gl: o.gl, binding: o.binding, view: o.view, where: `recorder.${what}`,
      readAsync: o.readback !== 'sync', takeBuffer,
    });
    if (!v.pose) return null;
    const r = v.read;
    return { pixels: r.result || r.pixels, width: r.width, height: r.height, bottomUp: true, pose: v.pose };
  }

  /** Per-frame metadata: the viewer pose and views (always; the app's own goes under `extra`). */
  metadata({ frame, frameNumber, time, startTime, extra }) {
    const meta = xrFrameMetadata(frame, this.o.referenceSpace, { frameNumber, time, startTime });
    return extra !== undefined ? { ...meta, extra } : meta;
  }

  /** frames 'auto': calls onframe(time, frame) in every XR frame, until stop(); onended when the session ends. */
  start(onframe, onerror, onended) {
    const session = this.session;
    const loop = { stopped: false, handle: 0 };
    this.loop = loop;
    const onFrame = (t, frame) => {
      if (loop.stopped) return;
      loop.handle = session.requestAnimationFrame(onFrame);
      try {
        onframe(t, frame);
      } catch (err) {
        onerror(err);
      }
    };
    loop.handle = session.requestAnimationFrame(onFrame);
    loop.cancel = () => session.cancelAnimationFrame(loop.handle);
    this.onEnd = () => onended();
    session.addEventListener('end', this.onEnd);
  }

  stop() {
    if (this.loop) {
      this.loop.stopped = true;
      this.loop.cancel?.();
      this.loop = null;
    }
    if (this.onEnd) this.session.removeEventListener('end', this.onEnd);
    this.onEnd = null;
  }
}
