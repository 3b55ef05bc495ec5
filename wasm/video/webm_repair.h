// makeSeekable: turns a MediaRecorder / live WebM or Matroska (unknown sizes, no Duration, no Cues)
// into a seekable file: known Segment and Cluster sizes, Info with Duration, a SeekHead, and Cues placed
// before the Clusters so a player finds them with its first reads.
//
// Two passes over the same input, both streaming, memory independent of the media size:
//   1. RepairPlanner: Feed() every input byte in order (split anywhere), Finish() -> RepairPlan.
//      It keeps the EBML header, Info and Tracks (each at most 16 MiB), and per Cluster and cue point a
//      few dozen bytes; frames are never held.
//   2. RepairWriter(plan): Feed() the same bytes again; each call says which pieces to write: slices of
//      the bytes just fed (the frames, never copied), or header bytes the writer made. The output size
//      is known before the first byte is written.
//
// Codecs: V_VP8, V_VP9, V_AV1, V_MPEG4/ISO/AVC, V_MPEGH/ISO/HEVC, A_OPUS, A_VORBIS, A_PCM/INT/LIT,
// A_PCM/FLOAT/IEEE; any other CodecID is refused (the copy itself is codec-agnostic, but cue points
// must name keyframes: for VP8/VP9 the frame header decides, for the others the muxer's flags do).
// Cue points: the first video keyframe of each Cluster, and further ones at least cue_interval_ms apart
// (audio-only files: the first block of each Cluster). Duration: the end of the last frame.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "video/webm_parser.h"

namespace ck {

struct RepairOptions {
  // A recording whose last bytes are missing (a crash, a lost last chunk) fails with a "truncated"
  // error unless this is set; then the output keeps every complete frame and info().truncated is true.
  bool allow_truncated = false;
  // Besides the first video keyframe of each Cluster, a keyframe becomes a cue point when it is at
  // least this far (in ms) after the previous one.
  uint32_t cue_interval_ms = 1000;
};

struct RepairInfo {
  std::string doc_type;            // "webm" or "matroska"
  std::string codecs;              // CodecIDs in track order, comma-separated
  uint64_t timecode_scale = 0;     // ns per tick
  double duration_ticks = 0;       // the Duration written into Info
  double duration_ms = 0;
  uint64_t input_size = 0;
  uint64_t output_size = 0;
  uint64_t clusters = 0;
  uint64_t cues = 0;
  uint64_t frames = 0;             // blocks (SimpleBlock or BlockGroup) copied
  uint64_t cue_track = 0;          // track number the cue points refer to
  bool had_cues = false;           // the input already had Cues (they are rebuilt)
  bool had_duration = false;       // the input's Info already had a Duration (it is recomputed)
  bool truncated = false;          // the input was cut short (allow_truncated) ...
  uint64_t dropped_bytes = 0;      // ... and this many trailing input bytes were left out
};

// One step of pass 2, in input order: input bytes [begin, end) are copied or skipped; a Cluster header
// with a known size (header_content_size) may be written before them. check_id: the element ID the
// input must have at `begin` (pass 2 checks that the input did not change since pass 1).
struct RepairOp {
  uint64_t begin = 0;
  uint64_t end = 0;
  uint64_t header_content_size = 0;
  uint32_t check_id = 0;
  bool copy = false;
  bool cluster_header = false;
};

struct RepairPlan {
  std::vector<uint8_t> prelude;  // EBML header, Segment header, SeekHead, Info, Tracks, Cues
  std::vector<RepairOp> ops;
  RepairInfo info;
};

class RepairPlanner : private WebmListener {
 public:
  explicit RepairPlanner(const RepairOptions& options = RepairOptions());
  RepairPlanner(const RepairPlanner&) = delete;
  RepairPlanner& operator=(const RepairPlanner&) = delete;

  Status Feed(const uint8_t* data, size_t size);
  // Ends pass 1 and builds the plan (take it with TakePlan()).
  Status Finish();
  const RepairInfo& info() const { return plan_.info; }
  RepairPlan TakePlan() { return std::move(plan_); }

 private:
  struct Pending {
    bool active = false;
    uint64_t offset = 0;  // of the SimpleBlock or BlockGroup
    uint64_t track = 0;
    int64_t ts = 0;
    bool keyframe = false;
    bool has_block = false;
    bool has_reference = false;  // a ReferenceBlock: not a keyframe
    bool laced = false;
    uint8_t head[8] = {};        // first payload bytes (cue track only), for the codec's own keyframe flag
    uint32_t head_len = 0;
    int64_t block_duration = -1;
  };
  struct TrackStats {
    uint64_t frames = 0;
    int64_t max_ts = INT64_MIN;
    int64_t last_duration = -1;  // BlockDuration of the latest block, if any
    int64_t recent[8] = {};
    int recent_n = 0;
  };
  struct Cue {
    int64_t ts;
    uint64_t track;
    uint64_t op;        // index of the op that starts the Cluster in the output
    uint64_t relative;  // block position inside the Cluster's payload (output)
  };

  Status OnElementStart(const EbmlElement& e) override;
  Status OnElementEnd(const EbmlElement& e, uint64_t end) override;
  Status OnElementData(const EbmlElement& e, const uint8_t* data, size_t size) override;
  Status OnBlock(const EbmlElement& e, const WebmBlockHeader& b) override;
  Status OnBlockData(const uint8_t* data, size_t size) override;

  Status AddOp(bool copy, uint64_t begin, uint64_t end, uint32_t check_id = 0, bool cluster_header = false,
               uint64_t header_content_size = 0);
  Status CommitFrame();
  Status EndCluster(uint64_t end, bool truncated);
  Status SetTracks(const uint8_t* data, size_t size);
  int TrackIndex(uint64_t number) const;
  Status BuildPlan();

  RepairOptions options_;
  WebmStreamParser parser_;
  RepairPlan plan_;
  bool finished_ = false;
  Status finish_status_;
  uint64_t covered_ = 0;  // input bytes already described by ops

  std::vector<uint8_t> ebml_header_;  // whole element
  std::vector<uint8_t> info_raw_;     // payload
  std::vector<uint8_t> tracks_raw_;   // payload
  WebmInfo info_;
  std::vector<WebmTrack> tracks_;
  std::vector<TrackStats> stats_;
  bool seen_ebml_ = false, seen_segment_ = false, segment_ended_ = false, seen_info_ = false, seen_tracks_ = false;
  uint64_t first_tags_op_ = UINT64_MAX, first_chapters_op_ = UINT64_MAX, first_attachments_op_ = UINT64_MAX;

  bool in_cluster_ = false;
  EbmlElement cluster_;
  bool cluster_has_tc_ = false;
  int64_t cluster_tc_ = 0;
  uint64_t cluster_frames_ = 0;
  bool cluster_has_cue_ = false;
  std::vector<std::pair<uint64_t, uint64_t>> cluster_strips_;  // input ranges left out (Position, PrevSize, CRC-32)
  uint64_t cluster_stripped_ = 0;
  size_t cluster_first_cue_ = 0;

  int cue_codec_ = 0;  // 8 / 9: the cue track is VP8 / VP9 (keyframes read from the bitstream)
  Pending pending_;
  std::vector<Cue> cues_;
  int64_t last_cue_ts_ = INT64_MIN;
};

// One piece of output: bytes of the chunk just fed (kInput), of literal(), or of the plan's prelude.
struct RepairPiece {
  enum Source : uint32_t { kInput = 0, kLiteral = 1, kPrelude = 2 };
  Source source;
  uint64_t offset;
  uint64_t size;
};

class RepairWriter {
 public:
  explicit RepairWriter(RepairPlan plan);

  // Feeds the next input bytes (the same input as pass 1, in order, split anywhere). `pieces` is
  // replaced with what to write, in order; the first call starts with the prelude.
  Status Feed(const uint8_t* data, size_t size, std::vector<RepairPiece>* pieces);
  // After the last Feed: fails if the input was shorter than in pass 1.
  Status Finish();

  const std::vector<uint8_t>& literal() const { return literal_; }
  const std::vector<uint8_t>& prelude() const { return plan_.prelude; }
  const RepairInfo& info() const { return plan_.info; }
  uint64_t written() const { return written_; }

  // Convenience for native callers: Feed() then sink(const uint8_t*, size_t) for each piece.
  template <typename Sink>
  Status FeedTo(const uint8_t* data, size_t size, Sink&& sink) {
    Status s = Feed(data, size, &scratch_);
    if (!s.ok()) return s;
    for (const RepairPiece& p : scratch_) {
      const uint8_t* base = p.source == RepairPiece::kInput ? data
                            : p.source == RepairPiece::kLiteral ? literal_.data() : plan_.prelude.data();
      sink(base + p.offset, size_t(p.size));
    }
    return Status::Ok();
  }

 private:
  Status Fail(Status s);

  RepairPlan plan_;
  Status error_;
  bool failed_ = false;
  bool started_ = false;
  uint64_t pos_ = 0;
  size_t op_ = 0;
  bool op_started_ = false;
  uint64_t written_ = 0;
  std::vector<uint8_t> literal_;
  std::vector<RepairPiece> scratch_;
};

// Repairs a whole in-memory file (tests, small inputs).
Status MakeSeekable(const uint8_t* data, size_t size, std::vector<uint8_t>* out,
                    const RepairOptions& options = RepairOptions(), RepairInfo* info = nullptr);

}  // namespace ck
