// Brightness, contrast and saturation of an RGBA8 image, in place, in fixed-point integer arithmetic
// (the same bytes on every build: scalar, wasm SIMD, native).
//
// The float options become integers once (MakeAdjustParams), then:
//   brightness  B = round(brightness * 255)             in [-255, 255]
//   contrast    C = round((1 + contrast) * 256)         in [0, 512]   (Q8 factor around 128)
//   saturation  S = round((1 + saturation) * 256)       in [0, 512]   (Q8 factor around the pixel's grey)
// Tone (a 256-entry LUT applied to R, G and B):
//   t(v) = clamp(128 + floor(((v + B - 128) * C + 128) / 256), 0, 255)
// i.e. brightness is added first, then the result is stretched by (1 + contrast) around mid-grey
// (contrast -1 gives flat 128 grey, +1 doubles the distance from 128). Then saturation, per pixel:
//   Y = (77 R + 150 G + 29 B + 128) >> 8                 (BT.601 luma weights 0.299/0.587/0.114 in Q8)
//   c' = clamp(Y + floor(((c - Y) * S + 128) / 256), 0, 255)   for c in R, G, B
// so saturation -1 is greyscale (R = G = B = Y) and +1 doubles each channel's distance from Y.
// All three options at 0 are an exact identity; alpha is never touched.
// The scalar path looks the tone up in a 256-entry LUT; the wasm SIMD path (no gather in wasm SIMD)
// computes the same integers with i16x8.q15mulr_sat, 16 pixels at a time. Both give the same bytes.
#pragma once
#include <cstdint>

#include "common/image.h"

namespace ck {

struct AdjustOptions {
  double brightness = 0;  // [-1, 1]
  double contrast = 0;    // [-1, 1]
  double saturation = 0;  // [-1, 1]
};

// The options in fixed point (see above).
struct AdjustParams {
  int brightness = 0;      // added to each channel, [-255, 255]
  int contrast_q8 = 256;   // [0, 512]
  int saturation_q8 = 256; // [0, 512]
};

// Checks the options (finite, within [-1, 1]) and converts them.
Status MakeAdjustParams(const AdjustOptions& options, AdjustParams* params);

// The tone curve t(v) for v = 0..255.
void BuildToneLut(const AdjustParams& params, uint8_t lut[256]);

// Adjusts `im` in place.
Status AdjustColor(const Image& im, const AdjustOptions& options);

}  // namespace ck
