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
// An optional Opus audio track (A_OPUS, track 2) goes beside the video:
//   CodecPrivate   an OpusHead (opus_head.h): the one given (WebCodecs' AudioEncoder
//                  decoderConfig.description), or one built from channels, input rate and pre-skip
//   CodecDelay     the OpusHead's pre-skip as nanoseconds (pre_skip * 1e9 / 48000)
//   SeekPreRoll    80 ms, as WebM requires for Opus
//   SamplingFrequency 48000 (Opus always decodes at 48 kHz; the input rate is in the OpusHead)
// Each audio packet is one SimpleBlock (keyframe flag set); a packet with end padding (the last one of
// an encoder's flush) is a BlockGroup with DiscardPadding.
//
// Interleaving: audio and video may be added in any relative order, each track's own timestamps
// non-decreasing. Frames wait in a queue and go into the file in time order (on equal times the video
// frame first): a frame is written once the other track has reached its time. Cues stay on the video
// track (a Cluster starts at every video keyframe, audio at that time inside it). The wait is bounded:
// when one track runs more than kInterleaveWindowNs ahead of the other (or holds more than
// kInterleaveMaxBytes), its oldest frames are written anyway, and a frame of the other track that
// comes later with an earlier time is refused (OutOfRange, the muxer stays usable). When audio runs on
// without video (a still screen sends no frames), a Cluster without a Cue point starts every
// kMaxAudioClusterSpanNs, so neither libwebm's own audio queue nor a Cluster's 16-bit relative
// timecodes ever overflow.
//
// Duration: the latest end of either track: the video end as without audio (the given duration, or
// the last frame plus the average spacing), the audio end from the last packet's TOC (its time plus
// its samples, minus its end padding).
//
// Output is deterministic: the same frames give the same bytes (fixed TrackUIDs, no DateUTC).
#pragma once
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "video/byte_sink.h"
#include "video/vpx_encoder.h"

namespace mkvmuxer {
class Segment;
}

namespace ck {

constexpr uint64_t kMetadataBlockAddId = 2;
constexpr size_t kMaxFrameMetadataBytes = 1 << 20;
constexpr uint64_t kOpusSeekPreRollNs = 80'000'000;
constexpr uint64_t kInterleaveWindowNs = 10'000'000'000;  // 10 s
constexpr size_t kInterleaveMaxBytes = 64 << 20;
constexpr uint64_t kMaxAudioClusterSpanNs = 5'000'000'000;

// The audio track (Opus only).
struct WebmAudioOptions {
  bool enabled = false;
  int sample_rate = 48000;  // the encoder's input rate: 8000, 12000, 16000, 24000 or 48000
  int channels = 1;         // 1 or 2
  int pre_skip = 312;       // samples at 48 kHz, for a built OpusHead (kDefaultOpusPreSkip)
  std::vector<uint8_t> codec_private;  // an OpusHead to use as is (checked; its channels must match), or empty
};

struct WebmMuxerOptions {
  VideoCodec codec = VideoCodec::kVp8;
  int width = 0;
  int height = 0;
  double fps = 30;  // written as the track's DefaultDuration and FrameRate hint
  WebmAudioOptions audio;
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
  // Adds one Opus packet (any Opus encoder's: OpusEncoder in wasm/audio, or the browser's
  // AudioEncoder) at timestamp_ns (non-decreasing within the audio track, else InvalidArgument).
  // discard_padding_ns: trailing decoded time to drop (the last packet of a flush), 0 otherwise.
  // FailedPrecondition without an audio track; CorruptData for a packet whose TOC is not Opus framing.
  Status AddAudio(const uint8_t* data, size_t size, uint64_t timestamp_ns, uint64_t discard_padding_ns = 0);
  // Whether a video frame at timestamp_ns would still be taken (OutOfRange if the file has been
  // written beyond it; see "Interleaving"), so a caller can check before encoding the frame.
  Status CheckVideoTime(uint64_t timestamp_ns) const { return CheckLate(timestamp_ns, "a video frame"); }
  // Writes what is queued, the Cues, patches the header (duration, sizes, seek head) and closes the sink.
  // duration_ns > 0 sets the video's end; 0 lets mkvmuxer estimate it (the last timestamp plus the
  // average frame spacing; 1 / fps for a single frame). With audio, the Duration is the later of that
  // and the audio's end.
  Status Finish(double duration_ns = 0);

  // The Duration written at Finish, in seconds (0 before).
  double duration_seconds() const { return duration_s_; }
  int64_t frames() const { return frames_; }
  bool has_audio() const { return audio_track_ != 0; }
  int64_t audio_packets() const { return audio_packets_; }
  // The audio's end (last packet's time + its samples - its padding), in seconds; 0 without audio.
  double audio_end_seconds() const { return double(audio_end_ns_) / 1e9; }
  int audio_pre_skip() const { return pre_skip_; }  // samples at 48 kHz
  const std::vector<uint8_t>& audio_codec_private() const { return codec_private_; }

 private:
  struct Pending {
    std::vector<uint8_t> data, metadata;
    uint64_t timestamp_ns = 0;
    uint64_t discard_padding_ns = 0;
    bool keyframe = false;
  };

  Status WriterError(const char* what) const;
  Status OpenAudio(const WebmAudioOptions& a);
  Status CheckLate(uint64_t timestamp_ns, const char* what) const;
  // Writes queued frames that are safe to write (or every one, at the end).
  Status Pump(bool all);
  Status WriteVideo(const uint8_t* data, size_t size, bool keyframe, uint64_t timestamp_ns, const uint8_t* metadata,
                    size_t metadata_size);
  Status WriteAudio(const Pending& p);

  ByteSink* sink_ = nullptr;
  std::unique_ptr<MkvSinkWriter> writer_;
  std::unique_ptr<mkvmuxer::Segment> segment_;
  uint64_t track_ = 0;
  double fps_ = 30;
  int64_t frames_ = 0;
  uint64_t last_timestamp_ns_ = 0;
  double duration_s_ = 0;
  bool finished_ = false;

  // Audio (see the top of this file).
  uint64_t audio_track_ = 0;
  int pre_skip_ = 0;
  std::vector<uint8_t> codec_private_;
  int64_t audio_packets_ = 0;
  uint64_t last_audio_ns_ = 0;
  uint64_t audio_end_ns_ = 0;
  std::deque<Pending> video_queue_, audio_queue_;
  size_t video_queue_bytes_ = 0, audio_queue_bytes_ = 0;
  uint64_t written_ns_ = 0;          // the time of the last frame handed to libwebm
  bool any_written_ = false;
  uint64_t video_written_ns_ = 0;    // the last video frame handed to libwebm
  uint64_t cluster_start_ns_ = 0;    // at or before the current Cluster's time
  bool audio_since_video_ = false;   // audio handed to libwebm after the last video frame (libwebm holds it)
  uint64_t last_audio_written_ns_ = 0;
};

}  // namespace ck
