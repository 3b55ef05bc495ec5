// What a page downloads for each capability, gzip -9, since the core module was split (before: one
// capturekit-core of 131 KiB wasm + 13 KiB glue on every init()). Each row: the wasm module(s) the page
// fetches, their Emscripten glue, and capturekit's own JS for that page (the page's imports bundled
// and minified by esbuild, tree-shaken, the module glue and wasm left out: they are the first columns).
// Peer, measured in the same run with the same bundler: mediabunny (a pure-JS media toolkit, no wasm),
// its WebM writer on its own and everything it exports; its docs give 11.4 kB and 69.6 kB min+gzip.
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { table, fmt } from './timing.js';

const root = fileURLToPath(new URL('../', import.meta.url));
const gz = (bytes) => gzipSync(bytes, { level: 9 }).length;
const file = (f) => gz(readFileSync(`${root}${f}`));
const kib = (n) => fmt(n / 1024, 1);

// capturekit's JS for an entry, min+gzip (the wasm modules' glue in dist/ stays external: counted apart).
async function bundle(contents, resolveDir = root) {
  const out = await build({
    stdin: { contents, resolveDir, loader: 'js' }, bundle: true, minify: true, format: 'esm', write: false,
    platform: 'browser', target: 'es2022', external: ['../dist/*', '../../dist/*', 'node:*'], logLevel: 'silent',
  });
  return gz(out.outputFiles[0].contents);
}

export default async function run({ report }) {
  const ck = `${root}js-glue/index.js`;
  const simd = (m) => [`dist/${m}-simd.wasm`, `dist/${m}-simd.mjs`];
  const pages = [
    ['uploader only (createUploader + REST transport)', [['dist/capturekit-upload.wasm', 'dist/capturekit-upload.mjs']],
      [`export { createUploader, createRestTransport } from '${ck}';`]],
    ['screenshot (captureCanvas; the capture Worker is a second bundle)', [simd('capturekit-image')],
      [`export { captureCanvas } from '${ck}';`, `import '${root}js-glue/capture/worker.js';`]],
    ['screenshot + upload queue', [simd('capturekit-image'), ['dist/capturekit-upload.wasm', 'dist/capturekit-upload.mjs']],
      [`export { captureCanvas, createUploader, createRestTransport } from '${ck}';`, `import '${root}js-glue/capture/worker.js';`]],
    ['recording (createRecorder, wasm VP8/VP9 + WebM)', [simd('capturekit-video')],
      [`export { createRecorder } from '${ck}';`]],
  ];
  const rows = [];
  for (const [name, modules, entries] of pages) {
    const wasm = modules.reduce((a, [w]) => a + file(w), 0);
    const glue = modules.reduce((a, [, g]) => a + file(g), 0);
    let js = 0;
    for (const e of entries) js += await bundle(e);
    rows.push([name, kib(wasm), kib(glue), kib(js), kib(wasm + glue + js)]);
  }
  const mbWebm = await bundle("export { Output, WebMOutputFormat, BufferTarget, EncodedVideoPacketSource, EncodedAudioPacketSource } from 'mediabunny';");
  const mbAll = await bundle("export * from 'mediabunny';");
  rows.push(['mediabunny: WebM writer (Output, WebMOutputFormat, BufferTarget, packet sources)', '-', '-', kib(mbWebm), kib(mbWebm)]);
  rows.push(['mediabunny: everything it exports', '-', '-', kib(mbAll), kib(mbAll)]);

  const modules = ['capturekit-upload', 'capturekit-image', 'capturekit-image-simd', 'capturekit-video', 'capturekit-video-simd', 'capturekit-audio', 'capturekit-h264', 'capturekit-h264-simd']
    .map((m) => [m, kib(file(`dist/${m}.wasm`)), kib(file(`dist/${m}.mjs`)), kib(file(`dist/${m}.wasm`) + file(`dist/${m}.mjs`))]);
  report('Module sizes: what each wasm module weighs (KiB, gzip -9)', table(['module', 'wasm', 'Emscripten glue', 'total'], modules) +
    '\n\nBefore the split one core module (pixels + image + upload) was 131 KiB wasm + 13 KiB glue and loaded on init(). ' +
    'Targets: the screenshot path at most 110 KiB (the image module with its glue, SIMD build: met); the upload module at ' +
    'most 40 KiB: not met at -O3 (49.8 KiB once its messages stopped pulling in printf). Built -Oz (+ LTO, emmalloc) it was 39.7 KiB, ' +
    'but QueueCore decisions and restores ran 4-5x slower and SHA-256 7x slower (emcc 3.1.6 leaves libc++ string accessors ' +
    'out of line at -Os/-Oz); -Oz for all but SHA-256 and the JSON reader gave 39.5 KiB with decisions 1.28x slower (its item ' +
    'lookup is a linear search), so it stays -O3 (with emmalloc, 1.7 KiB smaller than dlmalloc and as fast here).');
  report('Page weight per capability (KiB, gzip -9) beside mediabunny', table(['page', 'wasm', 'module glue', 'capturekit JS (esbuild min)', 'total'], rows) +
    `\n\nmediabunny ${JSON.parse(readFileSync(`${root}node_modules/mediabunny/package.json`, 'utf8')).version} bundled by the same esbuild in this run ` +
    '(its docs: WebM writer 11.4 kB, everything 69.6 kB min+gzip). mediabunny muxes what the browser encodes (WebCodecs) in JS; ' +
    'capturekit carries its own encoders, codecs and upload state machine in wasm, so the comparison is of weight, not of features. ' +
    'Ratio of the uploader-only page to mediabunny\'s WebM writer: ' +
    `${fmt((Number(rows[0][4]) * 1024) / mbWebm)}×; of the screenshot page to all of mediabunny: ${fmt((Number(rows[1][4]) * 1024) / mbAll)}×.`);
}
