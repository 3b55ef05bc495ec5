// captureXRFrame: a screenshot of an immersive WebXR session, taken inside the session's
// requestAnimationFrame callback (the only time the XR framebuffer holds the frame).
//
//   session.requestAnimationFrame(function onFrame(t, frame) {
//     draw(frame);
//     if (wanted) captureXRFrame(frame, { gl, referenceSpace, view: 'both' }).then(show);
//     session.requestAnimationFrame(onFrame);
//   });
//
// The pixels are read synchronously (so all argument and state errors throw synchronously); flip,
// filters and encoding run in the Worker and the returned promise resolves with the result.
import { checkEnum } from '../validate.js';
import { normaliseOptions } from './options.js';
import { isWebGL, isWebGL2, readAsync, readSync, textureTargets } from './readback.js';
import { completeCapture, MainThreadClock, prepareFilters, stamp } from './result.js';
import { prefetchBuffer, takeBuffer } from './worker-client.js';
import { inferSessionMode, transformToJSON } from './metadata.js';

const ended = new WeakSet();
const tracked = new WeakSet();

/** Starts watching a session's 'end' event (captureXRFrame and captureXRSession do it themselves). */
export function trackXRSession(session) {
  if (!session || tracked.has(session) || typeof session.addEventListener !== 'function') return;
  tracked.add(session);
  session.addEventListener('end', () => ended.add(session));
}

/**
 * True when a tracked session has ended. (No API says whether an XRSession has ended, and probing
 * one, e.g. with requestAnimationFrame, has side effects under polyfills, so the 'end' event it is.)
 */
export function isSessionEnded(session) {
  trackXRSession(session);
  return ended.has(session);
}

function findProjectionLayer(layers) {
  if (!layers || !layers.length) return null;
  // Only projection layers have textureWidth/textureHeight (quad, cylinder, ... layers do not).
  return layers.find((l) => (typeof XRProjectionLayer === 'function' && l instanceof XRProjectionLayer) ||
    (l && 'textureWidth' in l && 'textureHeight' in l)) || null;
}

const bindings = new WeakMap();
function bindingFor(session, gl, where) {
  if (typeof XRWebGLBinding !== 'function') throw new Error(`${where}: the session uses a projection layer but XRWebGLBinding is missing; pass options.binding`);
  let b = bindings.get(session);
  if (!b || b.gl !== gl) {
    b = { gl, binding: new XRWebGLBinding(session, gl) };
    bindings.set(session, b);
  }
  return b.binding;
}

function round(vp) {
  const x = Math.round(vp.x); const y = Math.round(vp.y);
  return { x, y, width: Math.round(vp.x + vp.width) - x, height: Math.round(vp.y + vp.height) - y };
}

// view option: an index into pose.views, 'left' / 'right' (by eye), or 'both' (all views, left to right).
function pickViews(views, view, where) {
  if (view === 'both' || view === 'all') return views.map((v, i) => i);
  if (view === 'left' || view === 'right') {
    const i = views.findIndex((v) => v.eye === view);
    if (i < 0) throw new RangeError(`${where}: options.view is ${JSON.stringify(view)} but this frame has no ${view}-eye view (eyes: ${views.map((v) => v.eye).join(', ')})`);
    return [i];
  }
  if (typeof view === 'number') {
    if (!Number.isInteger(view) || view < 0 || view >= views.length) {
      throw new RangeError(`${where}: options.view must be an index from 0 to ${views.length - 1}, got ${view}`);
    }
    return [view];
  }
  return checkEnum(view, `${where}: options.view`, [0, 1, 'left', 'right', 'both']);
}

/**
 * Reads the pixels of the chosen views of an XR frame: the one XR view readback, shared by screenshots
 * (captureXRFrame) and recordings (record/sources/xr.js). Call inside the session's requestAnimationFrame
 * callback, after drawing. The views are laid side by side, bottom-up (GL rows); the caller flips.
 *
 * options: referenceSpace, gl (default: the baseLayer's context), binding (XRWebGLBinding, for projection
 * layers; made and kept per session otherwise), view (index, 'left', 'right', 'both'), where (error
 * prefix), readAsync (WebGL2: PBO + fence; the pixels come as a promise in read.result), takeBuffer (a
 * recycled buffer for the async read).
 * Returns { pose: null } when the viewer pose is not available this frame (tracking lost), else
 * { pose, indices, rects, layer, projection, fb, gl, read: { pixels | result, width, height, mainMs? } }.
 */
export function readXRViews(frame, { referenceSpace, gl: givenGl, binding: givenBinding, view = 0, where, readAsync: async = false, takeBuffer: take } = {}) {
  const session = frame.session;
  let pose;
  try {
    pose = frame.getViewerPose(referenceSpace);
  } catch (err) {
    if (err && err.name === 'InvalidStateError') {
      if (ended.has(session)) throw new Error(`${where}: the XR session has ended`);
      throw new Error(`${where} must be called inside the XRSession requestAnimationFrame callback, synchronously, after drawing: this XRFrame is no longer active (${err.message})`);
    }
    throw err;
  }
  if (!pose) return { pose: null };
  const rs = session.renderState || {};
  const layer = rs.baseLayer || null;
  const projection = layer ? null : findProjectionLayer(rs.layers);
  if (!layer && !projection) {
    throw new Error(`${where}: the session has no baseLayer or projection layer; call session.updateRenderState() first`);
  }
  const gl = givenGl || (layer && layer.context);
  if (!gl || !isWebGL(gl)) throw new TypeError(`${where}: options.gl must be the WebGL context the session's layer was created with`);
  if (gl.isContextLost()) throw new Error(`${where}: the WebGL context is lost`);

  const indices = pickViews(pose.views, view, where);
  const views = indices.map((i) => pose.views[i]);
  let rects;
  let fb = null;
  let targets = null;
  if (layer) {
    rects = views.map((v) => round(layer.getViewport(v)));
    // The layer's opaque framebuffer, or null where the runtime renders to the default one (emulators).
    fb = layer.framebuffer || null;
  } else {
    // XRProjectionLayer (three.js uses one where the browser supports WebXR Layers): each view is a
    // sub-image of a texture (or a texture-array layer), attached to a temporary read framebuffer.
    const binding = givenBinding || bindingFor(session, gl, where);
    targets = textureTargets(gl);
    rects = views.map((v) => {
      const sub = binding.getViewSubImage(projection, v);
      const layerIndex = projection.textureArrayLength > 1 && sub.imageIndex != null ? sub.imageIndex : null;
      return { ...round(sub.viewport), framebuffer: targets.target(sub.colorTexture, layerIndex) };
    });
  }
  let read;
  try {
    for (const r of rects) {
      if (r.width <= 0 || r.height <= 0) throw new RangeError(`${where}: the chosen view has an empty viewport (${r.width}x${r.height}); is the session mono?`);
    }
    read = async && isWebGL2(gl) ? readAsync(gl, fb, rects, where, { takeBuffer: take }) : readSync(gl, fb, rects, where);
  } finally {
    targets?.release();
  }
  return { pose, indices, rects, layer, projection, fb, gl, read };
}

/**
 * Captures the current XR frame. Call inside the XRSession requestAnimationFrame callback, after
 * drawing. options: gl (the WebGL context of the XRWebGLLayer), referenceSpace (for the pose),
 * view (0, 1, 'left', 'right', 'both'; default 0), sessionMode, plus the captureCanvas options
 * format, quality, maxSize, filters, thumbnail, worker, metadata (scale must be 1).
 */
export function captureXRFrame(frame, options) {
  options ??= {}; // options.referenceSpace is required: checked below, with a message that says so
  const where = 'captureXRFrame';
  const clock = new MainThreadClock();
  const timestamp = Date.now();
  const o = normaliseOptions(options, where, { xr: true });
  const filters = prepareFilters(o.filters, where);
  if (!frame || typeof frame !== 'object' || typeof frame.getViewerPose !== 'function' || !frame.session) {
    throw new TypeError(`${where}: frame must be the XRFrame passed to your XRSession.requestAnimationFrame callback`);
  }
  const session = frame.session;
  trackXRSession(session);
  if (ended.has(session)) throw new Error(`${where}: the XR session has ended`);
  const { referenceSpace } = options;
  if (!referenceSpace || typeof referenceSpace !== 'object') {
    throw new TypeError(`${where}: options.referenceSpace must be the XRReferenceSpace you render with (for the viewer pose)`);
  }

  clock.add('setup', performance.now() - clock.start);
  return clock.time('read', () => {
    const view = options.view === undefined ? 0 : options.view;
    const v = readXRViews(frame, {
      referenceSpace, gl: options.gl, binding: options.binding, view, where,
      readAsync: !!o.worker, takeBuffer,
    });
    if (!v.pose) throw new Error(`${where}: the viewer pose is not available this frame (tracking lost); try the next frame`);
    const { pose, indices, rects, layer, projection, fb, gl, read: r } = v;
    if (r.result) prefetchBuffer(r.width * r.height * 4); // usually in the pool before the fence passes
    const attrs = gl.getContextAttributes();
    const unpremultiply = fb || projection ? true : !!(attrs.alpha && attrs.premultipliedAlpha);

    const sessionMode = options.sessionMode || inferSessionMode(session);
    const xr = {
      sessionMode,
      view,
      framebuffer: projection ? 'projection-layer' : fb ? 'layer' : 'default',
      predictedDisplayTime: typeof frame.predictedDisplayTime === 'number' ? frame.predictedDisplayTime : null,
      pose: { ...transformToJSON(pose.transform), emulatedPosition: !!pose.emulatedPosition },
      views: indices.map((i, k) => ({
        index: i,
        eye: pose.views[i].eye,
        projectionMatrix: Array.from(pose.views[i].projectionMatrix),
        transform: transformToJSON(pose.views[i].transform),
        viewport: { x: rects[k].x, y: rects[k].y, width: rects[k].width, height: rects[k].height },
      })),
    };
    const source = {
      kind: 'xr', context: isWebGL2(gl) ? 'webgl2' : 'webgl', scale: 1,
      framebufferWidth: layer ? layer.framebufferWidth : projection.textureWidth,
      framebufferHeight: layer ? layer.framebufferHeight : projection.textureHeight,
    };
    const pixels = r.result || r.pixels;
    return completeCapture({
      pixels, width: r.width, height: r.height, flip: true, unpremultiply,
      o: { ...o, filters }, source, xr, session, sessionMode, clock, timestamp,
    }).then((result) => {
      if (r.mainMs) clock.add('readback', r.mainMs());
      return stamp(result, clock);
    });
  });
}

/**
 * Captures the next frame of `session`: registers a session requestAnimationFrame callback (it runs
 * after the app's callback for that frame, which was registered earlier) and calls captureXRFrame.
 * Use it from events (a button, a controller's select); inside your own frame callback call
 * captureXRFrame directly after drawing.
 */
export function captureXRSession(session, options) {
  options ??= {}; // as captureXRFrame: options.referenceSpace is required
  const where = 'captureXRSession';
  if (!session || typeof session.requestAnimationFrame !== 'function') {
    return Promise.reject(new TypeError(`${where}: session must be an active XRSession`));
  }
  try {
    normaliseOptions(options, where, { xr: true });
  } catch (err) {
    return Promise.reject(err);
  }
  if (isSessionEnded(session)) return Promise.reject(new Error(`${where}: the XR session has ended`));
  const timeout = options.timeout === undefined ? 5000 : options.timeout;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      session.cancelAnimationFrame(handle);
      reject(new Error(`${where}: no XR frame within ${timeout} ms (is the session paused or hidden?)`));
    }, timeout);
    const onEnd = () => {
      clearTimeout(timer);
      reject(new Error(`${where}: the XR session ended before the next frame`));
    };
    session.addEventListener('end', onEnd, { once: true });
    const handle = session.requestAnimationFrame((t, frame) => {
      clearTimeout(timer);
      session.removeEventListener('end', onEnd);
      try {
        resolve(captureXRFrame(frame, options));
      } catch (err) {
        reject(err);
      }
    });
    if (handle === 0) { // the spec's answer for an ended session
      ended.add(session);
      clearTimeout(timer);
      session.removeEventListener('end', onEnd);
      reject(new Error(`${where}: the XR session has ended`));
    }
  });
}
