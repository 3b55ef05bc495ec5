#include "video/webm_muxer.h"

#include <algorithm>
#include <cmath>
#include <new>
#include <string>

#include "mkvmuxer/mkvmuxer.h"
#include "video/mkv_sink_writer.h"
#include "video/opus_head.h"

namespace ck {
namespace {

constexpr char kAppName[] = "capturekit";
// Fixed, so identical input gives identical files (Matroska only needs it unique within the file).
constexpr uint64_t kTrackUid = 0x636b5f766964656fULL >> 8;  // "ck_video"
constexpr uint64_t kAudioTrackUid = 0x636b5f617564696fULL >> 8;  // "ck_audio"

bool IsOpusRate(int r) { return r == 8000 || r == 12000 || r == 16000 || r == 24000 || r == 48000; }

std::string Ms(uint64_t ns) { return std::to_string(ns / 1'000'000) + " ms"; }

}  // namespace

WebmMuxer::WebmMuxer() = default;
WebmMuxer::~WebmMuxer() = default;

Status WebmMuxer::WriterError(const char* what) const {
  if (writer_ && !writer_->status().ok()) return writer_->status();
  return Status::FailedPrecondition(std::string("webm muxer: ") + what);
}

Status WebmMuxer::Open(ByteSink* sink, const WebmMuxerOptions& o) {
  if (segment_) return Status::FailedPrecondition("webm muxer: already open");
  if (!sink || !sink->Seekable()) return Status::InvalidArgument("webm muxer: needs a seekable sink");
  if (o.width < kMinVideoSide || o.width > kMaxVideoSide || o.height < kMinVideoSide || o.height > kMaxVideoSide)
    return Status::OutOfRange("webm muxer: size " + std::to_string(o.width) + "x" + std::to_string(o.height) +
                              " is outside " + std::to_string(kMinVideoSide) + ".." + std::to_string(kMaxVideoSide));
  if (!(o.fps >= kMinFps && o.fps <= kMaxFps)) return Status::OutOfRange("webm muxer: fps must be within 0.1..240");
  sink_ = sink;
  fps_ = o.fps;
  writer_ = std::make_unique<MkvSinkWriter>(sink);
  segment_.reset(new (std::nothrow) mkvmuxer::Segment());
  if (!segment_) return Status::ResourceExhausted("webm muxer: out of memory");
  if (!segment_->Init(writer_.get())) return WriterError("cannot start the segment");
  segment_->set_mode(mkvmuxer::Segment::kFile);
  segment_->set_estimate_file_duration(true);
  segment_->OutputCues(true);
  mkvmuxer::SegmentInfo* info = segment_->GetSegmentInfo();
  info->set_writing_app(kAppName);
  info->set_muxing_app(kAppName);

  track_ = segment_->AddVideoTrack(o.width, o.height, 0);
  if (!track_) return WriterError("cannot add the video track");
  auto* video = static_cast<mkvmuxer::VideoTrack*>(segment_->GetTrackByNumber(track_));
  if (!video) return WriterError("video track missing");
  // AddVideoTrack defaults to VP8.
  video->set_codec_id(o.codec == VideoCodec::kVp9 ? mkvmuxer::Tracks::kVp9CodecId : mkvmuxer::Tracks::kVp8CodecId);
  video->set_uid(kTrackUid);
  video->set_default_duration(uint64_t(std::llround(1e9 / o.fps)));
  video->set_max_block_additional_id(kMetadataBlockAddId);
  if (!segment_->CuesTrack(track_)) return WriterError("cannot put the cues on the video track");
  if (o.audio.enabled) return OpenAudio(o.audio);
  return Status::Ok();
}

Status WebmMuxer::OpenAudio(const WebmAudioOptions& a) {
  if (!IsOpusRate(a.sample_rate))
    return Status::OutOfRange("webm muxer: audio sample rate must be 8000, 12000, 16000, 24000 or 48000, got " +
                              std::to_string(a.sample_rate));
  if (a.channels != 1 && a.channels != 2)
    return Status::OutOfRange("webm muxer: audio channels must be 1 or 2, got " + std::to_string(a.channels));
  OpusHead head;
  if (!a.codec_private.empty()) {
    if (a.codec_private.size() > kMaxOpusHeadSize)
      return Status::InvalidArgument("webm muxer: the audio codec private data is " +
                                     std::to_string(a.codec_private.size()) + " bytes, an OpusHead is at most " +
                                     std::to_string(kMaxOpusHeadSize));
    Status s = ParseOpusHead(a.codec_private.data(), a.codec_private.size(), &head);
    if (!s.ok()) return Status::InvalidArgument("webm muxer: the audio codec private data is not an OpusHead: " + s.message());
    if (head.channels != a.channels)
      return Status::InvalidArgument("webm muxer: the OpusHead has " + std::to_string(head.channels) +
                                     " channels but the audio track " + std::to_string(a.channels));
    codec_private_ = a.codec_private;
  } else {
    if (a.pre_skip < 0 || a.pre_skip > 65535)
      return Status::OutOfRange("webm muxer: audio pre-skip must be within 0..65535 samples, got " + std::to_string(a.pre_skip));
    head.channels = a.channels;
    head.pre_skip = a.pre_skip;
    head.input_sample_rate = a.sample_rate;
    codec_private_ = BuildOpusHead(head);
  }
  pre_skip_ = head.pre_skip;
  audio_track_ = segment_->AddAudioTrack(kOpusPlaybackRate, a.channels, 0);
  if (!audio_track_) return WriterError("cannot add the audio track");
  auto* audio = static_cast<mkvmuxer::AudioTrack*>(segment_->GetTrackByNumber(audio_track_));
  if (!audio) return WriterError("audio track missing");
  audio->set_codec_id(mkvmuxer::Tracks::kOpusCodecId);
  audio->set_uid(kAudioTrackUid);
  if (!audio->SetCodecPrivate(codec_private_.data(), codec_private_.size()))
    return Status::ResourceExhausted("webm muxer: out of memory");
  audio->set_codec_delay(uint64_t(std::llround(double(pre_skip_) * 1e9 / kOpusPlaybackRate)));
  audio->set_seek_pre_roll(kOpusSeekPreRollNs);
  return Status::Ok();
}

Status WebmMuxer::CheckLate(uint64_t timestamp_ns, const char* what) const {
  if (any_written_ && timestamp_ns < written_ns_)
    return Status::OutOfRange(std::string("webm muxer: ") + what + " at " + Ms(timestamp_ns) +
                              " comes after the file was written up to " + Ms(written_ns_) +
                              " (audio and video may run at most " + Ms(kInterleaveWindowNs) + " apart)");
  return Status::Ok();
}

Status WebmMuxer::AddFrame(const uint8_t* data, size_t size, bool keyframe, uint64_t timestamp_ns,
                           const uint8_t* metadata, size_t metadata_size) {
  if (!segment_) return Status::FailedPrecondition("webm muxer: not open");
  if (finished_) return Status::FailedPrecondition("webm muxer: already finished");
  if (!data || size == 0) return Status::InvalidArgument("webm muxer: empty frame");
  if (frames_ == 0 && !keyframe) return Status::InvalidArgument("webm muxer: the first frame must be a keyframe");
  if (metadata_size > kMaxFrameMetadataBytes)
    return Status::OutOfRange("webm muxer: frame metadata is " + std::to_string(metadata_size) +
                              " bytes, the limit is " + std::to_string(kMaxFrameMetadataBytes));
  if (frames_ > 0 && timestamp_ns < last_timestamp_ns_)
    return Status::InvalidArgument("webm muxer: frame timestamps must not go back (" + std::to_string(timestamp_ns) +
                                   " ns after " + std::to_string(last_timestamp_ns_) + " ns)");
  if (!audio_track_) {  // video only: straight into libwebm, no copy
    Status s = WriteVideo(data, size, keyframe, timestamp_ns, metadata, metadata_size);
    if (!s.ok()) return s;
    ++frames_;
    last_timestamp_ns_ = timestamp_ns;
    return Status::Ok();
  }
  Status s = CheckLate(timestamp_ns, "a video frame");
  if (!s.ok()) return s;
  Pending p;
  p.data.assign(data, data + size);
  if (metadata && metadata_size > 0) p.metadata.assign(metadata, metadata + metadata_size);
  p.timestamp_ns = timestamp_ns;
  p.keyframe = keyframe;
  video_queue_bytes_ += size + metadata_size;
  video_queue_.push_back(std::move(p));
  ++frames_;
  last_timestamp_ns_ = timestamp_ns;
  return Pump(false);
}

Status WebmMuxer::AddAudio(const uint8_t* data, size_t size, uint64_t timestamp_ns, uint64_t discard_padding_ns) {
  if (!segment_) return Status::FailedPrecondition("webm muxer: not open");
  if (finished_) return Status::FailedPrecondition("webm muxer: already finished");
  if (!audio_track_) return Status::FailedPrecondition("webm muxer: this file has no audio track (open it with audio options)");
  if (!data || size == 0) return Status::InvalidArgument("webm muxer: empty audio packet");
  if (size > kMaxOpusPacketSize)
    return Status::OutOfRange("webm muxer: audio packet is " + std::to_string(size) + " bytes, an Opus packet is at most " +
                              std::to_string(kMaxOpusPacketSize));
  int samples = 0;
  Status s = OpusPacketSamples(data, size, &samples);
  if (!s.ok()) return Status::InvalidArgument("webm muxer: audio packet is not Opus: " + s.message());
  const uint64_t packet_ns = uint64_t(samples) * 1'000'000'000 / kOpusPlaybackRate;
  if (discard_padding_ns > packet_ns)
    return Status::OutOfRange("webm muxer: discard padding of " + std::to_string(discard_padding_ns) +
                              " ns is longer than the packet (" + std::to_string(packet_ns) + " ns)");
  if (audio_packets_ > 0 && timestamp_ns <= last_audio_ns_)
    return Status::InvalidArgument("webm muxer: audio timestamps must increase (" + std::to_string(timestamp_ns) +
                                   " ns after " + std::to_string(last_audio_ns_) + " ns)");
  s = CheckLate(timestamp_ns, "an audio packet");
  if (!s.ok()) return s;
  Pending p;
  p.data.assign(data, data + size);
  p.timestamp_ns = timestamp_ns;
  p.discard_padding_ns = discard_padding_ns;
  p.keyframe = true;
  audio_queue_bytes_ += size;
  audio_queue_.push_back(std::move(p));
  ++audio_packets_;
  last_audio_ns_ = timestamp_ns;
  audio_end_ns_ = std::max(audio_end_ns_, timestamp_ns + packet_ns - discard_padding_ns);
  return Pump(false);
}

Status WebmMuxer::Pump(bool all) {
  for (;;) {
    const bool have_video = !video_queue_.empty(), have_audio = !audio_queue_.empty();
    if (!have_video && !have_audio) return Status::Ok();
    const bool take_video =
        have_video && (!have_audio || video_queue_.front().timestamp_ns <= audio_queue_.front().timestamp_ns);
    std::deque<Pending>& queue = take_video ? video_queue_ : audio_queue_;
    size_t& queue_bytes = take_video ? video_queue_bytes_ : audio_queue_bytes_;
    const uint64_t t = queue.front().timestamp_ns;
    bool ready = all;
    // The other track has reached this time: nothing earlier can come from it.
    if (!ready) ready = take_video ? (audio_packets_ > 0 && last_audio_ns_ >= t) : (frames_ > 0 && last_timestamp_ns_ >= t);
    // This track runs too far ahead of the other: write its oldest frames anyway.
    if (!ready) ready = queue.back().timestamp_ns - t > kInterleaveWindowNs || queue_bytes > kInterleaveMaxBytes;
    if (!ready) return Status::Ok();
    Pending p = std::move(queue.front());
    queue.pop_front();
    queue_bytes -= p.data.size() + p.metadata.size();
    Status s = take_video ? WriteVideo(p.data.data(), p.data.size(), p.keyframe, p.timestamp_ns,
                                       p.metadata.empty() ? nullptr : p.metadata.data(), p.metadata.size())
                          : WriteAudio(p);
    if (!s.ok()) return s;
  }
}

Status WebmMuxer::WriteVideo(const uint8_t* data, size_t size, bool keyframe, uint64_t timestamp_ns,
                             const uint8_t* metadata, size_t metadata_size) {
  mkvmuxer::Frame frame;
  if (!frame.Init(data, size)) return Status::ResourceExhausted("webm muxer: out of memory");
  frame.set_track_number(track_);
  frame.set_timestamp(timestamp_ns);
  frame.set_is_key(keyframe);
  if (metadata && metadata_size > 0 && !frame.AddAdditionalData(metadata, metadata_size, kMetadataBlockAddId))
    return Status::ResourceExhausted("webm muxer: out of memory");
  if (!segment_->AddGenericFrame(&frame)) return WriterError("cannot add a frame");
  // A keyframe starts a Cluster at its time, or at the last audio libwebm held back if earlier; any
  // video frame makes libwebm write the audio it held.
  if (keyframe) cluster_start_ns_ = audio_since_video_ ? std::min(timestamp_ns, last_audio_written_ns_) : timestamp_ns;
  audio_since_video_ = false;
  video_written_ns_ = timestamp_ns;
  written_ns_ = timestamp_ns;
  any_written_ = true;
  return Status::Ok();
}

Status WebmMuxer::WriteAudio(const Pending& p) {
  mkvmuxer::Frame frame;
  if (!frame.Init(p.data.data(), p.data.size())) return Status::ResourceExhausted("webm muxer: out of memory");
  frame.set_track_number(audio_track_);
  frame.set_timestamp(p.timestamp_ns);
  frame.set_is_key(true);
  if (p.discard_padding_ns > 0) frame.set_discard_padding(int64_t(p.discard_padding_ns));
  // libwebm holds audio until the next video frame. When none comes for a while, start a Cluster here
  // (no Cue point: Cues stay on video keyframes), which writes what it held.
  const bool new_cluster = p.timestamp_ns >= cluster_start_ns_ + kMaxAudioClusterSpanNs;
  if (new_cluster) {
    segment_->OutputCues(false);
    segment_->ForceNewClusterOnNextFrame();
  }
  const bool ok = segment_->AddGenericFrame(&frame);
  if (new_cluster) segment_->OutputCues(true);
  if (!ok) return WriterError("cannot add an audio packet");
  if (new_cluster) {
    cluster_start_ns_ = audio_since_video_ ? std::min(p.timestamp_ns, last_audio_written_ns_) : p.timestamp_ns;
    audio_since_video_ = false;
  } else {
    audio_since_video_ = true;
  }
  last_audio_written_ns_ = p.timestamp_ns;
  written_ns_ = p.timestamp_ns;
  any_written_ = true;
  return Status::Ok();
}

Status WebmMuxer::Finish(double duration_ns) {
  if (!segment_) return Status::FailedPrecondition("webm muxer: not open");
  if (finished_) return Status::FailedPrecondition("webm muxer: already finished");
  finished_ = true;
  if (frames_ == 0) return Status::FailedPrecondition("webm muxer: no frames were added");
  Status s = Pump(true);
  if (!s.ok()) return s;
  // mkvmuxer estimates the last frame's duration from the spacing of the others; with one frame
  // there is none, so say it: one frame lasts 1 / fps.
  if (duration_ns <= 0 && frames_ == 1) duration_ns = 1e9 / fps_;
  if (audio_track_) {
    // The video's end as mkvmuxer would estimate it (its formula), then the later of video and audio.
    if (duration_ns <= 0)
      duration_ns = double(last_timestamp_ns_) + double(last_timestamp_ns_) / double(frames_ - 1);
    duration_ns = std::max(duration_ns, double(audio_end_ns_));
  }
  if (duration_ns > 0) segment_->set_duration(duration_ns / double(segment_->GetSegmentInfo()->timecode_scale()));
  if (!segment_->Finalize()) return WriterError("cannot finish the file");
  duration_s_ = segment_->GetSegmentInfo()->duration() * double(segment_->GetSegmentInfo()->timecode_scale()) / 1e9;
  s = writer_->status();
  if (!s.ok()) return s;
  return sink_->Close();
}

}  // namespace ck
