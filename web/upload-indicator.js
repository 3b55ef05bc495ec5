// <upload-indicator>: a subtle background-upload indicator for an Uploader.
//
//   <upload-indicator floating></upload-indicator>
//   document.querySelector('upload-indicator').uploader = uploader;
//
// Shows "✓ N uploaded" when idle, "Uploading… (N pending)" with a percentage while uploading, "Offline — N
// waiting" without a connection, "Retrying… (N pending)" during a backoff, and "N failed" with a Retry
// button (uploader.retryFailed()) when uploads failed for good. A following tab shows the leading tab's
// progress. Attributes: floating (fixed top-right). The element reflects
// state="idle|uploading|retrying|offline|waitingForData|authRequired" and failed="N" for styling;
// parts: label, bar, retry. A 'quotaexceeded' event from the uploader shows "Storage full".
const STYLE = `
  :host { display: inline-flex; align-items: center; gap: 8px; font: 12px/1.3 system-ui, sans-serif;
    padding: 6px 10px; border-radius: 8px; background: rgba(0, 200, 0, 0.1); color: #007a00; transition: all 0.3s ease; }
  :host([floating]) { position: fixed; top: 16px; right: 16px; z-index: 1000; }
  :host([state="uploading"]), :host([state="retrying"]), :host([state="waitingForData"]) { background: rgba(0, 120, 255, 0.1); color: #0058c0; }
  :host([state="offline"]), :host([state="authRequired"]), :host([failed]:not([failed="0"])), :host([storage="full"]) {
    background: rgba(255, 100, 0, 0.12); color: #b34700; }
  .bar { width: 48px; height: 4px; border-radius: 2px; background: rgba(0, 0, 0, 0.1); overflow: hidden; }
  .bar > i { display: block; height: 100%; width: 0; background: currentColor; transition: width 0.3s ease; }
  .bar[hidden], button[hidden] { display: none; }
  button { font: inherit; cursor: pointer; padding: 2px 8px; border-radius: 6px; border: 1px solid currentColor;
    background: transparent; color: inherit; }
`;

export class UploadIndicator extends HTMLElement {
  constructor() {
    super();
    const root = this.attachShadow({ mode: 'open' });
    root.innerHTML = `<style>${STYLE}</style><span part="label" role="status" aria-live="polite"></span>` +
      '<span class="bar" part="bar" hidden><i></i></span><button part="retry" type="button" hidden>Retry</button>';
    this._label = root.querySelector('span[part="label"]');
    this._bar = root.querySelector('.bar');
    this._fill = root.querySelector('.bar > i');
    this._retry = root.querySelector('button');
    this._retry.addEventListener('click', () => this.retry());
    this._uploader = null;
    this._storageFull = false;
    this._onProgress = (e) => this.render(e.detail);
    this._onQuota = () => { this._storageFull = true; this.render(); };
    this._onStored = () => { this._storageFull = false; this.render(); };
    this.render({ state: 'idle', uploaded: 0, pending: 0, failed: 0, percentage: 0 });
  }

  /** The Uploader to show (createUploader()). */
  get uploader() { return this._uploader; }
  set uploader(u) {
    if (this._uploader) {
      this._uploader.removeEventListener('progress', this._onProgress);
      this._uploader.removeEventListener('quotaexceeded', this._onQuota);
      this._uploader.removeEventListener('storagerecovered', this._onStored);
    }
    this._uploader = u || null;
    if (this._uploader) {
      this._uploader.addEventListener('progress', this._onProgress);
      this._uploader.addEventListener('quotaexceeded', this._onQuota);
      this._uploader.addEventListener('storagerecovered', this._onStored);
      Promise.resolve(this._uploader.ready).then(() => this.render(), () => {});
    }
  }

  /** The retry button: failed uploads go back to the queue. */
  async retry() {
    if (!this._uploader) return;
    this._retry.disabled = true;
    try {
      await this._uploader.retryFailed();
    } finally {
      this._retry.disabled = false;
    }
  }

  /** Draws a progress object (default: the uploader's current one). */
  render(p) {
    if (!p) p = this._uploader ? this._uploader.getProgress() : { state: 'idle', uploaded: 0, pending: 0, failed: 0, percentage: 0 };
    this._last = p;
    const n = (x) => String(x ?? 0);
    let text;
    switch (p.state) {
      case 'uploading': text = `Uploading… (${n(p.pending)} pending)`; break;
      case 'retrying': text = `Retrying… (${n(p.pending)} pending)`; break;
      case 'offline': text = `Offline — ${n(p.pending)} waiting`; break;
      case 'authRequired': text = `Sign in to upload (${n(p.pending)} waiting)`; break;
      case 'waitingForData': text = `Recording… (${n(p.pending)} pending)`; break;
      default: text = `✓ ${n(p.uploaded)} uploaded`;
    }
    if (p.failed > 0) text += ` · ${n(p.failed)} failed`;
    if (this._storageFull) text += ' · Storage full';
    this._label.textContent = text;
    const busy = p.state === 'uploading' || p.state === 'retrying' || p.state === 'waitingForData';
    this._bar.hidden = !busy;
    this._fill.style.width = `${Math.max(0, Math.min(100, p.percentage || 0))}%`;
    this._retry.hidden = !(p.failed > 0);
    this.setAttribute('state', p.state || 'idle');
    this.setAttribute('failed', n(p.failed));
    if (this._storageFull) this.setAttribute('storage', 'full');
    else this.removeAttribute('storage');
  }

  /** The text shown (for tests and accessibility checks). */
  get text() { return this._label.textContent; }
}

if (typeof customElements === 'object' && customElements && !customElements.get('upload-indicator')) {
  customElements.define('upload-indicator', UploadIndicator);
}
