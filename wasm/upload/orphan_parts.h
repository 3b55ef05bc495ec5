// OrphanParts: the last parts of a recording whose recorder went away (its tab closed or crashed)
// before stop(). The recorder stored every chunk as it came (the "tail": byte ranges with their offset
// in the recording) and every complete part; what the queue does not have yet is cut from the tail
// exactly where the recorder's ChunkBuffer would have cut it, and hashed.
//
//   plain recording:    parts 0..k-1 are stored and cover [0, stored_bytes); the bytes from there on
//                       become parts k, k+1 ... (min_part_size each, the last one shorter).
//   first_part_last:    (seekable streaming, ChunkBuffer's hold_first_part) part 0 = [0, min_part_size)
//                       was held in memory and is only in the tail; parts 1..k-1 are stored and cover
//                       [min_part_size, min_part_size + stored_bytes). The bytes after them become parts
//                       k, k+1 ..., then part 0 comes last, as the recorder would have sent them. Its
//                       header was never patched: the file plays as a live recording (no duration or cues).
//                       A recording shorter than part 0 is part 0 alone.
//
// Tail ranges arrive in the order they were stored; a range that repeats bytes already seen is used from
// where it adds new ones. The first gap ends the recording: the bytes after a gap cannot be placed.
// Finish() returns no part when the tail adds nothing; the queue's FinishRecording then decides whether
// the recording is empty (no byte at all: it leaves the queue) or complete.
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "common/status.h"
#include "upload/chunk_buffer.h"

namespace ck {

struct OrphanLayout {
  uint64_t min_part_size = 5u * 1024 * 1024;  // the recorder's part size
  bool first_part_last = false;               // part 0 held back (seekable streaming)
  uint32_t part_count = 0;    // parts the queue has (first_part_last: part 0's placeholder included)
  uint64_t stored_bytes = 0;  // their bytes (a placeholder counts 0)
};

class OrphanParts {
 public:
  static Status Validate(const OrphanLayout& layout);
  // layout must pass Validate().
  explicit OrphanParts(const OrphanLayout& layout);

  // One stored tail range: n bytes that sit at `start` in the recording. After Finish(): FailedPrecondition.
  Status Add(uint64_t start, const uint8_t* data, size_t n);
  // The parts to store and add to the queue, in the order to add them (index, bytes, sha256).
  Status Finish(std::vector<ChunkPart>* out);

  // Bytes of the recording known so far: the stored parts plus what the tail added.
  uint64_t recording_bytes() const;

 private:
  // Feeds bytes at [start, start + n) into the stream that must continue at *next.
  static void Take(uint64_t start, const uint8_t* data, size_t n, uint64_t* next, bool* gap,
                   const std::function<void(const uint8_t*, size_t)>& sink);

  OrphanLayout layout_;
  ChunkBuffer rest_;            // the bytes after the stored parts, cut as the recorder would
  std::vector<ChunkPart> rest_parts_;
  uint64_t rest_next_;          // the recording offset rest_ continues at
  bool rest_gap_ = false;
  std::vector<uint8_t> first_;  // first_part_last: part 0 from the tail
  uint64_t first_next_ = 0;
  bool first_gap_ = false;
  bool finished_ = false;
  Status error_;
};

}  // namespace ck
