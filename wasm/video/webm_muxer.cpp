#include "video/webm_muxer.h"

#include <cmath>
#include <new>
#include <string>

#include "mkvmuxer/mkvmuxer.h"
#include "video/mkv_sink_writer.h"

namespace ck {
namespace {

constexpr char kAppName[] = "capturekit";
// Fixed, so identical input gives identical files (Matroska only needs it unique within the file).
constexpr uint64_t kTrackUid = 0x636b5f766964656fULL >> 8;  // "ck_video"

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
  mkvmuxer::Frame frame;
  if (!frame.Init(data, size)) return Status::ResourceExhausted("webm muxer: out of memory");
  frame.set_track_number(track_);
  frame.set_timestamp(timestamp_ns);
  frame.set_is_key(keyframe);
  if (metadata && metadata_size > 0 && !frame.AddAdditionalData(metadata, metadata_size, kMetadataBlockAddId))
    return Status::ResourceExhausted("webm muxer: out of memory");
  if (!segment_->AddGenericFrame(&frame)) return WriterError("cannot add a frame");
  ++frames_;
  last_timestamp_ns_ = timestamp_ns;
  return Status::Ok();
}

Status WebmMuxer::Finish(double duration_ns) {
  if (!segment_) return Status::FailedPrecondition("webm muxer: not open");
  if (finished_) return Status::FailedPrecondition("webm muxer: already finished");
  finished_ = true;
  if (frames_ == 0) return Status::FailedPrecondition("webm muxer: no frames were added");
  // mkvmuxer estimates the last frame's duration from the spacing of the others; with one frame
  // there is none, so say it: one frame lasts 1 / fps.
  if (duration_ns <= 0 && frames_ == 1) duration_ns = 1e9 / fps_;
  if (duration_ns > 0) segment_->set_duration(duration_ns / double(segment_->GetSegmentInfo()->timecode_scale()));
  if (!segment_->Finalize()) return WriterError("cannot finish the file");
  duration_s_ = segment_->GetSegmentInfo()->duration() * double(segment_->GetSegmentInfo()->timecode_scale()) / 1e9;
  Status s = writer_->status();
  if (!s.ok()) return s;
  return sink_->Close();
}

}  // namespace ck
