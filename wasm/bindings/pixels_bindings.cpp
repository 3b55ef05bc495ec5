// Embind for wasm/pixels: converts numbers to Image views and calls the area. Nothing else here.
#include <emscripten/bind.h>

#include <string>

#include "bindings/binding_util.h"
#include "pixels/composite.h"
#include "pixels/crop.h"
#include "pixels/flip.h"
#include "pixels/premultiply.h"
#include "pixels/resize.h"
#include "pixels/blur.h"           // ck_pixels_color
#include "pixels/color_adjust.h"   // ck_pixels_color
#include "pixels/convert_i420.h"   // ck_pixels_color

using ck::Image;
using ck::bindings::Check;
using ck::bindings::Ptr;

namespace {
Image View(uintptr_t p, int w, int h, int stride) { return Image{Ptr<uint8_t>(p), w, h, stride}; }

// The option objects as JS passes them (strings for the enums, parsed by the area).
struct ResizeOptionsJs {
  int width = 0;
  int height = 0;
  std::string fit;
  std::string method;
};
struct CompositeOptionsJs {
  std::string position;
  int margin = 0;
  double opacity = 1.0;
};

// A failed size query returns 0x0 after recording the error.
ck::ImageSize SizeOr0(const ck::Status& s, ck::ImageSize size) { return Check(s) ? size : ck::ImageSize{}; }

ck::Status ResizeTarget(int w, int h, const ResizeOptionsJs& o, ck::ImageSize* size, ck::ResizeMethod* method) {
  ck::ResizeFit fit;
  ck::Status s = ck::ParseResizeFit(o.fit, &fit);
  if (s.ok()) s = ck::ParseResizeMethod(o.method, method);
  if (s.ok()) s = ck::ResizeTargetSize(w, h, o.width, o.height, fit, size);
  return s;
}
}  // namespace

EMSCRIPTEN_BINDINGS(ck_pixels) {
  emscripten::function("flipVertical", +[](uintptr_t p, int w, int h, int stride) {
    return Check(ck::FlipVertical(View(p, w, h, stride)));
  });

  emscripten::value_object<ck::Rect>("CropRect")
      .field("x", &ck::Rect::x)
      .field("y", &ck::Rect::y)
      .field("width", &ck::Rect::width)
      .field("height", &ck::Rect::height);
  emscripten::value_object<ck::ImageSize>("ImageSize")
      .field("width", &ck::ImageSize::width)
      .field("height", &ck::ImageSize::height);
  emscripten::value_object<ResizeOptionsJs>("ResizeOptions")
      .field("width", &ResizeOptionsJs::width)
      .field("height", &ResizeOptionsJs::height)
      .field("fit", &ResizeOptionsJs::fit)
      .field("method", &ResizeOptionsJs::method);
  emscripten::value_object<CompositeOptionsJs>("CompositeOptions")
      .field("position", &CompositeOptionsJs::position)
      .field("margin", &CompositeOptionsJs::margin)
      .field("opacity", &CompositeOptionsJs::opacity);

  // crop into a packed rect.width x rect.height destination
  emscripten::function("crop", +[](uintptr_t sp, int w, int h, int stride, uintptr_t dp, ck::Rect r) {
    return Check(ck::Crop(View(sp, w, h, stride), r, View(dp, r.width, r.height, r.width * 4)));
  });
  emscripten::function("fitWithin", +[](int sw, int sh, int bw, int bh) {
    ck::ImageSize size;
    return SizeOr0(ck::FitWithin(sw, sh, bw, bh, &size), size);
  });
  emscripten::function("thumbnailSize", +[](int sw, int sh, int bw, int bh) {
    ck::ImageSize size;
    return SizeOr0(ck::ThumbnailSize(sw, sh, bw, bh, &size), size);
  });
  emscripten::function("resizeTarget", +[](int w, int h, ResizeOptionsJs o) {
    ck::ImageSize size;
    ck::ResizeMethod method;
    return SizeOr0(ResizeTarget(w, h, o, &size, &method), size);
  });
  // resize into a packed destination of resizeTarget(w, h, o)
  emscripten::function("resize", +[](uintptr_t sp, int w, int h, int stride, uintptr_t dp, ResizeOptionsJs o) {
    ck::ImageSize size;
    ck::ResizeMethod method;
    ck::Status s = ResizeTarget(w, h, o, &size, &method);
    if (s.ok()) s = ck::Resize(View(sp, w, h, stride), View(dp, size.width, size.height, size.width * 4), method);
    return Check(s);
  });
  // thumbnail into a packed destination of thumbnailSize(w, h, bw, bh)
  emscripten::function("thumbnail", +[](uintptr_t sp, int w, int h, int stride, uintptr_t dp, int bw, int bh) {
    ck::ImageSize size;
    ck::Status s = ck::ThumbnailSize(w, h, bw, bh, &size);
    if (s.ok())
      s = ck::Resize(View(sp, w, h, stride), View(dp, size.width, size.height, size.width * 4), ck::ResizeMethod::kArea);
    return Check(s);
  });
  emscripten::function("composite", +[](uintptr_t ip, int w, int h, int stride, uintptr_t mp, int mw, int mh,
                                         int mstride, CompositeOptionsJs o) {
    ck::CompositeOptions opts;
    ck::Status s = ck::ParseAnchor(o.position, &opts.anchor);
    opts.margin = o.margin;
    opts.opacity = o.opacity;
    if (s.ok()) s = ck::CompositeOver(View(ip, w, h, stride), View(mp, mw, mh, mstride), opts);
    return Check(s);
  });
  emscripten::function("unpremultiplyAlpha", +[](uintptr_t p, int w, int h, int stride) {
    return Check(ck::UnpremultiplyAlpha(View(p, w, h, stride)));
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
