#include "pixels/flip.h"

#include <cstring>

#ifdef __wasm_simd128__
#include <wasm_simd128.h>
#endif

namespace ck {
namespace {

// Swaps n bytes between a and b (the rows never overlap), in registers: 64 bytes per step with wasm
// SIMD, 32 bytes per step (four 8-byte words) otherwise; memcpy of a fixed size compiles to one
// unaligned load or store. This moves exactly the bytes a memcpy of the image would.
inline void SwapBytes(uint8_t* a, uint8_t* b, size_t n) {
#ifdef __wasm_simd128__
  for (; n >= 64; n -= 64, a += 64, b += 64) {
    const v128_t a0 = wasm_v128_load(a), a1 = wasm_v128_load(a + 16), a2 = wasm_v128_load(a + 32),
                 a3 = wasm_v128_load(a + 48);
    const v128_t b0 = wasm_v128_load(b), b1 = wasm_v128_load(b + 16), b2 = wasm_v128_load(b + 32),
                 b3 = wasm_v128_load(b + 48);
    wasm_v128_store(a, b0), wasm_v128_store(a + 16, b1), wasm_v128_store(a + 32, b2), wasm_v128_store(a + 48, b3);
    wasm_v128_store(b, a0), wasm_v128_store(b + 16, a1), wasm_v128_store(b + 32, a2), wasm_v128_store(b + 48, a3);
  }
#endif
  for (; n >= 32; n -= 32, a += 32, b += 32) {
    uint64_t x[4], y[4];
    std::memcpy(x, a, 32);
    std::memcpy(y, b, 32);
    std::memcpy(a, y, 32);
    std::memcpy(b, x, 32);
  }
  for (; n >= 4; n -= 4, a += 4, b += 4) {
    uint32_t x, y;
    std::memcpy(&x, a, 4);
    std::memcpy(&y, b, 4);
    std::memcpy(a, &y, 4);
    std::memcpy(b, &x, 4);
  }
  for (; n > 0; --n, ++a, ++b) {
    const uint8_t t = *a;
    *a = *b;
    *b = t;
  }
}

}  // namespace

Status FlipVertical(const Image& im) {
  Status s = CheckImage(im, "image");
  if (!s.ok()) return s;
  const size_t row_bytes = size_t(im.width) * 4;
  for (int top = 0, bottom = im.height - 1; top < bottom; ++top, --bottom) {
    SwapBytes(im.row(top), im.row(bottom), row_bytes);
  }
  return Status::Ok();
}

Status FlipVerticalCopy(const Image& src, const Image& dst) {
  Status s = CheckImage(src, "source");
  if (!s.ok()) return s;
  s = CheckImage(dst, "destination");
  if (!s.ok()) return s;
  if (src.width != dst.width || src.height != dst.height)
    return Status::InvalidArgument("flip: destination must have the source's size");
  const size_t row_bytes = size_t(src.width) * 4;
  for (int y = 0; y < src.height; ++y) std::memcpy(dst.row(src.height - 1 - y), src.row(y), row_bytes);
  return Status::Ok();
}

}  // namespace ck
