// Crop: copies a rectangle of an image into a new one.
#pragma once
#include "common/image.h"

namespace ck {

struct Rect {
  int x = 0;
  int y = 0;
  int width = 0;
  int height = 0;
};

// OK when `r` has a positive size and lies inside a width x height image; otherwise OutOfRange,
// with a message naming the rectangle and the image size.
Status CheckCropRect(int width, int height, const Rect& r);

// A view of the rectangle `r` of `src` (no copy; shares src's pixels and stride).
Status CropView(const Image& src, const Rect& r, Image* out);

// Copies the rectangle `r` of `src` into `dst`, which must be r.width x r.height (any stride).
Status Crop(const Image& src, const Rect& r, const Image& dst);

}  // namespace ck
