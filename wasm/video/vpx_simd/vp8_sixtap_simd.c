/*
 * capturekit: wasm SIMD128 versions of VP8's six-tap sub-pixel prediction for 16x16, 8x8 and 8x4
 * blocks (see vpx_simd_rtcd.h), computing exactly what libvpx vp8/common/filter.c computes: a
 * horizontal pass over h + 5 rows, rounded, shifted by 7 and clamped to 0..255, then a vertical pass
 * over that, rounded, shifted and clamped the same way. It reads the same source pixels as C.
 *
 * The six products are summed in 16-bit lanes with wrap-around. The true sum plus rounding lies in
 * -8096..40864 for every VP8 filter (at most 160 x 255 from the positive taps, 32 x 255 from the
 * negative ones), a range narrower than 65536, so the wrapped value still tells it apart: read as
 * unsigned and shifted by 7, a non-negative sum gives 0..319 and a negative one 448 or more.
 */
#include <wasm_simd128.h>

#include "vpx_simd_rtcd.h"

/* libvpx's vp8_sub_pel_filters. */
static const int16_t kSixtap[8][6] = {
  { 0, 0, 128, 0, 0, 0 },   { 0, -6, 123, 12, -1, 0 },  { 2, -11, 108, 36, -8, 1 },
  { 0, -9, 93, 50, -6, 0 }, { 3, -16, 77, 77, -16, 3 }, { 0, -6, 50, 93, -9, 0 },
  { 1, -8, 36, 108, -11, 2 }, { 0, -1, 12, 123, -6, 0 },
};

typedef struct {
  v128_t t[6];
} Taps;

static inline Taps taps_of(int offset) {
  Taps k;
  for (int i = 0; i < 6; ++i) k.t[i] = wasm_i16x8_splat(kSixtap[offset][i]);
  return k;
}

/* Filtered and clamped 8 lanes (0..255 in 16-bit lanes) of six 16-bit inputs. */
static inline v128_t filter6(const v128_t p[6], const Taps *k) {
  v128_t s = wasm_i16x8_splat(64);
  for (int i = 0; i < 6; ++i) s = wasm_i16x8_add(s, wasm_i16x8_mul(p[i], k->t[i]));
  v128_t r = wasm_u16x8_shr(s, 7);
  r = wasm_v128_andnot(r, wasm_u16x8_gt(r, wasm_i16x8_splat(400))); /* negative sums -> 0 */
  return wasm_i16x8_min(r, wasm_i16x8_splat(255));
}

/* One 16-pixel row of a pass: in[i] points at the 6 taps' pixels (stride `step` apart). */
static inline v128_t row16(const uint8_t *in, int step, const Taps *k) {
  v128_t lo[6], hi[6];
  for (int i = 0; i < 6; ++i) {
    const v128_t v = wasm_v128_load(in + (i - 2) * step);
    lo[i] = wasm_u16x8_extend_low_u8x16(v);
    hi[i] = wasm_u16x8_extend_high_u8x16(v);
  }
  return wasm_u8x16_narrow_i16x8(filter6(lo, k), filter6(hi, k));
}

static inline v128_t row8(const uint8_t *in, int step, const Taps *k) {
  v128_t p[6];
  for (int i = 0; i < 6; ++i) p[i] = wasm_u16x8_load8x8(in + (i - 2) * step);
  const v128_t r = filter6(p, k);
  return wasm_u8x16_narrow_i16x8(r, r);
}

void vp8_sixtap_predict16x16_wasm(unsigned char *src_ptr, int src_pixels_per_line, int xoffset,
                                  int yoffset, unsigned char *dst_ptr, int dst_pitch) {
  uint8_t tmp[21 * 16];
  const Taps h = taps_of(xoffset), v = taps_of(yoffset);
  const uint8_t *src = src_ptr - 2 * src_pixels_per_line;
  for (int r = 0; r < 21; ++r) wasm_v128_store(tmp + r * 16, row16(src + r * src_pixels_per_line, 1, &h));
  for (int r = 0; r < 16; ++r) wasm_v128_store(dst_ptr + r * dst_pitch, row16(tmp + (r + 2) * 16, 16, &v));
}

static inline void sixtap8(unsigned char *src_ptr, int src_pixels_per_line, int xoffset,
                           int yoffset, unsigned char *dst_ptr, int dst_pitch, int rows) {
  uint8_t tmp[13 * 8 + 8]; /* row8 stores 8 bytes; +8 keeps a full v128 load of the last row inside */
  const Taps h = taps_of(xoffset), v = taps_of(yoffset);
  const uint8_t *src = src_ptr - 2 * src_pixels_per_line;
  for (int r = 0; r < rows + 5; ++r) {
    wasm_v128_store64_lane(tmp + r * 8, row8(src + r * src_pixels_per_line, 1, &h), 0);
  }
  for (int r = 0; r < rows; ++r) {
    wasm_v128_store64_lane(dst_ptr + r * dst_pitch, row8(tmp + (r + 2) * 8, 8, &v), 0);
  }
}

void vp8_sixtap_predict8x8_wasm(unsigned char *src_ptr, int src_pixels_per_line, int xoffset,
                                int yoffset, unsigned char *dst_ptr, int dst_pitch) {
  sixtap8(src_ptr, src_pixels_per_line, xoffset, yoffset, dst_ptr, dst_pitch, 8);
}

void vp8_sixtap_predict8x4_wasm(unsigned char *src_ptr, int src_pixels_per_line, int xoffset,
                                int yoffset, unsigned char *dst_ptr, int dst_pitch) {
  sixtap8(src_ptr, src_pixels_per_line, xoffset, yoffset, dst_ptr, dst_pitch, 4);
}
