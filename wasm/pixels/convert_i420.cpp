#include "pixels/convert_i420.h"

#include <string>

#ifdef __wasm_simd128__
#include "pixels/simd_rgba.h"
#endif

namespace ck {
namespace {

inline uint8_t LumaOf(int r, int g, int b) { return uint8_t(((66 * r + 129 * g + 25 * b + 128) >> 8) + 16); }
inline uint8_t UOf(int r, int g, int b) { return uint8_t((112 * b - 74 * g - 38 * r + 0x8080) >> 8); }
inline uint8_t VOf(int r, int g, int b) { return uint8_t((112 * r - 94 * g - 18 * b + 0x8080) >> 8); }

void LumaRowScalar(const uint8_t* px, uint8_t* y, int from, int width) {
  for (int x = from; x < width; ++x) y[x] = LumaOf(px[4 * x], px[4 * x + 1], px[4 * x + 2]);
}

// Chroma of blocks [from, (width + 1) / 2) from rows a and b (b == a for the last row of an odd height).
void ChromaRowScalar(const uint8_t* a, const uint8_t* b, uint8_t* u, uint8_t* v, int from, int width) {
  const int blocks = (width + 1) / 2;
  for (int i = from; i < blocks; ++i) {
    const int x0 = 2 * i, x1 = x0 + 1 < width ? x0 + 1 : x0;
    const uint8_t *p = a + 4 * x0, *q = a + 4 * x1, *s = b + 4 * x0, *t = b + 4 * x1;
    const int r = (p[0] + q[0] + s[0] + t[0] + 2) >> 2;
    const int g = (p[1] + q[1] + s[1] + t[1] + 2) >> 2;
    const int bl = (p[2] + q[2] + s[2] + t[2] + 2) >> 2;
    u[i] = UOf(r, g, bl);
    v[i] = VOf(r, g, bl);
  }
}

#ifdef __wasm_simd128__

// Y of 8 pixels in u16 lanes. The sum stays below 2^16, so wrap-around i16 arithmetic is exact.
inline v128_t Luma8(v128_t r, v128_t g, v128_t b) {
  const v128_t s = wasm_i16x8_add(wasm_i16x8_add(wasm_i16x8_mul(r, wasm_i16x8_splat(66)),
                                                 wasm_i16x8_mul(g, wasm_i16x8_splat(129))),
                                  wasm_i16x8_add(wasm_i16x8_mul(b, wasm_i16x8_splat(25)), wasm_i16x8_splat(128)));
  return wasm_i16x8_add(wasm_u16x8_shr(s, 8), wasm_i16x8_splat(16));
}

inline v128_t Luma16(v128_t r, v128_t g, v128_t b) {
  return wasm_u8x16_narrow_i16x8(
      Luma8(wasm_u16x8_extend_low_u8x16(r), wasm_u16x8_extend_low_u8x16(g), wasm_u16x8_extend_low_u8x16(b)),
      Luma8(wasm_u16x8_extend_high_u8x16(r), wasm_u16x8_extend_high_u8x16(g), wasm_u16x8_extend_high_u8x16(b)));
}

// Rounded average of the 2x2 blocks: 8 u16 lanes from two rows of 16 channel values.
inline v128_t BlockAverage(v128_t a, v128_t b) {
  const v128_t s = wasm_i16x8_add(wasm_u16x8_extadd_pairwise_u8x16(a), wasm_u16x8_extadd_pairwise_u8x16(b));
  return wasm_u16x8_shr(wasm_i16x8_add(s, wasm_i16x8_splat(2)), 2);
}

// Returns how many pixels of the row pair it did (a multiple of 16).
int RowPairSimd(const uint8_t* a, const uint8_t* b, uint8_t* ya, uint8_t* yb, uint8_t* u, uint8_t* v, int width) {
  const v128_t bias = wasm_i16x8_splat(int16_t(0x8080));
  int x = 0;
  for (; x + 16 <= width; x += 16) {
    v128_t ra, ga, ba, rb, gb, bb;
    simd::LoadRgb(a + 4 * x, ra, ga, ba);
    simd::LoadRgb(b + 4 * x, rb, gb, bb);
    wasm_v128_store(ya + x, Luma16(ra, ga, ba));
    if (yb) wasm_v128_store(yb + x, Luma16(rb, gb, bb));
    const v128_t r = BlockAverage(ra, rb), g = BlockAverage(ga, gb), bl = BlockAverage(ba, bb);
    // In [0x10F0, 0xF010] before the shift: exact in wrap-around u16.
    const v128_t uu = wasm_u16x8_shr(
        wasm_i16x8_sub(wasm_i16x8_add(wasm_i16x8_mul(bl, wasm_i16x8_splat(112)), bias),
                       wasm_i16x8_add(wasm_i16x8_mul(g, wasm_i16x8_splat(74)), wasm_i16x8_mul(r, wasm_i16x8_splat(38)))),
        8);
    const v128_t vv = wasm_u16x8_shr(
        wasm_i16x8_sub(wasm_i16x8_add(wasm_i16x8_mul(r, wasm_i16x8_splat(112)), bias),
                       wasm_i16x8_add(wasm_i16x8_mul(g, wasm_i16x8_splat(94)), wasm_i16x8_mul(bl, wasm_i16x8_splat(18)))),
        8);
    const v128_t uv = wasm_u8x16_narrow_i16x8(uu, vv);
    wasm_v128_store64_lane(u + x / 2, uv, 0);
    wasm_v128_store64_lane(v + x / 2, uv, 1);
  }
  return x;
}
#endif

}  // namespace

Status RgbaToI420(const Image& src, uint8_t* y, int y_stride, uint8_t* u, int u_stride, uint8_t* v, int v_stride) {
  Status s = CheckImage(src, "toI420: image");
  if (!s.ok()) return s;
  if (!y || !u || !v) return Status::InvalidArgument("toI420: missing destination plane");
  const int cw = (src.width + 1) / 2;
  if (y_stride < src.width)
    return Status::OutOfRange("toI420: Y stride " + std::to_string(y_stride) + " is less than the width " +
                              std::to_string(src.width));
  if (u_stride < cw || v_stride < cw)
    return Status::OutOfRange("toI420: U/V strides " + std::to_string(u_stride) + "/" + std::to_string(v_stride) +
                              " are less than the chroma width " + std::to_string(cw));
  for (int row = 0, c = 0; row < src.height; row += 2, ++c) {
    const uint8_t* a = src.row(row);
    const bool pair = row + 1 < src.height;
    const uint8_t* b = pair ? src.row(row + 1) : a;
    uint8_t* ya = y + size_t(row) * y_stride;
    uint8_t* yb = pair ? ya + y_stride : nullptr;
    uint8_t* ur = u + size_t(c) * u_stride;
    uint8_t* vr = v + size_t(c) * v_stride;
    int done = 0;
#ifdef __wasm_simd128__
    done = RowPairSimd(a, b, ya, yb, ur, vr, src.width);
#endif
    LumaRowScalar(a, ya, done, src.width);
    if (yb) LumaRowScalar(b, yb, done, src.width);
    ChromaRowScalar(a, b, ur, vr, done / 2, src.width);
  }
  return Status::Ok();
}

}  // namespace ck
