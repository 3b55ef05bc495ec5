// "Right after the app draws the next frame": the moment a WebGL canvas made without
// preserveDrawingBuffer still holds its picture. After the frame is presented the buffer is cleared,
// so a read from a timer or an event handler sees transparent black.
//
// The HTML event loop runs every requestAnimationFrame callback of a frame, then the ResizeObserver
// callbacks, then paints. So: in our own rAF callback we nudge the size of a hidden observed element;
// its ResizeObserver callback then runs after *all* of the frame's rAF callbacks (whatever order the
// app and we registered in) and before the paint. The continuation runs in that callback's microtask
// checkpoint, still before the paint. When the app passes render(), we call it ourselves instead.

let probe = null;
let waiters = [];

function ensureProbe() {
  if (probe) return probe;
  const el = document.createElement('div');
  el.setAttribute('aria-hidden', 'true');
  el.style.cssText = 'position:fixed;left:-10px;top:0;width:1px;height:1px;visibility:hidden;pointer-events:none;contain:strict';
  (document.body || document.documentElement).appendChild(el);
  const ro = new ResizeObserver(() => {
    const due = waiters;
    waiters = [];
    for (const w of due) w();
  });
  ro.observe(el);
  probe = { el, ro };
  return probe;
}

function rafAvailable() {
  return typeof requestAnimationFrame === 'function';
}

/**
 * Resolves in the next animation frame after the app's rAF callbacks ran (or after `render()` when
 * given), before the frame is presented. Rejects after `timeout` ms (a hidden tab runs no frames).
 * `before` runs at the start of our rAF callback (used to resize for high-resolution capture).
 */
export function nextFrameAfterDraw({ render, timeout = 5000, what = 'capture' } = {}) {
  return new Promise((resolve, reject) => {
    let done = false;
    const timer = setTimeout(() => {
      if (done) return;
      done = true;
      reject(new Error(`${what}: no animation frame within ${timeout} ms (is the page hidden or the render loop stopped?)`));
    }, timeout);
    const finish = (fn) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      fn();
    };
    if (!rafAvailable()) {
      finish(() => reject(new Error(`${what}: requestAnimationFrame is not available here; pass { render } or use preserveDrawingBuffer`)));
      return;
    }
    requestAnimationFrame(() => {
      if (render) {
        try {
          render();
        } catch (err) {
          finish(() => reject(err));
          return;
        }
        finish(resolve);
        return;
      }
      if (typeof ResizeObserver !== 'function' || typeof document !== 'object') {
        finish(resolve); // no post-rAF hook (e.g. a Worker): read now, after callbacks registered before ours
        return;
      }
      const p = ensureProbe();
      waiters.push(() => finish(resolve));
      p.el.style.width = p.el.style.width === '1px' ? '2px' : '1px';
    });
  });
}
