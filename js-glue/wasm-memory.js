// The narrow boundary: pixels and bytes cross into wasm memory once, results are copied out once,
// and every allocation is freed in a finally block.

/** Throws the Error the last failed binding recorded (see wasm/bindings/binding_util.h). */
export function throwLastError(M, context) {
  const name = M.lastErrorName();
  const message = `${context ? context + ': ' : ''}${M.lastErrorMessage()}`;
  if (name === 'RangeError') throw new RangeError(message);
  if (name === 'TypeError') throw new TypeError(message);
  throw new Error(message);
}

/** Checks a binding's boolean result. */
export function check(M, ok, context) {
  if (!ok) throwLastError(M, context);
}

/** malloc that throws instead of returning 0. */
export function alloc(M, size, what = 'buffer') {
  const ptr = M._malloc(Math.max(1, size));
  if (!ptr) throw new RangeError(`capturekit: out of wasm memory allocating ${size} bytes for ${what}`);
  return ptr;
}

/** Copies bytes into a fresh wasm allocation; the caller frees it. */
export function copyIn(M, bytes, what) {
  const ptr = alloc(M, bytes.length, what);
  M.HEAPU8.set(bytes, ptr);
  return ptr;
}

/** A copy of `len` bytes of wasm memory at ptr, as a Uint8Array the caller owns. */
export function copyOut(M, ptr, len) {
  return M.HEAPU8.slice(ptr, ptr + len);
}

/** Runs fn(ptrs...) with wasm allocations of the given sizes and frees them whatever happens. */
export function withAllocations(M, sizes, fn) {
  const ptrs = [];
  try {
    for (const s of sizes) ptrs.push(alloc(M, s));
    return fn(...ptrs);
  } finally {
    for (const p of ptrs) M._free(p);
  }
}

/** Copies an embind Bytes result out and deletes it. */
export function takeBytes(bytesObj) {
  try {
    return bytesObj.view().slice();
  } finally {
    bytesObj.delete();
  }
}
