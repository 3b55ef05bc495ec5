// <capture-button>: a drop-in screenshot button for a canvas or an immersive WebXR session.
//
//   <capture-button target="#scene" format="image/jpeg" quality="0.9" review download>📷</capture-button>
//
// Attributes: target (CSS selector of the canvas), format, quality, scale, max-size (longest side),
//   thumbnail (longest side), view (0 | 1 | left | right | both, for XR), no-worker, review (show the
//   keep / discard step), download (save kept captures through a download with a timestamped name),
//   filename-prefix.
// Properties: target (a canvas element), xr ({ session, gl, referenceSpace } or a function returning it
//   or null; while the session runs, the button captures the XR frame), options (extra capture options:
//   render, resize, filters, metadata, ...), capture() (what a click does; returns the result or null).
// Events (bubbling, composed), detail { result } or { error }:
//   'capture'         a capture the user kept (or any capture, without review): save or queue it here
//   'capturediscard'  the user discarded it in the review step
//   'captureerror'    the capture failed (detail.error); the page keeps running
import { captureCanvas } from '../js-glue/capture/capture.js';
import { captureXRSession } from '../js-glue/capture/xr-capture.js';
import { downloadCapture } from '../js-glue/capture/download.js';
import './capture-review.js';
import { TargetButton } from './target-button.js';

const STYLE = `
  :host { display: inline-block; }
  button { font: inherit; cursor: pointer; padding: 8px 14px; border-radius: 999px; border: 1px solid #0a66c2;
    background: #0a66c2; color: #fff; }
  button[disabled] { opacity: 0.6; cursor: progress; }
`;

export class CaptureButton extends TargetButton {
  static get observedAttributes() { return ['disabled']; }

  constructor() {
    super();
    const root = this.attachShadow({ mode: 'open' });
    root.innerHTML = `<style>${STYLE}</style><button part="button" type="button"><slot>Screenshot</slot></button>`;
    this._button = root.querySelector('button');
    this._button.addEventListener('click', () => { this.capture(); });
    this._busy = false;
    this._review = null;
  }

  attributeChangedCallback() {
    this._button.disabled = this.hasAttribute('disabled') || this._busy;
  }

  /** True while a capture (and its review) is in progress. */
  get busy() { return this._busy; }

  _captureOptions() {
    const o = { ...this.options };
    const attr = (name) => this.getAttribute(name);
    if (attr('format')) o.format = attr('format');
    if (attr('quality')) o.quality = Number(attr('quality'));
    if (attr('scale')) o.scale = Number(attr('scale'));
    if (attr('max-size')) o.maxSize = Number(attr('max-size'));
    if (attr('thumbnail')) o.thumbnail = Number(attr('thumbnail'));
    if (attr('view')) o.view = /^\d+$/.test(attr('view')) ? Number(attr('view')) : attr('view');
    if (this.hasAttribute('no-worker')) o.worker = false;
    return o;
  }

  _reviewer() {
    if (!this._review || !this._review.isConnected) {
      this._review = document.createElement('capture-review');
      document.body.appendChild(this._review);
    }
    return this._review;
  }

  /**
   * Takes a screenshot (XR frame while a session runs, else the target canvas), runs the review step
   * when asked, fires the events, and returns the kept result (null when discarded or failed).
   */
  async capture() {
    if (this._busy) return null;
    this._busy = true;
    this._button.disabled = true;
    this.setAttribute('aria-busy', 'true');
    try {
      const options = this._captureOptions();
      const xr = this._xr();
      let result;
      if (xr) {
        const { session, ...rest } = xr;
        delete options.scale; // the XR compositor owns the framebuffer size
        result = await captureXRSession(session, { ...options, ...rest });
      } else {
        const canvas = this.target;
        if (!canvas) throw new Error('capture-button: no target canvas (set the target attribute or property)');
        result = await captureCanvas(canvas, options);
      }
      if (this.hasAttribute('review')) {
        const keep = await this._reviewer().review(result, { filenamePrefix: this.getAttribute('filename-prefix') || undefined });
        if (!keep) {
          this._emit('capturediscard', { result });
          return null;
        }
      }
      if (this.hasAttribute('download')) downloadCapture(result, { prefix: this.getAttribute('filename-prefix') || undefined });
      this._emit('capture', { result });
      return result;
    } catch (error) {
      this._emit('captureerror', { error });
      return null;
    } finally {
      this._busy = false;
      this._button.disabled = this.hasAttribute('disabled');
      this.removeAttribute('aria-busy');
    }
  }
}

if (!customElements.get('capture-button')) customElements.define('capture-button', CaptureButton);
