#include "pixels/composite.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace ck {

Status ParseAnchor(const std::string& name, Anchor* out) {
  if (name == "top-left") *out = Anchor::kTopLeft;
  else if (name == "top-right") *out = Anchor::kTopRight;
  else if (name == "bottom-left") *out = Anchor::kBottomLeft;
  else if (name == "bottom-right") *out = Anchor::kBottomRight;
  else if (name == "center") *out = Anchor::kCenter;
  else
    return Status::OutOfRange(
        "composite: position must be \"top-left\", \"top-right\", \"bottom-left\", \"bottom-right\" or "
        "\"center\", got \"" + name + "\"");
  return Status::Ok();
}

void MarkOrigin(int width, int height, int mark_w, int mark_h, const CompositeOptions& o, int* x, int* y) {
  const int64_t m = o.margin;
  int64_t ox = m, oy = m;
  switch (o.anchor) {
    case Anchor::kTopLeft: break;
    case Anchor::kTopRight: ox = int64_t(width) - mark_w - m; break;
    case Anchor::kBottomLeft: oy = int64_t(height) - mark_h - m; break;
    case Anchor::kBottomRight: ox = int64_t(width) - mark_w - m; oy = int64_t(height) - mark_h - m; break;
    case Anchor::kCenter: {
      const int64_t dx = int64_t(width) - mark_w, dy = int64_t(height) - mark_h;
      ox = dx >= 0 ? dx / 2 : -((-dx + 1) / 2);  // floor(dx / 2)
      oy = dy >= 0 ? dy / 2 : -((-dy + 1) / 2);
      break;
    }
  }
  // Sides and margin are <= kMaxSide, so these fit in int.
  *x = int(ox);
  *y = int(oy);
}

Status CompositeOver(const Image& image, const Image& mark, const CompositeOptions& o) {
  Status s = CheckImage(image, "composite: image");
  if (!s.ok()) return s;
  s = CheckImage(mark, "composite: watermark");
  if (!s.ok()) return s;
  if (!(o.opacity >= 0.0 && o.opacity <= 1.0))  // also false for NaN
    return Status::OutOfRange("composite: opacity must be between 0 and 1, got " +
                              (std::isnan(o.opacity) ? std::string("NaN") : std::to_string(o.opacity)));
  if (o.margin < 0 || o.margin > kMaxSide)
    return Status::OutOfRange("composite: margin must be an integer between 0 and " + std::to_string(kMaxSide) +
                              ", got " + std::to_string(o.margin));

  const uint32_t opacity = uint32_t(std::lround(o.opacity * 255.0));  // 0..255
  if (opacity == 0) return Status::Ok();

  int ox, oy;
  MarkOrigin(image.width, image.height, mark.width, mark.height, o, &ox, &oy);
  const int x0 = std::max(0, ox), y0 = std::max(0, oy);
  const int x1 = std::min(image.width, ox + mark.width), y1 = std::min(image.height, oy + mark.height);

  constexpr uint32_t kFull = 255 * 255;  // alpha unit of As
  for (int y = y0; y < y1; ++y) {
    uint8_t* d = image.row(y) + size_t(x0) * 4;
    const uint8_t* m = mark.row(y - oy) + size_t(x0 - ox) * 4;
    for (int x = x0; x < x1; ++x, d += 4, m += 4) {
      const uint32_t as = m[3] * opacity;  // 0..65025
      if (as == 0) continue;
      if (as == kFull) {
        d[0] = m[0], d[1] = m[1], d[2] = m[2], d[3] = 255;
        continue;
      }
      // Common denominator 255 * 65025: source weight as*255, destination weight ad*(65025-as).
      const uint32_t ws = as * 255, wd = d[3] * (kFull - as);
      const uint32_t total = ws + wd;  // out alpha * 255 * 65025, < 2^24
      // cs*ws + cd*wd + total/2 <= 255*total + total/2 < 2^32.
      for (int c = 0; c < 3; ++c) d[c] = uint8_t((m[c] * ws + d[c] * wd + total / 2) / total);
      d[3] = uint8_t((total + kFull / 2) / kFull);
    }
  }
  return Status::Ok();
}

}  // namespace ck
