/*
 * capturekit: libvpx DSP functions in wasm SIMD128, routed in through libvpx's own RTCD tables.
 *
 * libvpx picks each DSP function through generated headers (vp8_rtcd.h, vp9_rtcd.h, vpx_dsp_rtcd.h): for the
 * generic-gnu target we build for wasm they all map to the plain C versions (`#define vpx_sad16x16
 * vpx_sad16x16_c`). scripts/build-libvpx.sh appends `#include "vpx_simd_rtcd.h"` to those generated
 * headers in the SIMD variant only, and this header re-points the functions that dominate a VP8
 * realtime encode and of a VP9 one (measured with perf on a C-only build: SAD, variance, sub-pixel
 * variance, six-tap and 8-tap prediction, forward DCT, Hadamard, quantizers, loop filters) to the *_wasm
 * versions in this folder.
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
#define CK_VARIANCE(w, h)                                                                         \
  unsigned int vpx_variance##w##x##h##_wasm(const uint8_t *src_ptr, int src_stride,               \
                                            const uint8_t *ref_ptr, int ref_stride,               \
                                            unsigned int *sse);
#define CK_SUBPIX(w, h)                                                                           \
  uint32_t vpx_sub_pixel_variance##w##x##h##_wasm(const uint8_t *src_ptr, int src_stride,         \
                                                  int x_offset, int y_offset,                     \
                                                  const uint8_t *ref_ptr, int ref_stride,         \
                                                  uint32_t *sse);
#define CK_BLOCK_SIZES(X) X(64, 64) X(64, 32) X(32, 64) X(32, 32) X(32, 16) X(16, 32) \
  X(16, 16) X(16, 8) X(8, 16) X(8, 8)
CK_BLOCK_SIZES(CK_SAD)
CK_BLOCK_SIZES(CK_VARIANCE)
CK_BLOCK_SIZES(CK_SUBPIX)
#undef CK_SAD
#undef CK_VARIANCE
#undef CK_SUBPIX
unsigned int vpx_mse16x16_wasm(const uint8_t *src_ptr, int src_stride, const uint8_t *ref_ptr,
                               int ref_stride, unsigned int *sse);
void vpx_get16x16var_wasm(const uint8_t *src_ptr, int src_stride, const uint8_t *ref_ptr,
                          int ref_stride, unsigned int *sse, int *sum);
void vpx_subtract_block_wasm(int rows, int cols, int16_t *diff_ptr, ptrdiff_t diff_stride,
                             const uint8_t *src_ptr, ptrdiff_t src_stride, const uint8_t *pred_ptr,
                             ptrdiff_t pred_stride);

/* ---- vpx_dsp (VP9): 8-tap convolution, the 8- and 16-wide loop filters, Hadamard transforms ---- */
typedef int16_t CkInterpKernel[8]; /* libvpx's InterpKernel */
#define CK_CONVOLVE(name)                                                                      \
  void vpx_##name##_wasm(const uint8_t *src, ptrdiff_t src_stride, uint8_t *dst,              \
                         ptrdiff_t dst_stride, const CkInterpKernel *filter, int x0_q4,        \
                         int x_step_q4, int y0_q4, int y_step_q4, int w, int h);
CK_CONVOLVE(convolve8) CK_CONVOLVE(convolve8_horiz) CK_CONVOLVE(convolve8_vert)
#undef CK_CONVOLVE
void vpx_lpf_horizontal_8_wasm(uint8_t *s, int pitch, const uint8_t *blimit, const uint8_t *limit,
                               const uint8_t *thresh);
void vpx_lpf_vertical_8_wasm(uint8_t *s, int pitch, const uint8_t *blimit, const uint8_t *limit,
                             const uint8_t *thresh);
#define CK_LPF_DUAL(name)                                                                        \
  void vpx_lpf_##name##_8_dual_wasm(uint8_t *s, int pitch, const uint8_t *blimit0,               \
                                    const uint8_t *limit0, const uint8_t *thresh0,               \
                                    const uint8_t *blimit1, const uint8_t *limit1,               \
                                    const uint8_t *thresh1);
CK_LPF_DUAL(horizontal) CK_LPF_DUAL(vertical)
#undef CK_LPF_DUAL
/* The 16-pixel (wide) edge filter: one set of limits, 8 pixels (or rows) or 16 for _dual. */
#define CK_LPF16(name)                                                                           \
  void vpx_lpf_##name##_wasm(uint8_t *s, int pitch, const uint8_t *blimit, const uint8_t *limit, \
                             const uint8_t *thresh);
CK_LPF16(horizontal_16) CK_LPF16(horizontal_16_dual) CK_LPF16(vertical_16) CK_LPF16(vertical_16_dual)
#undef CK_LPF16
void vpx_hadamard_8x8_wasm(const int16_t *src_diff, ptrdiff_t src_stride, int16_t *coeff);
void vpx_hadamard_16x16_wasm(const int16_t *src_diff, ptrdiff_t src_stride, int16_t *coeff);

void vpx_fdct8x8_wasm(const int16_t *input, int16_t *output, int stride);

/* ---- VP9: the realtime quantizer ---- */
void vp9_quantize_fp_wasm(const int16_t *coeff_ptr, intptr_t n_coeffs, const int16_t *round_ptr,
                          const int16_t *quant_ptr, int16_t *qcoeff_ptr, int16_t *dqcoeff_ptr,
                          const int16_t *dequant_ptr, uint16_t *eob_ptr, const int16_t *scan,
                          const int16_t *iscan);

/* ---- VP8: forward DCT, quantizer, DC-only inverse DCT, prediction, loop filter ---- */
void vp8_short_fdct4x4_wasm(short *input, short *output, int pitch);
void vp8_short_fdct8x4_wasm(short *input, short *output, int pitch);
void vp8_fast_quantize_b_wasm(struct block *b, struct blockd *d);
void vp8_dc_only_idct_add_wasm(short input_dc, unsigned char *pred_ptr, int pred_stride,
                               unsigned char *dst_ptr, int dst_stride);
void vp8_dequant_idct_add_y_block_wasm(short *q, short *dq, unsigned char *dst, int stride, char *eobs);
void vp8_dequant_idct_add_uv_block_wasm(short *q, short *dq, unsigned char *dst_u, unsigned char *dst_v,
                                        int stride, char *eobs);
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
 * vp8_rtcd.h, vp9_rtcd.h and vpx_dsp_rtcd.h all include this file. Only names their header declared are
 * re-pointed, so each header re-points its own functions. */
#if defined(VPX_DSP_RTCD_H_) && !defined(CK_VPX_SIMD_DSP_ROUTED)
#define CK_VPX_SIMD_DSP_ROUTED
#undef vpx_sad64x64
#define vpx_sad64x64 vpx_sad64x64_wasm
#undef vpx_sad64x32
#define vpx_sad64x32 vpx_sad64x32_wasm
#undef vpx_sad32x64
#define vpx_sad32x64 vpx_sad32x64_wasm
#undef vpx_sad32x32
#define vpx_sad32x32 vpx_sad32x32_wasm
#undef vpx_sad32x16
#define vpx_sad32x16 vpx_sad32x16_wasm
#undef vpx_sad16x32
#define vpx_sad16x32 vpx_sad16x32_wasm
#undef vpx_sad16x16
#define vpx_sad16x16 vpx_sad16x16_wasm
#undef vpx_sad16x8
#define vpx_sad16x8 vpx_sad16x8_wasm
#undef vpx_sad8x16
#define vpx_sad8x16 vpx_sad8x16_wasm
#undef vpx_sad8x8
#define vpx_sad8x8 vpx_sad8x8_wasm
#undef vpx_variance64x64
#define vpx_variance64x64 vpx_variance64x64_wasm
#undef vpx_variance64x32
#define vpx_variance64x32 vpx_variance64x32_wasm
#undef vpx_variance32x64
#define vpx_variance32x64 vpx_variance32x64_wasm
#undef vpx_variance32x32
#define vpx_variance32x32 vpx_variance32x32_wasm
#undef vpx_variance32x16
#define vpx_variance32x16 vpx_variance32x16_wasm
#undef vpx_variance16x32
#define vpx_variance16x32 vpx_variance16x32_wasm
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
#undef vpx_sub_pixel_variance64x64
#define vpx_sub_pixel_variance64x64 vpx_sub_pixel_variance64x64_wasm
#undef vpx_sub_pixel_variance64x32
#define vpx_sub_pixel_variance64x32 vpx_sub_pixel_variance64x32_wasm
#undef vpx_sub_pixel_variance32x64
#define vpx_sub_pixel_variance32x64 vpx_sub_pixel_variance32x64_wasm
#undef vpx_sub_pixel_variance32x32
#define vpx_sub_pixel_variance32x32 vpx_sub_pixel_variance32x32_wasm
#undef vpx_sub_pixel_variance32x16
#define vpx_sub_pixel_variance32x16 vpx_sub_pixel_variance32x16_wasm
#undef vpx_sub_pixel_variance16x32
#define vpx_sub_pixel_variance16x32 vpx_sub_pixel_variance16x32_wasm
#undef vpx_fdct8x8
#define vpx_fdct8x8 vpx_fdct8x8_wasm
#undef vpx_mse16x16
#define vpx_mse16x16 vpx_mse16x16_wasm
#undef vpx_get16x16var
#define vpx_get16x16var vpx_get16x16var_wasm
#undef vpx_subtract_block
#define vpx_subtract_block vpx_subtract_block_wasm
#undef vpx_convolve8
#define vpx_convolve8 vpx_convolve8_wasm
#undef vpx_convolve8_horiz
#define vpx_convolve8_horiz vpx_convolve8_horiz_wasm
#undef vpx_convolve8_vert
#define vpx_convolve8_vert vpx_convolve8_vert_wasm
#undef vpx_lpf_horizontal_8
#define vpx_lpf_horizontal_8 vpx_lpf_horizontal_8_wasm
#undef vpx_lpf_vertical_8
#define vpx_lpf_vertical_8 vpx_lpf_vertical_8_wasm
#undef vpx_lpf_horizontal_8_dual
#define vpx_lpf_horizontal_8_dual vpx_lpf_horizontal_8_dual_wasm
#undef vpx_lpf_vertical_8_dual
#define vpx_lpf_vertical_8_dual vpx_lpf_vertical_8_dual_wasm
#undef vpx_lpf_horizontal_16
#define vpx_lpf_horizontal_16 vpx_lpf_horizontal_16_wasm
#undef vpx_lpf_horizontal_16_dual
#define vpx_lpf_horizontal_16_dual vpx_lpf_horizontal_16_dual_wasm
#undef vpx_lpf_vertical_16
#define vpx_lpf_vertical_16 vpx_lpf_vertical_16_wasm
#undef vpx_lpf_vertical_16_dual
#define vpx_lpf_vertical_16_dual vpx_lpf_vertical_16_dual_wasm
#undef vpx_hadamard_8x8
#define vpx_hadamard_8x8 vpx_hadamard_8x8_wasm
#undef vpx_hadamard_16x16
#define vpx_hadamard_16x16 vpx_hadamard_16x16_wasm
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
#undef vp8_dequant_idct_add_y_block
#define vp8_dequant_idct_add_y_block vp8_dequant_idct_add_y_block_wasm
#undef vp8_dequant_idct_add_uv_block
#define vp8_dequant_idct_add_uv_block vp8_dequant_idct_add_uv_block_wasm
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

#if defined(VP9_RTCD_H_) && !defined(CK_VPX_SIMD_VP9_ROUTED)
#define CK_VPX_SIMD_VP9_ROUTED
#undef vp9_quantize_fp
#define vp9_quantize_fp vp9_quantize_fp_wasm
#endif
