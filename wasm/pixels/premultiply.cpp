#include "pixels/premultiply.h"

#include <cstdint>

namespace ck {
namespace {

// ceil(2^24 / a): with c <= a, n = c*255 + a/2 < 2^16 and (n * M[a]) >> 24 == n / a exactly
// (the error term n * (M*a - 2^24) < 2^16 * 255 < 2^24), and n * M[a] < 2^32.
struct Reciprocals {
  uint32_t m[256];
  constexpr Reciprocals() : m() {
    m[0] = 0;
    for (uint32_t a = 1; a < 256; ++a) m[a] = ((1u << 24) + a - 1) / a;
  }
};
constexpr Reciprocals kRecip;

}  // namespace

Status UnpremultiplyAlpha(const Image& im) {
  Status s = CheckImage(im, "unpremultiplyAlpha: image");
  if (!s.ok()) return s;
  for (int y = 0; y < im.height; ++y) {
    uint8_t* p = im.row(y);
    for (int x = 0; x < im.width; ++x, p += 4) {
      const uint32_t a = p[3];
      if (a == 255) continue;
      if (a == 0) {
        p[0] = p[1] = p[2] = 0;
        continue;
      }
      const uint32_t m = kRecip.m[a], half = a / 2;
      for (int c = 0; c < 3; ++c) {
        // c > a would give more than 255; clamping c to a first gives exactly the clamped result.
        const uint32_t v = p[c] < a ? p[c] : a;
        p[c] = uint8_t(((v * 255 + half) * m) >> 24);
      }
    }
  }
  return Status::Ok();
}

Status PremultiplyAlpha(const Image& im) {
  Status s = CheckImage(im, "premultiplyAlpha: image");
  if (!s.ok()) return s;
  for (int y = 0; y < im.height; ++y) {
    uint8_t* p = im.row(y);
    for (int x = 0; x < im.width; ++x, p += 4) {
      const uint32_t a = p[3];
      for (int c = 0; c < 3; ++c) p[c] = uint8_t((p[c] * a + 127) / 255);
    }
  }
  return Status::Ok();
}

}  // namespace ck
