// H264Encoder: one H.264 stream (Constrained Baseline, CAVLC, one slice, one thread) from OpenH264's
// encoder, one access unit out for every I420 picture in. Used where the platform has no H.264 encoder
// (no WebCodecs, Node): VideoWriter's 'h264' codec and the wasm recorder backend, with MP4 as container.
//
// Settings chosen for recordings that must come out frame-exact and the same on every machine:
//   - frame skipping off (bEnableFrameSkip false): Encode() of picture n yields access unit n, always;
//     no B-frames (Baseline), so decode order is presentation order.
//   - rate control: bitrate mode (the target in bits per second, the rate's frame rate `fps`), or
//     quality mode (`rate_control` kQuality: a near-constant QP, bitrate as a soft cap).
//   - keyframes (IDR): the first picture, when asked (force_keyframe), and `keyframe_interval` pictures
//     after the last one (a forced IDR restarts the count). Every IDR repeats the SPS and PPS in front
//     of it, so each key frame decodes alone.
//   - one thread, no scene-change IDRs, no denoise/background detection: the output depends only on the
//     input, never on time or the machine.
// Sizes: even widths and heights from 16 to kMaxH264Side (H.264 4:2:0 codes whole chroma samples;
// OpenH264 crops what is not a multiple of 16 itself). Odd sizes are refused (InvalidArgument).
//
// Output formats (H264NalFormat):
//   kAnnexB          start codes (00 00 00 01) before every NAL unit, SPS/PPS in band: what
//                    Mp4Muxer's Annex B path and ffmpeg's raw .h264 reader take.
//   kLengthPrefixed  each NAL unit behind its 4-byte big-endian length (the avcC / MP4 sample layout),
//                    SPS/PPS left out of the frames; AvcDecoderConfig() gives the avcC that carries them.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

namespace ck {

constexpr int kMinH264Side = 16;
constexpr int kMaxH264Side = 4096;
constexpr double kMinH264Fps = 0.1;
constexpr double kMaxH264Fps = 240;
constexpr int64_t kMinH264Bitrate = 10'000;      // bits per second
constexpr int64_t kMaxH264Bitrate = 100'000'000;
constexpr int kMaxH264KeyframeInterval = 100'000;

enum class H264NalFormat { kAnnexB, kLengthPrefixed };
enum class H264RateControl { kBitrate, kQuality };

struct H264EncoderOptions {
  int width = 0;
  int height = 0;
  double fps = 30;
  int64_t bitrate = 2'500'000;   // bits per second
  int keyframe_interval = 60;    // pictures between IDRs
  H264RateControl rate_control = H264RateControl::kBitrate;
  H264NalFormat format = H264NalFormat::kAnnexB;
};

// Checks every field; used by Open and by callers that want to refuse early.
Status CheckH264Options(const H264EncoderOptions& o);

// One I420 picture: Y of width x height, U and V of width/2 x height/2.
struct H264Picture {
  const uint8_t* y = nullptr;
  const uint8_t* u = nullptr;
  const uint8_t* v = nullptr;
  int y_stride = 0;
  int uv_stride = 0;
};

// One access unit; `data` is valid only during the callback.
struct H264Frame {
  const uint8_t* data;
  size_t size;
  bool keyframe;      // an IDR picture (with SPS/PPS in front of it in kAnnexB)
  int64_t index;      // the picture's number, 0, 1, ...
};

class H264Encoder {
 public:
  using OnFrame = std::function<Status(const H264Frame&)>;

  H264Encoder();
  ~H264Encoder();
  H264Encoder(const H264Encoder&) = delete;
  H264Encoder& operator=(const H264Encoder&) = delete;

  Status Open(const H264EncoderOptions& options);
  // Encodes one picture; on_frame gets exactly one access unit.
  Status Encode(const H264Picture& picture, bool force_keyframe, const OnFrame& on_frame);
  // The avcC (AVCDecoderConfigurationRecord, 4-byte lengths) of the stream: available after Open.
  const std::vector<uint8_t>& AvcDecoderConfig() const { return avcc_; }
  // 'avc1.42c01f' style codec string (profile, constraints, level of the SPS).
  std::string CodecString() const;
  void Close();

  const H264EncoderOptions& options() const { return options_; }
  bool is_open() const { return impl_ != nullptr; }
  int64_t frames() const { return frames_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  H264EncoderOptions options_;
  std::vector<uint8_t> sps_, pps_, avcc_, out_;
  int64_t frames_ = 0;
};

}  // namespace ck
