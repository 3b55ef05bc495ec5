// The loader: SIMD/baseline choice, injected wasm (bytes, Module, URL, Response) for bundlers and
// edge runtimes, and clear failures instead of hangs.
import { readFile } from 'node:fs/promises';
import { loadVariant } from '../../js-glue/core.js';
import { simdSupported } from '../../js-glue/loader.js';

const wasmUrl = (simd) => new URL(`../../dist/capturekit-core${simd ? '-simd' : ''}.wasm`, import.meta.url);
const flipWorks = (M) => {
  const p = M._malloc(8);
  M.HEAPU8.set([1, 1, 1, 1, 2, 2, 2, 2], p);
  const ok = M.flipVertical(p, 1, 2, 4);
  const out = Array.from(M.HEAPU8.slice(p, p + 8));
  M._free(p);
  return ok && out.join() === '2,2,2,2,1,1,1,1';
};

test('Node 20 supports SIMD, and both builds load from their packaged files', async () => {
  expect(simdSupported()).toBe(true);
  for (const simd of [true, false]) {
    const M = await loadVariant(simd);
    expect(M.capturekitSimd).toBe(simd);
    expect(flipWorks(M)).toBe(true);
  }
});

test.each([
  ['bytes', async () => readFile(wasmUrl(true))],
  ['an ArrayBuffer', async () => { const b = await readFile(wasmUrl(true)); return b.buffer.slice(b.byteOffset, b.byteOffset + b.length); }],
  ['a WebAssembly.Module', async () => WebAssembly.compile(await readFile(wasmUrl(true)))],
  ['a file URL', async () => wasmUrl(true)],
  ['a Response', async () => new Response(await readFile(wasmUrl(true)), { headers: { 'content-type': 'application/wasm' } })],
])('init({ wasm }) accepts %s', async (_, make) => {
  const M = await loadVariant(true, { wasm: await make() });
  expect(flipWorks(M)).toBe(true);
});

test('truncated wasm bytes reject with an Error instead of hanging', async () => {
  const bytes = (await readFile(wasmUrl(true))).subarray(0, 1000);
  await expect(loadVariant(true, { wasm: bytes })).rejects.toThrow(/WebAssembly|wasm|compile/i);
});

test('a wasm of the wrong build (mismatched imports) rejects', async () => {
  const other = await readFile(new URL('../../dist/capturekit-video-simd.wasm', import.meta.url)).catch(() => null);
  const bytes = other || new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]);
  await expect(loadVariant(true, { wasm: bytes })).rejects.toThrow();
});

test('an unusable wasm option is a TypeError', async () => {
  await expect(loadVariant(true, { wasm: 42 })).rejects.toThrow(TypeError);
  await expect(loadVariant(true, { wasm: new Response('nope', { status: 404 }) })).rejects.toThrow(/HTTP 404/);
});

test('the shipped glue is CSP-safe: no eval, no new Function, no SharedArrayBuffer, no filesystem', async () => {
  const { readdir } = await import('node:fs/promises');
  const dist = new URL('../../dist/', import.meta.url);
  const glue = (await readdir(dist)).filter((f) => f.endsWith('.mjs'));
  expect(glue.sort()).toEqual(['capturekit-audio.mjs', 'capturekit-core-simd.mjs', 'capturekit-core.mjs', 'capturekit-video-simd.mjs', 'capturekit-video.mjs']);
  for (const f of glue) {
    const text = await readFile(new URL(f, dist), 'utf8');
    expect([f, /\beval\(|new Function\(|\bFunction\(/.test(text)]).toEqual([f, false]);
    expect([f, /SharedArrayBuffer/.test(text)]).toEqual([f, false]);
    expect([f, /\bFS\.(open|write)|MEMFS/.test(text)]).toEqual([f, false]);
  }
});
