/*
 * capturekit: checks every libvpx DSP function we route to wasm SIMD128 (wasm/video/vpx_simd) against
 * libvpx's own C version of it, on random inputs, realistic inputs (smooth pictures with edges, where
 * the loop filter really filters) and extremes (0 and 255, the largest coefficients). Any difference
 * is a failure: the SIMD build must write the same bitstream as the C build.
 *
 * Built with emcc by the SIMD wasm build (build/wasm-simd/vpx_simd_check.cjs, the wasm inlined: Emscripten 3.1.6 would fetch() a path in Node 20), run with Node by
 * tests/node/video/vpx-simd.test.mjs. Prints one line per function, exits 1 on any mismatch.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vp8/common/loopfilter.h"
#include "vp8/encoder/block.h"
#include "vp8_rtcd.h"
#include "vpx_dsp_rtcd.h"
#include "vpx_simd_rtcd.h"

/* VP9's internal headers clash with VP8's, so the few VP9 names used here are declared by hand
 * (vp9/common/vp9_filter.h, vp9_scan.h, vp9_rtcd.h). */
extern const InterpKernel *vp9_filter_kernels[5];
typedef struct {
  const int16_t *scan, *iscan, *neighbors;
} ScanOrder;
extern const ScanOrder vp9_default_scan_orders[4];
void vp9_quantize_fp_c(const int16_t *coeff_ptr, intptr_t n_coeffs, const int16_t *round_ptr,
                       const int16_t *quant_ptr, int16_t *qcoeff_ptr, int16_t *dqcoeff_ptr,
                       const int16_t *dequant_ptr, uint16_t *eob_ptr, const int16_t *scan,
                       const int16_t *iscan);

static uint32_t rng = 12345;
static uint32_t next(void) {
  rng ^= rng << 13;
  rng ^= rng >> 17;
  rng ^= rng << 5;
  return rng;
}
static int range(int lo, int hi) { return lo + (int)(next() % (uint32_t)(hi - lo + 1)); }

static int failures = 0;
static void report(const char *name, int bad, int runs) {
  printf("%s %s (%d runs)\n", bad ? "FAIL" : "ok", name, runs);
  if (bad) ++failures;
}

/* A picture of `n` bytes: kind 0 random, 1 smooth with a step, 2 extremes (0/255), 3 flat,
 * 4 nearly flat (each pixel base + 0..1, what VP9's flat filter8 path needs). */
static void fill(uint8_t *p, int n, int stride, int kind) {
  const int base = range(0, 255), step = range(-40, 40), noise = range(0, 6);
  for (int i = 0; i < n; ++i) {
    const int x = i % stride, y = i / stride;
    int v;
    switch (kind) {
      case 0: v = (int)(next() & 255); break;
      case 1: v = base + (x * 3 + y * 2) / 8 + (x >= stride / 2 ? step : 0) + range(-noise, noise); break;
      case 2: v = (next() & 1) ? 255 : 0; break;
      case 4: v = base + (int)(next() & 1); break;
      default: v = base; break;
    }
    p[i] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
  }
}

#define RUNS 3000
enum { S = 160, BUF = S * 160 };
static uint8_t src_buf[BUF], ref_buf[BUF], a_buf[BUF], b_buf[BUF];

/* A loop-filter check that never filtered would prove nothing: at least a quarter of the runs must have
 * changed pixels. Returns the run's verdict. */
static int filtered_enough(const char *name, int bad, int filtered) {
  if (!bad && filtered < RUNS / 4) {
    printf("FAIL %s: only %d of %d runs filtered anything\n", name, filtered, RUNS);
    return 1;
  }
  return bad;
}

/* The limits VP8's and VP9's encoders set for a filter level and sharpness (vp8_loop_filter_update_
 * sharpness, vp9_loop_filter_frame_init): the interior limit, and the level. */
static int interior_limit(int *level) {
  const int sharp = range(0, 7);
  *level = range(0, 63);
  int lim = *level >> ((sharp > 0) + (sharp > 4));
  if (sharp > 0 && lim > 9 - sharp) lim = 9 - sharp;
  return lim < 1 ? 1 : lim;
}

static void check_sad_variance(void) {
  typedef unsigned int (*Sad)(const uint8_t *, int, const uint8_t *, int);
  typedef unsigned int (*Var)(const uint8_t *, int, const uint8_t *, int, unsigned int *);
  typedef uint32_t (*SubVar)(const uint8_t *, int, int, int, const uint8_t *, int, uint32_t *);
#define CK_SAD_ROW(w, h) { "vpx_sad" #w "x" #h, vpx_sad##w##x##h##_c, vpx_sad##w##x##h##_wasm },
#define CK_VAR_ROW(w, h) { "vpx_variance" #w "x" #h, vpx_variance##w##x##h##_c, vpx_variance##w##x##h##_wasm },
  struct { const char *name; Sad c, w; } sads[] = { CK_BLOCK_SIZES(CK_SAD_ROW) };
  struct { const char *name; Var c, w; } vars[] = {
    CK_BLOCK_SIZES(CK_VAR_ROW)
    { "vpx_mse16x16", vpx_mse16x16_c, vpx_mse16x16_wasm },
  };
#define CK_SUBPIX_ROW(w, h) { "vpx_sub_pixel_variance" #w "x" #h, vpx_sub_pixel_variance##w##x##h##_c, \
                              vpx_sub_pixel_variance##w##x##h##_wasm },
  struct { const char *name; SubVar c, w; } subs[] = { CK_BLOCK_SIZES(CK_SUBPIX_ROW) };
  for (size_t f = 0; f < sizeof(sads) / sizeof(sads[0]); ++f) {
    int bad = 0;
    for (int r = 0; r < RUNS && !bad; ++r) {
      int ss = range(16, S), rs = range(16, S);
      fill(src_buf, BUF, ss, r % 4);
      fill(ref_buf, BUF, rs, (r / 4) % 4);
      const int so = range(0, 7), ro = range(0, 7);
      if (ss < 72) ss = 72;
      if (rs < 72) rs = 72;
      bad = sads[f].c(src_buf + so, ss, ref_buf + ro, rs) != sads[f].w(src_buf + so, ss, ref_buf + ro, rs);
    }
    report(sads[f].name, bad, RUNS);
  }
  for (size_t f = 0; f < sizeof(vars) / sizeof(vars[0]); ++f) {
    int bad = 0;
    for (int r = 0; r < RUNS && !bad; ++r) {
      const int ss = range(74, S), rs = range(64, S), o = range(0, 9);
      fill(src_buf, BUF, ss, r % 4);
      fill(ref_buf, BUF, rs, (r / 4) % 4);
      unsigned int sse_c = 1, sse_w = 2;
      const unsigned int vc = vars[f].c(src_buf + o, ss, ref_buf, rs, &sse_c);
      const unsigned int vw = vars[f].w(src_buf + o, ss, ref_buf, rs, &sse_w);
      bad = vc != vw || sse_c != sse_w;
    }
    report(vars[f].name, bad, RUNS);
  }
  {
    int bad = 0;
    for (int r = 0; r < RUNS && !bad; ++r) {
      const int ss = range(16, S), rs = range(16, S);
      fill(src_buf, BUF, ss, r % 4);
      fill(ref_buf, BUF, rs, (r / 4) % 4);
      unsigned int sse_c = 1, sse_w = 2;
      int sum_c = 3, sum_w = 4;
      vpx_get16x16var_c(src_buf, ss, ref_buf + 1, rs, &sse_c, &sum_c);
      vpx_get16x16var_wasm(src_buf, ss, ref_buf + 1, rs, &sse_w, &sum_w);
      bad = sse_c != sse_w || sum_c != sum_w;
    }
    report("vpx_get16x16var", bad, RUNS);
  }
  for (size_t f = 0; f < sizeof(subs) / sizeof(subs[0]); ++f) {
    int bad = 0;
    for (int r = 0; r < RUNS && !bad; ++r) {
      const int ss = range(67, S), rs = range(64, S), xo = r % 8, yo = (r / 8) % 8;
      fill(src_buf, BUF, ss, r % 4);
      fill(ref_buf, BUF, rs, (r / 3) % 4);
      uint32_t sse_c = 1, sse_w = 2;
      const uint32_t vc = subs[f].c(src_buf + 2, ss, xo, yo, ref_buf, rs, &sse_c);
      const uint32_t vw = subs[f].w(src_buf + 2, ss, xo, yo, ref_buf, rs, &sse_w);
      bad = vc != vw || sse_c != sse_w;
    }
    report(subs[f].name, bad, RUNS);
  }
  {
    int bad = 0;
    int16_t dc[S * 32], dw[S * 32];
    for (int r = 0; r < RUNS && !bad; ++r) {
      const int rows = 4 << range(0, 3), cols = 4 << range(0, 3);
      const int ss = range(cols, S), ps = range(cols, S);
      fill(src_buf, BUF, ss, r % 4);
      fill(ref_buf, BUF, ps, (r / 4) % 4);
      memset(dc, 0x55, sizeof(dc));
      memset(dw, 0x55, sizeof(dw));
      vpx_subtract_block_c(rows, cols, dc, S, src_buf, ss, ref_buf, ps);
      vpx_subtract_block_wasm(rows, cols, dw, S, src_buf, ss, ref_buf, ps);
      bad = memcmp(dc, dw, sizeof(dc)) != 0;
    }
    report("vpx_subtract_block", bad, RUNS);
  }
}

static void check_dct_quantize(void) {
  for (int wide = 0; wide < 2; ++wide) {
    int bad = 0;
    short in[4 * 16], oc[32], ow[32];
    for (int r = 0; r < RUNS && !bad; ++r) {
      const int kind = r % 3;
      for (int i = 0; i < 4 * 16; ++i) in[i] = (short)(kind == 0 ? range(-255, 255) : kind == 1 ? ((next() & 1) ? 255 : -255) : range(-8, 8));
      memset(oc, 0, sizeof(oc));
      memset(ow, 0, sizeof(ow));
      if (wide) {
        vp8_short_fdct8x4_c(in, oc, 32);
        vp8_short_fdct8x4_wasm(in, ow, 32);
      } else {
        vp8_short_fdct4x4_c(in + 4, oc, 32);
        vp8_short_fdct4x4_wasm(in + 4, ow, 32);
      }
      bad = memcmp(oc, ow, sizeof(oc)) != 0;
    }
    report(wide ? "vp8_short_fdct8x4" : "vp8_short_fdct4x4", bad, RUNS);
  }

  int bad = 0;
  DECLARE_ALIGNED(16, short, coeff[16]);
  DECLARE_ALIGNED(16, short, round[16]);
  DECLARE_ALIGNED(16, short, quant[16]);
  DECLARE_ALIGNED(16, short, dequant[16]);
  DECLARE_ALIGNED(16, short, qc[16]);
  DECLARE_ALIGNED(16, short, dqc[16]);
  DECLARE_ALIGNED(16, short, qw[16]);
  DECLARE_ALIGNED(16, short, dqw[16]);
  char eob_c, eob_w;
  BLOCK b;
  BLOCKD d;
  memset(&b, 0, sizeof(b));
  memset(&d, 0, sizeof(d));
  b.coeff = coeff;
  b.round = round;
  b.quant_fast = quant;
  d.dequant = dequant;
  for (int r = 0; r < RUNS * 4 && !bad; ++r) {
    const int q = range(4, 320), sparse = r % 4;
    for (int i = 0; i < 16; ++i) {
      coeff[i] = (short)(sparse == 0 ? range(-32768, 32767) : sparse == 1 ? range(-2048, 2047)
                         : (next() % 5 == 0) ? range(-300, 300) : 0);
      dequant[i] = (short)q;
      quant[i] = (short)((1 << 16) / q);
      round[i] = (short)((q * range(40, 100)) >> 7);
    }
    if (r % 7 == 0) coeff[range(0, 15)] = -32768;
    d.qcoeff = qc; d.dqcoeff = dqc; d.eob = &eob_c;
    vp8_fast_quantize_b_c(&b, &d);
    d.qcoeff = qw; d.dqcoeff = dqw; d.eob = &eob_w;
    vp8_fast_quantize_b_wasm(&b, &d);
    bad = memcmp(qc, qw, sizeof(qc)) != 0 || memcmp(dqc, dqw, sizeof(dqc)) != 0 || eob_c != eob_w;
  }
  report("vp8_fast_quantize_b", bad, RUNS * 4);

  bad = 0;
  for (int r = 0; r < RUNS && !bad; ++r) {
    const int ps = range(4, S), ds = range(4, S);
    const short dc = (short)(r % 5 == 0 ? range(-32768, 32767) : range(-600, 600));
    fill(src_buf, BUF, ps, r % 4);
    fill(a_buf, BUF, ds, 0);
    memcpy(b_buf, a_buf, BUF);
    vp8_dc_only_idct_add_c(dc, src_buf, ps, a_buf, ds);
    vp8_dc_only_idct_add_wasm(dc, src_buf, ps, b_buf, ds);
    bad = memcmp(a_buf, b_buf, BUF) != 0;
  }
  report("vp8_dc_only_idct_add", bad, RUNS);

  /* The block loops: 16 (Y) or 8 (U + V) blocks, each DC-only or not by its end-of-block. */
  for (int uv = 0; uv < 2; ++uv) {
    DECLARE_ALIGNED(16, short, qc[25 * 16]);
    DECLARE_ALIGNED(16, short, qw[25 * 16]);
    DECLARE_ALIGNED(16, short, dq[16]);
    char eobs[25];
    bad = 0;
    for (int r = 0; r < RUNS && !bad; ++r) {
      const int ds = range(24, S);
      for (int i = 0; i < 16; ++i) dq[i] = (short)range(4, 160);
      for (int i = 0; i < 25 * 16; ++i) qc[i] = (short)(next() % 3 == 0 ? range(-60, 60) : 0);
      for (int i = 0; i < 25; ++i) eobs[i] = (char)(next() % 2 ? 1 : range(0, 16));
      memcpy(qw, qc, sizeof(qc));
      fill(a_buf, BUF, ds, r % 4);
      memcpy(b_buf, a_buf, BUF);
      if (uv) {
        vp8_dequant_idct_add_uv_block_c(qc, dq, a_buf + 8, a_buf + 16 * ds, ds, eobs);
        vp8_dequant_idct_add_uv_block_wasm(qw, dq, b_buf + 8, b_buf + 16 * ds, ds, eobs);
      } else {
        vp8_dequant_idct_add_y_block_c(qc, dq, a_buf + 8, ds, eobs);
        vp8_dequant_idct_add_y_block_wasm(qw, dq, b_buf + 8, ds, eobs);
      }
      bad = memcmp(a_buf, b_buf, BUF) != 0 || memcmp(qc, qw, sizeof(qc)) != 0;
    }
    report(uv ? "vp8_dequant_idct_add_uv_block" : "vp8_dequant_idct_add_y_block", bad, RUNS);
  }

  bad = 0;
  for (int r = 0; r < 200 && !bad; ++r) {
    const int ss = range(16, S), ds = range(16, S);
    fill(src_buf, BUF, ss, 0);
    fill(a_buf, BUF, ds, 0);
    memcpy(b_buf, a_buf, BUF);
    vp8_copy_mem16x16_c(src_buf + 1, ss, a_buf + 2, ds);
    vp8_copy_mem16x16_wasm(src_buf + 1, ss, b_buf + 2, ds);
    bad = memcmp(a_buf, b_buf, BUF) != 0;
  }
  report("vp8_copy_mem16x16", bad, 200);
}

static void check_sixtap(void) {
  typedef void (*Pred)(unsigned char *, int, int, int, unsigned char *, int);
  struct { const char *name; Pred c, w; } preds[] = {
    { "vp8_sixtap_predict16x16", vp8_sixtap_predict16x16_c, vp8_sixtap_predict16x16_wasm },
    { "vp8_sixtap_predict8x8", vp8_sixtap_predict8x8_c, vp8_sixtap_predict8x8_wasm },
    { "vp8_sixtap_predict8x4", vp8_sixtap_predict8x4_c, vp8_sixtap_predict8x4_wasm },
  };
  for (size_t f = 0; f < sizeof(preds) / sizeof(preds[0]); ++f) {
    int bad = 0;
    for (int r = 0; r < RUNS && !bad; ++r) {
      const int ss = range(24, S), ds = range(16, S), xo = r % 8, yo = (r / 8) % 8;
      fill(src_buf, BUF, ss, r % 4);
      fill(a_buf, BUF, ds, 0);
      memcpy(b_buf, a_buf, BUF);
      unsigned char *s = src_buf + 3 * ss + 3;
      preds[f].c(s, ss, xo, yo, a_buf + 1, ds);
      preds[f].w(s, ss, xo, yo, b_buf + 1, ds);
      bad = memcmp(a_buf, b_buf, BUF) != 0;
    }
    report(preds[f].name, bad, RUNS);
  }
}

static void check_loopfilter(void) {
  typedef void (*Lf)(unsigned char *, unsigned char *, unsigned char *, int, int, loop_filter_info *);
  struct { const char *name; Lf c, w; } lfs[] = {
    { "vp8_loop_filter_mbh", vp8_loop_filter_mbh_c, vp8_loop_filter_mbh_wasm },
    { "vp8_loop_filter_mbv", vp8_loop_filter_mbv_c, vp8_loop_filter_mbv_wasm },
    { "vp8_loop_filter_bh", vp8_loop_filter_bh_c, vp8_loop_filter_bh_wasm },
    { "vp8_loop_filter_bv", vp8_loop_filter_bv_c, vp8_loop_filter_bv_wasm },
  };
  static uint8_t y0[BUF], ya[BUF], yb[BUF], ua[BUF], ub[BUF], va[BUF], vb[BUF];
  for (size_t f = 0; f < sizeof(lfs) / sizeof(lfs[0]); ++f) {
    int bad = 0, filtered = 0;
    for (int r = 0; r < RUNS && !bad; ++r) {
      int level;
      const int lim = interior_limit(&level);
      unsigned char mblim = (unsigned char)((level + 2) * 2 + lim), blim = (unsigned char)(level * 2 + lim);
      unsigned char limv = (unsigned char)lim, hev = (unsigned char)range(0, 3);
      loop_filter_info lfi = { &mblim, &blim, &limv, &hev };
      const int ys = range(24, S), uvs = range(16, S);
      fill(ya, BUF, ys, r % 4 == 0 ? 0 : 1);
      fill(ua, BUF, uvs, r % 4 == 0 ? 2 : 1);
      fill(va, BUF, uvs, 1);
      memcpy(yb, ya, BUF); memcpy(ub, ua, BUF); memcpy(vb, va, BUF);
      memcpy(y0, ya, BUF);
      const int planes = r % 5; /* 0..2: Y+U+V, 3: Y+U only, 4: Y+V only */
      unsigned char *uc = planes == 4 ? 0 : ua + 8 * uvs + 8, *uw = planes == 4 ? 0 : ub + 8 * uvs + 8;
      unsigned char *vc = planes == 3 ? 0 : va + 8 * uvs + 8, *vw = planes == 3 ? 0 : vb + 8 * uvs + 8;
      lfs[f].c(ya + 8 * ys + 8, uc, vc, ys, uvs, &lfi);
      lfs[f].w(yb + 8 * ys + 8, uw, vw, ys, uvs, &lfi);
      bad = memcmp(ya, yb, BUF) != 0 || memcmp(ua, ub, BUF) != 0 || memcmp(va, vb, BUF) != 0;
      filtered += memcmp(ya, y0, BUF) != 0;
    }
    report(lfs[f].name, filtered_enough(lfs[f].name, bad, filtered), RUNS);
  }
}

static void check_vp9(void) {
  typedef void (*Conv)(const uint8_t *, ptrdiff_t, uint8_t *, ptrdiff_t, const InterpKernel *, int, int, int, int, int, int);
  struct { const char *name; Conv c, w; } convs[] = {
    { "vpx_convolve8", vpx_convolve8_c, vpx_convolve8_wasm },
    { "vpx_convolve8_horiz", vpx_convolve8_horiz_c, vpx_convolve8_horiz_wasm },
    { "vpx_convolve8_vert", vpx_convolve8_vert_c, vpx_convolve8_vert_wasm },
  };
  for (size_t f = 0; f < sizeof(convs) / sizeof(convs[0]); ++f) {
    int bad = 0;
    for (int r = 0; r < RUNS && !bad; ++r) {
      const int w = 4 << range(0, 4), h = 4 << range(0, 4), ss = range(w + 8, S), ds = range(w, S);
      const int x0 = range(0, 15), y0 = range(0, 15);
      const int step = r % 10 == 9 ? 32 : 16; /* scaled: the C fallback */
      const InterpKernel *kernel = vp9_filter_kernels[r % 5];
      fill(src_buf, BUF, ss, r % 4);
      fill(a_buf, BUF, ds, 0);
      memcpy(b_buf, a_buf, BUF);
      const uint8_t *s = src_buf + 8 * ss + 8;
      convs[f].c(s, ss, a_buf + 3, ds, kernel, x0, step, y0, step, w, step == 32 && h > 32 ? 32 : h);
      convs[f].w(s, ss, b_buf + 3, ds, kernel, x0, step, y0, step, w, step == 32 && h > 32 ? 32 : h);
      bad = memcmp(a_buf, b_buf, BUF) != 0;
    }
    report(convs[f].name, bad, RUNS);
  }

  {
    int bad8 = 0;
    DECLARE_ALIGNED(16, int16_t, in[16 * 8]);
    DECLARE_ALIGNED(16, int16_t, oc[64]);
    DECLARE_ALIGNED(16, int16_t, ow[64]);
    for (int r = 0; r < RUNS && !bad8; ++r) {
      const int kind = r % 4, stride = (r & 4) ? 16 : 8;
      for (int i = 0; i < 16 * 8; ++i) {
        in[i] = (int16_t)(kind == 0 ? range(-255, 255) : kind == 1 ? ((next() & 1) ? 255 : -255)
                          : kind == 2 ? range(-3, 3) : range(-4095, 4095));
      }
      vpx_fdct8x8_c(in, oc, stride);
      vpx_fdct8x8_wasm(in, ow, stride);
      bad8 = memcmp(oc, ow, sizeof(oc)) != 0;
    }
    report("vpx_fdct8x8", bad8, RUNS);
  }

  int bad = 0;
  DECLARE_ALIGNED(16, int16_t, coeff[1024]);
  DECLARE_ALIGNED(16, int16_t, qc[1024]);
  DECLARE_ALIGNED(16, int16_t, dqc[1024]);
  DECLARE_ALIGNED(16, int16_t, qw[1024]);
  DECLARE_ALIGNED(16, int16_t, dqw[1024]);
  for (int r = 0; r < RUNS && !bad; ++r) {
    const int tx = r % 4, n = 16 << (2 * tx), q = range(4, 1800), kind = (r / 4) % 3;
    const ScanOrder *so = &vp9_default_scan_orders[tx];
    for (int i = 0; i < n; ++i) {
      coeff[i] = (int16_t)(kind == 0 ? range(-32768, 32767) : kind == 1 ? range(-4000, 4000)
                           : (next() % 9 == 0) ? range(-200, 200) : 0);
    }
    const int16_t round[2] = { (int16_t)((q * 48) >> 7), (int16_t)((q * 42) >> 7) };
    const int16_t quant[2] = { (int16_t)((1 << 16) / (q > 4 ? q : 4)), (int16_t)((1 << 16) / (q + 3)) };
    const int16_t dequant[2] = { (int16_t)q, (int16_t)(q + 3) };
    uint16_t eob_c = 7, eob_w = 9;
    vp9_quantize_fp_c(coeff, n, round, quant, qc, dqc, dequant, &eob_c, so->scan, so->iscan);
    vp9_quantize_fp_wasm(coeff, n, round, quant, qw, dqw, dequant, &eob_w, so->scan, so->iscan);
    bad = memcmp(qc, qw, n * 2) != 0 || memcmp(dqc, dqw, n * 2) != 0 || eob_c != eob_w;
  }
  report("vp9_quantize_fp", bad, RUNS);

  /* One set of limits: the 8-wide edge filter, and the 16-wide one, whose 15-tap path (it alone changes
   * the pixels 4 to 7 away from the edge) must also have run in a tenth of the runs. */
  typedef void (*Lpf)(uint8_t *, int, const uint8_t *, const uint8_t *, const uint8_t *);
  struct { const char *name; Lpf c, w; int wide, vertical, length; } lpfs[] = {
    { "vpx_lpf_horizontal_8", vpx_lpf_horizontal_8_c, vpx_lpf_horizontal_8_wasm, 0, 0, 8 },
    { "vpx_lpf_vertical_8", vpx_lpf_vertical_8_c, vpx_lpf_vertical_8_wasm, 0, 1, 8 },
    { "vpx_lpf_horizontal_16", vpx_lpf_horizontal_16_c, vpx_lpf_horizontal_16_wasm, 1, 0, 8 },
    { "vpx_lpf_horizontal_16_dual", vpx_lpf_horizontal_16_dual_c, vpx_lpf_horizontal_16_dual_wasm, 1, 0, 16 },
    { "vpx_lpf_vertical_16", vpx_lpf_vertical_16_c, vpx_lpf_vertical_16_wasm, 1, 1, 8 },
    { "vpx_lpf_vertical_16_dual", vpx_lpf_vertical_16_dual_c, vpx_lpf_vertical_16_dual_wasm, 1, 1, 16 },
  };
  static uint8_t y0[BUF], ya[BUF], yb[BUF];
  typedef void (*LpfDual)(uint8_t *, int, const uint8_t *, const uint8_t *, const uint8_t *,
                          const uint8_t *, const uint8_t *, const uint8_t *);
  struct { const char *name; LpfDual c, w; } duals[] = {
    { "vpx_lpf_horizontal_8_dual", vpx_lpf_horizontal_8_dual_c, vpx_lpf_horizontal_8_dual_wasm },
    { "vpx_lpf_vertical_8_dual", vpx_lpf_vertical_8_dual_c, vpx_lpf_vertical_8_dual_wasm },
  };
  for (size_t f = 0; f < sizeof(duals) / sizeof(duals[0]); ++f) {
    int filtered = 0;
    bad = 0;
    for (int r = 0; r < RUNS && !bad; ++r) {
      uint8_t lim[2], mblim[2], hev[2];
      for (int k = 0; k < 2; ++k) {
        const int level = range(0, 63);
        lim[k] = (uint8_t)range(1, 9);
        mblim[k] = (uint8_t)(2 * (level + 2) + lim[k]);
        hev[k] = (uint8_t)(level >> 4);
      }
      const int ys = range(32, S);
      fill(ya, BUF, ys, r % 4 == 0 ? 0 : r % 4 == 1 ? 4 : 1);
      memcpy(yb, ya, BUF);
      memcpy(y0, ya, BUF);
      duals[f].c(ya + 8 * ys + 8, ys, &mblim[0], &lim[0], &hev[0], &mblim[1], &lim[1], &hev[1]);
      duals[f].w(yb + 8 * ys + 8, ys, &mblim[0], &lim[0], &hev[0], &mblim[1], &lim[1], &hev[1]);
      bad = memcmp(ya, yb, BUF) != 0;
      filtered += memcmp(ya, y0, BUF) != 0;
    }
    report(duals[f].name, filtered_enough(duals[f].name, bad, filtered), RUNS);
  }
  for (size_t f = 0; f < sizeof(lpfs) / sizeof(lpfs[0]); ++f) {
    int filtered = 0, wide = 0;
    bad = 0;
    for (int r = 0; r < RUNS && !bad; ++r) {
      int level;
      const int lim = interior_limit(&level);
      const uint8_t mblim = (uint8_t)(2 * (level + 2) + lim), limv = (uint8_t)lim, hev = (uint8_t)(level >> 4);
      const int ys = range(24, S);
      fill(ya, BUF, ys, r % 4 == 0 ? 0 : r % 4 == 1 ? 4 : 1);
      memcpy(yb, ya, BUF);
      memcpy(y0, ya, BUF);
      const int edge = 8 * ys + 8;
      lpfs[f].c(ya + edge, ys, &mblim, &limv, &hev);
      lpfs[f].w(yb + edge, ys, &mblim, &limv, &hev);
      bad = memcmp(ya, yb, BUF) != 0;
      filtered += memcmp(ya, y0, BUF) != 0;
      int far = 0;
      for (int along = 0; lpfs[f].wide && along < lpfs[f].length && !far; ++along) {
        for (int d = 3; d < 7 && !far; ++d) { /* p3..p6 (d + 1 before the edge) and q3..q6 (d after it) */
          const int step = lpfs[f].vertical ? 1 : ys, line = lpfs[f].vertical ? along * ys : along;
          far = ya[edge + line - (d + 1) * step] != y0[edge + line - (d + 1) * step] ||
                ya[edge + line + d * step] != y0[edge + line + d * step];
        }
      }
      wide += far;
    }
    if (!bad && lpfs[f].wide && wide < RUNS / 10) {
      printf("FAIL %s: the 15-tap filter ran in only %d of %d runs\n", lpfs[f].name, wide, RUNS);
      bad = 1;
    }
    report(lpfs[f].name, filtered_enough(lpfs[f].name, bad, filtered), RUNS);
  }

  /* Hadamard: residuals of 9 bits (what the encoder gives), extremes, and any int16 (C wraps). */
  DECLARE_ALIGNED(16, int16_t, diff[32 * 16]);
  DECLARE_ALIGNED(16, int16_t, hc[256]);
  DECLARE_ALIGNED(16, int16_t, hw[256]);
  for (int size = 8; size <= 16; size += 8) {
    bad = 0;
    for (int r = 0; r < RUNS && !bad; ++r) {
      const int kind = r % 4, stride = size + 8 * range(0, 2);
      for (int i = 0; i < 32 * 16; ++i) {
        diff[i] = (int16_t)(kind == 0 ? range(-255, 255) : kind == 1 ? ((next() & 1) ? 255 : -255)
                            : kind == 2 ? range(-3, 3) : range(-32768, 32767));
      }
      memset(hw, 0x5a, sizeof(hw));
      if (size == 8) {
        vpx_hadamard_8x8_c(diff, stride, hc);
        vpx_hadamard_8x8_wasm(diff, stride, hw);
      } else {
        vpx_hadamard_16x16_c(diff, stride, hc);
        vpx_hadamard_16x16_wasm(diff, stride, hw);
      }
      bad = memcmp(hc, hw, size * size * sizeof(int16_t)) != 0;
    }
    report(size == 8 ? "vpx_hadamard_8x8" : "vpx_hadamard_16x16", bad, RUNS);
  }
}

int main(void) {
  check_sad_variance();
  check_dct_quantize();
  check_sixtap();
  check_loopfilter();
  check_vp9();
  printf("%s: %d failing\n", failures ? "FAIL" : "ok", failures);
  return failures ? 1 : 0;
}
