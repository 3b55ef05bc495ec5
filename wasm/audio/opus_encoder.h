// OpusEncoder: interleaved PCM in, Opus packets out (libopus), one packet per frame (20 ms by default).
//
//   Open(options) -> Encode(pcm, frames)... -> Flush()
//
// Input: interleaved PCM, float (nominally -1..1) or int16, any number of sample frames per call (0
// included). What does not fill a whole frame is kept and encoded with the next call; Flush() pads the
// last partial frame with silence, encodes it, and says how many of its samples are padding (for the
// container's DiscardPadding). A NaN or infinite float sample is refused before anything of that call
// is kept (OutOfRange; the encoder stays usable).
//
// Timing is by sample count, never by a clock: the packet that starts at input sample n has pts n (at
// the input rate) and pts_ns n * 1e9 / sample_rate. The first call may place the stream anywhere
// (`at_sample`, e.g. the recording's time of its first sample); afterwards `at_sample` is optional:
//   - within kJitterFrames frames of where the samples already given end: ignored (the sample count
//     is the truth; clocks beside it jitter and drift);
//   - later than that: the gap is filled with silence (at most kMaxGapSeconds, else OutOfRange), so
//     what follows plays at its time;
//   - earlier than that: OutOfRange (the audio would overlap itself); nothing is kept.
//
// Decoders output pre_skip() samples (at 48 kHz, libopus's OPUS_GET_LOOKAHEAD) before the first input
// sample: the OpusHead pre-skip and WebM's CodecDelay. The packet with pts n still starts at time n: a
// player that honours the pre-skip plays input sample 0 at pts 0.
//
// Settings: libopus's float build, VBR, the given complexity (default 10, libopus's own default). The
// output is deterministic for one build (the same PCM gives the same packets), not across builds (the
// wasm and the native builds round floats differently).
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "common/status.h"

namespace ck {

enum class OpusApplication { kAudio, kVoip };  // OPUS_APPLICATION_AUDIO / OPUS_APPLICATION_VOIP

constexpr int kOpusMinBitrate = 6'000;    // bits per second
constexpr int kOpusMaxBitrate = 510'000;
constexpr int kOpusMaxPacketBytes = 4000;  // libopus's recommended output buffer
constexpr int kJitterFrames = 1;           // see "Timing" above
constexpr int kMaxGapSeconds = 60;
constexpr int64_t kNextSample = INT64_MIN;  // Encode(): continue where the last call ended

struct OpusEncoderOptions {
  int sample_rate = 48000;  // 8000, 12000, 16000, 24000 or 48000
  int channels = 1;         // 1 or 2
  int bitrate = 0;          // bits per second, kOpusMinBitrate..kOpusMaxBitrate; 0 = 64000 mono, 96000 stereo
  double frame_ms = 20;     // 2.5, 5, 10, 20, 40 or 60
  OpusApplication application = OpusApplication::kAudio;
  int complexity = 10;      // 0 (fastest) .. 10 (best)
};

// Checks every field (the bitrate after its default is filled in by Open).
Status CheckOpusEncoderOptions(const OpusEncoderOptions& o);

// One packet as libopus returned it; `data` is valid only during the callback.
struct OpusPacket {
  const uint8_t* data;
  size_t size;
  int64_t pts;              // its first sample, at the input rate
  int64_t pts_ns;           // the same as a time: pts * 1e9 / sample_rate, rounded
  int duration;             // samples at the input rate (the frame size)
  int padding;              // trailing samples of silence Flush() added (0 except on the last packet)
};

class OpusEncoder {
 public:
  using OnPacket = std::function<Status(const OpusPacket&)>;

  OpusEncoder();
  ~OpusEncoder();
  OpusEncoder(const OpusEncoder&) = delete;
  OpusEncoder& operator=(const OpusEncoder&) = delete;

  Status Open(const OpusEncoderOptions& options);
  // Adds `frames` sample frames (frames * channels values) and calls on_packet for every whole frame.
  // at_sample: where these samples start (see "Timing"), or kNextSample.
  Status Encode(const float* pcm, size_t frames, const OnPacket& on_packet, int64_t at_sample = kNextSample);
  Status Encode(const int16_t* pcm, size_t frames, const OnPacket& on_packet, int64_t at_sample = kNextSample);
  // Encodes what is buffered, padded with silence to a whole frame (nothing when the buffer is empty).
  // The encoder stays open: more samples may follow.
  Status Flush(const OnPacket& on_packet);

  const OpusEncoderOptions& options() const { return options_; }
  bool is_open() const { return impl_ != nullptr; }
  int frame_size() const { return frame_size_; }     // samples per channel per packet, at the input rate
  int pre_skip() const { return pre_skip_; }         // samples at 48 kHz (see above)
  int64_t next_sample() const { return next_sample_; }  // where the next given sample goes
  int64_t packets() const { return packets_; }
  int64_t samples_in() const { return samples_in_; }  // sample frames given (silence for gaps excluded)

 private:
  struct Impl;
  template <typename T>
  Status EncodeSamples(const T* pcm, size_t frames, const OnPacket& on_packet, int64_t at_sample);
  Status Place(int64_t at_sample, const OnPacket& on_packet);
  Status EncodeFrame(int padding, const OnPacket& on_packet);

  std::unique_ptr<Impl> impl_;
  OpusEncoderOptions options_;
  int frame_size_ = 0;
  int pre_skip_ = 0;
  std::vector<float> frame_;      // one frame, interleaved; `filled_` sample frames of it are set
  int filled_ = 0;
  std::vector<uint8_t> packet_;
  bool placed_ = false;           // the first sample's position is known
  int64_t frame_start_ = 0;       // pts of the frame being filled
  int64_t next_sample_ = 0;
  int64_t packets_ = 0;
  int64_t samples_in_ = 0;
};

}  // namespace ck
