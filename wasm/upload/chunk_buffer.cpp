#include "upload/chunk_buffer.h"

#include <limits>

namespace ck {

Status ChunkBuffer::Validate(const ChunkBufferOptions& o) {
  if (o.min_part_size < 1 || o.min_part_size > kMaxPartSize) {
    return Status::OutOfRange("minPartSize must be between 1 and " + std::to_string(kMaxPartSize) + " bytes, got " +
                              std::to_string(o.min_part_size));
  }
  return Status::Ok();
}

ChunkBuffer::ChunkBuffer(const ChunkBufferOptions& options) : part_size_(options.min_part_size) {}

void ChunkBuffer::Emit(bool last, std::vector<ChunkPart>* out) {
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
  if (!buf_.empty()) Emit(true, out);
  buf_.shrink_to_fit();
  return Status::Ok();
}

}  // namespace ck
