// Remuxer: turns a WebM into an MP4 and an MP4 into a WebM without re-encoding. Every packet's bytes
// and time are carried over; only the container around them changes. Feed it the input's bytes split
// anywhere; the output goes through a ByteSink (streamed, or in memory).
//
// The input's kind is decided from its first 8 bytes: the EBML magic 1A 45 DF A3 is WebM/Matroska,
// 'ftyp' or 'styp' at byte 4 is MP4. Anything else is CorruptData ("not a WebM or MP4 file").
//
// WebM -> MP4 (WebmStreamParser -> Mp4Muxer), the first video track and the first audio track:
//   V_VP9                 vp09 + vpcC (profile 0, 8 bit, 4:2:0; the level from size and frame rate)
//   V_AV1                 av01 + av1C: the CodecPrivate is the av1C record
//   V_MPEG4/ISO/AVC       avc1 + avcC: the CodecPrivate is the avcC record (Chromium's Annex B blocks
//                         come out with 4-byte NAL lengths, as MP4 wants)
//   V_VP8                 refused (InvalidArgument): VP8 has no MP4 mapping that players accept
//   A_OPUS                Opus + dOps built from the CodecPrivate (OpusHead); its pre-skip (WebM's
//                         CodecDelay) becomes the edit list's media time
//   other codecs          refused (InvalidArgument), as are laced or content-encoded (compressed or
//                         encrypted) tracks
//   A block's time is (Cluster Timecode + block timecode) x TimecodeScale; a SimpleBlock's key flag,
//   or a BlockGroup without ReferenceBlock, marks a key frame. The Info Duration, when present and after
//   the last frame, ends the video.
//
// MP4 -> WebM (Mp4StreamReader -> WebmMuxer), the first video track and the first audio track:
//   vp09                  V_VP9
//   Opus                  A_OPUS with an OpusHead built from dOps (big-endian fields -> OpusHead's
//                         little-endian ones), its pre-skip written as CodecDelay
//   avc1/avc3, hvc1/hev1  refused (InvalidArgument): WebM has no H.264 or HEVC
//   av01                  refused (InvalidArgument): the WebM muxer writes VP8/VP9 only
//   mp4a                  refused (InvalidArgument): WebM audio is Opus here
//   A sample's time is its decode time + composition offset, minus the video edit's media time, plus
//   an empty edit's duration; audio keeps its decode time (the pre-skip travels as CodecDelay). Sample
//   bytes are gathered from the mdat payloads by their offsets, in file order, progressive or fragmented.
//
// Output layouts for MP4: progressive (moov first, complete sample tables; the default) holds the
// samples in memory until Finish, as Mp4Muxer's progressive layout does; fragmented streams in bounded
// memory. (js-glue/video/remux.js makes a progressive MP4 in bounded memory instead: two fragmented
// runs streamed through Mp4RepairPlanner and Mp4RepairWriter.) WebM output streams (WebmMuxer's
// interleaving window bounds what waits).
//
// A cut-off input (Finish while a box/element is incomplete) is CorruptData unless allow_truncated:
// then every complete packet before the cut is written and the file is finished.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "video/byte_sink.h"
#include "video/mp4_muxer.h"

namespace ck {

enum class RemuxContainer { kMp4, kWebm };

struct RemuxOptions {
  RemuxContainer container = RemuxContainer::kMp4;
  Mp4Layout layout = Mp4Layout::kProgressive;  // MP4 output only
  bool allow_truncated = false;
};

struct RemuxInfo {
  std::string input_type;   // "webm" or "mp4"
  std::string mime_type;    // of the output
  std::string video_codec;  // "vp9", "av1", "h264"
  bool has_audio = false;
  int64_t frames = 0;
  int64_t audio_packets = 0;
  double duration_seconds = 0;
  bool truncated = false;   // the input was cut off (allow_truncated)
};

class Remuxer {
 public:
  Remuxer();
  ~Remuxer();
  Remuxer(const Remuxer&) = delete;
  Remuxer& operator=(const Remuxer&) = delete;

  // `sink` is not owned and must outlive the remuxer.
  Status Open(ByteSink* sink, const RemuxOptions& options);
  // After a failure every further call returns it again.
  Status Feed(const uint8_t* data, size_t size);
  Status Finish();
  const RemuxInfo& info() const { return info_; }

  class Converter;  // one per direction (remux.cpp)

 private:
  Status Fail(Status s);
  Status Start();

  ByteSink* sink_ = nullptr;
  RemuxOptions options_;
  RemuxInfo info_;
  std::vector<uint8_t> head_;  // the first bytes, until the kind is known
  std::unique_ptr<Converter> converter_;
  bool open_ = false, finished_ = false, failed_ = false;
  Status error_;
};

}  // namespace ck
