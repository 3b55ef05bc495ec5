// Helpers the test pages share (imported by their module scripts).

/** Bytes as base64, for handing a file from the page to the test (page.evaluate returns JSON). */
export function toBase64(bytes) {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  return btoa(s);
}
