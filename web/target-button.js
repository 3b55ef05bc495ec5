// TargetButton: what <capture-button> and <record-button> share. Each acts on a target canvas (the
// `target` property, or a CSS selector in the `target` attribute) or, while one runs, on an immersive
// WebXR session (the `xr` property: { session, gl, referenceSpace, ... } or a function returning it or
// null), takes extra options from the `options` property, and fires bubbling, composed events.
import { isSessionEnded } from '../js-glue/capture/xr-capture.js';

export class TargetButton extends HTMLElement {
  #target = null;

  constructor() {
    super();
    this.xr = null;
    this.options = {};
  }

  /** The canvas: set the property, or the `target` attribute (a selector). */
  get target() {
    if (this.#target) return this.#target;
    const sel = this.getAttribute('target');
    return sel ? document.querySelector(sel) : null;
  }
  set target(el) { this.#target = el; }

  /** The running XR session's { session, ... }, or null (none given, or it ended). */
  _xr() {
    const x = typeof this.xr === 'function' ? this.xr() : this.xr;
    if (!x || !x.session || isSessionEnded(x.session)) return null;
    return x;
  }

  _emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { bubbles: true, composed: true, detail }));
  }
}
