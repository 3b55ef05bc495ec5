// Local saving: a download with a timestamped name (screenshot_YYYYMMDD_HHMMSS.jpg).

const EXT = { 'image/jpeg': 'jpg', 'image/png': 'png', 'video/webm': 'webm' };

const pad = (n, w = 2) => String(n).padStart(w, '0');

/**
 * "screenshot_20250314_093005.jpg" for a capture (its metadata.timestamp, local time); the extension
 * follows its type (format, mimeType or the Blob's type: a recording is .webm).
 */
export function captureFilename(result, { prefix = 'screenshot' } = {}) {
  const t = new Date(result && result.metadata && result.metadata.timestamp ? result.metadata.timestamp : Date.now());
  const stamp = `${t.getFullYear()}${pad(t.getMonth() + 1)}${pad(t.getDate())}_${pad(t.getHours())}${pad(t.getMinutes())}${pad(t.getSeconds())}`;
  const isBlob = typeof Blob === 'function' && result instanceof Blob;
  const type = (result && (isBlob ? result.type : result.format || result.mimeType || (result.blob && result.blob.type))) || 'image/png';
  return `${prefix}_${stamp}.${EXT[type.split(';')[0].trim()] || 'bin'}`;
}

function blobOf(result) {
  if (typeof Blob === 'function' && result instanceof Blob) return result;
  if (result && result.blob) return result.blob;
  if (result && result.bytes) return new Blob([result.bytes], { type: result.format });
  throw new TypeError('capturekit: expected a capture result { blob } or a Blob');
}

/**
 * An <a download> for the capture. Its object URL lives until revoke() (or the page unloads).
 * @returns {{ link: HTMLAnchorElement, filename: string, revoke: () => void }}
 */
export function createDownloadLink(result, { prefix, filename, text } = {}) {
  const name = filename || captureFilename(result, { prefix });
  const url = URL.createObjectURL(blobOf(result));
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  link.textContent = text || name;
  return { link, filename: name, revoke: () => URL.revokeObjectURL(url) };
}

/** Saves the capture through the browser's download (a click on a temporary link). Returns the name. */
export function downloadCapture(result, options = {}) {
  const { link, filename, revoke } = createDownloadLink(result, options);
  link.style.display = 'none';
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(revoke, 60_000); // the download has started by then; revoking at once can cancel it
  return filename;
}
