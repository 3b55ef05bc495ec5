#include "video/mkv_sink_writer.h"

#include "common/webmids.h"

namespace ck {

mkvmuxer::int32 MkvSinkWriter::Write(const void* buf, mkvmuxer::uint32 len) {
  if (!status_.ok()) return -1;
  status_ = sink_->Write(static_cast<const uint8_t*>(buf), len);
  return status_.ok() ? 0 : -1;
}

mkvmuxer::int64 MkvSinkWriter::Position() const { return sink_->Position(); }

mkvmuxer::int32 MkvSinkWriter::Position(mkvmuxer::int64 position) {
  if (!status_.ok()) return -1;
  status_ = sink_->Seek(position);
  return status_.ok() ? 0 : -1;
}

bool MkvSinkWriter::Seekable() const { return sink_->Seekable(); }

void MkvSinkWriter::ElementStartNotify(mkvmuxer::uint64 element_id, mkvmuxer::int64 position) {
  // A new Cluster starts only after the previous one got its final size: everything before is done
  // until the header patches at Finalize.
  if (element_id == libwebm::kMkvCluster) sink_->Commit(position);
}

}  // namespace ck
