// Decoding PNG and JPEG files (watermarks, overlays) into RGBA8 with stb_image, with hard limits
// checked on the header before any pixel memory is allocated.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>

#include "common/image.h"

namespace ck {

// The most input the decoder accepts at all (options may only lower it).
constexpr size_t kMaxDecodeInputBytes = size_t(1) << 28;  // 256 MiB

enum class ImageFormat { kUnknown = 0, kPng, kJpeg };
const char* ImageFormatMime(ImageFormat f);  // "image/png", "image/jpeg", "" for unknown

struct DecodeOptions {
  // Limits checked on the header, before decoding. Each may be lowered, never raised above the
  // core's limits (kMaxSide per side, kMaxPixels, kMaxDecodeInputBytes).
  int max_width = kMaxSide;
  int max_height = kMaxSide;
  int64_t max_pixels = kMaxPixels;
  size_t max_bytes = kMaxDecodeInputBytes;
  // Reject PNG files whose critical chunks (IHDR, PLTE, IDAT, IEND) fail their CRC, as libpng does.
  // The fuzz target turns it off to reach the pixel decoder with mutated data.
  bool verify_png_crc = true;
};

// What the header says, without decoding pixels.
struct ImageInfo {
  ImageFormat format = ImageFormat::kUnknown;
  int width = 0;
  int height = 0;
};

// Reads the format and dimensions from the header and checks the file's structure (PNG chunk
// lengths, CRCs and IEND; JPEG marker segments and the end-of-image marker), then the limits.
// Errors: CorruptData for anything malformed or truncated, OutOfRange for limits.
Status ProbeImage(const uint8_t* data, size_t size, const DecodeOptions& options, ImageInfo* info);

// Decoded RGBA8 pixels, rows packed (stride = width*4). Owns the decoder's buffer (no copy).
class DecodedImage {
 public:
  int width() const { return width_; }
  int height() const { return height_; }
  int stride() const { return width_ * 4; }
  ImageFormat format() const { return format_; }
  const uint8_t* data() const { return pixels_.get(); }
  uint8_t* mutable_data() { return pixels_.get(); }
  size_t size() const { return pixels_ ? size_t(width_) * height_ * 4 : 0; }
  Image view() { return Image{pixels_.get(), width_, height_, stride()}; }

 private:
  friend Status DecodeImage(const uint8_t*, size_t, const DecodeOptions&, DecodedImage*);
  struct Free {
    void operator()(uint8_t* p) const;
  };
  std::unique_ptr<uint8_t, Free> pixels_;
  int width_ = 0;
  int height_ = 0;
  ImageFormat format_ = ImageFormat::kUnknown;
};

// Decodes a PNG or JPEG file into RGBA8 (greyscale, palette, 16-bit and CMYK sources are converted;
// a missing alpha becomes 255). Runs ProbeImage first. Errors: CorruptData (malformed, truncated, or
// data that inflates beyond its declared size) with the decoder's reason in the message, OutOfRange
// (limits), ResourceExhausted (out of memory).
Status DecodeImage(const uint8_t* data, size_t size, const DecodeOptions& options, DecodedImage* out);

}  // namespace ck
