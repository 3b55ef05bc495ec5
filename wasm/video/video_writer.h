// VideoWriter: RGBA frames in, a WebM file (VP8 or VP9) out. The facade over the video area:
// RgbaToI420 (pixels/convert_i420.h) -> VpxEncoder -> WebmMuxer -> ByteSink.
//
//   Open(options, sink) -> AddFrame(rgba, timestamp, metadata)... -> Finish(&stats)
//
// Timestamps (microseconds): frame-exact by default. A frame without a timestamp is shown at
// n / fps after the last frame that had one (or after the start), computed from the frame count,
// never accumulated, so N frames at fps last exactly N / fps. A given timestamp may come from any
// clock (performance.now() * 1000, XRFrame time): the first frame's defines zero, and each must be
// greater than the previous one. Block timecodes are milliseconds (WebM's usual scale); the Duration
// is a float: exactly N / fps when the last frame had no timestamp, otherwise the last timestamp plus
// the average frame spacing.
//
// Keyframes: every `keyframe_interval` frames, and also as soon as keyframe_interval / fps seconds
// have passed since the last one (frames with irregular timestamps), so a Cue point, where a player
// can seek to, comes at least that often.
//
// Every frame in gives exactly one frame out (no dropping, no look-ahead); see vpx_encoder.h.
//
// Audio (optional, options.audio): Opus packets encoded elsewhere (wasm/audio/opus_encoder.h, in the
// separate audio module; js-glue/video/video-writer.js wires the two) go to the muxer's audio track,
// timed in the file's time (AddAudio). AudioTimeUs() puts a timestamp from the frames' clock onto the
// file's time: the first timestamp given, a frame's or the audio's, is zero, and nothing may come
// before it. Audio and video are interleaved by the muxer (webm_muxer.h); the Duration covers both.
// Container (options.container): WebM (webm_muxer.h, the default) or MP4 (mp4_muxer.h: VP9 as vp09 +
// vpcC, Opus as Opus + dOps; VP8 has no MP4 mapping and is refused). options.mp4_layout picks the MP4
// layout: fragmented (streams in bounded memory) or progressive (moov first; the samples wait in memory
// until Finish). MP4 carries no per-frame metadata: a frame with metadata is refused there.
// Errors: bad options or a frame of the wrong size are rejected without harm (the next call works);
// a failure inside the encoder or the sink (its callback failed) stops the recording, and every later
// call reports it. Adding after Finish, or finishing twice, is an error.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/image.h"
#include "common/status.h"
#include "video/byte_sink.h"
#include "video/mp4_muxer.h"
#include "video/vpx_encoder.h"
#include "video/webm_muxer.h"

namespace ck {

enum class Container { kWebm, kMp4 };

struct VideoWriterOptions {
  VideoCodec codec = VideoCodec::kVp8;
  int width = 0;
  int height = 0;
  double fps = 30;
  int64_t bitrate = 2'500'000;  // bits per second
  int keyframe_interval = 0;    // frames; 0 = round(2 * fps), at least 1
  int speed = 0;                // libvpx cpu_used; 0 = the codec's default (VP8 -6, VP9 8)
  RateControl rate_control = RateControl::kVbr;
  bool flip_y = false;          // frames arrive bottom-up (WebGL/WebXR readPixels): encode them upright
  WebmAudioOptions audio;       // an Opus track beside the video (webm_muxer.h); off by default
  Container container = Container::kWebm;
  Mp4Layout mp4_layout = Mp4Layout::kFragmented;  // with container kMp4
};

struct VideoStats {
  VideoCodec codec = VideoCodec::kVp8;
  int64_t frames = 0;
  int64_t keyframes = 0;
  double duration_s = 0;  // the file's Duration (0 until Finish)
  int64_t bytes = 0;      // the file's size so far
  int64_t audio_packets = 0;
  double audio_duration_s = 0;  // the audio's end in the file (0 without audio)
};

constexpr int64_t kAutoTimestamp = INT64_MIN;
constexpr int64_t kMaxTimestampUs = int64_t(1) << 40;  // about 12.7 days after the first frame

class VideoWriter {
 public:
  VideoWriter();
  ~VideoWriter();
  VideoWriter(const VideoWriter&) = delete;
  VideoWriter& operator=(const VideoWriter&) = delete;

  // Fills in the defaults (speed, keyframe interval) and checks everything.
  static Status ResolveOptions(const VideoWriterOptions& in, VideoWriterOptions* out);

  // Starts the file in `sink` (not owned; must outlive the writer).
  Status Open(const VideoWriterOptions& options, ByteSink* sink);
  // Encodes one RGBA frame (its size must be the writer's). timestamp_us = kAutoTimestamp for
  // frame-exact n / fps timing. metadata (optional, up to kMaxFrameMetadataBytes) is stored with the
  // frame as a BlockAdditional (see webm_muxer.h).
  Status AddFrame(const Image& rgba, int64_t timestamp_us = kAutoTimestamp, const uint8_t* metadata = nullptr,
                  size_t metadata_size = 0);
  // Puts a timestamp (microseconds, the frames' clock) onto the file's time in *file_us, setting the
  // origin when none is set yet. OutOfRange before the origin or beyond kMaxTimestampUs after it.
  Status AudioTimeUs(int64_t timestamp_us, int64_t* file_us);
  // Adds one Opus packet at pts_ns of file time (non-decreasing; see WebmMuxer::AddAudio). A refused
  // packet leaves the writer usable; a failure of the output stops it.
  Status AddAudio(const uint8_t* packet, size_t size, int64_t pts_ns, int64_t discard_padding_ns = 0);
  // Finishes the file (cues, duration, header) and closes the sink.
  Status Finish(VideoStats* stats = nullptr);

  VideoStats stats() const;
  // The finished file's MIME type with its codecs, e.g. 'video/mp4; codecs="vp09.00.10.08, opus"'.
  std::string MimeType() const;
  const VideoWriterOptions& options() const { return options_; }
  // True once an encoder or output failure stopped the recording (every later call fails).
  bool failed() const { return state_ == State::kFailed; }

 private:
  Status Fail(Status s);
  Status CheckUsable() const;
  bool mp4() const { return options_.container == Container::kMp4; }
  bool HasAudio() const { return mp4() ? mp4_.has_audio() : muxer_.has_audio(); }

  enum class State { kClosed, kOpen, kFinished, kFailed };
  State state_ = State::kClosed;
  Status failure_;
  VideoWriterOptions options_;
  ByteSink* sink_ = nullptr;
  VpxEncoder encoder_;
  WebmMuxer muxer_;
  Mp4Muxer mp4_;  // used instead of muxer_ when the container is MP4
  std::vector<uint8_t> y_, u_, v_;
  int uv_width_ = 0;
  int uv_height_ = 0;

  // Timing (see the top of this file).
  int64_t origin_us_ = 0;      // the first given timestamp, a frame's or the audio's (defines zero)
  bool origin_set_ = false;
  int64_t last_ns_ = -1;       // the last frame's time, relative
  int64_t base_ns_ = 0;        // the last given timestamp (relative), where auto timing restarts
  int64_t base_frame_ = 0;     // its frame index
  int64_t last_key_ns_ = 0;
  bool last_auto_ = false;     // the last frame had no timestamp
  int64_t frames_in_ = 0;
  int64_t keyframes_ = 0;
};

}  // namespace ck
