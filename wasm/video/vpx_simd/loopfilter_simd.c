/*
 * capturekit: wasm SIMD128 versions of VP8's normal loop filter (see vpx_simd_rtcd.h): the
 * macroblock-edge filter (vp8_loop_filter_mbh / mbv) and the inner block-edge filter (bh / bv),
 * computing exactly what libvpx vp8/common/loopfilter_filters.c computes, and of VP9's 8-pixel
 * and 16-pixel edge filters (vpx_lpf_{horizontal,vertical}_{8,16}[_dual], vpx_dsp/loopfilter.c). The C code works on signed
 * chars with clamping, which is what 8-bit saturating lanes do; 16 pixels along an edge are filtered
 * at once (a luma edge, or the U and V edges side by side). Vertical edges are transposed into
 * columns, filtered, and transposed back.
 *
 * Saturating adds are exact here: C computes clamp(f + 3 * (q0 - p0)) in int, and adding the
 * saturated difference three times with saturation gives the same value because every step moves the
 * same way, so saturation can only happen when the exact result is past the same bound.
 */
#include <wasm_simd128.h>

#include "vp8/common/loopfilter.h"
#include "vpx_simd_rtcd.h"

typedef struct {
  v128_t p3, p2, p1, p0, q0, q1, q2, q3;
} Edge;

static inline v128_t absdiff(v128_t a, v128_t b) {
  return wasm_v128_or(wasm_u8x16_sub_sat(a, b), wasm_u8x16_sub_sat(b, a));
}

/* vp8_filter_mask: all ones where the edge is filtered. */
static inline v128_t filter_mask(const Edge *e, v128_t limit, v128_t blimit) {
  v128_t m = wasm_u8x16_max(absdiff(e->p3, e->p2), absdiff(e->p2, e->p1));
  m = wasm_u8x16_max(m, absdiff(e->p1, e->p0));
  m = wasm_u8x16_max(m, absdiff(e->q1, e->q0));
  m = wasm_u8x16_max(m, absdiff(e->q2, e->q1));
  m = wasm_u8x16_max(m, absdiff(e->q3, e->q2));
  const v128_t pq0 = absdiff(e->p0, e->q0);
  /* abs(p0 - q0) * 2 + abs(p1 - q1) / 2 saturates at 255, above every blimit (at most 193). */
  const v128_t edge = wasm_u8x16_add_sat(wasm_u8x16_add_sat(pq0, pq0), wasm_u8x16_shr(absdiff(e->p1, e->q1), 1));
  return wasm_v128_not(wasm_v128_or(wasm_u8x16_gt(m, limit), wasm_u8x16_gt(edge, blimit)));
}

/* vp8_hevmask: all ones where the edge has high variance. */
static inline v128_t hev_mask(const Edge *e, v128_t thresh) {
  return wasm_v128_or(wasm_u8x16_gt(absdiff(e->p1, e->p0), thresh),
                      wasm_u8x16_gt(absdiff(e->q1, e->q0), thresh));
}

static inline v128_t flip(v128_t v) { return wasm_v128_xor(v, wasm_i8x16_splat((int8_t)0x80)); }

/* clamp(f + 3 * (qs0 - ps0)) */
static inline v128_t add_3_diff(v128_t f, v128_t ps0, v128_t qs0) {
  const v128_t d = wasm_i8x16_sub_sat(qs0, ps0);
  return wasm_i8x16_add_sat(wasm_i8x16_add_sat(wasm_i8x16_add_sat(f, d), d), d);
}

/* vp8_filter: the inner-edge filter. */
static inline void filter_normal(Edge *e, v128_t mask, v128_t hev) {
  const v128_t ps1 = flip(e->p1), ps0 = flip(e->p0), qs0 = flip(e->q0), qs1 = flip(e->q1);
  v128_t f = wasm_v128_and(wasm_i8x16_sub_sat(ps1, qs1), hev);
  f = wasm_v128_and(add_3_diff(f, ps0, qs0), mask);
  const v128_t f1 = wasm_i8x16_shr(wasm_i8x16_add_sat(f, wasm_i8x16_splat(4)), 3);
  const v128_t f2 = wasm_i8x16_shr(wasm_i8x16_add_sat(f, wasm_i8x16_splat(3)), 3);
  e->q0 = flip(wasm_i8x16_sub_sat(qs0, f1));
  e->p0 = flip(wasm_i8x16_add_sat(ps0, f2));
  f = wasm_v128_andnot(wasm_i8x16_shr(wasm_i8x16_add(f1, wasm_i8x16_splat(1)), 1), hev);
  e->q1 = flip(wasm_i8x16_sub_sat(qs1, f));
  e->p1 = flip(wasm_i8x16_add_sat(ps1, f));
}

/* clamp((63 + f * k) >> 7) for signed 8-bit f (never actually clamps: |f * k| <= 128 * 27). */
static inline v128_t tap7(v128_t f, int k) {
  const v128_t kk = wasm_i16x8_splat((int16_t)k), r = wasm_i16x8_splat(63);
  const v128_t lo = wasm_i16x8_shr(wasm_i16x8_add(wasm_i16x8_mul(wasm_i16x8_extend_low_i8x16(f), kk), r), 7);
  const v128_t hi = wasm_i16x8_shr(wasm_i16x8_add(wasm_i16x8_mul(wasm_i16x8_extend_high_i8x16(f), kk), r), 7);
  return wasm_i8x16_narrow_i16x8(lo, hi);
}

/* vp8_mbfilter: the macroblock-edge filter. */
static inline void filter_mb(Edge *e, v128_t mask, v128_t hev) {
  const v128_t ps2 = flip(e->p2), ps1 = flip(e->p1), qs1 = flip(e->q1), qs2 = flip(e->q2);
  v128_t ps0 = flip(e->p0), qs0 = flip(e->q0);
  v128_t f = wasm_v128_and(add_3_diff(wasm_i8x16_sub_sat(ps1, qs1), ps0, qs0), mask);
  const v128_t fh = wasm_v128_and(f, hev);
  const v128_t f1 = wasm_i8x16_shr(wasm_i8x16_add_sat(fh, wasm_i8x16_splat(4)), 3);
  const v128_t f2 = wasm_i8x16_shr(wasm_i8x16_add_sat(fh, wasm_i8x16_splat(3)), 3);
  qs0 = wasm_i8x16_sub_sat(qs0, f1);
  ps0 = wasm_i8x16_add_sat(ps0, f2);
  f = wasm_v128_andnot(f, hev);
  const v128_t u27 = tap7(f, 27), u18 = tap7(f, 18), u9 = tap7(f, 9);
  e->q0 = flip(wasm_i8x16_sub_sat(qs0, u27));
  e->p0 = flip(wasm_i8x16_add_sat(ps0, u27));
  e->q1 = flip(wasm_i8x16_sub_sat(qs1, u18));
  e->p1 = flip(wasm_i8x16_add_sat(ps1, u18));
  e->q2 = flip(wasm_i8x16_sub_sat(qs2, u9));
  e->p2 = flip(wasm_i8x16_add_sat(ps2, u9));
}

/* ---- VP9's filter8 (vpx_dsp/loopfilter.c): where the edge is flat (every pixel within 1 of p0 or
 * q0) and filtered, a 7-tap [1 1 1 2 1 1 1] average replaces p2..q2; elsewhere filter4, which is
 * VP8's inner-edge filter. ---- */

static inline v128_t flat_mask(const Edge *e) {
  v128_t m = wasm_u8x16_max(absdiff(e->p1, e->p0), absdiff(e->q1, e->q0));
  m = wasm_u8x16_max(m, absdiff(e->p2, e->p0));
  m = wasm_u8x16_max(m, absdiff(e->q2, e->q0));
  m = wasm_u8x16_max(m, absdiff(e->p3, e->p0));
  m = wasm_u8x16_max(m, absdiff(e->q3, e->q0));
  return wasm_v128_not(wasm_u8x16_gt(m, wasm_i8x16_splat(1)));
}

/* (a + b + c + d + e + f + g + h + 4) >> 3 of eight 8-bit vectors, in 16-bit lanes. */
static inline v128_t avg8(v128_t a, v128_t b, v128_t c, v128_t d, v128_t e, v128_t f, v128_t g, v128_t h) {
  v128_t lo = wasm_i16x8_splat(4), hi = wasm_i16x8_splat(4);
  const v128_t in[8] = { a, b, c, d, e, f, g, h };
  for (int i = 0; i < 8; ++i) {
    lo = wasm_i16x8_add(lo, wasm_u16x8_extend_low_u8x16(in[i]));
    hi = wasm_i16x8_add(hi, wasm_u16x8_extend_high_u8x16(in[i]));
  }
  return wasm_u8x16_narrow_i16x8(wasm_u16x8_shr(lo, 3), wasm_u16x8_shr(hi, 3));
}

static inline void filter8_vp9(Edge *e, v128_t mask, v128_t hev) {
  const Edge o = *e;
  const v128_t flat = wasm_v128_and(flat_mask(&o), mask);
  filter_normal(e, mask, hev);
  const v128_t op2 = avg8(o.p3, o.p3, o.p3, o.p2, o.p2, o.p1, o.p0, o.q0);
  const v128_t op1 = avg8(o.p3, o.p3, o.p2, o.p1, o.p1, o.p0, o.q0, o.q1);
  const v128_t op0 = avg8(o.p3, o.p2, o.p1, o.p0, o.p0, o.q0, o.q1, o.q2);
  const v128_t oq0 = avg8(o.p2, o.p1, o.p0, o.q0, o.q0, o.q1, o.q2, o.q3);
  const v128_t oq1 = avg8(o.p1, o.p0, o.q0, o.q1, o.q1, o.q2, o.q3, o.q3);
  const v128_t oq2 = avg8(o.p0, o.q0, o.q1, o.q2, o.q2, o.q3, o.q3, o.q3);
  e->p2 = wasm_v128_bitselect(op2, o.p2, flat);
  e->p1 = wasm_v128_bitselect(op1, e->p1, flat);
  e->p0 = wasm_v128_bitselect(op0, e->p0, flat);
  e->q0 = wasm_v128_bitselect(oq0, e->q0, flat);
  e->q1 = wasm_v128_bitselect(oq1, e->q1, flat);
  e->q2 = wasm_v128_bitselect(oq2, o.q2, flat);
}

enum { kVp8Inner = 0, kVp8Macroblock = 1, kVp9Filter8 = 2 };

/* The edge's limits, one per lane: the same for all 16, or (VP9's dual calls) one set for lanes 0-7
 * and another for lanes 8-15. */
typedef struct {
  v128_t blimit, limit, thresh;
} Limits;

static inline Limits limits_of(const unsigned char *blimit, const unsigned char *limit,
                               const unsigned char *thresh) {
  const Limits l = { wasm_i8x16_splat((int8_t)blimit[0]), wasm_i8x16_splat((int8_t)limit[0]),
                     wasm_i8x16_splat((int8_t)thresh[0]) };
  return l;
}

static inline Limits limits_dual(const unsigned char *blimit0, const unsigned char *limit0,
                                 const unsigned char *thresh0, const unsigned char *blimit1,
                                 const unsigned char *limit1, const unsigned char *thresh1) {
  const Limits a = limits_of(blimit0, limit0, thresh0), b = limits_of(blimit1, limit1, thresh1);
  const Limits l = { wasm_i64x2_shuffle(a.blimit, b.blimit, 0, 3), wasm_i64x2_shuffle(a.limit, b.limit, 0, 3),
                     wasm_i64x2_shuffle(a.thresh, b.thresh, 0, 3) };
  return l;
}

static inline void filter_edge(Edge *e, const Limits *l, int kind) {
  const v128_t mask = filter_mask(e, l->limit, l->blimit);
  const v128_t hev = hev_mask(e, l->thresh);
  if (kind == kVp8Macroblock) {
    filter_mb(e, mask, hev);
  } else if (kind == kVp9Filter8) {
    filter8_vp9(e, mask, hev);
  } else {
    filter_normal(e, mask, hev);
  }
}

/* ---- horizontal edges: rows s - 4p .. s + 3p, 16 luma pixels or 8 U + 8 V pixels per row ---- */

static inline v128_t load_row(const unsigned char *a, const unsigned char *b) {
  if (!b) return wasm_v128_load(a);
  return wasm_v128_load64_lane(b, wasm_v128_load64_zero(a), 1);
}

static inline void store_row(unsigned char *a, unsigned char *b, v128_t v) {
  if (!b) {
    wasm_v128_store(a, v);
  } else {
    wasm_v128_store64_lane(a, v, 0);
    wasm_v128_store64_lane(b, v, 1);
  }
}

/* a: the edge's first row (16 pixels), or the U edge with b the V edge (8 pixels each). */
static void horizontal_edge(unsigned char *a, unsigned char *b, int p, Limits l, int kind) {
  const int mb = kind != kVp8Inner; /* p2 and q2 change too */
  Edge e;
  e.p3 = load_row(a - 4 * p, b ? b - 4 * p : 0);
  e.p2 = load_row(a - 3 * p, b ? b - 3 * p : 0);
  e.p1 = load_row(a - 2 * p, b ? b - 2 * p : 0);
  e.p0 = load_row(a - 1 * p, b ? b - 1 * p : 0);
  e.q0 = load_row(a, b);
  e.q1 = load_row(a + 1 * p, b ? b + 1 * p : 0);
  e.q2 = load_row(a + 2 * p, b ? b + 2 * p : 0);
  e.q3 = load_row(a + 3 * p, b ? b + 3 * p : 0);
  filter_edge(&e, &l, kind);
  if (mb) store_row(a - 3 * p, b ? b - 3 * p : 0, e.p2);
  store_row(a - 2 * p, b ? b - 2 * p : 0, e.p1);
  store_row(a - 1 * p, b ? b - 1 * p : 0, e.p0);
  store_row(a, b, e.q0);
  store_row(a + 1 * p, b ? b + 1 * p : 0, e.q1);
  if (mb) store_row(a + 2 * p, b ? b + 2 * p : 0, e.q2);
}

/* ---- vertical edges: 16 rows of the 8 pixels s - 4 .. s + 3, transposed into 8 columns ---- */

static void vertical_edge(unsigned char *const rows[16], Limits l, int kind) {
  /* 16 rows x 8 bytes -> 8 columns x 16 bytes, by interleaving 8-, 16-, 32- and 64-bit lanes. */
  v128_t a[8];
  for (int i = 0; i < 8; ++i) {
    a[i] = wasm_i8x16_shuffle(wasm_v128_load64_zero(rows[2 * i] - 4), wasm_v128_load64_zero(rows[2 * i + 1] - 4),
                              0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  }
  v128_t lo[4], hi[4]; /* lo[j]: 32-bit lane k = column k (0..3) of rows 4j..4j+3; hi: columns 4..7 */
  for (int j = 0; j < 4; ++j) {
    lo[j] = wasm_i16x8_shuffle(a[2 * j], a[2 * j + 1], 0, 8, 1, 9, 2, 10, 3, 11);
    hi[j] = wasm_i16x8_shuffle(a[2 * j], a[2 * j + 1], 4, 12, 5, 13, 6, 14, 7, 15);
  }
  v128_t col[8];
  for (int h = 0; h < 2; ++h) {
    const v128_t *x = h ? hi : lo;
    const v128_t e0 = wasm_i32x4_shuffle(x[0], x[1], 0, 4, 1, 5); /* col 0 rows 0-7, col 1 rows 0-7 */
    const v128_t e1 = wasm_i32x4_shuffle(x[0], x[1], 2, 6, 3, 7); /* cols 2, 3 */
    const v128_t f0 = wasm_i32x4_shuffle(x[2], x[3], 0, 4, 1, 5); /* cols 0, 1 of rows 8-15 */
    const v128_t f1 = wasm_i32x4_shuffle(x[2], x[3], 2, 6, 3, 7);
    col[4 * h + 0] = wasm_i64x2_shuffle(e0, f0, 0, 2);
    col[4 * h + 1] = wasm_i64x2_shuffle(e0, f0, 1, 3);
    col[4 * h + 2] = wasm_i64x2_shuffle(e1, f1, 0, 2);
    col[4 * h + 3] = wasm_i64x2_shuffle(e1, f1, 1, 3);
  }
  Edge e = { col[0], col[1], col[2], col[3], col[4], col[5], col[6], col[7] };
  filter_edge(&e, &l, kind);
  col[1] = e.p2; col[2] = e.p1; col[3] = e.p0; col[4] = e.q0; col[5] = e.q1; col[6] = e.q2;

  /* 8 columns x 16 -> 16 rows x 8, the same interleaving the other way. */
  for (int h = 0; h < 2; ++h) { /* rows 0-7, then rows 8-15 */
    v128_t g[4];
    for (int k = 0; k < 4; ++k) {
      g[k] = h ? wasm_i8x16_shuffle(col[2 * k], col[2 * k + 1], 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31)
               : wasm_i8x16_shuffle(col[2 * k], col[2 * k + 1], 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    }
    const v128_t h0lo = wasm_i16x8_shuffle(g[0], g[1], 0, 8, 1, 9, 2, 10, 3, 11);  /* rows 0-3, cols 0-3 */
    const v128_t h0hi = wasm_i16x8_shuffle(g[0], g[1], 4, 12, 5, 13, 6, 14, 7, 15); /* rows 4-7, cols 0-3 */
    const v128_t h1lo = wasm_i16x8_shuffle(g[2], g[3], 0, 8, 1, 9, 2, 10, 3, 11);  /* rows 0-3, cols 4-7 */
    const v128_t h1hi = wasm_i16x8_shuffle(g[2], g[3], 4, 12, 5, 13, 6, 14, 7, 15);
    const v128_t r[4] = { wasm_i32x4_shuffle(h0lo, h1lo, 0, 4, 1, 5), wasm_i32x4_shuffle(h0lo, h1lo, 2, 6, 3, 7),
                          wasm_i32x4_shuffle(h0hi, h1hi, 0, 4, 1, 5), wasm_i32x4_shuffle(h0hi, h1hi, 2, 6, 3, 7) };
    for (int k = 0; k < 4; ++k) {
      wasm_v128_store64_lane(rows[8 * h + 2 * k] - 4, r[k], 0);
      wasm_v128_store64_lane(rows[8 * h + 2 * k + 1] - 4, r[k], 1);
    }
  }
}

static void vertical_luma(unsigned char *s, int p, Limits l, int kind) {
  unsigned char *rows[16];
  for (int i = 0; i < 16; ++i) rows[i] = s + i * p;
  vertical_edge(rows, l, kind);
}

static void vertical_chroma(unsigned char *u, unsigned char *v, int p, Limits l, int kind) {
  unsigned char *rows[16];
  for (int i = 0; i < 8; ++i) {
    rows[i] = u + i * p;
    rows[8 + i] = v + i * p;
  }
  vertical_edge(rows, l, kind);
}

/* U and V side by side; a plane given alone fills both halves with the same pixels, which filter to
 * the same values and are stored twice to the same place. */
#define CK_CHROMA(u, v) ((u) ? (u) : (v)), ((v) ? (v) : (u))
void vp8_loop_filter_mbh_wasm(unsigned char *y_ptr, unsigned char *u_ptr, unsigned char *v_ptr,
                              int y_stride, int uv_stride, loop_filter_info *lfi) {
  horizontal_edge(y_ptr, 0, y_stride, limits_of(lfi->mblim, lfi->lim, lfi->hev_thr), kVp8Macroblock);
  if (u_ptr || v_ptr) horizontal_edge(CK_CHROMA(u_ptr, v_ptr), uv_stride, limits_of(lfi->mblim, lfi->lim, lfi->hev_thr), kVp8Macroblock);
}

void vp8_loop_filter_mbv_wasm(unsigned char *y_ptr, unsigned char *u_ptr, unsigned char *v_ptr,
                              int y_stride, int uv_stride, loop_filter_info *lfi) {
  vertical_luma(y_ptr, y_stride, limits_of(lfi->mblim, lfi->lim, lfi->hev_thr), kVp8Macroblock);
  if (u_ptr || v_ptr) vertical_chroma(CK_CHROMA(u_ptr, v_ptr), uv_stride, limits_of(lfi->mblim, lfi->lim, lfi->hev_thr), kVp8Macroblock);
}

void vp8_loop_filter_bh_wasm(unsigned char *y_ptr, unsigned char *u_ptr, unsigned char *v_ptr,
                             int y_stride, int uv_stride, loop_filter_info *lfi) {
  for (int k = 4; k < 16; k += 4) horizontal_edge(y_ptr + k * y_stride, 0, y_stride, limits_of(lfi->blim, lfi->lim, lfi->hev_thr), kVp8Inner);
  if (u_ptr || v_ptr) {
    horizontal_edge(CK_CHROMA(u_ptr ? u_ptr + 4 * uv_stride : 0, v_ptr ? v_ptr + 4 * uv_stride : 0), uv_stride, limits_of(lfi->blim, lfi->lim, lfi->hev_thr), kVp8Inner);
  }
}

void vp8_loop_filter_bv_wasm(unsigned char *y_ptr, unsigned char *u_ptr, unsigned char *v_ptr,
                             int y_stride, int uv_stride, loop_filter_info *lfi) {
  for (int k = 4; k < 16; k += 4) vertical_luma(y_ptr + k, y_stride, limits_of(lfi->blim, lfi->lim, lfi->hev_thr), kVp8Inner);
  if (u_ptr || v_ptr) vertical_chroma(CK_CHROMA(u_ptr ? u_ptr + 4 : 0, v_ptr ? v_ptr + 4 : 0), uv_stride, limits_of(lfi->blim, lfi->lim, lfi->hev_thr), kVp8Inner);
}

/* VP9's 8-pixel edges: a horizontal edge is 8 pixels of 8 rows (the upper half of each vector is
 * unused), a vertical one 8 rows, each given twice to the 16-row transpose. */
void vpx_lpf_horizontal_8_wasm(uint8_t *s, int pitch, const uint8_t *blimit, const uint8_t *limit,
                               const uint8_t *thresh) {
  horizontal_edge(s, s, pitch, limits_of(blimit, limit, thresh), kVp9Filter8);
}

void vpx_lpf_vertical_8_wasm(uint8_t *s, int pitch, const uint8_t *blimit, const uint8_t *limit,
                             const uint8_t *thresh) {
  vertical_chroma(s, s, pitch, limits_of(blimit, limit, thresh), kVp9Filter8);
}

/* The dual forms: two neighbouring 8-pixel edges (side by side, or one above the other) with their
 * own limits, as one 16-lane edge. */
void vpx_lpf_horizontal_8_dual_wasm(uint8_t *s, int pitch, const uint8_t *blimit0,
                                    const uint8_t *limit0, const uint8_t *thresh0,
                                    const uint8_t *blimit1, const uint8_t *limit1,
                                    const uint8_t *thresh1) {
  horizontal_edge(s, 0, pitch, limits_dual(blimit0, limit0, thresh0, blimit1, limit1, thresh1), kVp9Filter8);
}

void vpx_lpf_vertical_8_dual_wasm(uint8_t *s, int pitch, const uint8_t *blimit0, const uint8_t *limit0,
                                  const uint8_t *thresh0, const uint8_t *blimit1,
                                  const uint8_t *limit1, const uint8_t *thresh1) {
  vertical_luma(s, pitch, limits_dual(blimit0, limit0, thresh0, blimit1, limit1, thresh1), kVp9Filter8);
}

/* ---- VP9's filter16 (vpx_dsp/loopfilter.c): where filter8's flat edge is also flat four pixels
 * further out (p4..p7 and q4..q7 within 1 of p0 and q0), a 15-tap [1 1 1 1 1 1 1 2 1 1 1 1 1 1 1]
 * average replaces p6..q6; elsewhere filter8. p[k] is the pixel k + 1 before the edge, q[k] the one
 * k after it. ---- */

/* The 14 15-tap outputs for 8 lanes of 16-bit pixels P[0..7], Q[0..7]: libvpx writes each as a
 * separate weighted sum; one running sum moves from one to the next (exact: integers, no rounding
 * until each >> 4, and every sum is below 16 * 255 + 8). */
static inline void tap15_half(const v128_t P[8], const v128_t Q[8], v128_t op[7], v128_t oq[7]) {
  v128_t sum = wasm_i16x8_add(wasm_i16x8_mul(P[7], wasm_i16x8_splat(7)), wasm_i16x8_shl(P[6], 1));
  sum = wasm_i16x8_add(sum, wasm_i16x8_splat(8));
  for (int k = 0; k < 6; ++k) sum = wasm_i16x8_add(sum, P[k]);
  sum = wasm_i16x8_add(sum, Q[0]);
  op[6] = wasm_u16x8_shr(sum, 4);
#define CK_STEP(out, minus_a, minus_b, plus_a, plus_b)                                                   \
  sum = wasm_i16x8_add(wasm_i16x8_sub(wasm_i16x8_sub(sum, minus_a), minus_b), wasm_i16x8_add(plus_a, plus_b)); \
  out = wasm_u16x8_shr(sum, 4);
  for (int k = 5; k >= 0; --k) { CK_STEP(op[k], P[7], P[k + 1], P[k], Q[6 - k]) }
  CK_STEP(oq[0], P[7], P[0], Q[0], Q[7])
  for (int k = 1; k < 7; ++k) { CK_STEP(oq[k], P[7 - k], Q[k - 1], Q[k], Q[7]) }
#undef CK_STEP
}

static inline void filter16_vp9(v128_t p[8], v128_t q[8], const Limits *l) {
  Edge e = { p[3], p[2], p[1], p[0], q[0], q[1], q[2], q[3] };
  const v128_t mask = filter_mask(&e, l->limit, l->blimit);
  const v128_t hev = hev_mask(&e, l->thresh);
  v128_t outer = wasm_u8x16_max(absdiff(p[4], p[0]), absdiff(q[4], q[0]));
  for (int k = 5; k < 8; ++k) outer = wasm_u8x16_max(outer, wasm_u8x16_max(absdiff(p[k], p[0]), absdiff(q[k], q[0])));
  const v128_t flat2 = wasm_v128_and(wasm_v128_andnot(flat_mask(&e), wasm_u8x16_gt(outer, wasm_i8x16_splat(1))), mask);
  v128_t op[7], oq[7];
  if (wasm_v128_any_true(flat2)) {
    v128_t P[2][8], Q[2][8], lo[2][14];
    for (int k = 0; k < 8; ++k) {
      P[0][k] = wasm_u16x8_extend_low_u8x16(p[k]);
      P[1][k] = wasm_u16x8_extend_high_u8x16(p[k]);
      Q[0][k] = wasm_u16x8_extend_low_u8x16(q[k]);
      Q[1][k] = wasm_u16x8_extend_high_u8x16(q[k]);
    }
    for (int h = 0; h < 2; ++h) tap15_half(P[h], Q[h], &lo[h][0], &lo[h][7]);
    for (int k = 0; k < 7; ++k) {
      op[k] = wasm_u8x16_narrow_i16x8(lo[0][k], lo[1][k]);
      oq[k] = wasm_u8x16_narrow_i16x8(lo[0][7 + k], lo[1][7 + k]);
    }
  }
  filter8_vp9(&e, mask, hev);
  const v128_t f8p[4] = { e.p0, e.p1, e.p2, e.p3 }, f8q[4] = { e.q0, e.q1, e.q2, e.q3 };
  for (int k = 0; k < 7; ++k) {
    const v128_t keep_p = k < 4 ? f8p[k] : p[k], keep_q = k < 4 ? f8q[k] : q[k];
    if (wasm_v128_any_true(flat2)) {
      p[k] = wasm_v128_bitselect(op[k], keep_p, flat2);
      q[k] = wasm_v128_bitselect(oq[k], keep_q, flat2);
    } else {
      p[k] = keep_p;
      q[k] = keep_q;
    }
  }
}

/* Horizontal: rows s - 8p .. s + 7p; 16 pixels (b null) or 8 pixels given twice (b == a). */
static void horizontal_edge16(uint8_t *a, uint8_t *b, int pitch, Limits l) {
  v128_t p[8], q[8];
  for (int k = 0; k < 8; ++k) {
    p[k] = load_row(a - (k + 1) * pitch, b ? b - (k + 1) * pitch : 0);
    q[k] = load_row(a + k * pitch, b ? b + k * pitch : 0);
  }
  filter16_vp9(p, q, &l);
  for (int k = 0; k < 7; ++k) {
    store_row(a - (k + 1) * pitch, b ? b - (k + 1) * pitch : 0, p[k]);
    store_row(a + k * pitch, b ? b + k * pitch : 0, q[k]);
  }
}

/* A 16 x 16 byte transpose: four rounds of interleaving row i with row i + 8 (each round moves one
 * bit of the row index into the column index). */
static inline void transpose16x16(v128_t x[16]) {
  for (int round = 0; round < 4; ++round) {
    v128_t t[16];
    for (int i = 0; i < 8; ++i) {
      t[2 * i] = wasm_i8x16_shuffle(x[i], x[i + 8], 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
      t[2 * i + 1] = wasm_i8x16_shuffle(x[i], x[i + 8], 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    }
    for (int i = 0; i < 16; ++i) x[i] = t[i];
  }
}

/* Vertical: `rows` rows (16, or 8 given twice) of the 16 pixels s - 8 .. s + 7, as 16 columns. */
static void vertical_edge16(uint8_t *s, int pitch, int rows, Limits l) {
  v128_t x[16];
  for (int i = 0; i < 16; ++i) x[i] = wasm_v128_load(s + (i % rows) * pitch - 8);
  transpose16x16(x);
  v128_t p[8], q[8];
  for (int k = 0; k < 8; ++k) {
    p[k] = x[7 - k];
    q[k] = x[8 + k];
  }
  filter16_vp9(p, q, &l);
  for (int k = 0; k < 8; ++k) {
    x[7 - k] = p[k];
    x[8 + k] = q[k];
  }
  transpose16x16(x);
  for (int i = 0; i < rows; ++i) wasm_v128_store(s + i * pitch - 8, x[i]);
}

void vpx_lpf_horizontal_16_wasm(uint8_t *s, int pitch, const uint8_t *blimit, const uint8_t *limit,
                                const uint8_t *thresh) {
  horizontal_edge16(s, s, pitch, limits_of(blimit, limit, thresh));
}

void vpx_lpf_horizontal_16_dual_wasm(uint8_t *s, int pitch, const uint8_t *blimit,
                                     const uint8_t *limit, const uint8_t *thresh) {
  horizontal_edge16(s, 0, pitch, limits_of(blimit, limit, thresh));
}

void vpx_lpf_vertical_16_wasm(uint8_t *s, int pitch, const uint8_t *blimit, const uint8_t *limit,
                              const uint8_t *thresh) {
  vertical_edge16(s, pitch, 8, limits_of(blimit, limit, thresh));
}

void vpx_lpf_vertical_16_dual_wasm(uint8_t *s, int pitch, const uint8_t *blimit, const uint8_t *limit,
                                   const uint8_t *thresh) {
  vertical_edge16(s, pitch, 16, limits_of(blimit, limit, thresh));
}
