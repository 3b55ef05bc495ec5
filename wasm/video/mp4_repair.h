// makeSeekable for MP4: turns a fragmented MP4 (what Chrome's MediaRecorder writes: a moov without
// samples, then moof + mdat pairs, maybe one fragment for the whole recording, maybe an mfra; or one a
// crash cut off mid-fragment) or a progressive MP4 with its moov at the end into a progressive MP4
// with the moov first and complete sample tables, which every player, editor and upload pipeline
// seeks in:
//
//   ftyp   isom, minor 512, compatible isom iso2 mp41 (+ avc1 / av01 by the video codec)
//   moov   mvhd (v1, timescale 1000); per input track, in the input's order: tkhd (v1), edts/elst
//          (an empty edit when the track's first sample starts after zero; the input's media time,
//          e.g. Opus pre-skip), mdia: mdhd (v1, the input's timescale), hdlr, minf (vmhd/smhd, dinf),
//          stbl: stsd (the input's sample entry, byte for byte), stts, ctts (when any sample has a
//          composition offset), stss (when not every sample is a sync sample), stsc, stsz, stco or
//          co64 (when an offset passes 4 GiB)
//   mdat   every sample's bytes, in input order (64-bit size over 4 GiB)
//
// Two passes over the same input, both streaming, as the WebM repair (webm_repair.h):
//   1. Mp4RepairPlanner: Feed() every input byte in order (split anywhere), Finish() -> Mp4RepairPlan.
//      It reads the input with Mp4StreamReader (one metadata box held at a time) and keeps, per sample,
//      what the output's tables need (size, duration, composition offset, sync: 16 bytes a sample) and
//      per run of contiguous input bytes one copy range; sample bytes are never held.
//   2. Mp4RepairWriter(plan): Feed() the same bytes again; each call says which pieces to write (the
//      prelude, then slices of the bytes just fed). The output size is known before the first byte.
// Memory therefore grows with the number of samples (the moov it writes must list every one), never
// with the media bytes: a 1 GB hour of 30 fps video + Opus is about 290,000 samples, 4.6 MB.
//
// Timing: each sample lasts until the next sample of its track starts (a gap between fragments
// lengthens the sample before it); the last sample keeps its own duration. Decode times and
// composition offsets are kept exactly, in each track's own timescale.
//
// Truncated input (a crash cut the recording mid-fragment or mid-box): an error saying so, unless
// allow_truncated is set; then the output holds every sample that was completely in the input, and
// info().truncated and dropped_bytes say what was left out. Other bad input (see mp4_reader.h, plus a
// track whose samples are out of file order, or overlap) fails pass 1 with a Status saying what.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "video/mp4_reader.h"
#include "video/webm_repair.h"

namespace ck {

struct Mp4RepairInfo {
  std::string codecs;          // RFC 6381 strings in track order, comma-separated
  double duration_ms = 0;      // the longest track, as presented (edits applied)
  uint64_t input_size = 0;
  uint64_t output_size = 0;
  uint64_t fragments = 0;      // moof boxes whose samples were kept
  uint64_t samples = 0;        // every track
  uint64_t video_samples = 0;
  uint64_t sync_samples = 0;   // of the video track (the output's seek points)
  bool fragmented = false;     // the input was fragmented
  bool had_index = false;      // the input had an mfra
  bool truncated = false;      // the input was cut short (allow_truncated) ...
  uint64_t dropped_bytes = 0;  // ... and this many input bytes after the last kept sample were left out
};

struct Mp4RepairPlan {
  std::vector<uint8_t> prelude;                        // ftyp, moov, mdat header
  std::vector<std::pair<uint64_t, uint64_t>> copies;   // input ranges [begin, end) to copy, in order
  Mp4RepairInfo info;
};

class Mp4RepairPlanner : private Mp4Listener {
 public:
  explicit Mp4RepairPlanner(bool allow_truncated = false);
  ~Mp4RepairPlanner() override;
  Mp4RepairPlanner(const Mp4RepairPlanner&) = delete;
  Mp4RepairPlanner& operator=(const Mp4RepairPlanner&) = delete;

  Status Feed(const uint8_t* data, size_t size);
  // Ends pass 1 and builds the plan (take it with TakePlan()).
  Status Finish();
  const Mp4RepairInfo& info() const { return plan_.info; }
  Mp4RepairPlan TakePlan() { return std::move(plan_); }

 private:
  struct Table;
  struct Placed {
    size_t track;
    Mp4Sample sample;
  };
  Status OnMovie(const Mp4Movie& movie) override;
  Status OnFragment(const Mp4Fragment& fragment) override;
  Status OnIndex(const std::vector<Mp4IndexEntry>& entries) override;
  // Adds samples (sorted by input offset here) that lie wholly before `limit` to the tables.
  Status Commit(std::vector<Placed>* samples, uint64_t limit);
  Status BuildPlan();

  bool allow_truncated_;
  Mp4StreamReader reader_;
  Mp4RepairPlan plan_;
  bool finished_ = false;
  Status finish_status_;
  Mp4Movie movie_;  // tracks without their sample lists
  std::vector<std::unique_ptr<Table>> tables_;
  std::vector<Placed> pending_;  // the latest fragment's samples, until its mdat is known complete
  uint64_t pending_fragments_ = 0;
  uint64_t copied_ = 0;          // bytes of sample data in the output's mdat so far
  uint64_t last_end_ = 0;        // input end of the last committed sample
};

class Mp4RepairWriter {
 public:
  explicit Mp4RepairWriter(Mp4RepairPlan plan);

  // Feeds the next input bytes (the same input as pass 1, in order, split anywhere). `pieces` is
  // replaced with what to write, in order: the first call starts with the prelude (kPrelude), then
  // slices of these bytes (kInput).
  Status Feed(const uint8_t* data, size_t size, std::vector<RepairPiece>* pieces);
  // After the last Feed: fails if the input was not as long as in pass 1.
  Status Finish();

  const std::vector<uint8_t>& prelude() const { return plan_.prelude; }
  const Mp4RepairInfo& info() const { return plan_.info; }
  uint64_t written() const { return written_; }

  // Convenience for native callers: Feed() then sink(const uint8_t*, size_t) for each piece.
  template <typename Sink>
  Status FeedTo(const uint8_t* data, size_t size, Sink&& sink) {
    Status s = Feed(data, size, &scratch_);
    if (!s.ok()) return s;
    for (const RepairPiece& p : scratch_) {
      const uint8_t* base = p.source == RepairPiece::kInput ? data : plan_.prelude.data();
      sink(base + p.offset, size_t(p.size));
    }
    return Status::Ok();
  }

 private:
  Status Fail(Status s);
  Mp4RepairPlan plan_;
  Status error_;
  bool failed_ = false;
  bool started_ = false;
  uint64_t pos_ = 0;
  size_t next_copy_ = 0;
  uint64_t written_ = 0;
  std::vector<RepairPiece> scratch_;
};

}  // namespace ck
