// <capture-review>: the review step before anything is saved or queued (users look at what they
// captured before it is uploaded). Shows the capture (a screenshot, or a recording in a <video>
// with controls) with Keep / Discard and a download link with a timestamped name.
//
//   const review = document.querySelector('capture-review');
//   const kept = await review.review(result);   // true: keep, false: discard (Escape also discards)
//   // or without an element in the page:
//   import { reviewCapture } from 'capturekit/web/capture-review.js';
//   if (await reviewCapture(result)) queue.add(result);
//
// Events (bubbling, composed): 'reviewkeep' and 'reviewdiscard', detail { result }. (<capture-button>
// turns them into its own 'capture' / 'capturediscard'.)
import { captureFilename } from '../js-glue/capture/download.js';

const STYLE = `
  :host { position: fixed; inset: 0; z-index: 2147483000; display: none; align-items: center; justify-content: center;
    background: rgba(0, 0, 0, 0.6); font: 14px/1.4 system-ui, sans-serif; color: #111; }
  :host([open]) { display: flex; }
  .panel { background: #fff; border-radius: 8px; padding: 12px; max-width: 92vw; max-height: 92vh; display: flex;
    flex-direction: column; gap: 8px; box-shadow: 0 8px 32px rgba(0, 0, 0, 0.4); }
  img, video { max-width: 88vw; max-height: 70vh; object-fit: contain; background:
    repeating-conic-gradient(#ddd 0% 25%, #fff 0% 50%) 50% / 16px 16px; align-self: center; }
  [hidden] { display: none; }
  .info { color: #555; font-size: 12px; }
  .row { display: flex; gap: 8px; justify-content: flex-end; align-items: center; }
  .row a { margin-right: auto; }
  button { font: inherit; padding: 6px 14px; border-radius: 6px; border: 1px solid #999; background: #f4f4f4; cursor: pointer; }
  button.keep { background: #0a66c2; border-color: #0a66c2; color: #fff; }
`;

function formatBytes(n) {
  return n < 1024 ? `${n} B` : n < 1048576 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1048576).toFixed(2)} MiB`;
}

export class CaptureReview extends HTMLElement {
  constructor() {
    super();
    const root = this.attachShadow({ mode: 'open' });
    root.innerHTML = `<style>${STYLE}</style>
      <div class="panel" part="panel" role="dialog" aria-modal="true" aria-label="Review screenshot">
        <img part="preview" alt="Screenshot preview">
        <video part="video" controls loop muted playsinline hidden></video>
        <div class="info" part="info"></div>
        <div class="row">
          <a part="download" class="download">Download</a>
          <button part="discard" class="discard" type="button">Discard</button>
          <button part="keep" class="keep" type="button">Keep</button>
        </div>
      </div>`;
    this._img = root.querySelector('img');
    this._video = root.querySelector('video');
    this._info = root.querySelector('.info');
    this._link = root.querySelector('a');
    this._pending = null;
    root.querySelector('.keep').addEventListener('click', () => this._settle(true));
    root.querySelector('.discard').addEventListener('click', () => this._settle(false));
    this._onKey = (e) => { if (e.key === 'Escape') this._settle(false); };
  }

  /** The capture being reviewed (null when closed). */
  get result() { return this._pending ? this._pending.result : null; }

  /**
   * Shows `result` and resolves true (keep) or false (discard). A new review replaces (discards) an
   * open one.
   */
  review(result, { filenamePrefix } = {}) {
    if (!result || !(result.blob instanceof Blob)) throw new TypeError('capture-review: review(result) needs a capture result with a blob');
    if (this._pending) this._settle(false);
    const url = URL.createObjectURL(result.blob);
    const type = String(result.format || result.mimeType || result.blob.type);
    const video = type.startsWith('video/');
    this._img.hidden = video;
    this._video.hidden = !video;
    if (video) {
      // A recording with sound plays with it (the user pressed play: no autoplay rules apply); silent
      // ones stay muted.
      this._video.muted = !result.audio;
      this._video.src = url;
      const seconds = Number.isFinite(result.duration) ? ` · ${result.duration.toFixed(1)} s · ${result.frames} frames` : '';
      this._info.textContent = `${result.width} × ${result.height}${seconds} · ${type.split(';')[0]} · ${formatBytes(result.blob.size)}`;
    } else {
      this._img.src = url;
      this._img.alt = `Screenshot ${result.width}x${result.height}`;
      this._info.textContent = `${result.width} × ${result.height} · ${result.format} · ${formatBytes(result.blob.size)}`;
    }
    this.shadowRoot.querySelector('.panel').setAttribute('aria-label', video ? 'Review recording' : 'Review screenshot');
    this._link.href = url;
    this._link.download = captureFilename(result, { prefix: filenamePrefix || this.getAttribute('filename-prefix') || (video ? 'recording' : 'screenshot') });
    this._link.textContent = `Download ${this._link.download}`;
    this.setAttribute('open', '');
    document.addEventListener('keydown', this._onKey);
    return new Promise((resolve) => {
      this._pending = { result, url, resolve };
      this.shadowRoot.querySelector('.keep').focus();
    });
  }

  _settle(keep) {
    const p = this._pending;
    if (!p) return;
    this._pending = null;
    this.removeAttribute('open');
    document.removeEventListener('keydown', this._onKey);
    this._img.removeAttribute('src');
    this._video.pause();
    this._video.removeAttribute('src');
    this._video.load();
    this._link.removeAttribute('href');
    // Revoke later: a download started from the link may still be reading the URL.
    setTimeout(() => URL.revokeObjectURL(p.url), 30_000);
    this.dispatchEvent(new CustomEvent(keep ? 'reviewkeep' : 'reviewdiscard', { bubbles: true, composed: true, detail: { result: p.result } }));
    p.resolve(keep);
  }

  /** Programmatic keep / discard (the buttons do the same). */
  keep() { this._settle(true); }
  discard() { this._settle(false); }

  disconnectedCallback() { this._settle(false); }
}

if (!customElements.get('capture-review')) customElements.define('capture-review', CaptureReview);

/** Reviews a capture in a temporary <capture-review> appended to the page; resolves true to keep. */
export async function reviewCapture(result, options) {
  const el = document.createElement('capture-review');
  document.body.appendChild(el);
  try {
    return await el.review(result, options);
  } finally {
    el.remove();
  }
}
