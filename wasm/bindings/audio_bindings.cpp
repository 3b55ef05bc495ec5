// Embind for wasm/audio (the separate capturekit-audio module): an OpusEncoder whose packets are
// queued here and handed to JS by drainPackets() after each call (an array of { data: Uint8Array view
// of wasm memory, pts, duration, padding }; views valid until the next call), so JS callbacks never
// run inside the encoder. Nothing but type conversion: the JS glue is js-glue/audio/opus-encoder.js.
#include <emscripten/bind.h>
#include <emscripten/val.h>

#include <string>
#include <vector>

#include "audio/opus_encoder.h"
#include "bindings/binding_util.h"

using ck::bindings::Check;
using ck::bindings::Fail;
using ck::bindings::Ptr;
using emscripten::val;

namespace {

struct JsOpusOptions {
  int sampleRate = 48000;
  int channels = 1;
  int bitrate = 0;
  double frameMs = 20;
  std::string application = "audio";
  int complexity = 10;
};

struct JsOpusInfo {
  int sampleRate = 0;
  int channels = 0;
  int bitrate = 0;
  int frameSize = 0;
  int preSkip = 0;
  double nextSample = 0;
  double packets = 0;
  double samplesIn = 0;
};

class JsOpusEncoder {
 public:
  bool open(const JsOpusOptions& o) {
    ck::OpusEncoderOptions e;
    if (o.application == "audio") {
      e.application = ck::OpusApplication::kAudio;
    } else if (o.application == "voip") {
      e.application = ck::OpusApplication::kVoip;
    } else {
      return Fail(ck::Status::OutOfRange("opus encoder: application must be \"audio\" or \"voip\", got \"" +
                                         o.application + "\""));
    }
    e.sample_rate = o.sampleRate;
    e.channels = o.channels;
    e.bitrate = o.bitrate;
    e.frame_ms = o.frameMs;
    e.complexity = o.complexity;
    return Check(encoder_.Open(e));
  }

  // pcm: `frames` interleaved sample frames; at_sample used when has_at (see opus_encoder.h).
  bool encodeFloat(uintptr_t pcm, double frames, bool has_at, double at_sample) {
    packets_.clear();
    return Check(encoder_.Encode(Ptr<const float>(pcm), size_t(frames), Collect(), At(has_at, at_sample)));
  }
  bool encodeInt16(uintptr_t pcm, double frames, bool has_at, double at_sample) {
    packets_.clear();
    return Check(encoder_.Encode(Ptr<const int16_t>(pcm), size_t(frames), Collect(), At(has_at, at_sample)));
  }
  bool flush() {
    packets_.clear();
    return Check(encoder_.Flush(Collect()));
  }

  // The packets of the last call.
  val drainPackets() {
    val out = val::array();
    for (const Packet& p : packets_) {
      val o = val::object();
      o.set("data", val(emscripten::typed_memory_view(p.bytes.size(), p.bytes.data())));
      o.set("pts", double(p.pts));
      o.set("duration", p.duration);
      o.set("padding", p.padding);
      out.call<void>("push", o);
    }
    return out;
  }

  JsOpusInfo info() const {
    JsOpusInfo j;
    const ck::OpusEncoderOptions& o = encoder_.options();
    j.sampleRate = o.sample_rate;
    j.channels = o.channels;
    j.bitrate = o.bitrate;
    j.frameSize = encoder_.frame_size();
    j.preSkip = encoder_.pre_skip();
    j.nextSample = double(encoder_.next_sample());
    j.packets = double(encoder_.packets());
    j.samplesIn = double(encoder_.samples_in());
    return j;
  }

 private:
  struct Packet {
    std::vector<uint8_t> bytes;
    int64_t pts;
    int duration, padding;
  };
  static int64_t At(bool has_at, double at) { return has_at ? int64_t(at) : ck::kNextSample; }
  ck::OpusEncoder::OnPacket Collect() {
    return [this](const ck::OpusPacket& p) {
      packets_.push_back(Packet{std::vector<uint8_t>(p.data, p.data + p.size), p.pts, p.duration, p.padding});
      return ck::Status::Ok();
    };
  }
  ck::OpusEncoder encoder_;
  std::vector<Packet> packets_;
};

}  // namespace

CK_REGISTER_COMMON_BINDINGS()

EMSCRIPTEN_BINDINGS(ck_audio) {
  emscripten::value_object<JsOpusOptions>("OpusOptions")
      .field("sampleRate", &JsOpusOptions::sampleRate)
      .field("channels", &JsOpusOptions::channels)
      .field("bitrate", &JsOpusOptions::bitrate)
      .field("frameMs", &JsOpusOptions::frameMs)
      .field("application", &JsOpusOptions::application)
      .field("complexity", &JsOpusOptions::complexity);
  emscripten::value_object<JsOpusInfo>("OpusInfo")
      .field("sampleRate", &JsOpusInfo::sampleRate)
      .field("channels", &JsOpusInfo::channels)
      .field("bitrate", &JsOpusInfo::bitrate)
      .field("frameSize", &JsOpusInfo::frameSize)
      .field("preSkip", &JsOpusInfo::preSkip)
      .field("nextSample", &JsOpusInfo::nextSample)
      .field("packets", &JsOpusInfo::packets)
      .field("samplesIn", &JsOpusInfo::samplesIn);
  emscripten::class_<JsOpusEncoder>("OpusEncoder")
      .constructor<>()
      .function("open", &JsOpusEncoder::open)
      .function("encodeFloat", &JsOpusEncoder::encodeFloat)
      .function("encodeInt16", &JsOpusEncoder::encodeInt16)
      .function("flush", &JsOpusEncoder::flush)
      .function("drainPackets", &JsOpusEncoder::drainPackets)
      .function("info", &JsOpusEncoder::info);
}
