#include "upload/orphan_parts.h"

#include <algorithm>
#include <string>

#include "upload/upload_queue.h"

namespace ck {

Status OrphanParts::Validate(const OrphanLayout& l) {
  Status s = ChunkBuffer::Validate(ChunkBufferOptions{l.min_part_size, false});
  if (!s.ok()) return s;
  if (l.part_count > kMaxPartsPerItem) {
    return Status::OutOfRange("partCount must be at most " + std::to_string(kMaxPartsPerItem) + ", got " +
                              std::to_string(l.part_count));
  }
  if (l.first_part_last && l.part_count == 0) {
    return Status::InvalidArgument("a firstPartLast recording has at least part 0's placeholder (partCount >= 1)");
  }
  if (l.stored_bytes > uint64_t(l.part_count) * l.min_part_size) {
    return Status::OutOfRange("storedBytes " + std::to_string(l.stored_bytes) + " is more than " +
                              std::to_string(l.part_count) + " parts of " + std::to_string(l.min_part_size) +
                              " bytes hold");
  }
  return Status::Ok();
}

OrphanParts::OrphanParts(const OrphanLayout& layout)
    : layout_(layout),
      rest_(ChunkBufferOptions{layout.min_part_size, false}),
      rest_next_(layout.first_part_last ? layout.min_part_size + layout.stored_bytes : layout.stored_bytes) {}

uint64_t OrphanParts::recording_bytes() const {
  if (!layout_.first_part_last) return rest_next_;
  // Part 0 incomplete: nothing after it can be placed.
  if (first_next_ < layout_.min_part_size) return first_next_ + layout_.stored_bytes;
  return rest_next_;
}

void OrphanParts::Take(uint64_t start, const uint8_t* data, size_t n, uint64_t* next, bool* gap,
                       const std::function<void(const uint8_t*, size_t)>& sink) {
  if (*gap || n == 0) return;
  const uint64_t end = start + n;
  if (end <= *next) return;  // nothing new
  if (start > *next) {
    *gap = true;
    return;
  }
  const size_t from = size_t(*next - start);
  sink(data + from, n - from);
  *next = end;
}

Status OrphanParts::Add(uint64_t start, const uint8_t* data, size_t n) {
  if (finished_) return Status::FailedPrecondition("OrphanParts: add after finish");
  if (!error_.ok()) return error_;
  if (start > (uint64_t(1) << 53) || n > (uint64_t(1) << 53) - start) {
    return Status::OutOfRange("tail range at " + std::to_string(start) + " of " + std::to_string(n) +
                              " bytes reaches past 2^53");
  }
  if (layout_.first_part_last) {
    const uint64_t p0 = layout_.min_part_size;
    if (start < p0) {
      const size_t in_first = size_t(std::min<uint64_t>(n, p0 - start));
      Take(start, data, in_first, &first_next_, &first_gap_,
           [this](const uint8_t* p, size_t k) { first_.insert(first_.end(), p, p + k); });
    }
    // Bytes between part 0 and the end of the stored parts are in those parts already.
  }
  Take(start, data, n, &rest_next_, &rest_gap_, [this](const uint8_t* p, size_t k) {
    if (!error_.ok()) return;
    error_ = rest_.Append(p, k, &rest_parts_);
  });
  return error_;
}

Status OrphanParts::Finish(std::vector<ChunkPart>* out) {
  if (finished_) return Status::FailedPrecondition("OrphanParts: finish twice");
  if (!error_.ok()) return error_;
  finished_ = true;
  Status s = rest_.Flush(&rest_parts_);
  if (!s.ok()) return s;
  // first_part_last: with part 0 incomplete, the recording ends inside it; nothing after it is placed.
  const bool rest_counts = !layout_.first_part_last || first_next_ == layout_.min_part_size;
  if (rest_counts) {
    for (auto& p : rest_parts_) {
      p.index += layout_.part_count;
      p.last = false;
      out->push_back(std::move(p));
    }
  }
  rest_parts_.clear();
  if (layout_.first_part_last && !first_.empty()) {
    ChunkPart p0;
    p0.index = 0;
    p0.sha256 = Sha256::HashHex(first_.data(), first_.size());
    p0.bytes = std::move(first_);
    out->push_back(std::move(p0));
  }
  if (!out->empty()) out->back().last = true;
  return Status::Ok();
}

}  // namespace ck
