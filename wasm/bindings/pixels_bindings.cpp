// Embind for wasm/pixels: converts numbers to Image views and calls the area. Nothing else here.
#include <emscripten/bind.h>

#include "bindings/binding_util.h"
#include "pixels/flip.h"

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
