// Loads a capturekit wasm module: picks the SIMD or the baseline build, and instantiates the wasm
// itself (Emscripten 3.1.6's own loader would fetch() a file path in Node 20), so the same code runs
// in a page, a Worker and Node, and bundlers and edge runtimes can hand us the module or the bytes.

// The smallest module that uses a SIMD instruction (i8x16.splat ... as in wasm-feature-detect).
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11,
]);

let simdCache;
/** True when this runtime validates wasm SIMD (128-bit) code. */
export function simdSupported() {
  if (simdCache === undefined) {
    try {
      simdCache = typeof WebAssembly === 'object' && WebAssembly.validate(SIMD_PROBE);
    } catch {
      simdCache = false;
    }
  }
  return simdCache;
}

const isNode = typeof process === 'object' && typeof process.versions === 'object' && !!process.versions.node;

async function readFileUrl(url) {
  const name = 'node:fs/promises';
  const { readFile } = await import(/* webpackIgnore: true */ /* @vite-ignore */ name);
  return readFile(url);
}

// Accepts what a caller may hand us as `wasm`: a WebAssembly.Module, bytes, a Response, a URL or a string.
async function instantiate(source, imports) {
  source = await source;
  if (source instanceof WebAssembly.Module) {
    return { instance: await WebAssembly.instantiate(source, imports), module: source };
  }
  if (source instanceof ArrayBuffer || ArrayBuffer.isView(source)) {
    return WebAssembly.instantiate(source, imports);
  }
  if (typeof Response === 'function' && source instanceof Response) {
    if (!source.ok) throw new Error(`capturekit: loading the wasm failed with HTTP ${source.status} (${source.url})`);
    if (typeof WebAssembly.instantiateStreaming === 'function' &&
        (source.headers.get('content-type') || '').startsWith('application/wasm')) {
      return WebAssembly.instantiateStreaming(source, imports);
    }
    return WebAssembly.instantiate(await source.arrayBuffer(), imports);
  }
  if (typeof source === 'string' || source instanceof URL) {
    const url = new URL(source, typeof location === 'object' ? location.href : undefined);
    if (url.protocol === 'file:' && isNode) return WebAssembly.instantiate(await readFileUrl(url), imports);
    return instantiate(fetch(url, { credentials: 'same-origin' }), imports);
  }
  throw new TypeError('capturekit: init({ wasm }) takes a WebAssembly.Module, an ArrayBuffer or typed array, a Response, a URL or a string');
}

/**
 * Creates an Emscripten module.
 * @param {object} spec  { baseline: {factory, wasmUrl}, simd: {factory, wasmUrl}, name?, probe? } (see image.js /
 *   video.js); probe: a binding the module must have, so a wasm of another module (whose imports may
 *   happen to match) is refused with an Error instead of loading as a module without its functions
 * @param {object} [options]
 * @param {boolean|'auto'} [options.simd='auto'] force or forbid the SIMD build
 * @param {*} [options.wasm] the wasm to use instead of the packaged file (Module, bytes, Response, URL)
 * @param {Function} [options.factory] the matching Emscripten factory, when `wasm` is given for a custom build
 */
export async function loadModule(spec, options = {}) {
  const useSimd = options.simd === undefined || options.simd === 'auto' ? simdSupported() : !!options.simd;
  if (useSimd && !simdSupported()) throw new Error('capturekit: init({ simd: true }) but this runtime has no wasm SIMD');
  const variant = useSimd ? spec.simd : spec.baseline;
  const factory = options.factory || (await variant.factory()).default;
  const source = options.wasm !== undefined ? options.wasm : variant.wasmUrl();
  // Emscripten's factory promise never settles when instantiateWasm fails, so race it against ours.
  let rejectLoad;
  const failed = new Promise((_, reject) => { rejectLoad = reject; });
  const created = factory({
    instantiateWasm(imports, receive) {
      // A wasm of another module may instantiate and then throw while it starts (in receive): that
      // rejects too, with an Error, instead of escaping as an uncaught exception while the load hangs.
      instantiate(source, imports).then(
        (r) => {
          try {
            receive(r.instance, r.module);
          } catch (e) {
            rejectLoad(new Error(`capturekit: the wasm failed while starting (is it the module this glue belongs to?): ${e && e.message ? e.message : e}`));
          }
        },
        (e) => rejectLoad(e instanceof Error ? e : new Error(`capturekit: could not instantiate the wasm: ${e}`)));
      return {};
    },
    printErr: () => {},
  });
  const module = await Promise.race([created, failed]);
  if (spec.probe && typeof module[spec.probe] !== 'function') {
    throw new Error(`capturekit: the wasm given is not the ${spec.name || 'expected'} module (it has no ${spec.probe}); pass that module's .wasm`);
  }
  module.capturekitSimd = useSimd;
  return module;
}

/**
 * One shared instance of a module, loaded on first use: what image.js, upload.js (and the callers of
 * their init functions) share. `name` and `initCall` only word the error of get() before loading.
 * @returns {{ init(options?): Promise<object>, get(): object, peek(): object|null, variant(simd, options?): Promise<object> }}
 */
export function moduleSlot(spec, { name, initCall }) {
  let pending = null;
  let loaded = null;
  return {
    init(options = {}) {
      if (!pending) {
        pending = loadModule(spec, options).then((m) => (loaded = m), (e) => { pending = null; throw e; });
      }
      return pending;
    },
    get() {
      if (!loaded) throw new Error(`capturekit: the ${name} module is not loaded yet: call \`await ${initCall}\` first`);
      return loaded;
    },
    peek() {
      return loaded;
    },
    variant(simd, options = {}) {
      return loadModule(spec, { ...options, simd: !!simd });
    },
  };
}
