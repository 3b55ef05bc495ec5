/*
 * capturekit: libvpx DSP functions in wasm SIMD128, routed in through libvpx's own RTCD tables.
 *
 * libvpx picks each DSP function through generated headers (vp8_rtcd.h, vpx_dsp_rtcd.h): for the
 * generic-gnu target we build for wasm they all map to the plain C versions (`#define vpx_sad16x16
 * vpx_sad16x16_c`). scripts/build-libvpx.sh appends `#include "vpx_simd_rtcd.h"` to those generated
 * headers in the SIMD variant only, and this header re-points the functions that dominate a VP8
 * realtime encode (measured with perf on a C-only build: SAD, variance, sub-pixel variance, six-tap
 * prediction, forward DCT, quantizer, loop filters) to the *_wasm versions in this folder.
 *
 * Every *_wasm function computes exactly what its *_c twin computes (tests/wasm/vpx_simd_check.c
 * compares them on random and extreme inputs, and the encoders' output is byte-identical between the
 * baseline and SIMD builds), so the SIMD build writes the same bitstream, only faster.
 */
#ifndef CK_VPX_SIMD_RTCD_H_
#define CK_VPX_SIMD_RTCD_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct block;
struct blockd;
struct loop_filter_info;

/* ---- vpx_dsp: sum of absolute differences, variance, MSE, sub-pixel variance, subtraction ---- */
#define CK_SAD(w, h) unsigned int vpx_sad##w##x##h##_wasm(const uint8_t *src_ptr, int src_stride, \
                                                         const uint8_t *ref_ptr, int ref_stride);
#define CK_VAR(w, h)                                                                              \
  unsigned int vpx_variance##w##x##h##_wasm(const uint8_t *src_ptr, int src_stride,               \
                                            const uint8_t *ref_ptr, int ref_stride,               \
                                            unsigned int *sse);                                   \
  uint32_t vpx_sub_pixel_variance##w##x##h##_wasm(const uint8_t *src_ptr, int src_stride,         \
                                                  int x_offset, int y_offset,                     \
                                                  const uint8_t *ref_ptr, int ref_stride,         \
                                                  uint32_t *sse);
CK_SAD(16, 16) CK_SAD(16, 8) CK_SAD(8, 16) CK_SAD(8, 8)
CK_VAR(16, 16) CK_VAR(16, 8) CK_VAR(8, 16) CK_VAR(8, 8)
#undef CK_SAD
#undef CK_VAR
unsigned int vpx_mse16x16_wasm(const uint8_t *src_ptr, int src_stride, const uint8_t *ref_ptr,
                               int ref_stride, unsigned int *sse);
void vpx_get16x16var_wasm(const uint8_t *src_ptr, int src_stride, const uint8_t *ref_ptr,
                          int ref_stride, unsigned int *sse, int *sum);
void vpx_subtract_block_wasm(int rows, int cols, int16_t *diff_ptr, ptrdiff_t diff_stride,
                             const uint8_t *src_ptr, ptrdiff_t src_stride, const uint8_t *pred_ptr,
                             ptrdiff_t pred_stride);

/* ---- VP8: forward DCT, quantizer, DC-only inverse DCT, prediction, loop filter ---- */
void vp8_short_fdct4x4_wasm(short *input, short *output, int pitch);
void vp8_short_fdct8x4_wasm(short *input, short *output, int pitch);
void vp8_fast_quantize_b_wasm(struct block *b, struct blockd *d);
void vp8_dc_only_idct_add_wasm(short input_dc, unsigned char *pred_ptr, int pred_stride,
                               unsigned char *dst_ptr, int dst_stride);
void vp8_copy_mem16x16_wasm(unsigned char *src, int src_stride, unsigned char *dst, int dst_stride);
void vp8_sixtap_predict16x16_wasm(unsigned char *src_ptr, int src_pixels_per_line, int xoffset,
                                  int yoffset, unsigned char *dst_ptr, int dst_pitch);
void vp8_sixtap_predict8x8_wasm(unsigned char *src_ptr, int src_pixels_per_line, int xoffset,
                                int yoffset, unsigned char *dst_ptr, int dst_pitch);
void vp8_sixtap_predict8x4_wasm(unsigned char *src_ptr, int src_pixels_per_line, int xoffset,
                                int yoffset, unsigned char *dst_ptr, int dst_pitch);
#define CK_LF(name)                                                                    \
  void vp8_loop_filter_##name##_wasm(unsigned char *y_ptr, unsigned char *u_ptr,        \
                                      unsigned char *v_ptr, int y_stride, int uv_stride, \
                                      struct loop_filter_info *lfi);
CK_LF(mbh) CK_LF(mbv) CK_LF(bh) CK_LF(bv)
#undef CK_LF

#ifdef __cplusplus
}  // extern "C"
#endif

#endif  // CK_VPX_SIMD_RTCD_H_

/* The routing, outside the include guard: it must win over each generated header's #defines, and
 * both vp8_rtcd.h and vpx_dsp_rtcd.h include this file. Only names their header declared are
 * re-pointed, so each header re-points its own functions. */
#if defined(VPX_DSP_RTCD_H_) && !defined(CK_VPX_SIMD_DSP_ROUTED)
#define CK_VPX_SIMD_DSP_ROUTED
#undef vpx_sad16x16
#define vpx_sad16x16 vpx_sad16x16_wasm
#undef vpx_sad16x8
#define vpx_sad16x8 vpx_sad16x8_wasm
#undef vpx_sad8x16
#define vpx_sad8x16 vpx_sad8x16_wasm
#undef vpx_sad8x8
#define vpx_sad8x8 vpx_sad8x8_wasm
#undef vpx_variance16x16
#define vpx_variance16x16 vpx_variance16x16_wasm
#undef vpx_variance16x8
#define vpx_variance16x8 vpx_variance16x8_wasm
#undef vpx_variance8x16
#define vpx_variance8x16 vpx_variance8x16_wasm
#undef vpx_variance8x8
#define vpx_variance8x8 vpx_variance8x8_wasm
#undef vpx_sub_pixel_variance16x16
#define vpx_sub_pixel_variance16x16 vpx_sub_pixel_variance16x16_wasm
#undef vpx_sub_pixel_variance16x8
#define vpx_sub_pixel_variance16x8 vpx_sub_pixel_variance16x8_wasm
#undef vpx_sub_pixel_variance8x16
#define vpx_sub_pixel_variance8x16 vpx_sub_pixel_variance8x16_wasm
#undef vpx_sub_pixel_variance8x8
#define vpx_sub_pixel_variance8x8 vpx_sub_pixel_variance8x8_wasm
#undef vpx_mse16x16
#define vpx_mse16x16 vpx_mse16x16_wasm
#undef vpx_get16x16var
#define vpx_get16x16var vpx_get16x16var_wasm
#undef vpx_subtract_block
#define vpx_subtract_block vpx_subtract_block_wasm
#endif

#if defined(VP8_RTCD_H_) && !defined(CK_VPX_SIMD_VP8_ROUTED)
#define CK_VPX_SIMD_VP8_ROUTED
#undef vp8_short_fdct4x4
#define vp8_short_fdct4x4 vp8_short_fdct4x4_wasm
#undef vp8_short_fdct8x4
#define vp8_short_fdct8x4 vp8_short_fdct8x4_wasm
#undef vp8_fast_quantize_b
#define vp8_fast_quantize_b vp8_fast_quantize_b_wasm
#undef vp8_dc_only_idct_add
#define vp8_dc_only_idct_add vp8_dc_only_idct_add_wasm
#undef vp8_copy_mem16x16
#define vp8_copy_mem16x16 vp8_copy_mem16x16_wasm
#undef vp8_sixtap_predict16x16
#define vp8_sixtap_predict16x16 vp8_sixtap_predict16x16_wasm
#undef vp8_sixtap_predict8x8
#define vp8_sixtap_predict8x8 vp8_sixtap_predict8x8_wasm
#undef vp8_sixtap_predict8x4
#define vp8_sixtap_predict8x4 vp8_sixtap_predict8x4_wasm
#undef vp8_loop_filter_mbh
#define vp8_loop_filter_mbh vp8_loop_filter_mbh_wasm
#undef vp8_loop_filter_mbv
#define vp8_loop_filter_mbv vp8_loop_filter_mbv_wasm
#undef vp8_loop_filter_bh
#define vp8_loop_filter_bh vp8_loop_filter_bh_wasm
#undef vp8_loop_filter_bv
#define vp8_loop_filter_bv vp8_loop_filter_bv_wasm
#endif
