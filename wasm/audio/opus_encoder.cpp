#include "audio/opus_encoder.h"

#include <opus/opus.h>

#include <algorithm>
#include <cmath>
#include <string>

namespace ck {
namespace {

bool IsOpusRate(int r) { return r == 8000 || r == 12000 || r == 16000 || r == 24000 || r == 48000; }

int DefaultBitrate(int channels) { return channels == 2 ? 96'000 : 64'000; }

std::string OpusError(const char* what, int code) {
  return std::string("opus encoder: ") + what + ": " + opus_strerror(code);
}

inline float ToFloat(float v) { return v; }
inline float ToFloat(int16_t v) { return float(v) * (1.0f / 32768.0f); }

}  // namespace

struct OpusEncoder::Impl {
  ::OpusEncoder* enc = nullptr;
  ~Impl() {
    if (enc) opus_encoder_destroy(enc);
  }
};

Status CheckOpusEncoderOptions(const OpusEncoderOptions& o) {
  if (!IsOpusRate(o.sample_rate))
    return Status::OutOfRange("opus encoder: sample rate must be 8000, 12000, 16000, 24000 or 48000, got " +
                              std::to_string(o.sample_rate));
  if (o.channels != 1 && o.channels != 2)
    return Status::OutOfRange("opus encoder: channels must be 1 or 2, got " + std::to_string(o.channels));
  if (o.bitrate != 0 && (o.bitrate < kOpusMinBitrate || o.bitrate > kOpusMaxBitrate))
    return Status::OutOfRange("opus encoder: bitrate must be within " + std::to_string(kOpusMinBitrate) + ".." +
                              std::to_string(kOpusMaxBitrate) + " bits per second, got " + std::to_string(o.bitrate));
  const double ms = o.frame_ms;
  if (!(ms == 2.5 || ms == 5 || ms == 10 || ms == 20 || ms == 40 || ms == 60))
    return Status::OutOfRange("opus encoder: frame duration must be 2.5, 5, 10, 20, 40 or 60 ms");
  if (o.complexity < 0 || o.complexity > 10)
    return Status::OutOfRange("opus encoder: complexity must be within 0..10, got " + std::to_string(o.complexity));
  return Status::Ok();
}

OpusEncoder::OpusEncoder() = default;
OpusEncoder::~OpusEncoder() = default;

Status OpusEncoder::Open(const OpusEncoderOptions& options) {
  if (impl_) return Status::FailedPrecondition("opus encoder: already open");
  Status s = CheckOpusEncoderOptions(options);
  if (!s.ok()) return s;
  OpusEncoderOptions o = options;
  if (o.bitrate == 0) o.bitrate = DefaultBitrate(o.channels);
  auto impl = std::make_unique<Impl>();
  int err = OPUS_OK;
  impl->enc = opus_encoder_create(o.sample_rate, o.channels,
                                  o.application == OpusApplication::kVoip ? OPUS_APPLICATION_VOIP : OPUS_APPLICATION_AUDIO,
                                  &err);
  if (!impl->enc || err != OPUS_OK) return Status::ResourceExhausted(OpusError("cannot create the encoder", err));
  if ((err = opus_encoder_ctl(impl->enc, OPUS_SET_BITRATE(o.bitrate))) != OPUS_OK ||
      (err = opus_encoder_ctl(impl->enc, OPUS_SET_COMPLEXITY(o.complexity))) != OPUS_OK ||
      (err = opus_encoder_ctl(impl->enc, OPUS_SET_VBR(1))) != OPUS_OK)
    return Status::FailedPrecondition(OpusError("cannot configure the encoder", err));
  opus_int32 lookahead = 0;
  if ((err = opus_encoder_ctl(impl->enc, OPUS_GET_LOOKAHEAD(&lookahead))) != OPUS_OK)
    return Status::FailedPrecondition(OpusError("cannot read the look-ahead", err));
  options_ = o;
  frame_size_ = int(std::lround(o.frame_ms * o.sample_rate / 1000));
  pre_skip_ = int(int64_t(lookahead) * 48000 / o.sample_rate);
  frame_.assign(size_t(frame_size_) * size_t(o.channels), 0.0f);
  packet_.assign(kOpusMaxPacketBytes, 0);
  filled_ = 0;
  placed_ = false;
  frame_start_ = next_sample_ = packets_ = samples_in_ = 0;
  impl_ = std::move(impl);
  return Status::Ok();
}

Status OpusEncoder::EncodeFrame(int padding, const OnPacket& on_packet) {
  const opus_int32 n = opus_encode_float(impl_->enc, frame_.data(), frame_size_, packet_.data(), kOpusMaxPacketBytes);
  if (n < 0) return Status::FailedPrecondition(OpusError("encoding failed", n));
  OpusPacket p;
  p.data = packet_.data();
  p.size = size_t(n);
  p.pts = frame_start_;
  p.pts_ns = int64_t(std::llround(double(frame_start_) * 1e9 / options_.sample_rate));
  p.duration = frame_size_;
  p.padding = padding;
  frame_start_ += frame_size_;
  filled_ = 0;
  ++packets_;
  return on_packet(p);
}

// Where the samples of this call go: checks first (nothing changes on a refusal), then fills a gap.
Status OpusEncoder::Place(int64_t at_sample, const OnPacket& on_packet) {
  if (!placed_) {
    if (at_sample != kNextSample) frame_start_ = next_sample_ = at_sample;
    placed_ = true;
    return Status::Ok();
  }
  if (at_sample == kNextSample) return Status::Ok();
  const int64_t tolerance = int64_t(kJitterFrames) * frame_size_;
  const int64_t rate = options_.sample_rate;
  if (at_sample < next_sample_ - tolerance)
    return Status::OutOfRange("opus encoder: samples at " + std::to_string(at_sample * 1000 / rate) +
                              " ms overlap the audio already given (up to " + std::to_string(next_sample_ * 1000 / rate) +
                              " ms)");
  if (at_sample <= next_sample_ + tolerance) return Status::Ok();
  const int64_t gap = at_sample - next_sample_;
  if (gap > int64_t(kMaxGapSeconds) * rate)
    return Status::OutOfRange("opus encoder: a gap of " + std::to_string(gap * 1000 / rate) +
                              " ms in the audio is longer than the " + std::to_string(kMaxGapSeconds) +
                              " s the encoder fills with silence");
  const int ch = options_.channels;
  for (int64_t left = gap; left > 0;) {
    const int take = int(std::min<int64_t>(left, frame_size_ - filled_));
    std::fill_n(frame_.begin() + size_t(filled_) * ch, size_t(take) * ch, 0.0f);
    filled_ += take;
    left -= take;
    next_sample_ += take;
    if (filled_ == frame_size_) {
      Status s = EncodeFrame(0, on_packet);
      if (!s.ok()) return s;
    }
  }
  return Status::Ok();
}

template <typename T>
Status OpusEncoder::EncodeSamples(const T* pcm, size_t frames, const OnPacket& on_packet, int64_t at_sample) {
  if (!impl_) return Status::FailedPrecondition("opus encoder: not open");
  if (frames > 0 && !pcm) return Status::InvalidArgument("opus encoder: no samples");
  const int ch = options_.channels;
  if constexpr (std::is_same_v<T, float>) {
    for (size_t i = 0, n = frames * size_t(ch); i < n; ++i) {
      if (!std::isfinite(pcm[i]))
        return Status::OutOfRange("opus encoder: sample " + std::to_string(i) + " is " +
                                       (std::isnan(pcm[i]) ? "NaN" : "infinite"));
    }
  }
  if (frames == 0 && at_sample == kNextSample) return Status::Ok();
  Status s = Place(at_sample, on_packet);
  if (!s.ok()) return s;
  for (size_t done = 0; done < frames;) {
    const size_t take = std::min<size_t>(frames - done, size_t(frame_size_ - filled_));
    float* dst = frame_.data() + size_t(filled_) * ch;
    const T* src = pcm + done * ch;
    for (size_t i = 0, n = take * ch; i < n; ++i) dst[i] = ToFloat(src[i]);
    filled_ += int(take);
    done += take;
    next_sample_ += int64_t(take);
    samples_in_ += int64_t(take);
    if (filled_ == frame_size_) {
      s = EncodeFrame(0, on_packet);
      if (!s.ok()) return s;
    }
  }
  return Status::Ok();
}

Status OpusEncoder::Encode(const float* pcm, size_t frames, const OnPacket& on_packet, int64_t at_sample) {
  return EncodeSamples(pcm, frames, on_packet, at_sample);
}

Status OpusEncoder::Encode(const int16_t* pcm, size_t frames, const OnPacket& on_packet, int64_t at_sample) {
  return EncodeSamples(pcm, frames, on_packet, at_sample);
}

Status OpusEncoder::Flush(const OnPacket& on_packet) {
  if (!impl_) return Status::FailedPrecondition("opus encoder: not open");
  if (filled_ == 0) return Status::Ok();
  const int padding = frame_size_ - filled_;
  std::fill(frame_.begin() + size_t(filled_) * options_.channels, frame_.end(), 0.0f);
  next_sample_ += padding;  // the padding takes its time: later samples follow it
  return EncodeFrame(padding, on_packet);
}

}  // namespace ck
