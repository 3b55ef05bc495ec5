/*
 * capturekit: wasm SIMD128 versions of VP8's forward 4x4 DCT, fast quantizer, DC-only inverse DCT
 * and 16x16 copy, and of VP9's 8x8 forward DCT, realtime quantizer and Hadamard transforms (see
 * vpx_simd_rtcd.h). Each computes exactly what libvpx's C version computes
 * (vp8/encoder/dct.c, vp8_quantize.c, vp8/common/idctllm.c, reconinter.c), in 32-bit lanes where C
 * uses int, with C's truncation to short where C stores a short.
 */
#include <string.h>
#include <wasm_simd128.h>

#include "vp8/encoder/block.h"
#include "vpx_simd_rtcd.h"

/* 4x4 transpose of 32-bit lanes: rows r0..r3 in, columns out. */
static inline void transpose4(v128_t *r0, v128_t *r1, v128_t *r2, v128_t *r3) {
  const v128_t t0 = wasm_i32x4_shuffle(*r0, *r1, 0, 4, 1, 5);
  const v128_t t1 = wasm_i32x4_shuffle(*r0, *r1, 2, 6, 3, 7);
  const v128_t t2 = wasm_i32x4_shuffle(*r2, *r3, 0, 4, 1, 5);
  const v128_t t3 = wasm_i32x4_shuffle(*r2, *r3, 2, 6, 3, 7);
  *r0 = wasm_i64x2_shuffle(t0, t2, 0, 2);
  *r1 = wasm_i64x2_shuffle(t0, t2, 1, 3);
  *r2 = wasm_i64x2_shuffle(t1, t3, 0, 2);
  *r3 = wasm_i64x2_shuffle(t1, t3, 1, 3);
}

/* A short stored from an int, as C's assignment does: keep the low 16 bits, sign-extended. */
static inline v128_t as_short(v128_t v) { return wasm_i32x4_shr(wasm_i32x4_shl(v, 16), 16); }

void vp8_short_fdct4x4_wasm(short *input, short *output, int pitch) {
  const int step = pitch / 2;
  v128_t c0 = wasm_i32x4_load16x4(input);
  v128_t c1 = wasm_i32x4_load16x4(input + step);
  v128_t c2 = wasm_i32x4_load16x4(input + 2 * step);
  v128_t c3 = wasm_i32x4_load16x4(input + 3 * step);
  /* First pass, along each row: lanes are rows, so transpose the rows into columns first. */
  transpose4(&c0, &c1, &c2, &c3);
  const v128_t a1 = wasm_i32x4_shl(wasm_i32x4_add(c0, c3), 3);
  const v128_t b1 = wasm_i32x4_shl(wasm_i32x4_add(c1, c2), 3);
  const v128_t cc = wasm_i32x4_shl(wasm_i32x4_sub(c1, c2), 3);
  const v128_t d1 = wasm_i32x4_shl(wasm_i32x4_sub(c0, c3), 3);
  const v128_t k2217 = wasm_i32x4_splat(2217), k5352 = wasm_i32x4_splat(5352);
  /* op[k] of each row, as short. */
  v128_t o0 = as_short(wasm_i32x4_add(a1, b1));
  v128_t o1 = as_short(wasm_i32x4_shr(wasm_i32x4_add(wasm_i32x4_add(wasm_i32x4_mul(cc, k2217),
                                                                     wasm_i32x4_mul(d1, k5352)),
                                                      wasm_i32x4_splat(14500)), 12));
  v128_t o2 = as_short(wasm_i32x4_sub(a1, b1));
  v128_t o3 = as_short(wasm_i32x4_shr(wasm_i32x4_add(wasm_i32x4_sub(wasm_i32x4_mul(d1, k2217),
                                                                     wasm_i32x4_mul(cc, k5352)),
                                                      wasm_i32x4_splat(7500)), 12));
  /* Second pass, down each column: lanes become columns. */
  transpose4(&o0, &o1, &o2, &o3); /* o_i = row i of the intermediate block */
  const v128_t A = wasm_i32x4_add(o0, o3);
  const v128_t B = wasm_i32x4_add(o1, o2);
  const v128_t C = wasm_i32x4_sub(o1, o2);
  const v128_t D = wasm_i32x4_sub(o0, o3);
  const v128_t seven = wasm_i32x4_splat(7);
  const v128_t r0 = wasm_i32x4_shr(wasm_i32x4_add(wasm_i32x4_add(A, B), seven), 4);
  const v128_t r2 = wasm_i32x4_shr(wasm_i32x4_add(wasm_i32x4_sub(A, B), seven), 4);
  /* + (d1 != 0): the comparison is all ones (-1) where D != 0, so subtract it. */
  const v128_t r1 = wasm_i32x4_sub(
      wasm_i32x4_shr(wasm_i32x4_add(wasm_i32x4_add(wasm_i32x4_mul(C, k2217), wasm_i32x4_mul(D, k5352)),
                                    wasm_i32x4_splat(12000)), 16),
      wasm_i32x4_ne(D, wasm_i32x4_splat(0)));
  const v128_t r3 = wasm_i32x4_shr(
      wasm_i32x4_add(wasm_i32x4_sub(wasm_i32x4_mul(D, k2217), wasm_i32x4_mul(C, k5352)),
                     wasm_i32x4_splat(51000)), 16);
  /* Narrowing keeps the low 16 bits only if no lane saturates; take the low halves explicitly. */
  wasm_v128_store(output, wasm_i16x8_shuffle(r0, r1, 0, 2, 4, 6, 8, 10, 12, 14));
  wasm_v128_store(output + 8, wasm_i16x8_shuffle(r2, r3, 0, 2, 4, 6, 8, 10, 12, 14));
}

void vp8_short_fdct8x4_wasm(short *input, short *output, int pitch) {
  vp8_short_fdct4x4_wasm(input, output, pitch);
  vp8_short_fdct4x4_wasm(input + 4, output + 16, pitch);
}

/* The largest of 8 signed 16-bit lanes. */
static inline int max_lane_i16(v128_t v) {
  v = wasm_i16x8_max(v, wasm_i32x4_shuffle(v, v, 2, 3, 0, 1));
  v = wasm_i16x8_max(v, wasm_i32x4_shuffle(v, v, 1, 0, 3, 2));
  v = wasm_i16x8_max(v, wasm_i16x8_shuffle(v, v, 1, 0, 3, 2, 5, 4, 7, 6));
  return wasm_i16x8_extract_lane(v, 0);
}

/* For raster position rc, 1 + its index in vp8_default_zig_zag1d (the end-of-block it implies). */
static const int16_t kEobOfRaster[16] = { 1, 2, 6, 7, 3, 5, 8, 13, 4, 9, 12, 14, 10, 11, 15, 16 };

/* Both codecs' quantizer for 8 coefficients, in int as C computes it:
 * y = ((abs(z) + round) * quant) >> 16, where VP9 first clamps abs(z) + round to INT16_MAX; the result
 * is sign(z) * y with C's truncation to a short, and *nonzero marks the lanes where y != 0. */
static inline v128_t quantize4(v128_t z, v128_t round, v128_t quant, int clamp) {
  v128_t t = wasm_i32x4_add(wasm_i32x4_abs(z), round);
  if (clamp) t = wasm_i32x4_min(t, wasm_i32x4_splat(32767));
  return wasm_i32x4_shr(wasm_i32x4_mul(t, quant), 16);
}

static inline v128_t quantize8(v128_t z, v128_t round, v128_t quant, int clamp, v128_t *nonzero) {
  const v128_t y_lo = quantize4(wasm_i32x4_extend_low_i16x8(z), wasm_i32x4_extend_low_i16x8(round),
                                wasm_i32x4_extend_low_i16x8(quant), clamp);
  const v128_t y_hi = quantize4(wasm_i32x4_extend_high_i16x8(z), wasm_i32x4_extend_high_i16x8(round),
                                wasm_i32x4_extend_high_i16x8(quant), clamp);
  const v128_t y = wasm_i16x8_shuffle(y_lo, y_hi, 0, 2, 4, 6, 8, 10, 12, 14); /* low 16 bits */
  *nonzero = wasm_i16x8_shuffle(wasm_i32x4_ne(y_lo, wasm_i32x4_splat(0)),
                                wasm_i32x4_ne(y_hi, wasm_i32x4_splat(0)), 0, 2, 4, 6, 8, 10, 12, 14);
  const v128_t sz = wasm_i16x8_shr(z, 15);
  return wasm_i16x8_sub(wasm_v128_xor(y, sz), sz);
}

void vp8_fast_quantize_b_wasm(BLOCK *b, BLOCKD *d) {
  v128_t eob = wasm_i16x8_splat(0);
  for (int half = 0; half < 2; ++half) {
    const int o = half * 8;
    const v128_t z = wasm_v128_load(b->coeff + o);
    const v128_t round = wasm_v128_load(b->round + o);
    const v128_t quant = wasm_v128_load(b->quant_fast + o);
    v128_t nz;
    const v128_t x = quantize8(z, round, quant, 0, &nz);
    wasm_v128_store(d->qcoeff + o, x);
    wasm_v128_store(d->dqcoeff + o, wasm_i16x8_mul(x, wasm_v128_load(d->dequant + o)));
    eob = wasm_i16x8_max(eob, wasm_v128_and(nz, wasm_v128_load(kEobOfRaster + o)));
  }
  *d->eob = (char)max_lane_i16(eob);
}

void vp8_dc_only_idct_add_wasm(short input_dc, unsigned char *pred_ptr, int pred_stride,
                               unsigned char *dst_ptr, int dst_stride) {
  const int a1 = ((input_dc + 4) >> 3);
  /* a1 spans -4096..4095: add in 16 bits and saturate to 0..255 as C's clamp does. */
  const v128_t add = wasm_i16x8_splat((int16_t)a1);
  for (int r = 0; r < 4; r += 2) {
    uint32_t p0, p1;
    memcpy(&p0, pred_ptr + r * pred_stride, 4);
    memcpy(&p1, pred_ptr + (r + 1) * pred_stride, 4);
    const v128_t p = wasm_u16x8_extend_low_u8x16(wasm_i32x4_make((int32_t)p0, (int32_t)p1, 0, 0));
    const v128_t out = wasm_u8x16_narrow_i16x8(wasm_i16x8_add_sat(p, add), p);
    const uint32_t o0 = (uint32_t)wasm_i32x4_extract_lane(out, 0);
    const uint32_t o1 = (uint32_t)wasm_i32x4_extract_lane(out, 1);
    memcpy(dst_ptr + r * dst_stride, &o0, 4);
    memcpy(dst_ptr + (r + 1) * dst_stride, &o1, 4);
  }
}

void vp8_copy_mem16x16_wasm(unsigned char *src, int src_stride, unsigned char *dst, int dst_stride) {
  for (int r = 0; r < 16; ++r) {
    wasm_v128_store(dst, wasm_v128_load(src));
    src += src_stride;
    dst += dst_stride;
  }
}

/* ---- VP9: vp9_quantize_fp (vp9/encoder/vp9_quantize.c), 8 coefficients at a time in raster order.
 * C walks the scan order only to find the end of block: the last nonzero coefficient's position in
 * the scan, which iscan gives directly. round/quant/dequant[0] apply to the DC coefficient, [1] to the
 * rest. ---- */

void vp9_quantize_fp_wasm(const int16_t *coeff_ptr, intptr_t n_coeffs, const int16_t *round_ptr,
                          const int16_t *quant_ptr, int16_t *qcoeff_ptr, int16_t *dqcoeff_ptr,
                          const int16_t *dequant_ptr, uint16_t *eob_ptr, const int16_t *scan,
                          const int16_t *iscan) {
  (void)scan;
  /* The DC lane takes [0], the others [1]. */
  v128_t round = wasm_i16x8_make(round_ptr[0], round_ptr[1], round_ptr[1], round_ptr[1], round_ptr[1],
                                 round_ptr[1], round_ptr[1], round_ptr[1]);
  v128_t quant = wasm_i16x8_make(quant_ptr[0], quant_ptr[1], quant_ptr[1], quant_ptr[1], quant_ptr[1],
                                 quant_ptr[1], quant_ptr[1], quant_ptr[1]);
  v128_t dequant = wasm_i16x8_make(dequant_ptr[0], dequant_ptr[1], dequant_ptr[1], dequant_ptr[1],
                                   dequant_ptr[1], dequant_ptr[1], dequant_ptr[1], dequant_ptr[1]);
  v128_t eob = wasm_i16x8_splat(0);
  for (intptr_t i = 0; i < n_coeffs; i += 8) {
    const v128_t z = wasm_v128_load(coeff_ptr + i);
    v128_t nz;
    const v128_t q = quantize8(z, round, quant, 1, &nz);
    wasm_v128_store(qcoeff_ptr + i, q);
    wasm_v128_store(dqcoeff_ptr + i, wasm_i16x8_mul(q, dequant));
    /* iscan + 1 where nonzero; iscan < n_coeffs <= 1024 */
    eob = wasm_i16x8_max(eob, wasm_v128_and(nz, wasm_i16x8_add(wasm_v128_load(iscan + i), wasm_i16x8_splat(1))));
    if (i == 0) {
      round = wasm_i16x8_splat(round_ptr[1]);
      quant = wasm_i16x8_splat(quant_ptr[1]);
      dequant = wasm_i16x8_splat(dequant_ptr[1]);
    }
  }
  *eob_ptr = (uint16_t)max_lane_i16(eob);
}

/* ---- VP9/vpx_dsp: vpx_fdct8x8 (vpx_dsp/fwd_txfm.c), 4 columns per 32-bit vector: the column pass
 * on the rows as loaded, a transpose, the row pass, a transpose back, and C's final halving
 * (integer division, towards zero). tran_high_t is int32 in this build, as here; a value stored to
 * tran_low_t keeps its low 16 bits. ---- */

static inline v128_t round_shift14(v128_t v) {
  return wasm_i32x4_shr(wasm_i32x4_add(v, wasm_i32x4_splat(1 << 13)), 14);
}

/* One 8-point pass over 4 lanes: in[k] is the k-th input of each lane's transform. */
static inline void fdct8_pass(const v128_t in[8], v128_t out[8], int scale4) {
  const v128_t c4 = wasm_i32x4_splat(16069), c8 = wasm_i32x4_splat(15137), c12 = wasm_i32x4_splat(13623);
  const v128_t c16 = wasm_i32x4_splat(11585), c20 = wasm_i32x4_splat(9102), c24 = wasm_i32x4_splat(6270);
  const v128_t c28 = wasm_i32x4_splat(3196);
  v128_t s0 = wasm_i32x4_add(in[0], in[7]), s1 = wasm_i32x4_add(in[1], in[6]);
  v128_t s2 = wasm_i32x4_add(in[2], in[5]), s3 = wasm_i32x4_add(in[3], in[4]);
  v128_t s4 = wasm_i32x4_sub(in[3], in[4]), s5 = wasm_i32x4_sub(in[2], in[5]);
  v128_t s6 = wasm_i32x4_sub(in[1], in[6]), s7 = wasm_i32x4_sub(in[0], in[7]);
  if (scale4) {
    s0 = wasm_i32x4_shl(s0, 2); s1 = wasm_i32x4_shl(s1, 2); s2 = wasm_i32x4_shl(s2, 2); s3 = wasm_i32x4_shl(s3, 2);
    s4 = wasm_i32x4_shl(s4, 2); s5 = wasm_i32x4_shl(s5, 2); s6 = wasm_i32x4_shl(s6, 2); s7 = wasm_i32x4_shl(s7, 2);
  }
  v128_t x0 = wasm_i32x4_add(s0, s3), x1 = wasm_i32x4_add(s1, s2);
  v128_t x2 = wasm_i32x4_sub(s1, s2), x3 = wasm_i32x4_sub(s0, s3);
  out[0] = as_short(round_shift14(wasm_i32x4_mul(wasm_i32x4_add(x0, x1), c16)));
  out[4] = as_short(round_shift14(wasm_i32x4_mul(wasm_i32x4_sub(x0, x1), c16)));
  out[2] = as_short(round_shift14(wasm_i32x4_add(wasm_i32x4_mul(x2, c24), wasm_i32x4_mul(x3, c8))));
  out[6] = as_short(round_shift14(wasm_i32x4_sub(wasm_i32x4_mul(x3, c24), wasm_i32x4_mul(x2, c8))));
  const v128_t t2 = round_shift14(wasm_i32x4_mul(wasm_i32x4_sub(s6, s5), c16));
  const v128_t t3 = round_shift14(wasm_i32x4_mul(wasm_i32x4_add(s6, s5), c16));
  x0 = wasm_i32x4_add(s4, t2);
  x1 = wasm_i32x4_sub(s4, t2);
  x2 = wasm_i32x4_sub(s7, t3);
  x3 = wasm_i32x4_add(s7, t3);
  out[1] = as_short(round_shift14(wasm_i32x4_add(wasm_i32x4_mul(x0, c28), wasm_i32x4_mul(x3, c4))));
  out[5] = as_short(round_shift14(wasm_i32x4_add(wasm_i32x4_mul(x1, c12), wasm_i32x4_mul(x2, c20))));
  out[3] = as_short(round_shift14(wasm_i32x4_sub(wasm_i32x4_mul(x2, c12), wasm_i32x4_mul(x1, c20))));
  out[7] = as_short(round_shift14(wasm_i32x4_sub(wasm_i32x4_mul(x3, c28), wasm_i32x4_mul(x0, c4))));
}

/* 8x8 of 32-bit values as lo (columns 0-3) and hi (columns 4-7) halves of each row, transposed. */
static inline void transpose8(v128_t lo[8], v128_t hi[8]) {
  for (int q = 0; q < 8; q += 4) {
    transpose4(&lo[q], &lo[q + 1], &lo[q + 2], &lo[q + 3]);
    transpose4(&hi[q], &hi[q + 1], &hi[q + 2], &hi[q + 3]);
  }
  for (int k = 0; k < 4; ++k) { /* swap the off-diagonal blocks */
    const v128_t t = hi[k];
    hi[k] = lo[4 + k];
    lo[4 + k] = t;
  }
}

void vpx_fdct8x8_wasm(const int16_t *input, int16_t *output, int stride) {
  v128_t lo[8], hi[8], out_lo[8], out_hi[8];
  for (int r = 0; r < 8; ++r) {
    const v128_t row = wasm_v128_load(input + r * stride);
    lo[r] = wasm_i32x4_extend_low_i16x8(row);
    hi[r] = wasm_i32x4_extend_high_i16x8(row);
  }
  fdct8_pass(lo, out_lo, 1); /* columns: lanes are columns, out[k] the k-th coefficient */
  fdct8_pass(hi, out_hi, 1);
  transpose8(out_lo, out_hi); /* now row a holds column a's coefficients: the row pass's inputs */
  fdct8_pass(out_lo, lo, 0);
  fdct8_pass(out_hi, hi, 0);
  transpose8(lo, hi);
  for (int r = 0; r < 8; ++r) {
    /* x / 2 towards zero */
    const v128_t a = wasm_i32x4_shr(wasm_i32x4_add(lo[r], wasm_u32x4_shr(lo[r], 31)), 1);
    const v128_t b = wasm_i32x4_shr(wasm_i32x4_add(hi[r], wasm_u32x4_shr(hi[r], 31)), 1);
    wasm_v128_store(output + r * 8, wasm_i16x8_narrow_i32x4(a, b));
  }
}

/* ---- VP8: the block loops of vp8/common/idct_blk.c. libvpx's C versions call the C DC-only inverse
 * DCT by name, past the routing; these are the same loops calling ours. Blocks with more than the DC
 * coefficient still go to libvpx's C inverse DCT. ---- */

void vp8_dequant_idct_add_c(short *input, short *dq, unsigned char *dest, int stride);

static inline void dequant_idct_add_block(short *q, short *dq, unsigned char *dst, int stride, char eob) {
  if (eob > 1) {
    vp8_dequant_idct_add_c(q, dq, dst, stride);
  } else {
    vp8_dc_only_idct_add_wasm((short)(q[0] * dq[0]), dst, stride, dst, stride);
    q[0] = 0;
    q[1] = 0;
  }
}

void vp8_dequant_idct_add_y_block_wasm(short *q, short *dq, unsigned char *dst, int stride, char *eobs) {
  for (int i = 0; i < 4; ++i) {
    for (int j = 0; j < 4; ++j) {
      dequant_idct_add_block(q, dq, dst + 4 * j, stride, *eobs++);
      q += 16;
    }
    dst += 4 * stride;
  }
}

void vp8_dequant_idct_add_uv_block_wasm(short *q, short *dq, unsigned char *dst_u, unsigned char *dst_v,
                                        int stride, char *eobs) {
  unsigned char *const planes[2] = { dst_u, dst_v };
  for (int p = 0; p < 2; ++p) {
    unsigned char *dst = planes[p];
    for (int i = 0; i < 2; ++i) {
      for (int j = 0; j < 2; ++j) {
        dequant_idct_add_block(q, dq, dst + 4 * j, stride, *eobs++);
        q += 16;
      }
      dst += 4 * stride;
    }
  }
}

/* ---- VP9: the 8x8 and 16x16 Hadamard transforms (vpx_dsp/avg.c), which the realtime mode decision
 * uses to estimate a block's rate. libvpx's C keeps every intermediate in int16_t (wrapping), as
 * 16-bit lanes do, and writes the coefficients in the same order. ---- */

/* An 8 x 8 transpose of 16-bit values: three rounds of interleaving row i with row i + 4. */
static inline void transpose8x8_i16(v128_t x[8]) {
  for (int round = 0; round < 3; ++round) {
    v128_t t[8];
    for (int i = 0; i < 4; ++i) {
      t[2 * i] = wasm_i16x8_shuffle(x[i], x[i + 4], 0, 8, 1, 9, 2, 10, 3, 11);
      t[2 * i + 1] = wasm_i16x8_shuffle(x[i], x[i + 4], 4, 12, 5, 13, 6, 14, 7, 15);
    }
    for (int i = 0; i < 8; ++i) x[i] = t[i];
  }
}

/* hadamard_col8 on 8 columns at once: in[j] is row j, out[k] the k-th output of every column. */
static inline void hadamard_col8_x8(const v128_t in[8], v128_t out[8]) {
  const v128_t b0 = wasm_i16x8_add(in[0], in[1]), b1 = wasm_i16x8_sub(in[0], in[1]);
  const v128_t b2 = wasm_i16x8_add(in[2], in[3]), b3 = wasm_i16x8_sub(in[2], in[3]);
  const v128_t b4 = wasm_i16x8_add(in[4], in[5]), b5 = wasm_i16x8_sub(in[4], in[5]);
  const v128_t b6 = wasm_i16x8_add(in[6], in[7]), b7 = wasm_i16x8_sub(in[6], in[7]);
  const v128_t c0 = wasm_i16x8_add(b0, b2), c1 = wasm_i16x8_add(b1, b3);
  const v128_t c2 = wasm_i16x8_sub(b0, b2), c3 = wasm_i16x8_sub(b1, b3);
  const v128_t c4 = wasm_i16x8_add(b4, b6), c5 = wasm_i16x8_add(b5, b7);
  const v128_t c6 = wasm_i16x8_sub(b4, b6), c7 = wasm_i16x8_sub(b5, b7);
  out[0] = wasm_i16x8_add(c0, c4);
  out[7] = wasm_i16x8_add(c1, c5);
  out[3] = wasm_i16x8_add(c2, c6);
  out[4] = wasm_i16x8_add(c3, c7);
  out[2] = wasm_i16x8_sub(c0, c4);
  out[6] = wasm_i16x8_sub(c1, c5);
  out[1] = wasm_i16x8_sub(c2, c6);
  out[5] = wasm_i16x8_sub(c3, c7);
}

void vpx_hadamard_8x8_wasm(const int16_t *src_diff, ptrdiff_t src_stride, int16_t *coeff) {
  v128_t rows[8], t[8];
  for (int j = 0; j < 8; ++j) rows[j] = wasm_v128_load(src_diff + j * src_stride);
  /* C: column i's outputs go to buffer[8 i + k]; here t[k] holds them for every column, so the
   * buffer's rows (the second pass's inputs) are the transpose. */
  hadamard_col8_x8(rows, t);
  transpose8x8_i16(t);
  hadamard_col8_x8(t, rows);
  transpose8x8_i16(rows);
  for (int j = 0; j < 8; ++j) wasm_v128_store(coeff + 8 * j, rows[j]);
}

void vpx_hadamard_16x16_wasm(const int16_t *src_diff, ptrdiff_t src_stride, int16_t *coeff) {
  for (int idx = 0; idx < 4; ++idx) {
    vpx_hadamard_8x8_wasm(src_diff + (idx >> 1) * 8 * src_stride + (idx & 1) * 8, src_stride, coeff + idx * 64);
  }
  /* (a0 + a1) >> 1 and the others are computed in int by C: in 32-bit lanes here. */
  for (int i = 0; i < 64; i += 8) {
    const v128_t a[4] = { wasm_v128_load(coeff + i), wasm_v128_load(coeff + 64 + i), wasm_v128_load(coeff + 128 + i),
                          wasm_v128_load(coeff + 192 + i) };
    v128_t res[2][4];
    for (int h = 0; h < 2; ++h) {
      v128_t w[4];
      for (int k = 0; k < 4; ++k) w[k] = h ? wasm_i32x4_extend_high_i16x8(a[k]) : wasm_i32x4_extend_low_i16x8(a[k]);
      /* C stores b0..b3 in tran_low_t (int16_t) before adding, and the sums again: keep the low 16
       * bits of each (as_short) at both points. */
      const v128_t b0 = as_short(wasm_i32x4_shr(wasm_i32x4_add(w[0], w[1]), 1));
      const v128_t b1 = as_short(wasm_i32x4_shr(wasm_i32x4_sub(w[0], w[1]), 1));
      const v128_t b2 = as_short(wasm_i32x4_shr(wasm_i32x4_add(w[2], w[3]), 1));
      const v128_t b3 = as_short(wasm_i32x4_shr(wasm_i32x4_sub(w[2], w[3]), 1));
      res[h][0] = as_short(wasm_i32x4_add(b0, b2));
      res[h][1] = as_short(wasm_i32x4_add(b1, b3));
      res[h][2] = as_short(wasm_i32x4_sub(b0, b2));
      res[h][3] = as_short(wasm_i32x4_sub(b1, b3));
    }
    v128_t out[4]; /* every lane is already a 16-bit value: the saturating narrow is exact */
    for (int k = 0; k < 4; ++k) out[k] = wasm_i16x8_narrow_i32x4(res[0][k], res[1][k]);
    for (int k = 0; k < 4; ++k) wasm_v128_store(coeff + 64 * k + i, out[k]);
  }
}
