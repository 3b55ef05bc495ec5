// captureFilename: the timestamped download name (screenshot_YYYYMMDD_HHMMSS.jpg), with the
// extension taken from whatever describes the type: a capture's format, a recording's mimeType (with
// codec parameters), a Blob's type.
import { captureFilename } from '../../js-glue/capture/download.js';

const at = new Date(2025, 2, 14, 9, 30, 5).getTime(); // local time, as the name is

test.each([
  ['screenshot_20250314_093005.jpg', { format: 'image/jpeg', metadata: { timestamp: at } }, {}],
  ['screenshot_20250314_093005.png', { format: 'image/png', metadata: { timestamp: at } }, {}],
  ['recording_20250314_093005.webm', { mimeType: 'video/webm;codecs=vp8', blob: new Blob([], { type: 'video/webm;codecs=vp8' }), metadata: { timestamp: at } }, { prefix: 'recording' }],
  ['clip_20250314_093005.webm', { blob: new Blob([], { type: 'video/webm; codecs="vp9"' }), metadata: { timestamp: at } }, { prefix: 'clip' }],
  ['screenshot_20250314_093005.bin', { format: 'application/x-unknown', metadata: { timestamp: at } }, {}],
])('%s', (name, result, options) => {
  expect(captureFilename(result, options)).toBe(name);
});

test('a bare Blob: its type gives the extension', () => {
  expect(captureFilename(new Blob([], { type: 'video/webm;codecs=vp8' }), { prefix: 'recording' })).toMatch(/^recording_\d{8}_\d{6}\.webm$/);
  expect(captureFilename(new Blob([], { type: 'image/jpeg' }))).toMatch(/^screenshot_\d{8}_\d{6}\.jpg$/);
});
