// wasm SIMD helpers shared by the pixel kernels: 16 RGBA pixels (four 16-byte vectors) <-> one
// vector per channel. Only compiled into the -msimd128 build.
#pragma once
#ifdef __wasm_simd128__
#include <wasm_simd128.h>

#include <cstdint>

namespace ck::simd {

inline void DeinterleaveRgba(const v128_t v[4], v128_t& r, v128_t& g, v128_t& b, v128_t& a) {
  v128_t s[4];
  for (int i = 0; i < 4; ++i) s[i] = wasm_i8x16_shuffle(v[i], v[i], 0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
  const v128_t t0 = wasm_i32x4_shuffle(s[0], s[1], 0, 4, 1, 5);  // R0-3 R4-7 G0-3 G4-7
  const v128_t t1 = wasm_i32x4_shuffle(s[0], s[1], 2, 6, 3, 7);  // B0-3 B4-7 A0-3 A4-7
  const v128_t t2 = wasm_i32x4_shuffle(s[2], s[3], 0, 4, 1, 5);
  const v128_t t3 = wasm_i32x4_shuffle(s[2], s[3], 2, 6, 3, 7);
  r = wasm_i64x2_shuffle(t0, t2, 0, 2);
  g = wasm_i64x2_shuffle(t0, t2, 1, 3);
  b = wasm_i64x2_shuffle(t1, t3, 0, 2);
  a = wasm_i64x2_shuffle(t1, t3, 1, 3);
}

// Loads 16 RGBA pixels from px and splits them into channels (alpha dropped).
inline void LoadRgb(const uint8_t* px, v128_t& r, v128_t& g, v128_t& b) {
  const v128_t v[4] = {wasm_v128_load(px), wasm_v128_load(px + 16), wasm_v128_load(px + 32), wasm_v128_load(px + 48)};
  v128_t a;
  DeinterleaveRgba(v, r, g, b, a);
}

inline void InterleaveRgba(v128_t r, v128_t g, v128_t b, v128_t a, v128_t v[4]) {
  const v128_t u0 = wasm_i32x4_shuffle(r, g, 0, 4, 1, 5);  // R0-3 G0-3 R4-7 G4-7
  const v128_t u1 = wasm_i32x4_shuffle(b, a, 0, 4, 1, 5);
  const v128_t u2 = wasm_i32x4_shuffle(r, g, 2, 6, 3, 7);
  const v128_t u3 = wasm_i32x4_shuffle(b, a, 2, 6, 3, 7);
  v[0] = wasm_i64x2_shuffle(u0, u1, 0, 2);
  v[1] = wasm_i64x2_shuffle(u0, u1, 1, 3);
  v[2] = wasm_i64x2_shuffle(u2, u3, 0, 2);
  v[3] = wasm_i64x2_shuffle(u2, u3, 1, 3);
  for (int i = 0; i < 4; ++i) v[i] = wasm_i8x16_shuffle(v[i], v[i], 0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
}

}  // namespace ck::simd
#endif  // __wasm_simd128__
