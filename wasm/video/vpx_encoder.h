// VpxEncoder: one VP8 or VP9 stream from libvpx, one compressed frame out for every frame in.
//
// Settings chosen for recordings that must come out frame-exact and the same on every machine:
//   - one pass, realtime deadline, no lag (g_lag_in_frames 0: no look-ahead, no alt-ref reordering) and
//     frame dropping off (rc_dropframe_thresh 0): Encode() of frame n yields frame n, always.
//   - speed is libvpx's cpu_used. VP8: -16..16; a negative value is a fixed speed (|speed|), a positive
//     one makes libvpx pick the speed from the time each frame took (output then depends on the machine
//     and its load). VP9: 5..9 (this is a realtime-only build: libvpx raises 0..4 to 5; negative values
//     mean the same as positive ones in VP9).
//   - keyframes: at most every `keyframe_interval` frames (kf_max_dist), or when asked (force_keyframe).
//   - one thread (wasm has no threads without SharedArrayBuffer, and the output then never depends on them).
// Sizes: any width and height from 2 to kMaxVideoSide, odd ones included (VP8/VP9 code odd sizes
// natively: the chroma planes are ceil(w/2) x ceil(h/2)).
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/status.h"

namespace ck {

enum class VideoCodec { kVp8, kVp9 };
enum class RateControl { kVbr, kCbr };

const char* VideoCodecName(VideoCodec c);  // "vp8" / "vp9"

constexpr int kMinVideoSide = 2;
constexpr int kMaxVideoSide = 8192;
constexpr double kMinFps = 0.1;
constexpr double kMaxFps = 240;
constexpr int64_t kMinBitrate = 10'000;        // bits per second
constexpr int64_t kMaxBitrate = 200'000'000;
constexpr int kMaxKeyframeInterval = 100'000;  // frames

struct VpxEncoderOptions {
  VideoCodec codec = VideoCodec::kVp8;
  int width = 0;
  int height = 0;
  double fps = 30;
  int64_t bitrate = 2'500'000;  // bits per second
  int keyframe_interval = 60;   // frames (kf_max_dist)
  int speed = -6;               // cpu_used (see above)
  RateControl rate_control = RateControl::kVbr;
};

// The default speed for a codec: VP8 -6 (fixed), VP9 8.
int DefaultSpeed(VideoCodec c);

// Checks every field (ranges, codec-specific speed range). Used by VpxEncoder::Open and by VideoWriter.
Status CheckEncoderOptions(const VpxEncoderOptions& o);

// One I420 picture: planes of width x height (Y) and ceil(width/2) x ceil(height/2) (U, V).
struct I420Planes {
  const uint8_t* y = nullptr;
  const uint8_t* u = nullptr;
  const uint8_t* v = nullptr;
  int y_stride = 0;
  int uv_stride = 0;
};

// A compressed frame as libvpx returns it; `data` is valid only during the callback.
struct EncodedFrame {
  const uint8_t* data;
  size_t size;
  bool keyframe;
  int64_t pts_us;
};

class VpxEncoder {
 public:
  using OnFrame = std::function<Status(const EncodedFrame&)>;

  VpxEncoder();
  ~VpxEncoder();
  VpxEncoder(const VpxEncoder&) = delete;
  VpxEncoder& operator=(const VpxEncoder&) = delete;

  Status Open(const VpxEncoderOptions& options);
  // Encodes one picture shown at pts_us for duration_us, calling on_frame for what libvpx emits
  // (exactly one frame with these settings).
  Status Encode(const I420Planes& planes, int64_t pts_us, int64_t duration_us, bool force_keyframe,
                const OnFrame& on_frame);
  // Drains the encoder (nothing is pending with lag 0, but libvpx wants the call).
  Status Flush(const OnFrame& on_frame);

  const VpxEncoderOptions& options() const { return options_; }
  bool is_open() const { return impl_ != nullptr; }

 private:
  struct Impl;
  Status Drain(const OnFrame& on_frame);
  std::unique_ptr<Impl> impl_;
  VpxEncoderOptions options_;
};

}  // namespace ck
