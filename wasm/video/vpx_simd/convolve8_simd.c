/*
 * capturekit: wasm SIMD128 versions of libvpx's 8-tap convolutions (vpx_dsp/vpx_convolve.c), which
 * VP9 uses for sub-pixel motion compensation (see vpx_simd_rtcd.h): horizontal, vertical and 2-D,
 * for the unscaled case (a step of 16/16 pixel). Scaled calls go to the C versions.
 *
 * Each output is clip_pixel((sum of 8 taps x pixels + 64) >> 7), summed in 16-bit lanes with
 * wrap-around. For a kernel whose negative taps add up to at most 64 (every libvpx kernel: the
 * worst, the sharp half-pel one, has 54), the true sum plus rounding lies in
 * -64 x 255 + 64 .. 192 x 255 + 64, narrower than 65536, so the wrapped value still tells it apart:
 * read as unsigned and shifted by 7, non-negative sums give at most 383 and negative ones at least
 * 385. Kernels outside that bound go to C too. The loads read only pixels C reads.
 */
#include <wasm_simd128.h>

#include "vpx_simd_rtcd.h"

void vpx_convolve8_c(const uint8_t *src, ptrdiff_t src_stride, uint8_t *dst, ptrdiff_t dst_stride,
                     const CkInterpKernel *filter, int x0_q4, int x_step_q4, int y0_q4,
                     int y_step_q4, int w, int h);
void vpx_convolve8_horiz_c(const uint8_t *src, ptrdiff_t src_stride, uint8_t *dst,
                           ptrdiff_t dst_stride, const CkInterpKernel *filter, int x0_q4,
                           int x_step_q4, int y0_q4, int y_step_q4, int w, int h);
void vpx_convolve8_vert_c(const uint8_t *src, ptrdiff_t src_stride, uint8_t *dst,
                          ptrdiff_t dst_stride, const CkInterpKernel *filter, int x0_q4,
                          int x_step_q4, int y0_q4, int y_step_q4, int w, int h);

typedef struct {
  v128_t t[8];
} Taps8;

static int taps_fit(const int16_t *k) {
  int neg = 0;
  for (int i = 0; i < 8; ++i) neg += k[i] < 0 ? -k[i] : 0;
  return neg <= 64;
}

static inline Taps8 taps8(const int16_t *k) {
  Taps8 t;
  for (int i = 0; i < 8; ++i) t.t[i] = wasm_i16x8_splat(k[i]);
  return t;
}

static inline v128_t finish(v128_t s) {
  v128_t r = wasm_u16x8_shr(wasm_i16x8_add(s, wasm_i16x8_splat(64)), 7);
  r = wasm_v128_andnot(r, wasm_u16x8_gt(r, wasm_i16x8_splat(384))); /* negative sums -> 0 */
  return wasm_i16x8_min(r, wasm_i16x8_splat(255));
}

/* Filters `w` pixels (4, 8, or a multiple of 16) of one output row; the taps' pixels are `step`
 * bytes apart starting at in - 3 * step. */
static inline void filter_row(const uint8_t *in, ptrdiff_t step, uint8_t *out, int w, const Taps8 *k) {
  in -= 3 * step;
  if (w >= 16) {
    for (int x = 0; x < w; x += 16) {
      v128_t lo = wasm_i16x8_splat(0), hi = wasm_i16x8_splat(0);
      for (int i = 0; i < 8; ++i) {
        const v128_t v = wasm_v128_load(in + x + i * step);
        lo = wasm_i16x8_add(lo, wasm_i16x8_mul(wasm_u16x8_extend_low_u8x16(v), k->t[i]));
        hi = wasm_i16x8_add(hi, wasm_i16x8_mul(wasm_u16x8_extend_high_u8x16(v), k->t[i]));
      }
      wasm_v128_store(out + x, wasm_u8x16_narrow_i16x8(finish(lo), finish(hi)));
    }
  } else {
    v128_t s = wasm_i16x8_splat(0);
    for (int i = 0; i < 8; ++i) {
      const v128_t v = w == 8 ? wasm_v128_load64_zero(in + i * step) : wasm_v128_load32_zero(in + i * step);
      s = wasm_i16x8_add(s, wasm_i16x8_mul(wasm_u16x8_extend_low_u8x16(v), k->t[i]));
    }
    const v128_t r = wasm_u8x16_narrow_i16x8(finish(s), finish(s));
    if (w == 8) {
      wasm_v128_store64_lane(out, r, 0);
    } else {
      wasm_v128_store32_lane(out, r, 0);
    }
  }
}

static inline int plain_width(int w) { return w == 4 || w == 8 || (w % 16 == 0 && w <= 64); }

typedef void (*Convolve)(const uint8_t *src, ptrdiff_t src_stride, uint8_t *dst, ptrdiff_t dst_stride,
                         const CkInterpKernel *filter, int x0_q4, int x_step_q4, int y0_q4,
                         int y_step_q4, int w, int h);

/* One direction: the taps run along a row (step 1) or down a column (step src_stride). */
static inline void convolve_1d(const uint8_t *src, ptrdiff_t src_stride, uint8_t *dst,
                               ptrdiff_t dst_stride, const CkInterpKernel *filter, int x0_q4,
                               int x_step_q4, int y0_q4, int y_step_q4, int w, int h, int vertical,
                               Convolve c_version) {
  const int q4 = vertical ? y0_q4 : x0_q4;
  const int16_t *kernel = filter[q4 & 15];
  if ((vertical ? y_step_q4 : x_step_q4) != 16 || !plain_width(w) || !taps_fit(kernel)) {
    c_version(src, src_stride, dst, dst_stride, filter, x0_q4, x_step_q4, y0_q4, y_step_q4, w, h);
    return;
  }
  const Taps8 k = taps8(kernel);
  const ptrdiff_t step = vertical ? src_stride : 1;
  src += (q4 >> 4) * step;
  for (int y = 0; y < h; ++y) filter_row(src + y * src_stride, step, dst + y * dst_stride, w, &k);
}

void vpx_convolve8_horiz_wasm(const uint8_t *src, ptrdiff_t src_stride, uint8_t *dst,
                              ptrdiff_t dst_stride, const CkInterpKernel *filter, int x0_q4,
                              int x_step_q4, int y0_q4, int y_step_q4, int w, int h) {
  convolve_1d(src, src_stride, dst, dst_stride, filter, x0_q4, x_step_q4, y0_q4, y_step_q4, w, h, 0,
              vpx_convolve8_horiz_c);
}

void vpx_convolve8_vert_wasm(const uint8_t *src, ptrdiff_t src_stride, uint8_t *dst,
                             ptrdiff_t dst_stride, const CkInterpKernel *filter, int x0_q4,
                             int x_step_q4, int y0_q4, int y_step_q4, int w, int h) {
  convolve_1d(src, src_stride, dst, dst_stride, filter, x0_q4, x_step_q4, y0_q4, y_step_q4, w, h, 1,
              vpx_convolve8_vert_c);
}

void vpx_convolve8_wasm(const uint8_t *src, ptrdiff_t src_stride, uint8_t *dst, ptrdiff_t dst_stride,
                        const CkInterpKernel *filter, int x0_q4, int x_step_q4, int y0_q4,
                        int y_step_q4, int w, int h) {
  const int16_t *hk = filter[x0_q4 & 15], *vk = filter[y0_q4 & 15];
  if (x_step_q4 != 16 || y_step_q4 != 16 || !plain_width(w) || h > 64 || !taps_fit(hk) || !taps_fit(vk)) {
    vpx_convolve8_c(src, src_stride, dst, dst_stride, filter, x0_q4, x_step_q4, y0_q4, y_step_q4, w, h);
    return;
  }
  /* As C: the horizontal pass over h + 7 rows (from 3 rows above, plus y0_q4 >> 4) into a 64-wide
   * buffer, then the vertical pass over it. */
  uint8_t temp[64 * 135];
  const int rows = h - 1 + (y0_q4 >> 4) + 8;
  const Taps8 hkk = taps8(hk), vkk = taps8(vk);
  const uint8_t *s = src - 3 * src_stride + (x0_q4 >> 4);
  for (int y = 0; y < rows; ++y) filter_row(s + y * src_stride, 1, temp + y * 64, w, &hkk);
  const uint8_t *t = temp + 3 * 64 + (y0_q4 >> 4) * 64;
  for (int y = 0; y < h; ++y) filter_row(t + y * 64, 64, dst + y * dst_stride, w, &vkk);
}
