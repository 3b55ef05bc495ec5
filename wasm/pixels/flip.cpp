#include "pixels/flip.h"

#include <cstring>

namespace ck {
namespace {

// Swaps n bytes between a and b (the rows never overlap).
inline void SwapBytes(uint8_t* a, uint8_t* b, size_t n) {
  uint8_t tmp[256];
  while (n >= sizeof(tmp)) {
    std::memcpy(tmp, a, sizeof(tmp));
    std::memcpy(a, b, sizeof(tmp));
    std::memcpy(b, tmp, sizeof(tmp));
    a += sizeof(tmp);
    b += sizeof(tmp);
    n -= sizeof(tmp);
  }
  std::memcpy(tmp, a, n);
  std::memcpy(a, b, n);
  std::memcpy(b, tmp, n);
}

}  // namespace

Status FlipVertical(const Image& im) {
  Status s = CheckImage(im, "image");
  if (!s.ok()) return s;
  const size_t row_bytes = size_t(im.width) * 4;
  for (int top = 0, bottom = im.height - 1; top < bottom; ++top, --bottom) {
    SwapBytes(im.row(top), im.row(bottom), row_bytes);
  }
  return Status::Ok();
}

Status FlipVerticalCopy(const Image& src, const Image& dst) {
  Status s = CheckImage(src, "source");
  if (!s.ok()) return s;
  s = CheckImage(dst, "destination");
  if (!s.ok()) return s;
  if (src.width != dst.width || src.height != dst.height)
    return Status::InvalidArgument("flip: destination must have the source's size");
  const size_t row_bytes = size_t(src.width) * 4;
  for (int y = 0; y < src.height; ++y) std::memcpy(dst.row(src.height - 1 - y), src.row(y), row_bytes);
  return Status::Ok();
}

}  // namespace ck
