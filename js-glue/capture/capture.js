// captureCanvas: a screenshot of a 2D or WebGL/WebGL2 canvas.
//
// WebGL without preserveDrawingBuffer: the picture only exists between the app's draw and the
// frame's presentation. With options.render the glue draws and reads in one go; otherwise it waits for
// the next frame and reads right after the app's requestAnimationFrame callbacks (frame.js).
import { MAX_SIDE } from '../validate.js';
import { normaliseOptions } from './options.js';
import { nextFrameAfterDraw } from './frame.js';
import { isWebGL, isWebGL2, readAsync, readSync } from './readback.js';
import { completeCapture, MainThreadClock, prepareFilters, stamp } from './result.js';
import { getCaptureWorker, prefetchBuffer, takeBuffer } from './worker-client.js';

const contexts = new WeakMap();

function isHTMLCanvas(c) {
  return typeof HTMLCanvasElement === 'function' && c instanceof HTMLCanvasElement;
}

function isOffscreen(c) {
  return typeof OffscreenCanvas === 'function' && c instanceof OffscreenCanvas;
}

// The canvas's existing rendering context. There is no API to ask which kind a canvas has, but
// getContext of another kind returns null, so probing is side-effect free for a canvas that already
// has one. ('2d' first: on a canvas without any context that creates the cheapest one.)
function findContext(canvas, given, where) {
  if (given) {
    if (given.canvas !== canvas) throw new TypeError(`${where}: options.context belongs to a different canvas`);
    return given;
  }
  const known = contexts.get(canvas);
  if (known) return known;
  let ctx = null;
  try {
    for (const kind of ['2d', 'webgl2', 'webgl', 'experimental-webgl']) {
      ctx = canvas.getContext(kind);
      if (ctx) break;
    }
  } catch (err) {
    if (err && err.name === 'InvalidStateError') {
      throw new Error(`${where}: the canvas is detached from its rendering (control was transferred to an OffscreenCanvas); capture that OffscreenCanvas instead`);
    }
    throw err;
  }
  if (!ctx) throw new TypeError(`${where}: the canvas has a rendering context capturekit cannot read (only 2d, webgl and webgl2)`);
  contexts.set(canvas, ctx);
  return ctx;
}

function checkCanvas(canvas, o, where) {
  if (!isHTMLCanvas(canvas) && !isOffscreen(canvas)) {
    throw new TypeError(`${where}: canvas must be an HTMLCanvasElement or OffscreenCanvas, got ${canvas === null ? 'null' : typeof canvas === 'object' ? canvas.constructor?.name || 'an object' : typeof canvas}`);
  }
  if (isHTMLCanvas(canvas) && !canvas.isConnected && !o.allowDetached) {
    throw new Error(`${where}: the canvas is detached (not in the document); capture a canvas on the page, or pass { allowDetached: true } for an off-screen one`);
  }
  if (!canvas.width || !canvas.height) {
    throw new RangeError(`${where}: the canvas has zero size (${canvas.width}x${canvas.height}); nothing to capture`);
  }
}

function setCanvasSize(canvas, width, height) {
  canvas.width = width;
  canvas.height = height;
}

/**
 * Takes a screenshot of a canvas.
 * @param {HTMLCanvasElement|OffscreenCanvas} canvas
 * @param {object} [options] format, quality, scale, maxSize, filters, thumbnail, worker, render,
 *   resize, context, timeout, metadata, allowDetached (see index.d.ts)
 * @returns {Promise<{blob, bytes, width, height, format, metadata, thumbnail, timing}>}
 */
export async function captureCanvas(canvas, options) {
  const where = 'captureCanvas';
  const clock = new MainThreadClock();
  const timestamp = Date.now();
  const o = normaliseOptions(options, where);
  checkCanvas(canvas, o, where);
  const ctx = findContext(canvas, o.context, where);
  const filters = prepareFilters(o.filters, where);
  const opts = { ...o, filters };
  const gl = isWebGL(ctx) ? ctx : null;
  if (gl && gl.isContextLost()) throw new Error(`${where}: the WebGL context is lost; wait for webglcontextrestored and redraw`);
  if (!gl && o.scale !== 1 && !o.render) {
    throw new TypeError(`${where}: options.scale on a 2D canvas needs options.render, to redraw the picture at the larger size`);
  }

  const orig = { width: canvas.width, height: canvas.height };
  let scaled = null;
  if (o.scale !== 1) {
    scaled = { width: Math.round(orig.width * o.scale), height: Math.round(orig.height * o.scale) };
    const limit = gl ? Math.min(MAX_SIDE, ...gl.getParameter(gl.MAX_VIEWPORT_DIMS), gl.getParameter(gl.MAX_RENDERBUFFER_SIZE)) : MAX_SIDE;
    if (scaled.width > limit || scaled.height > limit) {
      throw new RangeError(`${where}: scale ${o.scale} makes ${scaled.width}x${scaled.height}, above this device's limit of ${limit} per side`);
    }
  }
  const resize = (size) => (o.resize ? o.resize(size.width, size.height) : setCanvasSize(canvas, size.width, size.height));
  const source = {
    kind: gl ? (isWebGL2(gl) ? 'webgl2' : 'webgl') : '2d',
    canvasWidth: orig.width, canvasHeight: orig.height, scale: o.scale,
    preserveDrawingBuffer: gl ? !!gl.getContextAttributes().preserveDrawingBuffer : null,
  };

  // Everything from here to the read is synchronous, except the wait for the app's next frame.
  let read;
  let restored = false;
  const restore = () => {
    if (restored || !scaled) return;
    restored = true;
    resize(orig);
    if (o.render) o.render(); // so the frame on screen is drawn at the original size again
  };
  try {
    if (o.worker) {
      // Start the Worker (first capture) and have a pixel buffer ready while we wait for the frame.
      getCaptureWorker().catch(() => {});
      if (gl && isWebGL2(gl)) prefetchBuffer((scaled || orig).width * (scaled || orig).height * 4);
    }
    clock.add('setup', performance.now() - clock.start);
    clock.time('resize', () => { if (scaled) resize(scaled); });
    const immediate = !!o.render || !gl || (source.preserveDrawingBuffer && !scaled);
    if (immediate) {
      clock.time('render', () => { if (o.render) o.render(); });
    } else {
      await nextFrameAfterDraw({ timeout: o.timeout, what: where });
    }
    read = clock.time('read', () => {
      if (gl) {
        if (gl.isContextLost()) throw new Error(`${where}: the WebGL context was lost before the frame could be read`);
        const rect = { x: 0, y: 0, width: gl.drawingBufferWidth, height: gl.drawingBufferHeight };
        if (rect.width === 0 || rect.height === 0) throw new RangeError(`${where}: the WebGL drawing buffer has zero size`);
        const attrs = gl.getContextAttributes();
        const unpremultiply = !!(attrs.alpha && attrs.premultipliedAlpha);
        if (o.worker && isWebGL2(gl)) {
          const r = readAsync(gl, null, [rect], where, { takeBuffer });
          return { pixels: r.result, width: r.width, height: r.height, flip: true, unpremultiply, asyncMs: r.mainMs };
        }
        const r = readSync(gl, null, [rect], where);
        return { pixels: r.pixels, width: r.width, height: r.height, flip: true, unpremultiply };
      }
      const w = canvas.width; const h = canvas.height;
      const img = ctx.getImageData(0, 0, w, h);
      return { pixels: new Uint8Array(img.data.buffer), width: w, height: h, flip: false, unpremultiply: false };
    });
  } finally {
    clock.time('resize', restore);
  }

  const result = await completeCapture({
    pixels: read.pixels, width: read.width, height: read.height, flip: read.flip, unpremultiply: read.unpremultiply,
    o: opts, source, clock, timestamp,
  });
  if (read.asyncMs) clock.add('readback', read.asyncMs());
  return stamp(result, clock);
}
