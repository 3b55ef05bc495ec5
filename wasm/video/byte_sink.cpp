#include "video/byte_sink.h"

#include <algorithm>
#include <cstring>
#include <string>

namespace ck {
namespace {

// A file this muxer writes never approaches this; it catches a runaway loop before memory does.
constexpr int64_t kMaxFileBytes = int64_t(1) << 46;

Status SeekError(int64_t pos, int64_t size) {
  return Status::OutOfRange("byte sink: seek to " + std::to_string(pos) + " outside [0, " + std::to_string(size) + "]");
}

}  // namespace

Status MemoryByteSink::Write(const uint8_t* data, size_t size) {
  if (size == 0) return Status::Ok();
  const size_t end = size_t(pos_) + size;
  if (int64_t(end) > kMaxFileBytes) return Status::ResourceExhausted("byte sink: file too large");
  if (end > bytes_.size()) bytes_.resize(end);
  std::memcpy(bytes_.data() + pos_, data, size);
  pos_ = int64_t(end);
  return Status::Ok();
}

Status MemoryByteSink::Seek(int64_t pos) {
  if (pos < 0 || pos > Size()) return SeekError(pos, Size());
  pos_ = pos;
  return Status::Ok();
}

Status StreamingByteSink::EmitRange(int64_t offset, const uint8_t* data, size_t size) {
  if (size == 0) return Status::Ok();
  if (failed_ || !emit_(offset, data, size)) {
    failed_ = true;
    return Status::FailedPrecondition("streaming output: the data callback failed");
  }
  emitted_ += int64_t(size);
  return Status::Ok();
}

Status StreamingByteSink::Write(const uint8_t* data, size_t size) {
  if (failed_) return Status::FailedPrecondition("streaming output: the data callback failed earlier");
  if (size == 0) return Status::Ok();
  if (pos_ + int64_t(size) > kMaxFileBytes) return Status::ResourceExhausted("byte sink: file too large");
  // The part before base_ was already emitted: send it as a patch now.
  if (pos_ < base_) {
    const size_t n = size_t(std::min<int64_t>(base_ - pos_, int64_t(size)));
    Status s = EmitRange(pos_, data, n);
    if (!s.ok()) return s;
    pos_ += int64_t(n);
    data += n;
    size -= n;
    if (size == 0) return Status::Ok();
  }
  const size_t at = size_t(pos_ - base_);
  if (at + size > tail_.size()) tail_.resize(at + size);
  std::memcpy(tail_.data() + at, data, size);
  pos_ += int64_t(size);
  return Status::Ok();
}

Status StreamingByteSink::Seek(int64_t pos) {
  if (pos < 0 || pos > Size()) return SeekError(pos, Size());
  pos_ = pos;
  return Status::Ok();
}

void StreamingByteSink::Commit(int64_t pos) {
  if (failed_) return;
  pos = std::min(pos, Size());
  if (pos <= base_) return;
  const size_t n = size_t(pos - base_);
  if (!EmitRange(base_, tail_.data(), n).ok()) return;
  tail_.erase(tail_.begin(), tail_.begin() + ptrdiff_t(n));
  base_ = pos;
}

Status StreamingByteSink::Close() {
  if (failed_) return Status::FailedPrecondition("streaming output: the data callback failed earlier");
  Commit(Size());
  if (failed_) return Status::FailedPrecondition("streaming output: the data callback failed");
  tail_.clear();
  tail_.shrink_to_fit();
  return Status::Ok();
}

}  // namespace ck
