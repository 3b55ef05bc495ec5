// Watermark composite: source-over blend of a non-premultiplied RGBA mark onto an image, in place.
#pragma once
#include <string>

#include "common/image.h"

namespace ck {

enum class Anchor { kTopLeft, kTopRight, kBottomLeft, kBottomRight, kCenter };

// "top-left" / "top-right" / "bottom-left" / "bottom-right" / "center" (the JS option strings).
Status ParseAnchor(const std::string& name, Anchor* out);

struct CompositeOptions {
  Anchor anchor = Anchor::kBottomRight;
  int margin = 0;        // pixels between the mark and the anchored edges (ignored by kCenter), >= 0
  double opacity = 1.0;  // 0..1, applied to the mark's alpha (quantised once to 1/255)
};

// Top-left corner of a mark_w x mark_h mark placed in a width x height image (may be negative or
// past the edge: the part outside the image is clipped). Centre rounds down.
void MarkOrigin(int width, int height, int mark_w, int mark_h, const CompositeOptions& o, int* x, int* y);

// Blends `mark` over `image` (both non-premultiplied RGBA8) with integer arithmetic:
//   As = mark alpha * opacity (in 1/65025), out alpha = As + Ad (1 - As),
//   out rgb = (Cs As + Cd Ad (1 - As)) / out alpha, each rounded to nearest.
// Pixels where As is 0 (opacity 0, transparent mark) are left exactly as they were. A mark larger
// than the image, or placed partly outside it, is clipped. image and mark must not overlap.
Status CompositeOver(const Image& image, const Image& mark, const CompositeOptions& o);

}  // namespace ck
