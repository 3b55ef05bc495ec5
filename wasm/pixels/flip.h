// Vertical flip: the fix for WebGL/WebXR readPixels, whose rows come bottom-up.
#pragma once
#include "common/image.h"

namespace ck {

// Flips `im` upside down in place. Swaps row pairs in registers (64-byte blocks with wasm SIMD), so it
// moves as many bytes as a memcpy of the image and needs no scratch row.
Status FlipVertical(const Image& im);

// Writes `src` flipped into `dst` (same width and height; strides may differ).
Status FlipVerticalCopy(const Image& src, const Image& dst);

}  // namespace ck
