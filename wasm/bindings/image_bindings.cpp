// Embind for wasm/image: encoders return a Bytes object (the file), the decoder a DecodedImage
// (RGBA pixels), the probe a plain { format, width, height }; all are null on failure, with the error
// recorded for the JS glue to throw.
// Only type conversion here.
#include <emscripten/bind.h>

#include "bindings/binding_util.h"
#include "image/decode.h"
#include "image/jpeg_encode.h"
#include "image/png_encode.h"

using ck::Image;
using ck::bindings::Bytes;
using ck::bindings::Fail;
using ck::bindings::Ptr;

namespace {

struct JsPngOptions {
  int level = 6;
  int strategy = int(ck::PngStrategy::kAuto);  // index into ck::PngStrategy
};

struct JsDecodeOptions {
  int maxWidth = ck::kMaxSide;
  int maxHeight = ck::kMaxSide;
  double maxPixels = double(ck::kMaxPixels);
  double maxBytes = double(ck::kMaxDecodeInputBytes);
};

// The decoder's result as JS sees it: view() is a Uint8Array over wasm memory (copy it at once).
class JsDecodedImage {
 public:
  explicit JsDecodedImage(ck::DecodedImage&& d) : image_(std::move(d)) {}
  emscripten::val view() const {
    return emscripten::val(emscripten::typed_memory_view(image_.size(), image_.data()));
  }
  int width() const { return image_.width(); }
  int height() const { return image_.height(); }
  std::string format() const { return ck::ImageFormatMime(image_.format()); }

 private:
  ck::DecodedImage image_;
};

Image View(uintptr_t p, int w, int h, int stride) { return Image{Ptr<uint8_t>(p), w, h, stride}; }

Bytes* EncodeJpeg(uintptr_t p, int w, int h, int stride, const ck::JpegOptions& o) {
  auto* out = new Bytes();
  ck::Status s = ck::EncodeJpeg(View(p, w, h, stride), o, &out->vec());
  if (s.ok()) return out;
  delete out;
  Fail(s);
  return nullptr;
}

Bytes* EncodePng(uintptr_t p, int w, int h, int stride, const JsPngOptions& o) {
  if (o.strategy < 0 || o.strategy >= ck::kPngStrategyCount) {
    Fail(ck::Status::OutOfRange("encodePng: unknown strategy index " + std::to_string(o.strategy)));
    return nullptr;
  }
  auto* out = new Bytes();
  ck::Status s = ck::EncodePng(View(p, w, h, stride), {o.level, ck::PngStrategy(o.strategy)}, &out->vec());
  if (s.ok()) return out;
  delete out;
  Fail(s);
  return nullptr;
}

// Doubles from JS become integer limits; anything non-integral or out of range is refused natively
// too (the JS glue has already said so).
bool ToLimit(double v, double max, const char* name, int64_t* out) {
  if (!(v >= 1 && v <= max) || v != double(int64_t(v))) {
    Fail(ck::Status::OutOfRange(std::string("decodeImage: ") + name + " must be an integer between 1 and " +
                                std::to_string(int64_t(max))));
    return false;
  }
  *out = int64_t(v);
  return true;
}

// The JS options as ck::DecodeOptions; false (with the error recorded) when a limit is invalid.
bool ToOptions(const JsDecodeOptions& o, double size, ck::DecodeOptions* opts) {
  int64_t pixels = 0, bytes = 0;
  if (!ToLimit(o.maxPixels, double(ck::kMaxPixels), "maxPixels", &pixels) ||
      !ToLimit(o.maxBytes, double(ck::kMaxDecodeInputBytes), "maxBytes", &bytes))
    return false;
  opts->max_width = o.maxWidth;
  opts->max_height = o.maxHeight;
  opts->max_pixels = pixels;
  opts->max_bytes = size_t(bytes);
  if (!(size >= 0 && size <= double(SIZE_MAX))) return Fail(ck::Status::OutOfRange("decodeImage: invalid input size"));
  return true;
}

JsDecodedImage* DecodeImage(uintptr_t p, double size, const JsDecodeOptions& o) {
  ck::DecodeOptions opts;
  if (!ToOptions(o, size, &opts)) return nullptr;
  ck::DecodedImage d;
  ck::Status s = ck::DecodeImage(Ptr<const uint8_t>(p), size_t(size), opts, &d);
  if (!s.ok()) {
    Fail(s);
    return nullptr;
  }
  return new JsDecodedImage(std::move(d));
}

// { format, width, height } from the header after the structure check, or null (error recorded).
emscripten::val ProbeImage(uintptr_t p, double size, const JsDecodeOptions& o) {
  ck::DecodeOptions opts;
  if (!ToOptions(o, size, &opts)) return emscripten::val::null();
  ck::ImageInfo info;
  ck::Status s = ck::ProbeImage(Ptr<const uint8_t>(p), size_t(size), opts, &info);
  if (!s.ok()) {
    Fail(s);
    return emscripten::val::null();
  }
  emscripten::val out = emscripten::val::object();
  out.set("format", std::string(ck::ImageFormatMime(info.format)));
  out.set("width", info.width);
  out.set("height", info.height);
  return out;
}

}  // namespace

EMSCRIPTEN_BINDINGS(ck_image) {
  emscripten::value_object<ck::JpegOptions>("JpegOptions").field("quality", &ck::JpegOptions::quality);
  emscripten::value_object<JsPngOptions>("PngOptions")
      .field("level", &JsPngOptions::level)
      .field("strategy", &JsPngOptions::strategy);
  emscripten::value_object<JsDecodeOptions>("DecodeOptions")
      .field("maxWidth", &JsDecodeOptions::maxWidth)
      .field("maxHeight", &JsDecodeOptions::maxHeight)
      .field("maxPixels", &JsDecodeOptions::maxPixels)
      .field("maxBytes", &JsDecodeOptions::maxBytes);
  emscripten::class_<JsDecodedImage>("DecodedImage")
      .function("view", &JsDecodedImage::view)
      .function("width", &JsDecodedImage::width)
      .function("height", &JsDecodedImage::height)
      .function("format", &JsDecodedImage::format);
  emscripten::function("encodeJpeg", &EncodeJpeg, emscripten::allow_raw_pointers());
  emscripten::function("encodePng", &EncodePng, emscripten::allow_raw_pointers());
  emscripten::function("decodeImage", &DecodeImage, emscripten::allow_raw_pointers());
  emscripten::function("probeImage", &ProbeImage);
}
