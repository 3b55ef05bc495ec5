#include "image/jpeg_encode.h"

#include <cstring>
#include <string>

#include "image/stb_headers.h"  // declarations only; the implementation is in stb_impl.cpp

namespace ck {
namespace {

// stb_image_write's callback: appends each piece to the output vector.
void AppendJpegBytes(void* context, void* data, int size) {
  auto* out = static_cast<std::vector<uint8_t>*>(context);
  const auto* p = static_cast<const uint8_t*>(data);
  out->insert(out->end(), p, p + size);
}

}  // namespace

Status EncodeJpeg(const Image& im, const JpegOptions& options, std::vector<uint8_t>* out) {
  Status st = CheckImage(im, "encodeJpeg: image");
  if (!st.ok()) return st;
  if (options.quality < 1 || options.quality > 100)
    return Status::OutOfRange("encodeJpeg: quality must be between 1 and 100, got " + std::to_string(options.quality));
  if (!out) return Status::InvalidArgument("encodeJpeg: no output vector");

  // stb reads rows width*4 bytes apart: pack a padded image first.
  std::vector<uint8_t> packed;
  const uint8_t* pixels = im.data;
  const size_t row_bytes = size_t(im.width) * 4;
  if (size_t(im.stride) != row_bytes) {
    packed.resize(row_bytes * im.height);
    for (int y = 0; y < im.height; ++y) std::memcpy(&packed[row_bytes * y], im.row(y), row_bytes);
    pixels = packed.data();
  }

  out->clear();
  // A first guess that avoids most regrowth: ~1.5 bits per pixel plus the headers.
  out->reserve(size_t(im.width) * im.height / 5 + 1024);
  if (!stbi_write_jpg_to_func(AppendJpegBytes, out, im.width, im.height, 4, pixels, options.quality))
    return Status::FailedPrecondition("encodeJpeg: stb_image_write failed");
  return Status::Ok();
}

}  // namespace ck
