/*
 * capturekit: wasm SIMD128 versions of libvpx's vpx_dsp block metrics (see vpx_simd_rtcd.h):
 * sum of absolute differences, variance, MSE, sub-pixel (bilinear) variance and block subtraction.
 * Each returns exactly what the *_c function of the same name computes (libvpx vpx_dsp/sad.c,
 * variance.c, subtract.c); all sums fit their 32-bit lanes for these block sizes (at most 256 pixels
 * of 8 bits).
 */
#include <wasm_simd128.h>

#include "vpx_simd_rtcd.h"

/* 16 absolute differences widened and added pairwise into 8 u16 lanes. */
static inline v128_t absdiff_u8(v128_t a, v128_t b) {
  return wasm_v128_or(wasm_u8x16_sub_sat(a, b), wasm_u8x16_sub_sat(b, a));
}

static inline unsigned int hsum_u32(v128_t v) {
  return wasm_u32x4_extract_lane(v, 0) + wasm_u32x4_extract_lane(v, 1) +
         wasm_u32x4_extract_lane(v, 2) + wasm_u32x4_extract_lane(v, 3);
}

static inline int hsum_i32(v128_t v) {
  return wasm_i32x4_extract_lane(v, 0) + wasm_i32x4_extract_lane(v, 1) +
         wasm_i32x4_extract_lane(v, 2) + wasm_i32x4_extract_lane(v, 3);
}

/* Rows of 16 (w = 16) or 8 (w = 8) pixels. */
static inline unsigned int sad_wxh(const uint8_t *src, int src_stride, const uint8_t *ref,
                                   int ref_stride, int w, int h) {
  v128_t acc = wasm_i16x8_splat(0); /* at most 16 rows x 2 x 255 per lane: fits u16 */
  for (int y = 0; y < h; ++y) {
    v128_t a, b;
    if (w == 16) {
      a = wasm_v128_load(src);
      b = wasm_v128_load(ref);
    } else {
      a = wasm_v128_load64_zero(src);
      b = wasm_v128_load64_zero(ref);
    }
    acc = wasm_i16x8_add(acc, wasm_u16x8_extadd_pairwise_u8x16(absdiff_u8(a, b)));
    src += src_stride;
    ref += ref_stride;
  }
  return hsum_u32(wasm_u32x4_extadd_pairwise_u16x8(acc));
}

/* Blocks 32 or 64 wide: fold into 32-bit lanes every row. */
static inline unsigned int sad_wide(const uint8_t *src, int src_stride, const uint8_t *ref,
                                    int ref_stride, int w, int h) {
  v128_t acc = wasm_i32x4_splat(0);
  for (int y = 0; y < h; ++y) {
    v128_t row = wasm_i16x8_splat(0);
    for (int x = 0; x < w; x += 16) {
      row = wasm_i16x8_add(row, wasm_u16x8_extadd_pairwise_u8x16(
                                    absdiff_u8(wasm_v128_load(src + x), wasm_v128_load(ref + x))));
    }
    acc = wasm_i32x4_add(acc, wasm_u32x4_extadd_pairwise_u16x8(row));
    src += src_stride;
    ref += ref_stride;
  }
  return hsum_u32(acc);
}

/* Every size of vpx_simd_rtcd.h's CK_BLOCK_SIZES: up to 16 wide in 16-bit sums, wider per row. */
#define CK_SAD_DEF(w, h)                                                                         \
  unsigned int vpx_sad##w##x##h##_wasm(const uint8_t *src_ptr, int src_stride,                   \
                                       const uint8_t *ref_ptr, int ref_stride) {                 \
    return (w > 16 ? sad_wide : sad_wxh)(src_ptr, src_stride, ref_ptr, ref_stride, w, h);        \
  }
CK_BLOCK_SIZES(CK_SAD_DEF)

/* Differences of 8 pixels (signed 16-bit) into the running sum and sum of squares. */
static inline void var_acc8(v128_t a16, v128_t b16, v128_t *sum, v128_t *sse) {
  const v128_t d = wasm_i16x8_sub(a16, b16);
  *sum = wasm_i16x8_add(*sum, d); /* |d| <= 255, at most 16 adds per lane per row pair: fits */
  *sse = wasm_i32x4_add(*sse, wasm_i32x4_dot_i16x8(d, d));
}

static inline void variance_wide(const uint8_t *src, int src_stride, const uint8_t *ref,
                                 int ref_stride, int w, int h, uint32_t *sse_out, int *sum_out);

static inline void variance_wxh(const uint8_t *src, int src_stride, const uint8_t *ref,
                                int ref_stride, int w, int h, uint32_t *sse_out, int *sum_out) {
  v128_t sum16 = wasm_i16x8_splat(0);
  v128_t sum = wasm_i32x4_splat(0);
  v128_t sse = wasm_i32x4_splat(0);
  if (w > 16) {
    variance_wide(src, src_stride, ref, ref_stride, w, h, sse_out, sum_out);
    return;
  }
  for (int y = 0; y < h; ++y) {
    if (w == 16) {
      const v128_t a = wasm_v128_load(src);
      const v128_t b = wasm_v128_load(ref);
      var_acc8(wasm_u16x8_extend_low_u8x16(a), wasm_u16x8_extend_low_u8x16(b), &sum16, &sse);
      var_acc8(wasm_u16x8_extend_high_u8x16(a), wasm_u16x8_extend_high_u8x16(b), &sum16, &sse);
    } else {
      var_acc8(wasm_u16x8_load8x8(src), wasm_u16x8_load8x8(ref), &sum16, &sse);
    }
    /* Fold the 16-bit sums into 32 bits every 8 rows (8 x 2 x 255 < 32768). */
    if ((y & 7) == 7) {
      sum = wasm_i32x4_add(sum, wasm_i32x4_extadd_pairwise_i16x8(sum16));
      sum16 = wasm_i16x8_splat(0);
    }
    src += src_stride;
    ref += ref_stride;
  }
  sum = wasm_i32x4_add(sum, wasm_i32x4_extadd_pairwise_i16x8(sum16));
  *sse_out = hsum_u32(sse);
  *sum_out = hsum_i32(sum);
}

/* Blocks 32 or 64 wide: the sums of each row go to 32-bit lanes. The SSE of a 64x64 block is at
 * most 4096 x 255^2 < 2^32: C adds it in a uint32_t and so does this. */
static inline void variance_wide(const uint8_t *src, int src_stride, const uint8_t *ref,
                                 int ref_stride, int w, int h, uint32_t *sse_out, int *sum_out) {
  v128_t sum = wasm_i32x4_splat(0);
  v128_t sse = wasm_i32x4_splat(0);
  for (int y = 0; y < h; ++y) {
    v128_t row = wasm_i16x8_splat(0);
    for (int x = 0; x < w; x += 16) {
      const v128_t a = wasm_v128_load(src + x);
      const v128_t b = wasm_v128_load(ref + x);
      var_acc8(wasm_u16x8_extend_low_u8x16(a), wasm_u16x8_extend_low_u8x16(b), &row, &sse);
      var_acc8(wasm_u16x8_extend_high_u8x16(a), wasm_u16x8_extend_high_u8x16(b), &row, &sse);
    }
    sum = wasm_i32x4_add(sum, wasm_i32x4_extadd_pairwise_i16x8(row));
    src += src_stride;
    ref += ref_stride;
  }
  *sse_out = hsum_u32(sse);
  *sum_out = hsum_i32(sum);
}

#define CK_VAR_DEF(w, h)                                                                         \
  unsigned int vpx_variance##w##x##h##_wasm(const uint8_t *src_ptr, int src_stride,              \
                                            const uint8_t *ref_ptr, int ref_stride,              \
                                            unsigned int *sse) {                                 \
    int sum;                                                                                     \
    variance_wxh(src_ptr, src_stride, ref_ptr, ref_stride, w, h, sse, &sum);                     \
    return *sse - (uint32_t)(((int64_t)sum * sum) / (w * h));                                    \
  }
CK_BLOCK_SIZES(CK_VAR_DEF)

unsigned int vpx_mse16x16_wasm(const uint8_t *src_ptr, int src_stride, const uint8_t *ref_ptr,
                               int ref_stride, unsigned int *sse) {
  int sum;
  variance_wxh(src_ptr, src_stride, ref_ptr, ref_stride, 16, 16, sse, &sum);
  return *sse;
}

void vpx_get16x16var_wasm(const uint8_t *src_ptr, int src_stride, const uint8_t *ref_ptr,
                          int ref_stride, unsigned int *sse, int *sum) {
  variance_wxh(src_ptr, src_stride, ref_ptr, ref_stride, 16, 16, sse, sum);
}

/* libvpx vpx_dsp/variance.c's bilinear taps (they sum to 128, FILTER_BITS 7). */
static const uint8_t kBilinear[8][2] = { { 128, 0 }, { 112, 16 }, { 96, 32 }, { 80, 48 },
                                         { 64, 64 },  { 48, 80 },  { 32, 96 }, { 16, 112 } };

/* (a * f0 + b * f1 + 64) >> 7 on 8 lanes of 16 bits; the result is 0..255 and never overflows. */
static inline v128_t bilinear8(v128_t a16, v128_t b16, v128_t f0, v128_t f1) {
  const v128_t t = wasm_i16x8_add(wasm_i16x8_add(wasm_i16x8_mul(a16, f0), wasm_i16x8_mul(b16, f1)),
                                  wasm_i16x8_splat(64));
  return wasm_u16x8_shr(t, 7);
}

/* The two passes of var_filter_block2d_bil_{first,second}_pass into a w x h block of 8-bit pixels
 * (the first pass reads h + 1 rows, as the C version does), 16 columns at a time (or 8 for w = 8),
 * then the variance against ref. */
static inline uint32_t sub_pixel_variance_wxh(const uint8_t *src, int src_stride, int x_offset,
                                              int y_offset, const uint8_t *ref, int ref_stride,
                                              uint32_t *sse, int w, int h) {
  uint8_t block[64 * 64];
  const v128_t hf0 = wasm_i16x8_splat(kBilinear[x_offset][0]);
  const v128_t hf1 = wasm_i16x8_splat(kBilinear[x_offset][1]);
  const v128_t vf0 = wasm_i16x8_splat(kBilinear[y_offset][0]);
  const v128_t vf1 = wasm_i16x8_splat(kBilinear[y_offset][1]);
  for (int x = 0; x < w; x += 16) {
    const uint8_t *in = src + x;
    v128_t prev_lo = wasm_i16x8_splat(0), prev_hi = wasm_i16x8_splat(0);
    for (int y = 0; y <= h; ++y) {
      v128_t lo, hi = wasm_i16x8_splat(0);
      if (w >= 16) {
        const v128_t a = wasm_v128_load(in);
        const v128_t b = wasm_v128_load(in + 1);
        lo = bilinear8(wasm_u16x8_extend_low_u8x16(a), wasm_u16x8_extend_low_u8x16(b), hf0, hf1);
        hi = bilinear8(wasm_u16x8_extend_high_u8x16(a), wasm_u16x8_extend_high_u8x16(b), hf0, hf1);
      } else {
        lo = bilinear8(wasm_u16x8_load8x8(in), wasm_u16x8_load8x8(in + 1), hf0, hf1);
      }
      if (y > 0) {
        const v128_t out_lo = bilinear8(prev_lo, lo, vf0, vf1);
        if (w >= 16) {
          const v128_t out_hi = bilinear8(prev_hi, hi, vf0, vf1);
          wasm_v128_store(block + (y - 1) * w + x, wasm_u8x16_narrow_i16x8(out_lo, out_hi));
        } else {
          wasm_v128_store64_lane(block + (y - 1) * w, wasm_u8x16_narrow_i16x8(out_lo, out_lo), 0);
        }
      }
      prev_lo = lo;
      prev_hi = hi;
      in += src_stride;
    }
  }
  int sum;
  variance_wxh(block, w, ref, ref_stride, w, h, sse, &sum);
  return *sse - (uint32_t)(((int64_t)sum * sum) / (w * h));
}

#define CK_SUBPIX_DEF(w, h)                                                                      \
  uint32_t vpx_sub_pixel_variance##w##x##h##_wasm(const uint8_t *src_ptr, int src_stride,        \
                                                  int x_offset, int y_offset,                    \
                                                  const uint8_t *ref_ptr, int ref_stride,        \
                                                  uint32_t *sse) {                               \
    return sub_pixel_variance_wxh(src_ptr, src_stride, x_offset, y_offset, ref_ptr, ref_stride,  \
                                  sse, w, h);                                                    \
  }
CK_BLOCK_SIZES(CK_SUBPIX_DEF)

void vpx_subtract_block_wasm(int rows, int cols, int16_t *diff_ptr, ptrdiff_t diff_stride,
                             const uint8_t *src_ptr, ptrdiff_t src_stride, const uint8_t *pred_ptr,
                             ptrdiff_t pred_stride) {
  for (int r = 0; r < rows; ++r) {
    int c = 0;
    for (; c + 16 <= cols; c += 16) {
      const v128_t s = wasm_v128_load(src_ptr + c);
      const v128_t p = wasm_v128_load(pred_ptr + c);
      wasm_v128_store(diff_ptr + c, wasm_i16x8_sub(wasm_u16x8_extend_low_u8x16(s),
                                                   wasm_u16x8_extend_low_u8x16(p)));
      wasm_v128_store(diff_ptr + c + 8, wasm_i16x8_sub(wasm_u16x8_extend_high_u8x16(s),
                                                       wasm_u16x8_extend_high_u8x16(p)));
    }
    for (; c + 8 <= cols; c += 8) {
      wasm_v128_store(diff_ptr + c, wasm_i16x8_sub(wasm_u16x8_load8x8(src_ptr + c),
                                                   wasm_u16x8_load8x8(pred_ptr + c)));
    }
    for (; c < cols; ++c) diff_ptr[c] = (int16_t)(src_ptr[c] - pred_ptr[c]);
    diff_ptr += diff_stride;
    src_ptr += src_stride;
    pred_ptr += pred_stride;
  }
}
