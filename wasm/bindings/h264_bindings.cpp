// Embind for wasm/h264 (the separate capturekit-h264 module): an H264Encoder taking I420 planes or RGBA
// (converted by pixels/convert_i420.h, BT.601 limited range) from wasm memory the JS glue allocated.
// After each encode, frame() is the access unit just made: { data: Uint8Array view of wasm memory
// (valid until the next call), keyframe, index }. Nothing but type conversion: the JS glue is
// js-glue/h264.js.
#include <emscripten/bind.h>
#include <emscripten/val.h>

#include <string>
#include <vector>

#include "bindings/binding_util.h"
#include "h264/h264_encoder.h"
#include "pixels/convert_i420.h"

using ck::bindings::Check;
using ck::bindings::Fail;
using ck::bindings::Ptr;
using emscripten::val;

namespace {

struct JsH264Options {
  int width = 0;
  int height = 0;
  double fps = 30;
  double bitrate = 2'500'000;
  int keyframeInterval = 60;
  std::string rateControl = "bitrate";
  std::string format = "annexb";
};

class JsH264Encoder {
 public:
  bool open(const JsH264Options& o) {
    ck::H264EncoderOptions e;
    if (o.rateControl == "bitrate") {
      e.rate_control = ck::H264RateControl::kBitrate;
    } else if (o.rateControl == "quality") {
      e.rate_control = ck::H264RateControl::kQuality;
    } else {
      return Fail(ck::Status::OutOfRange("H.264 rateControl must be \"bitrate\" or \"quality\", got \"" + o.rateControl + "\""));
    }
    if (o.format == "annexb") {
      e.format = ck::H264NalFormat::kAnnexB;
    } else if (o.format == "avc") {
      e.format = ck::H264NalFormat::kLengthPrefixed;
    } else {
      return Fail(ck::Status::OutOfRange("H.264 format must be \"annexb\" or \"avc\", got \"" + o.format + "\""));
    }
    e.width = o.width;
    e.height = o.height;
    e.fps = o.fps;
    e.bitrate = int64_t(o.bitrate);
    e.keyframe_interval = o.keyframeInterval;
    if (!Check(encoder_.Open(e))) return false;
    const int w = e.width, h = e.height;
    y_.resize(size_t(w) * h);
    u_.resize(size_t(w / 2) * (h / 2));
    v_.resize(u_.size());
    return true;
  }

  bool encodeI420(uintptr_t y, uintptr_t u, uintptr_t v, int y_stride, int uv_stride, bool force_keyframe) {
    return Check(encoder_.Encode(ck::H264Picture{Ptr<uint8_t>(y), Ptr<uint8_t>(u), Ptr<uint8_t>(v), y_stride, uv_stride},
                                 force_keyframe, [this](const ck::H264Frame& f) { return Keep(f); }));
  }

  bool encodeRgba(uintptr_t p, int w, int h, int stride, bool force_keyframe) {
    if (!encoder_.is_open()) return Fail(ck::Status::FailedPrecondition("H264Encoder is not open"));
    const auto& o = encoder_.options();
    if (w != o.width || h != o.height) {
      return Fail(ck::Status::InvalidArgument("frame is " + std::to_string(w) + "x" + std::to_string(h) +
                                              " but the encoder is " + std::to_string(o.width) + "x" + std::to_string(o.height)));
    }
    ck::Status s = ck::RgbaToI420(ck::Image{Ptr<uint8_t>(p), w, h, stride}, y_.data(), w, u_.data(), w / 2, v_.data(), w / 2);
    if (!s.ok()) return Fail(s);
    return Check(encoder_.Encode(ck::H264Picture{y_.data(), u_.data(), v_.data(), w, w / 2}, force_keyframe,
                                 [this](const ck::H264Frame& f) { return Keep(f); }));
  }

  val frame() const {
    val o = val::object();
    o.set("data", val(emscripten::typed_memory_view(frame_.size(), frame_.data())));
    o.set("keyframe", keyframe_);
    o.set("index", double(index_));
    return o;
  }
  val avcC() const {
    const auto& a = encoder_.AvcDecoderConfig();
    return val(emscripten::typed_memory_view(a.size(), a.data()));
  }
  std::string codecString() const { return encoder_.CodecString(); }
  double frames() const { return double(encoder_.frames()); }
  void close() {
    encoder_.Close();
    std::vector<uint8_t>().swap(y_);
    std::vector<uint8_t>().swap(u_);
    std::vector<uint8_t>().swap(v_);
    std::vector<uint8_t>().swap(frame_);
  }

 private:
  ck::Status Keep(const ck::H264Frame& f) {
    frame_.assign(f.data, f.data + f.size);
    keyframe_ = f.keyframe;
    index_ = f.index;
    return ck::Status::Ok();
  }
  ck::H264Encoder encoder_;
  std::vector<uint8_t> y_, u_, v_, frame_;
  bool keyframe_ = false;
  int64_t index_ = -1;
};

}  // namespace

CK_REGISTER_COMMON_BINDINGS()

EMSCRIPTEN_BINDINGS(ck_h264) {
  emscripten::value_object<JsH264Options>("H264Options")
      .field("width", &JsH264Options::width)
      .field("height", &JsH264Options::height)
      .field("fps", &JsH264Options::fps)
      .field("bitrate", &JsH264Options::bitrate)
      .field("keyframeInterval", &JsH264Options::keyframeInterval)
      .field("rateControl", &JsH264Options::rateControl)
      .field("format", &JsH264Options::format);
  emscripten::class_<JsH264Encoder>("H264Encoder")
      .constructor<>()
      .function("open", &JsH264Encoder::open)
      .function("encodeI420", &JsH264Encoder::encodeI420)
      .function("encodeRgba", &JsH264Encoder::encodeRgba)
      .function("frame", &JsH264Encoder::frame)
      .function("avcC", &JsH264Encoder::avcC)
      .function("codecString", &JsH264Encoder::codecString)
      .function("frames", &JsH264Encoder::frames)
      .function("close", &JsH264Encoder::close);
}
