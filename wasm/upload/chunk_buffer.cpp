#include "upload/chunk_buffer.h"

#include <algorithm>
#include <cstddef>
#include <limits>

namespace ck {

Status ChunkBuffer::Validate(const ChunkBufferOptions& o) {
  if (o.min_part_size < 1 || o.min_part_size > kMaxPartSize) {
    return Status::OutOfRange("minPartSize must be between 1 and " + std::to_string(kMaxPartSize) + " bytes, got " +
                              std::to_string(o.min_part_size));
  }
  if (o.part_size_multiple < 1 || o.part_size_multiple > kMaxPartSize) {
    return Status::OutOfRange("partSizeMultiple must be between 1 and " + std::to_string(kMaxPartSize) + " bytes, got " +
                              std::to_string(o.part_size_multiple));
  }
  if (o.min_part_size % o.part_size_multiple != 0) {
    const uint64_t below = o.min_part_size / o.part_size_multiple * o.part_size_multiple;
    return Status::InvalidArgument("minPartSize (" + std::to_string(o.min_part_size) + " bytes) must be a multiple of partSizeMultiple (" +
                                   std::to_string(o.part_size_multiple) + " bytes; the store takes parts in such multiples), e.g. " +
                                   (below > 0 ? std::to_string(below) + " or " : std::string()) +
                                   std::to_string(below + o.part_size_multiple));
  }
  return Status::Ok();
}

ChunkBuffer::ChunkBuffer(const ChunkBufferOptions& options)
    : part_size_(options.min_part_size), hold_first_(options.hold_first_part), holding_(options.hold_first_part) {}

void ChunkBuffer::Emit(bool last, std::vector<ChunkPart>* out) {
  if (holding_ && next_index_ == 0) {  // part 0 stays here until Flush()
    next_index_ = 1;
    hash_.FinalHex();  // resets the hash; part 0's is computed at Flush() over the patched bytes
    first_.swap(buf_);
    buf_.clear();
    return;
  }
  ChunkPart p;
  p.index = next_index_++;
  p.sha256 = hash_.FinalHex();  // also resets the hash for the next part
  p.last = last;
  p.bytes.swap(buf_);
  buf_.clear();
  out->push_back(std::move(p));
}

Status ChunkBuffer::Append(const uint8_t* data, size_t n, std::vector<ChunkPart>* out) {
  if (flushed_) return Status::FailedPrecondition("ChunkBuffer: append after flush (the recording has ended)");
  if (n == 0) return Status::Ok();
  if (data == nullptr) return Status::InvalidArgument("ChunkBuffer: null data with a non-zero length");
  if (next_index_ == std::numeric_limits<uint32_t>::max()) return Status::ResourceExhausted("ChunkBuffer: too many parts");
  total_ += n;
  while (n > 0) {
    // A full part goes out only now that we know more bytes follow it (so it is not the last).
    if (buf_.size() == part_size_) Emit(false, out);
    if (buf_.capacity() < part_size_ && buf_.empty()) buf_.reserve(size_t(part_size_));
    size_t take = size_t(part_size_ - buf_.size());
    if (take > n) take = n;
    buf_.insert(buf_.end(), data, data + take);
    hash_.Update(data, take);
    data += take;
    n -= take;
  }
  return Status::Ok();
}

Status ChunkBuffer::Flush(std::vector<ChunkPart>* out) {
  if (flushed_) return Status::FailedPrecondition("ChunkBuffer: flush called twice");
  flushed_ = true;
  if (holding_ && next_index_ == 0) {
    // Everything fits in part 0: it is the only (and last) part.
    holding_ = false;
    if (!buf_.empty()) Emit(true, out);
  } else if (holding_) {
    // The tail part(s) first, then the held part 0 (last = false: the tail part marks the end of the data).
    holding_ = false;
    if (!buf_.empty()) Emit(true, out);
    ChunkPart p;
    p.index = 0;
    Sha256 h;
    h.Update(first_.data(), first_.size());
    p.sha256 = h.FinalHex();
    p.bytes.swap(first_);
    out->push_back(std::move(p));
  } else if (!buf_.empty()) {
    Emit(true, out);
  }
  buf_.shrink_to_fit();
  return Status::Ok();
}

Status ChunkBuffer::Patch(uint64_t offset, const uint8_t* data, size_t n) {
  if (!hold_first_) return Status::FailedPrecondition("ChunkBuffer.patch: only with holdFirstPart");
  if (flushed_) return Status::FailedPrecondition("ChunkBuffer.patch: part 0 was already emitted (flush)");
  if (n == 0) return Status::Ok();
  if (data == nullptr) return Status::InvalidArgument("ChunkBuffer.patch: null data with a non-zero length");
  if (offset > total_ || n > total_ - offset) {
    return Status::OutOfRange("ChunkBuffer.patch: bytes " + std::to_string(offset) + ".." + std::to_string(offset + n) +
                              " reach past the " + std::to_string(total_) + " bytes appended so far");
  }
  if (offset + n > part_size_) {
    return Status::OutOfRange("ChunkBuffer.patch: bytes " + std::to_string(offset) + ".." + std::to_string(offset + n) +
                              " reach past part 0 (" + std::to_string(part_size_) + " bytes), which is already emitted");
  }
  // Part 0 is either still being filled (buf_, hash later recomputed) or held in first_.
  if (next_index_ == 0) {
    std::copy(data, data + n, buf_.begin() + ptrdiff_t(offset));
    hash_.Reset();
    hash_.Update(buf_.data(), buf_.size());
  } else {
    std::copy(data, data + n, first_.begin() + ptrdiff_t(offset));
  }
  return Status::Ok();
}

}  // namespace ck
