// Embind for wasm/pixels: converts numbers to Image views and calls the area. Nothing else here.
#include <emscripten/bind.h>

#include "bindings/binding_util.h"
#include "pixels/flip.h"
#include "pixels/blur.h"           // ck_pixels_color
#include "pixels/color_adjust.h"   // ck_pixels_color
#include "pixels/convert_i420.h"   // ck_pixels_color

using ck::Image;
using ck::bindings::Check;
using ck::bindings::Ptr;

namespace {
Image View(uintptr_t p, int w, int h, int stride) { return Image{Ptr<uint8_t>(p), w, h, stride}; }
}  // namespace

EMSCRIPTEN_BINDINGS(ck_pixels) {
  emscripten::function("flipVertical", +[](uintptr_t p, int w, int h, int stride) {
    return Check(ck::FlipVertical(View(p, w, h, stride)));
  });
}

// Colour, blur and I420 (a separate block so it can grow without touching the one above).
EMSCRIPTEN_BINDINGS(ck_pixels_color) {
  emscripten::value_object<ck::AdjustOptions>("AdjustOptions")
      .field("brightness", &ck::AdjustOptions::brightness)
      .field("contrast", &ck::AdjustOptions::contrast)
      .field("saturation", &ck::AdjustOptions::saturation);
  emscripten::value_object<ck::BlurOptions>("BlurOptions").field("radius", &ck::BlurOptions::radius);

  emscripten::function("adjustColor", +[](uintptr_t p, int w, int h, int stride, ck::AdjustOptions o) {
    return Check(ck::AdjustColor(View(p, w, h, stride), o));
  });
  emscripten::function("gaussianBlur", +[](uintptr_t p, int w, int h, int stride, ck::BlurOptions o) {
    return Check(ck::GaussianBlur(View(p, w, h, stride), o));
  });
  // I420 into one packed buffer at dp: Y (w*h), then U and V (ceil(w/2)*ceil(h/2) each).
  emscripten::function("rgbaToI420", +[](uintptr_t sp, int w, int h, int stride, uintptr_t dp) {
    const int cw = (w + 1) / 2, ch = (h + 1) / 2;
    uint8_t* y = Ptr<uint8_t>(dp);
    uint8_t* u = y + size_t(w > 0 ? w : 0) * size_t(h > 0 ? h : 0);
    uint8_t* v = u + size_t(cw > 0 ? cw : 0) * size_t(ch > 0 ? ch : 0);
    return Check(ck::RgbaToI420(View(sp, w, h, stride), y, w, u, cw, v, cw));
  });
}
