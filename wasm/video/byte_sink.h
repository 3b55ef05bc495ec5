// ByteSink: where an encoded file goes. A seekable byte stream (write at the position, move the position)
// with two implementations: the whole file in memory, or a streaming sink that hands finished byte
// ranges to a callback as they are produced, so a recording of any length needs bounded memory.
// Both are driven through the same code path (WebmMuxer sees only ByteSink).
//
// Streaming ranges: the callback receives (offset, bytes). Apply them in the order received:
//   offset == end of everything received so far   append
//   offset <  that end                            overwrite bytes already received (a patch)
// Offsets are never beyond the end, so applying the ranges in order (pwrite at offset, or splice into
// an array) yields exactly the bytes a MemoryByteSink would hold. The WebM muxer appends clusters as
// they complete and, at Finish, seeks back to patch the header (segment size, duration, seek head, cues
// position): those patches arrive last, as ranges with offsets inside the header. A consumer that can
// only append (a network upload) must keep the first bytes (the header, up to the first cluster: a few
// hundred bytes) until Finish, or accept a file that players treat as live (no duration, no cues).
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "common/status.h"

namespace ck {

class ByteSink {
 public:
  virtual ~ByteSink() = default;
  // Writes `size` bytes at the current position (overwriting or extending) and advances it.
  virtual Status Write(const uint8_t* data, size_t size) = 0;
  // The current position (the offset of the next Write).
  virtual int64_t Position() const = 0;
  // True when Seek works. Both sinks here are seekable; a muxer needs that for Cues and the header patches.
  virtual bool Seekable() const = 0;
  // Moves the position to `pos`, which must be within [0, Size()].
  virtual Status Seek(int64_t pos) = 0;
  // Total length written so far (the largest end of any write).
  virtual int64_t Size() const = 0;
  // A hint that nothing before `pos` will be rewritten except by final patches; a streaming sink emits
  // what it holds before `pos`. The muxer calls it at each cluster start. Correctness never depends on it.
  virtual void Commit(int64_t pos) {}
  // Called once when the file is complete: a streaming sink emits everything it still holds.
  virtual Status Close() { return Status::Ok(); }
};

// The whole file in a growing vector.
class MemoryByteSink final : public ByteSink {
 public:
  Status Write(const uint8_t* data, size_t size) override;
  int64_t Position() const override { return pos_; }
  bool Seekable() const override { return true; }
  Status Seek(int64_t pos) override;
  int64_t Size() const override { return int64_t(bytes_.size()); }

  const std::vector<uint8_t>& bytes() const { return bytes_; }
  std::vector<uint8_t> Take() { return std::move(bytes_); }

 private:
  std::vector<uint8_t> bytes_;
  int64_t pos_ = 0;
};

// Keeps only the tail of the file that may still change (from the last Commit point on) and hands
// everything before it to `emit` (see the range rules at the top of this file). Writes before the
// committed point are emitted at once as patch ranges.
class StreamingByteSink final : public ByteSink {
 public:
  // Receives (offset, data, size); the data is only valid during the call. Returns false to abort
  // (the writer then fails with the message set by the callback's owner).
  using Emit = std::function<bool(int64_t offset, const uint8_t* data, size_t size)>;
  explicit StreamingByteSink(Emit emit) : emit_(std::move(emit)) {}

  Status Write(const uint8_t* data, size_t size) override;
  int64_t Position() const override { return pos_; }
  bool Seekable() const override { return true; }
  Status Seek(int64_t pos) override;
  int64_t Size() const override { return base_ + int64_t(tail_.size()); }
  void Commit(int64_t pos) override;
  Status Close() override;

  // Bytes held in memory right now (the uncommitted tail).
  size_t buffered() const { return tail_.size(); }
  // Bytes handed to the callback so far (appends and patches).
  int64_t emitted() const { return emitted_; }

 private:
  Status EmitRange(int64_t offset, const uint8_t* data, size_t size);

  Emit emit_;
  std::vector<uint8_t> tail_;  // bytes [base_, base_ + tail_.size())
  int64_t base_ = 0;           // everything before this has been emitted
  int64_t pos_ = 0;
  int64_t emitted_ = 0;
  bool failed_ = false;
};

}  // namespace ck
