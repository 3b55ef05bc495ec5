#include "pixels/crop.h"

#include <cstring>
#include <string>

namespace ck {

Status CheckCropRect(int width, int height, const Rect& r) {
  auto describe = [&] {
    return "rectangle {x: " + std::to_string(r.x) + ", y: " + std::to_string(r.y) + ", width: " +
           std::to_string(r.width) + ", height: " + std::to_string(r.height) + "}";
  };
  if (r.width <= 0 || r.height <= 0)
    return Status::OutOfRange("crop: " + describe() + " must have a positive width and height");
  // int64 so that x + width cannot overflow.
  if (r.x < 0 || r.y < 0 || int64_t(r.x) + r.width > width || int64_t(r.y) + r.height > height)
    return Status::OutOfRange("crop: " + describe() + " does not lie inside the " + std::to_string(width) + "x" +
                              std::to_string(height) + " image");
  return Status::Ok();
}

Status CropView(const Image& src, const Rect& r, Image* out) {
  Status s = CheckImage(src, "source");
  if (!s.ok()) return s;
  s = CheckCropRect(src.width, src.height, r);
  if (!s.ok()) return s;
  *out = Image{src.row(r.y) + size_t(r.x) * 4, r.width, r.height, src.stride};
  return Status::Ok();
}

Status Crop(const Image& src, const Rect& r, const Image& dst) {
  Image view;
  Status s = CropView(src, r, &view);
  if (!s.ok()) return s;
  s = CheckImage(dst, "destination");
  if (!s.ok()) return s;
  if (dst.width != r.width || dst.height != r.height)
    return Status::InvalidArgument("crop: destination must be " + std::to_string(r.width) + "x" +
                                   std::to_string(r.height) + ", got " + std::to_string(dst.width) + "x" +
                                   std::to_string(dst.height));
  const size_t row_bytes = size_t(r.width) * 4;
  for (int y = 0; y < r.height; ++y) std::memmove(dst.row(y), view.row(y), row_bytes);
  return Status::Ok();
}

}  // namespace ck
