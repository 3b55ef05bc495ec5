// Image: a view of RGBA8 pixels (4 bytes per pixel, rows `stride` bytes apart, stride >= width*4).
// The core never owns caller pixels; functions take views and write into caller-provided views.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/status.h"

namespace ck {

// Hard limits for every image the core touches (the JS API checks them first, with the same numbers).
constexpr int kMaxSide = 16384;
constexpr int64_t kMaxPixels = int64_t(1) << 28;

struct Image {
  uint8_t* data = nullptr;
  int width = 0;
  int height = 0;
  int stride = 0;  // bytes between row starts

  uint8_t* row(int y) const { return data + size_t(y) * size_t(stride); }
  size_t byte_length() const { return height == 0 ? 0 : size_t(height - 1) * size_t(stride) + size_t(width) * 4; }
};

// Validates dimensions against the limits and the stride against the width. `what` names the image
// in the message ("source", "watermark"...).
inline Status CheckImage(const Image& im, const char* what) {
  if (!im.data) return Status::InvalidArgument(std::string(what) + ": no pixel data");
  if (im.width <= 0 || im.height <= 0)
    return Status::OutOfRange(std::string(what) + ": width and height must be positive, got " +
                              std::to_string(im.width) + "x" + std::to_string(im.height));
  if (im.width > kMaxSide || im.height > kMaxSide || int64_t(im.width) * im.height > kMaxPixels)
    return Status::OutOfRange(std::string(what) + ": " + std::to_string(im.width) + "x" + std::to_string(im.height) +
                              " exceeds the limit of " + std::to_string(kMaxSide) + " per side and 2^28 pixels");
  if (im.stride < im.width * 4)
    return Status::OutOfRange(std::string(what) + ": stride " + std::to_string(im.stride) + " is less than width*4 (" +
                              std::to_string(im.width * 4) + ")");
  return Status::Ok();
}

}  // namespace ck
