// WebmMuxer: one VP8 or VP9 video track in a WebM file, written through a ByteSink with libwebm's
// mkvmuxer::Segment in file mode: Cues on the video track (one CuePoint per Cluster; a Cluster starts
// at every keyframe), an exact Duration (mkvmuxer estimates the last frame's duration from the
// average frame spacing, so N frames at fps give N/fps), and the header patched at Finish.
//
// Per-frame metadata (for example an XR pose as JSON) travels in the file itself, in Matroska
// BlockAdditions, so the video carries its own poses:
//   BlockGroup
//     Block                 the VP8/VP9 frame
//     BlockAdditions
//       BlockMore
//         BlockAddID        kMetadataBlockAddId (2)
//         BlockAdditional   the metadata bytes as given (capturekit passes UTF-8 JSON, no prefix, no NUL)
//     ReferenceBlock        present on non-keyframes (how a BlockGroup says "not a keyframe")
// The track's MaxBlockAdditionID is 2. BlockAddID 1 is not used because WebM gives it to VP8/VP9
// alpha: libvpx-based decoders (ffmpeg's libvpx wrapper, for one) would try to decode the JSON as an
// alpha plane. Frames without metadata are plain SimpleBlocks.
//
// Output is deterministic: the same frames give the same bytes (fixed TrackUID, no DateUTC).
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "common/status.h"
#include "video/byte_sink.h"
#include "video/vpx_encoder.h"

namespace mkvmuxer {
class Segment;
}

namespace ck {

constexpr uint64_t kMetadataBlockAddId = 2;
constexpr size_t kMaxFrameMetadataBytes = 1 << 20;

struct WebmMuxerOptions {
  VideoCodec codec = VideoCodec::kVp8;
  int width = 0;
  int height = 0;
  double fps = 30;  // written as the track's DefaultDuration and FrameRate hint
};

class MkvSinkWriter;

class WebmMuxer {
 public:
  WebmMuxer();
  ~WebmMuxer();
  WebmMuxer(const WebmMuxer&) = delete;
  WebmMuxer& operator=(const WebmMuxer&) = delete;

  // Starts a file in `sink` (which must outlive the muxer and be seekable). Width and height within
  // kMinVideoSide..kMaxVideoSide, fps within kMinFps..kMaxFps (vpx_encoder.h).
  Status Open(ByteSink* sink, const WebmMuxerOptions& options);
  // Adds one compressed frame (from any VP8/VP9 encoder: VideoWriter's libvpx, or the browser's
  // VideoEncoder) at timestamp_ns (non-decreasing, else InvalidArgument), with optional metadata bytes.
  Status AddFrame(const uint8_t* data, size_t size, bool keyframe, uint64_t timestamp_ns,
                  const uint8_t* metadata = nullptr, size_t metadata_size = 0);
  // Writes the Cues, patches the header (duration, sizes, seek head) and closes the sink.
  // duration_ns > 0 sets the Duration; 0 lets mkvmuxer estimate it (the last timestamp plus the
  // average frame spacing; 1 / fps for a single frame).
  Status Finish(double duration_ns = 0);

  // The Duration written at Finish, in seconds (0 before).
  double duration_seconds() const { return duration_s_; }
  int64_t frames() const { return frames_; }

 private:
  Status WriterError(const char* what) const;

  ByteSink* sink_ = nullptr;
  std::unique_ptr<MkvSinkWriter> writer_;
  std::unique_ptr<mkvmuxer::Segment> segment_;
  uint64_t track_ = 0;
  double fps_ = 30;
  int64_t frames_ = 0;
  uint64_t last_timestamp_ns_ = 0;
  double duration_s_ = 0;
  bool finished_ = false;
};

}  // namespace ck
