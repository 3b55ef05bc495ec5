// ChunkBuffer: turns MediaRecorder's irregular chunks (a 1-byte first chunk, ~300 KB a second, a 0-byte
// last chunk) into numbered upload parts with a SHA-256 each.
//
// Every part but the last is exactly min_part_size bytes (S3 multipart wants >= 5 MiB for all parts but
// the last); the last part, emitted by Flush(), has 1..min_part_size bytes. A full part is held back until
// more bytes arrive, so Flush() always has the final part to emit when anything was appended, and emits
// nothing when nothing (or only empty chunks) was. Memory: at most one part's bytes are buffered; the
// parts an Append() produces are handed to the caller.
//
// Part rules of object stores (the options below make a buffer fit each):
//   S3                  every part but the last >= 5 MiB: min_part_size = 5 MiB (the default).
//   Cloudflare R2       the same minimum, and every part but the last of one size: always true here (all
//                       of them are exactly min_part_size, part 0 held back or not), so 5 MiB fits R2.
//   Google Cloud Storage resumable uploads: every chunk but the last a multiple of 256 KiB:
//                       part_size_multiple = 256 KiB, and min_part_size a multiple of it (8 MiB is GCS's
//                       suggestion). Validate() refuses a min_part_size that is not a multiple.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "upload/sha256.h"

namespace ck {

struct ChunkBufferOptions {
  uint64_t min_part_size = 5u * 1024 * 1024;
  // Seekable streaming: part 0 is kept back until Flush() (so the muxer's header patches can still land in
  // it via Patch()); Flush() then emits the tail part(s) and part 0 last (index 0, hash of the patched bytes).
  bool hold_first_part = false;
  // min_part_size must be a multiple of this (1: any size; kGcsPartMultiple for Google Cloud Storage).
  uint64_t part_size_multiple = 1;
};

// Limits on min_part_size: 1 byte (tests) .. 1 GiB (wasm memory is 2 GiB at most).
constexpr uint64_t kMaxPartSize = uint64_t(1) << 30;
// Google Cloud Storage resumable uploads take chunks in multiples of 256 KiB (all but the last).
constexpr uint64_t kGcsPartMultiple = uint64_t(256) * 1024;

struct ChunkPart {
  uint32_t index = 0;          // 0, 1, 2 ... in order
  std::vector<uint8_t> bytes;  // min_part_size bytes, or 1..min_part_size for the last
  std::string sha256;          // 64 lowercase hex characters
  bool last = false;           // true for the part Flush() emits
};

class ChunkBuffer {
 public:
  static Status Validate(const ChunkBufferOptions& options);
  // options must pass Validate().
  explicit ChunkBuffer(const ChunkBufferOptions& options = {});

  // Appends n bytes (n may be 0); pushes every part that became complete onto *out.
  Status Append(const uint8_t* data, size_t n, std::vector<ChunkPart>* out);
  // Ends the stream: pushes the last part onto *out (nothing when no byte was ever appended).
  // Append() and Flush() fail with FailedPrecondition afterwards.
  Status Flush(std::vector<ChunkPart>* out);
  // hold_first_part only: overwrites bytes [offset, offset + n) of the held part 0. Fails (OutOfRange) when
  // the range reaches past part 0 or past the bytes appended so far, FailedPrecondition without
  // hold_first_part or after Flush().
  Status Patch(uint64_t offset, const uint8_t* data, size_t n);

  uint64_t total_bytes() const { return total_; }      // bytes appended so far
  uint32_t parts_emitted() const { return next_index_ - (holding_ && next_index_ > 0 ? 1 : 0); }
  bool holds_first_part() const { return hold_first_; }
  uint64_t held_bytes() const { return holding_ ? first_.size() : 0; }
  size_t buffered_bytes() const { return buf_.size(); }
  bool flushed() const { return flushed_; }
  uint64_t min_part_size() const { return part_size_; }
  // The bytes the emitted parts hold, [emitted_begin(), emitted_end()) in the appended stream: what a
  // caller that keeps every appended byte until a part holds it (a recording's tail) may let go of. A
  // held part 0 is not emitted before Flush(), so while it is held, emitted_begin() is min_part_size.
  uint64_t emitted_end() const { return total_ - buf_.size(); }
  uint64_t emitted_begin() const { return holding_ && next_index_ > 0 ? part_size_ : 0; }

 private:
  void Emit(bool last, std::vector<ChunkPart>* out);
  uint64_t part_size_;
  std::vector<uint8_t> buf_;  // the part being filled (never more than part_size_ bytes)
  Sha256 hash_;               // streaming hash of buf_
  uint64_t total_ = 0;
  uint32_t next_index_ = 0;
  bool flushed_ = false;
  bool hold_first_ = false;
  bool holding_ = false;          // part 0 is (being) held in first_
  std::vector<uint8_t> first_;    // the held part 0 (hold_first_part)
};

}  // namespace ck
