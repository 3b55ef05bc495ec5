// The loader: SIMD/baseline choice, injected wasm (bytes, Module, URL, Response) for bundlers and
// edge runtimes, clear failures instead of hangs, and the split into modules that load when first used.
import { readFile, readdir } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { loadImageVariant } from '../../js-glue/image.js';
import { loadUploadVariant } from '../../js-glue/upload.js';
import { simdSupported } from '../../js-glue/loader.js';

const dist = new URL('../../dist/', import.meta.url);
const wasmUrl = (simd) => new URL(`capturekit-image${simd ? '-simd' : ''}.wasm`, dist);
const flipWorks = (M) => {
  const p = M._malloc(8);
  M.HEAPU8.set([1, 1, 1, 1, 2, 2, 2, 2], p);
  const ok = M.flipVertical(p, 1, 2, 4);
  const out = Array.from(M.HEAPU8.slice(p, p + 8));
  M._free(p);
  return ok && out.join() === '2,2,2,2,1,1,1,1';
};
const sha256Works = (M) => {
  const p = M._malloc(3);
  M.HEAPU8.set([0x61, 0x62, 0x63], p); // 'abc'
  const hex = M.sha256Hex(p, 3);
  M._free(p);
  return hex === 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';
};

test('Node 20 supports SIMD, and both image builds load from their packaged files', async () => {
  expect(simdSupported()).toBe(true);
  for (const simd of [true, false]) {
    const M = await loadImageVariant(simd);
    expect(M.capturekitSimd).toBe(simd);
    expect(flipWorks(M)).toBe(true);
  }
});

test('the upload module holds the upload area and nothing of the pixels or the codecs, and the image module no upload', async () => {
  const up = await loadUploadVariant();
  expect(sha256Works(up)).toBe(true);
  for (const name of ['ChunkBuffer', 'UploadQueue', 'OrphanParts', 'uploadLimits', 'lastErrorMessage']) expect(typeof up[name]).toBe('function');
  for (const name of ['flipVertical', 'encodePng', 'encodeJpeg', 'decodeImage', 'resizeArea']) expect(up[name]).toBeUndefined();
  const image = await loadImageVariant(true);
  for (const name of ['sha256Hex', 'ChunkBuffer', 'UploadQueue']) expect(image[name]).toBeUndefined();
  expect(typeof image.encodePng).toBe('function');
});

// Budgets (bench/module-sizes.bench.js reports the figures): the old core, 131 KiB + 13 KiB of glue, loaded
// everything; the upload module stays under 56 KiB (at -O3: -Oz made it 40 but the queue 4-5x slower).
test('module sizes (gzip -9): the upload module at most 56 KiB, the image module at most 110 KiB with its glue', async () => {
  const gz = async (f) => gzipSync(await readFile(new URL(f, dist)), { level: 9 }).length / 1024;
  expect(await gz('capturekit-upload.wasm')).toBeLessThanOrEqual(56);
  for (const v of ['', '-simd']) {
    expect((await gz(`capturekit-image${v}.wasm`)) + (await gz(`capturekit-image${v}.mjs`))).toBeLessThanOrEqual(110);
  }
});

test.each([
  ['bytes', async () => readFile(wasmUrl(true))],
  ['an ArrayBuffer', async () => { const b = await readFile(wasmUrl(true)); return b.buffer.slice(b.byteOffset, b.byteOffset + b.length); }],
  ['a WebAssembly.Module', async () => WebAssembly.compile(await readFile(wasmUrl(true)))],
  ['a file URL', async () => wasmUrl(true)],
  ['a Response', async () => new Response(await readFile(wasmUrl(true)), { headers: { 'content-type': 'application/wasm' } })],
])('init({ wasm }) accepts %s', async (_, make) => {
  const M = await loadImageVariant(true, { wasm: await make() });
  expect(flipWorks(M)).toBe(true);
});

test('initUpload({ wasm }) takes the upload module handed over as bytes', async () => {
  const M = await loadUploadVariant({ wasm: await readFile(new URL('capturekit-upload.wasm', dist)) });
  expect(sha256Works(M)).toBe(true);
});

test('truncated wasm bytes reject with an Error instead of hanging', async () => {
  const bytes = (await readFile(wasmUrl(true))).subarray(0, 1000);
  await expect(loadImageVariant(true, { wasm: bytes })).rejects.toThrow(/WebAssembly|wasm|compile/i);
});

test('a wasm of the wrong module (mismatched imports) rejects', async () => {
  await expect(loadImageVariant(true, { wasm: await readFile(new URL('capturekit-video-simd.wasm', dist)) })).rejects.toThrow();
  // The image wasm happens to import what the upload glue provides: refused by what it exports.
  await expect(loadUploadVariant({ wasm: await readFile(wasmUrl(false)) })).rejects.toThrow(/not the upload module|failed while starting/);
  await expect(loadImageVariant(false, { wasm: await readFile(new URL('capturekit-upload.wasm', dist)) })).rejects.toThrow(/not the image module|import/);
});

test('an unusable wasm option is a TypeError', async () => {
  await expect(loadImageVariant(true, { wasm: 42 })).rejects.toThrow(TypeError);
  await expect(loadImageVariant(true, { wasm: new Response('nope', { status: 404 }) })).rejects.toThrow(/HTTP 404/);
});

test('the shipped glue is CSP-safe: no eval, no new Function, no SharedArrayBuffer, no filesystem', async () => {
  const glue = (await readdir(dist)).filter((f) => f.endsWith('.mjs'));
  expect(glue).toEqual(expect.arrayContaining(['capturekit-audio.mjs', 'capturekit-image-simd.mjs', 'capturekit-image.mjs',
    'capturekit-upload.mjs', 'capturekit-video-simd.mjs', 'capturekit-video.mjs']));
  expect(glue.filter((f) => f.startsWith('capturekit-core'))).toEqual([]); // the module from before the split is gone
  for (const f of glue) {
    const text = await readFile(new URL(f, dist), 'utf8');
    expect([f, /\beval\(|new Function\(|\bFunction\(/.test(text)]).toEqual([f, false]);
    expect([f, /SharedArrayBuffer/.test(text)]).toEqual([f, false]);
    expect([f, /\bFS\.(open|write)|MEMFS/.test(text)]).toEqual([f, false]);
  }
});

test('importing capturekit loads no module; the uploader loads only the upload module; init() loads image and upload', async () => {
  const ck = await import('../../js-glue/index.js');
  const loaded = () => ({ image: ck.isImageLoaded(), upload: ck.isUploadLoaded(), video: ck.isVideoLoaded(), audio: ck.isAudioLoaded() });
  expect(loaded()).toEqual({ image: false, upload: false, video: false, audio: false });
  expect(() => ck.flipVertical({ data: new Uint8Array(4), width: 1, height: 1 })).toThrow(/image module is not loaded yet: call `await init\(\)`/);
  expect(() => new ck.ChunkBuffer()).toThrow(/upload module is not loaded yet/);

  const up = ck.createUploader({ name: 'loader-test', store: ck.createMemoryStore(), transport: ck.createMultipartTransport({ url: 'http://127.0.0.1:9/upload' }), locks: null, channel: null, persistStorage: false, backgroundSync: false, onlineEvents: null });
  try {
    await up.ready;
  } finally {
    await up.close();
  }
  expect(loaded()).toEqual({ image: false, upload: true, video: false, audio: false });
  expect(ck.sha256Hex(new TextEncoder().encode('abc'))).toMatch(/^ba7816bf/);

  await ck.init();
  expect(loaded()).toEqual({ image: true, upload: true, video: false, audio: false });
  expect(Array.from(ck.flipVertical({ data: new Uint8Array([1, 1, 1, 1, 2, 2, 2, 2]), width: 1, height: 2 }).data)).toEqual([2, 2, 2, 2, 1, 1, 1, 1]);
  expect(typeof ck.isSimd()).toBe('boolean');
});
