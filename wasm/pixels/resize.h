// Resize: separable fixed-point resampling of RGBA8 images.
//
//   area      box filter: each output pixel is the coverage-weighted average of the source pixels it
//             covers, with fractional coverage at the edges, so non-integer ratios average correctly.
//   bilinear  two taps per axis, pixel-centre aligned (output x samples source (x + 0.5) * S/D - 0.5,
//             clamped at the edges).
//   auto      per axis: area where the axis shrinks, bilinear where it grows (identical when equal).
//
// Both filters reduce to per-axis tap lists whose 15-bit weights sum to exactly 32768. The vertical
// pass keeps 8 fractional bits (16-bit intermediate), the horizontal pass rounds to 8 bits, so
// integer-ratio box averages (2:1, 4:1, ...) are exact and rounded half up. Everything is integer
// arithmetic; the wasm SIMD path (`__wasm_simd128__`) gives the same bytes as the scalar one.
#pragma once
#include <string>

#include "common/image.h"

namespace ck {

enum class ResizeMethod { kAuto, kBilinear, kArea };
enum class ResizeFit { kExact, kContain };

struct ImageSize {
  int width = 0;
  int height = 0;
};

// "auto" / "bilinear" / "area" and "exact" / "contain" (the JS option strings).
Status ParseResizeMethod(const std::string& name, ResizeMethod* out);
Status ParseResizeFit(const std::string& name, ResizeFit* out);

// The largest size with the aspect ratio of src_w x src_h that fits within box_w x box_h: one side
// equals the box, the other is rounded to nearest (half up) and at least 1. May enlarge.
Status FitWithin(int src_w, int src_h, int box_w, int box_h, ImageSize* out);

// FitWithin, but never larger than the source (a source that already fits keeps its size).
Status ThumbnailSize(int src_w, int src_h, int box_w, int box_h, ImageSize* out);

// The size Resize produces for a width x height request: the request itself (kExact) or
// FitWithin(src, request) (kContain).
Status ResizeTargetSize(int src_w, int src_h, int width, int height, ResizeFit fit, ImageSize* out);

// Resamples all of `src` into all of `dst` (their sizes give the scale; strides may be anything valid).
// src and dst must not overlap.
Status Resize(const Image& src, const Image& dst, ResizeMethod method);

}  // namespace ck
