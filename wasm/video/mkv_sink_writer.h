// MkvSinkWriter: libwebm's mkvmuxer::IMkvWriter on top of a ByteSink, so the muxer writes through the
// same code path whether the file ends up in memory or streams out in ranges. It tells the sink where
// each Cluster starts (ElementStartNotify), which is the moment the previous cluster is final.
#pragma once
#include "mkvmuxer/mkvmuxer.h"
#include "video/byte_sink.h"

namespace ck {

class MkvSinkWriter final : public mkvmuxer::IMkvWriter {
 public:
  explicit MkvSinkWriter(ByteSink* sink) : sink_(sink) {}

  // IMkvWriter (mkvmuxer's own int types: int64_t is `long` on x86-64 Linux, mkvmuxer::int64 `long long`).
  mkvmuxer::int32 Write(const void* buf, mkvmuxer::uint32 len) override;
  mkvmuxer::int64 Position() const override;
  mkvmuxer::int32 Position(mkvmuxer::int64 position) override;
  bool Seekable() const override;
  void ElementStartNotify(mkvmuxer::uint64 element_id, mkvmuxer::int64 position) override;

  // The first failure the sink reported (mkvmuxer only sees a non-zero return).
  const Status& status() const { return status_; }

 private:
  ByteSink* sink_;
  Status status_;
};

}  // namespace ck
