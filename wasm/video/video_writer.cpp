#include "video/video_writer.h"

#include <cmath>
#include <string>

#include "pixels/convert_i420.h"

namespace ck {
namespace {
constexpr int64_t kMaxSafeTimestampUs = int64_t(1) << 53;  // what a JS number holds exactly

// The encoder's share of the writer's (resolved) options.
VpxEncoderOptions EncoderOptionsOf(const VideoWriterOptions& o) {
  VpxEncoderOptions e;
  e.codec = o.codec;
  e.width = o.width;
  e.height = o.height;
  e.fps = o.fps;
  e.bitrate = o.bitrate;
  e.keyframe_interval = o.keyframe_interval;
  e.speed = o.speed;
  e.rate_control = o.rate_control;
  return e;
}

}  // namespace

VideoWriter::VideoWriter() = default;
VideoWriter::~VideoWriter() = default;

Status VideoWriter::ResolveOptions(const VideoWriterOptions& in, VideoWriterOptions* out) {
  VideoWriterOptions o = in;
  if (o.speed == 0) o.speed = DefaultSpeed(o.codec);
  if (o.keyframe_interval == 0 && o.fps > 0 && std::isfinite(o.fps))
    o.keyframe_interval = int(std::max(1.0, std::round(2 * o.fps)));
  Status s = CheckEncoderOptions(EncoderOptionsOf(o));
  if (!s.ok()) return s;
  *out = o;
  return Status::Ok();
}

Status VideoWriter::Fail(Status s) {
  state_ = State::kFailed;
  failure_ = s;
  return s;
}

Status VideoWriter::CheckUsable() const {
  switch (state_) {
    case State::kOpen: return Status::Ok();
    case State::kClosed: return Status::FailedPrecondition("video writer: not open");
    case State::kFinished: return Status::FailedPrecondition("video writer: already finished");
    case State::kFailed:
      return Status::FailedPrecondition("video writer: stopped by an earlier error: " + failure_.message());
  }
  return Status::Ok();
}

Status VideoWriter::Open(const VideoWriterOptions& options, ByteSink* sink) {
  if (state_ != State::kClosed) return Status::FailedPrecondition("video writer: already open");
  if (!sink) return Status::InvalidArgument("video writer: no output");
  VideoWriterOptions o;
  Status s = ResolveOptions(options, &o);
  if (!s.ok()) return s;
  if (o.container == Container::kMp4 && o.codec == VideoCodec::kVp8)
    return Status::InvalidArgument("video writer: VP8 cannot be stored in MP4 (use VP9, or the WebM container)");
  s = encoder_.Open(EncoderOptionsOf(o));
  if (!s.ok()) return s;
  if (o.container == Container::kMp4) {
    Mp4MuxerOptions m;
    m.layout = o.mp4_layout;
    m.codec = "vp9";  // libvpx's output: profile 0, 8 bit, 4:2:0; the level from size and rate
    m.width = o.width;
    m.height = o.height;
    m.fps = o.fps;
    m.audio.enabled = o.audio.enabled;
    m.audio.codec = "opus";
    m.audio.sample_rate = o.audio.sample_rate;
    m.audio.channels = o.audio.channels;
    m.audio.pre_skip = o.audio.pre_skip;
    m.audio.description = o.audio.codec_private;
    s = mp4_.Open(sink, m);
  } else {
    WebmMuxerOptions m;
    m.codec = o.codec;
    m.width = o.width;
    m.height = o.height;
    m.fps = o.fps;
    m.audio = o.audio;
    s = muxer_.Open(sink, m);
  }
  if (!s.ok()) return s;
  options_ = o;
  sink_ = sink;
  uv_width_ = (o.width + 1) / 2;
  uv_height_ = (o.height + 1) / 2;
  y_.assign(size_t(o.width) * size_t(o.height), 0);
  u_.assign(size_t(uv_width_) * size_t(uv_height_), 0);
  v_.assign(u_.size(), 0);
  state_ = State::kOpen;
  return Status::Ok();
}

Status VideoWriter::AddFrame(const Image& rgba, int64_t timestamp_us, const uint8_t* metadata, size_t metadata_size) {
  Status s = CheckUsable();
  if (!s.ok()) return s;
  // Checks that leave the writer usable.
  s = CheckImage(rgba, "video frame");
  if (!s.ok()) return s;
  if (rgba.width != options_.width || rgba.height != options_.height)
    return Status::OutOfRange("video writer: frame is " + std::to_string(rgba.width) + "x" +
                                   std::to_string(rgba.height) + " but the video is " + std::to_string(options_.width) +
                                   "x" + std::to_string(options_.height));
  if (mp4() && metadata_size > 0)
    return Status::InvalidArgument("video writer: MP4 files carry no per-frame metadata (use the WebM container)");
  if (metadata_size > kMaxFrameMetadataBytes)
    return Status::OutOfRange("video writer: frame metadata is " + std::to_string(metadata_size) +
                              " bytes, the limit is " + std::to_string(kMaxFrameMetadataBytes));
  int64_t t_ns;
  const bool given = timestamp_us != kAutoTimestamp;
  if (given) {
    if (timestamp_us > kMaxSafeTimestampUs || timestamp_us < -kMaxSafeTimestampUs)
      return Status::OutOfRange("video writer: timestamp " + std::to_string(timestamp_us) + " us is out of range");
    const int64_t origin = origin_set_ ? origin_us_ : timestamp_us;
    const int64_t rel_us = timestamp_us - origin;
    if (rel_us < 0)
      return Status::OutOfRange("video writer: timestamp " + std::to_string(timestamp_us) +
                                " us is before the start of the recording (the first timestamp, " +
                                std::to_string(origin) + " us)");
    if (rel_us > kMaxTimestampUs)
      return Status::OutOfRange("video writer: timestamp " + std::to_string(rel_us) +
                                " us after the first frame is beyond the limit of " + std::to_string(kMaxTimestampUs));
    t_ns = rel_us * 1000;
    if (frames_in_ > 0 && t_ns <= last_ns_)
      return Status::OutOfRange("video writer: timestamps must increase: " + std::to_string(rel_us) +
                                     " us after the first frame is not after the previous frame (" +
                                     std::to_string(last_ns_ / 1000) + " us)");
  } else {
    t_ns = base_ns_ + std::llround(double(frames_in_ - base_frame_) * 1e9 / options_.fps);
    if (t_ns / 1000 > kMaxTimestampUs)
      return Status::OutOfRange("video writer: the recording is longer than the limit of " +
                                std::to_string(kMaxTimestampUs) + " us");
  }

  if (!mp4()) {
    s = muxer_.CheckVideoTime(uint64_t(t_ns));
    if (!s.ok()) return s;
  }

  // From here on a failure stops the recording.
  if (given) {
    if (!origin_set_) {
      origin_us_ = timestamp_us;
      origin_set_ = true;
    }
    base_ns_ = t_ns;
    base_frame_ = frames_in_;
  }
  const double frame_ns = 1e9 / options_.fps;
  const int64_t next_auto_ns = t_ns + std::llround(frame_ns);
  bool force_key = false;
  if (frames_in_ > 0) {
    const double interval_ns = double(options_.keyframe_interval) * frame_ns;
    force_key = double(t_ns - last_key_ns_) + frame_ns / 2 >= interval_ns;
  }

  s = RgbaToI420(rgba, y_.data(), options_.width, u_.data(), uv_width_, v_.data(), uv_width_);
  if (!s.ok()) return Fail(s);
  I420Planes planes{y_.data(), u_.data(), v_.data(), options_.width, uv_width_};
  if (options_.flip_y) {  // start at the last row and walk up: libvpx takes negative strides
    planes.y += size_t(options_.height - 1) * size_t(options_.width);
    planes.u += size_t(uv_height_ - 1) * size_t(uv_width_);
    planes.v += size_t(uv_height_ - 1) * size_t(uv_width_);
    planes.y_stride = -planes.y_stride;
    planes.uv_stride = -planes.uv_stride;
  }
  int64_t produced = 0;
  s = encoder_.Encode(planes, t_ns / 1000, (next_auto_ns - t_ns) / 1000, force_key, [&](const EncodedFrame& f) {
    ++produced;
    if (f.keyframe) {
      ++keyframes_;
      last_key_ns_ = t_ns;
    }
    if (mp4()) return mp4_.AddFrame(f.data, f.size, f.keyframe, uint64_t(t_ns));
    return muxer_.AddFrame(f.data, f.size, f.keyframe, uint64_t(t_ns), metadata, metadata_size);
  });
  if (!s.ok()) return Fail(s);
  if (produced != 1)
    return Fail(Status::FailedPrecondition("video encoder: produced " + std::to_string(produced) +
                                           " frames for one input frame"));
  last_ns_ = t_ns;
  last_auto_ = !given;
  ++frames_in_;
  return Status::Ok();
}

Status VideoWriter::AudioTimeUs(int64_t timestamp_us, int64_t* file_us) {
  Status s = CheckUsable();
  if (!s.ok()) return s;
  if (!HasAudio()) return Status::FailedPrecondition("video writer: this video has no audio track");
  if (timestamp_us > kMaxSafeTimestampUs || timestamp_us < -kMaxSafeTimestampUs)
    return Status::OutOfRange("video writer: audio timestamp " + std::to_string(timestamp_us) + " us is out of range");
  const int64_t origin = origin_set_ ? origin_us_ : timestamp_us;
  const int64_t rel_us = timestamp_us - origin;
  if (rel_us < 0)
    return Status::OutOfRange("video writer: audio at " + std::to_string(timestamp_us) +
                              " us is before the start of the recording (the first timestamp, " + std::to_string(origin) +
                              " us)");
  if (rel_us > kMaxTimestampUs)
    return Status::OutOfRange("video writer: audio timestamp " + std::to_string(rel_us) +
                              " us after the start is beyond the limit of " + std::to_string(kMaxTimestampUs));
  origin_us_ = origin;
  origin_set_ = true;
  *file_us = rel_us;
  return Status::Ok();
}

Status VideoWriter::AddAudio(const uint8_t* packet, size_t size, int64_t pts_ns, int64_t discard_padding_ns) {
  Status s = CheckUsable();
  if (!s.ok()) return s;
  if (pts_ns < 0 || pts_ns / 1000 > kMaxTimestampUs)
    return Status::OutOfRange("video writer: audio time " + std::to_string(pts_ns) + " ns is out of range");
  if (discard_padding_ns < 0) return Status::OutOfRange("video writer: negative discard padding");
  s = mp4() ? mp4_.AddAudio(packet, size, uint64_t(pts_ns), uint64_t(discard_padding_ns))
            : muxer_.AddAudio(packet, size, uint64_t(pts_ns), uint64_t(discard_padding_ns));
  if (!s.ok() && s.code() != Code::kInvalidArgument && s.code() != Code::kOutOfRange &&
      !(s.code() == Code::kFailedPrecondition && !HasAudio()))
    return Fail(s);
  return s;
}

Status VideoWriter::Finish(VideoStats* stats) {
  Status s = CheckUsable();
  if (!s.ok()) return s;
  if (frames_in_ == 0) return Status::FailedPrecondition("video writer: no frames were added");
  int64_t late = 0;
  s = encoder_.Flush([&](const EncodedFrame&) {
    ++late;
    return Status::Ok();
  });
  if (!s.ok()) return Fail(s);
  if (late != 0) return Fail(Status::FailedPrecondition("video encoder: frames left over at the end"));
  // A last frame without a timestamp lasts until the next auto time: N frames at fps last exactly N / fps.
  // After a given timestamp, the muxer estimates the last frame's duration from the average spacing.
  const double duration_ns =
      last_auto_ ? double(base_ns_) + double(frames_in_ - base_frame_) * 1e9 / options_.fps : 0;
  s = mp4() ? mp4_.Finish(uint64_t(std::llround(duration_ns))) : muxer_.Finish(duration_ns);
  if (!s.ok()) return Fail(s);
  state_ = State::kFinished;
  if (stats) *stats = this->stats();
  return Status::Ok();
}

VideoStats VideoWriter::stats() const {
  VideoStats st;
  st.codec = options_.codec;
  st.frames = mp4() ? mp4_.frames() : muxer_.frames();
  st.keyframes = keyframes_;
  st.duration_s = mp4() ? mp4_.duration_seconds() : muxer_.duration_seconds();
  st.bytes = sink_ ? sink_->Size() : 0;
  st.audio_packets = mp4() ? mp4_.audio_packets() : muxer_.audio_packets();
  st.audio_duration_s = mp4() ? mp4_.audio_end_seconds() : muxer_.audio_end_seconds();
  return st;
}

std::string VideoWriter::MimeType() const {
  if (mp4()) return mp4_.MimeType();
  return std::string("video/webm;codecs=") + VideoCodecName(options_.codec) + (HasAudio() ? ",opus" : "");
}

}  // namespace ck
