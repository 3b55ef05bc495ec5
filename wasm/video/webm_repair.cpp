#include "video/webm_repair.h"

#include <algorithm>
#include <cstring>

namespace ck {
namespace {

using namespace webm_id;

// Safety nets against hostile inputs; a real recording has about one Cluster per second.
constexpr uint64_t kMaxClusters = 4000000;
constexpr uint64_t kMaxTimecode = uint64_t(1) << 53;

const char* const kSupportedCodecs[] = {
    "V_VP8", "V_VP9", "V_AV1", "V_MPEG4/ISO/AVC", "V_MPEGH/ISO/HEVC",
    "A_OPUS", "A_VORBIS", "A_PCM/INT/LIT", "A_PCM/FLOAT/IEEE",
};

int IdLen(uint32_t id) { return id > 0xFFFFFF ? 4 : id > 0xFFFF ? 3 : id > 0xFF ? 2 : 1; }
int UintLen(uint64_t v) {
  int n = 1;
  while (n < 8 && (v >> (8 * n))) ++n;
  return n;
}
int SizeLen(uint64_t v) {
  int n = 1;
  while (n < 8 && v >= (uint64_t(1) << (7 * n)) - 1) ++n;
  return n;
}

void PutId(std::vector<uint8_t>& o, uint32_t id) {
  for (int i = IdLen(id) - 1; i >= 0; --i) o.push_back(uint8_t(id >> (8 * i)));
}
void PutSize(std::vector<uint8_t>& o, uint64_t v, int len = 0) {
  const int n = len ? len : SizeLen(v);
  v |= uint64_t(1) << (7 * n);
  for (int i = n - 1; i >= 0; --i) o.push_back(uint8_t(v >> (8 * i)));
}
void PutUint(std::vector<uint8_t>& o, uint32_t id, uint64_t v) {
  PutId(o, id);
  const int n = UintLen(v);
  PutSize(o, uint64_t(n));
  for (int i = n - 1; i >= 0; --i) o.push_back(uint8_t(v >> (8 * i)));
}
void PutFloat(std::vector<uint8_t>& o, uint32_t id, double d) {
  uint64_t v;
  memcpy(&v, &d, 8);
  PutId(o, id);
  PutSize(o, 8);
  for (int i = 7; i >= 0; --i) o.push_back(uint8_t(v >> (8 * i)));
}
void PutMaster(std::vector<uint8_t>& o, uint32_t id, const std::vector<uint8_t>& payload) {
  PutId(o, id);
  PutSize(o, payload.size());
  o.insert(o.end(), payload.begin(), payload.end());
}

std::string At(uint64_t offset) { return " at byte " + std::to_string(offset); }

}  // namespace

RepairPlanner::RepairPlanner(const RepairOptions& options) : options_(options), parser_(this) {}

Status RepairPlanner::Feed(const uint8_t* data, size_t size) {
  if (finished_) return Status::FailedPrecondition("RepairPlanner: Feed() after Finish()");
  return parser_.Feed(data, size);
}

Status RepairPlanner::AddOp(bool copy, uint64_t begin, uint64_t end, uint32_t check_id, bool cluster_header,
                            uint64_t header_content_size) {
  if (begin != covered_ || end < begin) {
    return Status::CorruptData("internal error: repair plan gap at byte " + std::to_string(covered_));
  }
  if (end == begin && !cluster_header) return Status::Ok();
  covered_ = end;
  if (!plan_.ops.empty() && !copy && !check_id) {
    RepairOp& last = plan_.ops.back();
    if (!last.copy && last.end == begin) {  // merge consecutive skips
      last.end = end;
      return Status::Ok();
    }
  }
  RepairOp op;
  op.begin = begin;
  op.end = end;
  op.copy = copy;
  op.check_id = check_id;
  op.cluster_header = cluster_header;
  op.header_content_size = header_content_size;
  plan_.ops.push_back(op);
  return Status::Ok();
}

int RepairPlanner::TrackIndex(uint64_t number) const {
  for (size_t i = 0; i < tracks_.size(); ++i) {
    if (tracks_[i].number == number) return int(i);
  }
  return -1;
}

Status RepairPlanner::SetTracks(const uint8_t* data, size_t size) {
  Status s = ParseTracks(data, size, &tracks_);
  if (!s.ok()) return s;
  if (tracks_.empty()) return Status::CorruptData("the Tracks element declares no track");
  std::string codecs;
  for (const WebmTrack& t : tracks_) {
    bool known = false;
    for (const char* c : kSupportedCodecs) known = known || t.codec_id == c;
    if (!known) {
      std::string list;
      for (const char* c : kSupportedCodecs) list += std::string(list.empty() ? "" : ", ") + c;
      return Status::FailedPrecondition("unsupported codec \"" + t.codec_id + "\" (track " + std::to_string(t.number) +
                                        "); makeSeekable handles " + list);
    }
    codecs += (codecs.empty() ? "" : ",") + t.codec_id;
  }
  plan_.info.codecs = codecs;
  stats_.assign(tracks_.size(), TrackStats());
  uint64_t cue_track = 0;
  for (uint64_t want : {uint64_t(1), uint64_t(2)}) {
    for (const WebmTrack& t : tracks_) {
      if (!cue_track && t.type == want) cue_track = t.number;
    }
  }
  plan_.info.cue_track = cue_track ? cue_track : tracks_[0].number;
  for (const WebmTrack& t : tracks_) {
    if (t.number == plan_.info.cue_track && !t.content_encoded) cue_codec_ = t.codec_id == "V_VP8" ? 8 : t.codec_id == "V_VP9" ? 9 : 0;
  }
  tracks_raw_.assign(data, data + size);
  seen_tracks_ = true;
  return Status::Ok();
}

Status RepairPlanner::OnElementStart(const EbmlElement& e) {
  if (e.depth == 0) {
    if (e.id == kEbml) {
      if (seen_ebml_) {
        return Status::FailedPrecondition("a second EBML header" + At(e.offset) +
                                          ": concatenated recordings are not supported");
      }
      seen_ebml_ = true;
    } else if (e.id == kSegment) {
      if (!seen_ebml_) return Status::CorruptData("Segment" + At(e.offset) + " before the EBML header");
      if (seen_segment_) return Status::FailedPrecondition("a second Segment" + At(e.offset) + " is not supported");
      seen_segment_ = true;
      return AddOp(false, covered_, e.data_offset());
    }
    return Status::Ok();
  }
  if (e.depth == 1 && e.id == kCluster) {
    if (!seen_info_ || !seen_tracks_) {
      return Status::CorruptData("Cluster" + At(e.offset) + " comes before the " + (seen_info_ ? "Tracks" : "Info") +
                                 " element");
    }
    if (plan_.info.clusters >= kMaxClusters) {
      return Status::ResourceExhausted("more than " + std::to_string(kMaxClusters) + " Clusters");
    }
    in_cluster_ = true;
    cluster_ = e;
    cluster_has_tc_ = false;
    cluster_tc_ = 0;
    cluster_frames_ = 0;
    cluster_has_cue_ = false;
    cluster_strips_.clear();
    cluster_stripped_ = 0;
    cluster_first_cue_ = cues_.size();
    return Status::Ok();
  }
  if (e.depth == 2 && in_cluster_ && (e.id == kSimpleBlock || e.id == kBlockGroup)) {
    if (!cluster_has_tc_) return Status::CorruptData(WebmElementName(e.id) + At(e.offset) + " comes before its Cluster's Timecode");
    pending_ = Pending();
    pending_.active = true;
    pending_.offset = e.offset;
  }
  return Status::Ok();
}

Status RepairPlanner::OnElementData(const EbmlElement& e, const uint8_t* data, size_t size) {
  if (e.depth == 0 && e.id == kEbml) {
    WebmEbmlHeader h;
    Status s = ParseEbmlHeader(data, size, &h);
    if (!s.ok()) return s;
    plan_.info.doc_type = h.doc_type;
    ebml_header_.clear();
    PutId(ebml_header_, kEbml);
    PutSize(ebml_header_, size);
    ebml_header_.insert(ebml_header_.end(), data, data + size);
    return Status::Ok();
  }
  if (e.depth == 1 && e.id == kInfo) {
    if (seen_info_) return Status::CorruptData("a second Info element" + At(e.offset));
    Status s = ParseInfo(data, size, &info_);
    if (!s.ok()) return s;
    info_raw_.assign(data, data + size);
    plan_.info.timecode_scale = info_.timecode_scale;
    plan_.info.had_duration = info_.duration >= 0;
    seen_info_ = true;
    return Status::Ok();
  }
  if (e.depth == 1 && e.id == kTracks) {
    if (seen_tracks_) return Status::CorruptData("a second Tracks element" + At(e.offset));
    return SetTracks(data, size);
  }
  if (e.depth == 2 && in_cluster_ && e.id == kTimecode) {
    uint64_t tc = 0;
    if (cluster_has_tc_) return Status::CorruptData("a second Timecode" + At(e.offset) + " in the same Cluster");
    if (!ReadEbmlUint(data, size, &tc) || tc > kMaxTimecode) return Status::CorruptData("invalid Cluster Timecode" + At(e.offset));
    cluster_tc_ = int64_t(tc);
    cluster_has_tc_ = true;
    return Status::Ok();
  }
  if (e.depth == 3 && pending_.active) {
    if (e.id == kReferenceBlock) pending_.has_reference = true;
    if (e.id == kBlockDuration) {
      uint64_t d = 0;
      if (!ReadEbmlUint(data, size, &d) || d > kMaxTimecode) return Status::CorruptData("invalid BlockDuration" + At(e.offset));
      pending_.block_duration = int64_t(d);
    }
  }
  return Status::Ok();
}

Status RepairPlanner::OnBlock(const EbmlElement& e, const WebmBlockHeader& b) {
  if (!pending_.active) return Status::Ok();
  if (pending_.has_block) return Status::CorruptData("a second Block" + At(e.offset) + " in the same BlockGroup");
  if (TrackIndex(b.track) < 0) {
    return Status::CorruptData(WebmElementName(e.id) + At(e.offset) + " belongs to track " + std::to_string(b.track) +
                               ", which the Tracks element does not declare");
  }
  pending_.has_block = true;
  pending_.track = b.track;
  pending_.ts = cluster_tc_ + b.timecode;
  // A Block is a keyframe unless its group has a ReferenceBlock (which may come before or after it).
  pending_.keyframe = e.id == kSimpleBlock ? b.keyframe : true;
  pending_.laced = b.lacing != 0;
  return Status::Ok();
}

Status RepairPlanner::OnBlockData(const uint8_t* data, size_t size) {
  if (pending_.active && cue_codec_ && pending_.track == plan_.info.cue_track) {
    while (size > 0 && pending_.head_len < sizeof pending_.head) {
      pending_.head[pending_.head_len++] = *data++;
      --size;
    }
  }
  return Status::Ok();
}

namespace {
// The codec's own answer, which a muxer cannot get wrong: VP8's frame tag (bit 0 clear, then the key
// frame start code 9d 01 2a), VP9's uncompressed header (frame_marker, profile, show_existing_frame,
// frame_type). -1 when there are not enough bytes to tell.
int BitstreamKeyframe(int codec, const uint8_t* d, uint32_t n) {
  if (codec == 8) {
    if (n < 6) return -1;
    return (d[0] & 1) == 0 && d[3] == 0x9D && d[4] == 0x01 && d[5] == 0x2A;
  }
  if (codec == 9) {
    if (n < 1) return -1;
    int bit = 7;
    auto read = [&]() { return (d[0] >> bit--) & 1; };
    if (read() != 1 || read() != 0) return 0;  // frame_marker
    const int low = read();
    const int high = read();
    const int profile = (high << 1) | low;
    if (profile == 3) read();  // reserved_zero
    if (read()) return 0;      // show_existing_frame
    return read() == 0;        // frame_type: 0 = KEY_FRAME
  }
  return -1;
}
}  // namespace

Status RepairPlanner::CommitFrame() {
  Pending p = pending_;
  pending_ = Pending();
  if (!p.has_block) return Status::Ok();
  const int idx = TrackIndex(p.track);
  TrackStats& st = stats_[size_t(idx)];
  ++st.frames;
  if (p.ts >= st.max_ts) {
    st.max_ts = p.ts;
    st.last_duration = p.block_duration;
  }
  st.recent[st.recent_n++ % 8] = p.ts;
  ++plan_.info.frames;
  ++cluster_frames_;

  bool keyframe = p.keyframe && !p.has_reference;
  if (p.track == plan_.info.cue_track && cue_codec_ && !p.laced) {
    const int k = BitstreamKeyframe(cue_codec_, p.head, p.head_len);
    if (k >= 0) keyframe = k == 1;
  }
  const int64_t interval = int64_t(double(options_.cue_interval_ms) * 1e6 / double(info_.timecode_scale));
  if (p.track == plan_.info.cue_track && keyframe && p.ts >= 0 && (cues_.empty() || p.ts > last_cue_ts_) &&
      (!cluster_has_cue_ || p.ts - last_cue_ts_ >= interval)) {
    cues_.push_back(Cue{p.ts, p.track, 0, p.offset - cluster_.data_offset() - cluster_stripped_});
    last_cue_ts_ = p.ts;
    cluster_has_cue_ = true;
  }
  return Status::Ok();
}

Status RepairPlanner::EndCluster(uint64_t end, bool truncated) {
  in_cluster_ = false;
  if (!cluster_has_tc_ || cluster_frames_ == 0) {  // nothing to play: leave it out
    cues_.resize(cluster_first_cue_);
    return AddOp(false, cluster_.offset, end, kCluster);
  }
  ++plan_.info.clusters;
  const bool rewrite = cluster_.unknown_size() || truncated || !cluster_strips_.empty() || end != cluster_.end();
  uint64_t first_op = plan_.ops.size();
  Status s;
  if (!rewrite) {
    s = AddOp(true, cluster_.offset, end, kCluster);
  } else {
    s = AddOp(false, cluster_.offset, cluster_.data_offset(), kCluster);
    const uint64_t content = end - cluster_.data_offset() - cluster_stripped_;
    uint64_t cursor = cluster_.data_offset();
    bool header = true;
    for (const auto& strip : cluster_strips_) {
      if (s.ok() && strip.first > cursor) {
        if (header) first_op = plan_.ops.size();
        s = AddOp(true, cursor, strip.first, 0, header, content);
        header = false;
      }
      if (s.ok()) s = AddOp(false, strip.first, strip.second);
      cursor = strip.second;
    }
    if (s.ok() && end > cursor) {
      if (header) first_op = plan_.ops.size();
      s = AddOp(true, cursor, end, 0, header, content);
      header = false;
    }
    if (s.ok() && header) return Status::CorruptData("internal error: empty Cluster" + At(cluster_.offset));
  }
  for (size_t i = cluster_first_cue_; i < cues_.size(); ++i) cues_[i].op = first_op;
  return s;
}

Status RepairPlanner::OnElementEnd(const EbmlElement& e, uint64_t end) {
  if (e.depth == 0) {
    if (e.id == kSegment) {
      segment_ended_ = true;
    } else if (e.id != kEbml) {
      return AddOp(false, covered_, end);
    }
    return Status::Ok();
  }
  if (e.depth == 1) {
    switch (e.id) {
      case kCluster:
        return EndCluster(end, false);
      case kCues:
        plan_.info.had_cues = true;
        return AddOp(false, covered_, end);
      case kInfo: case kTracks: case kSeekHead: case kVoid: case kCrc32:
        return AddOp(false, covered_, end);
      default:  // Tags, Chapters, Attachments and elements we do not know: copied as they are
        if (e.id == kTags && first_tags_op_ == UINT64_MAX) first_tags_op_ = plan_.ops.size();
        if (e.id == kChapters && first_chapters_op_ == UINT64_MAX) first_chapters_op_ = plan_.ops.size();
        if (e.id == kAttachments && first_attachments_op_ == UINT64_MAX) first_attachments_op_ = plan_.ops.size();
        return AddOp(true, e.offset, end, e.id);
    }
  }
  if (e.depth == 2 && in_cluster_) {
    if (e.id == kSimpleBlock || e.id == kBlockGroup) return CommitFrame();
    if (e.id == kPosition || e.id == kPrevSize || e.id == kCrc32) {  // stale once sizes change
      cluster_strips_.emplace_back(e.offset, end);
      cluster_stripped_ += end - e.offset;
    }
  }
  return Status::Ok();
}

Status RepairPlanner::Finish() {
  if (finished_) return finish_status_;
  finished_ = true;
  Status s = parser_.Finish();
  RepairInfo& info = plan_.info;
  info.input_size = parser_.position();
  if (!s.ok()) {
    if (!parser_.truncated() || !options_.allow_truncated || !seen_info_ || !seen_tracks_) return finish_status_ = s;
    const uint64_t cut = std::max(parser_.partial_element_offset(), covered_);
    pending_ = Pending();
    if (in_cluster_) {
      s = EndCluster(cut, true);
      if (!s.ok()) return finish_status_ = s;
    }
    info.truncated = true;
    info.dropped_bytes = info.input_size - covered_;
  }
  if (!seen_segment_) return finish_status_ = Status::CorruptData("the input has an EBML header but no Segment");
  if (!seen_info_) return finish_status_ = Status::CorruptData("the Segment has no Info element");
  if (!seen_tracks_) return finish_status_ = Status::CorruptData("the Segment has no Tracks element");
  if (info.frames == 0) return finish_status_ = Status::CorruptData("the recording holds no frames (only headers)");
  s = AddOp(false, covered_, info.input_size);
  if (s.ok()) s = BuildPlan();
  return finish_status_ = s;
}

Status RepairPlanner::BuildPlan() {
  RepairInfo& info = plan_.info;
  const double scale = double(info_.timecode_scale);

  // Duration: the end of the last frame of any track. A frame lasts its BlockDuration, else the track's
  // DefaultDuration, else the median gap between the track's last timestamps.
  double end_ticks = 0;
  for (size_t i = 0; i < tracks_.size(); ++i) {
    const TrackStats& st = stats_[i];
    if (!st.frames) continue;
    double dur = 0;
    if (st.last_duration >= 0) {
      dur = double(st.last_duration);
    } else if (tracks_[i].default_duration_ns) {
      dur = double(tracks_[i].default_duration_ns) / scale;
    } else {
      const int n = std::min(st.recent_n, 8);
      int64_t ts[8];
      std::copy(st.recent, st.recent + n, ts);
      std::sort(ts, ts + n);
      int64_t gaps[8];
      int g = 0;
      for (int k = 1; k < n; ++k) {
        if (ts[k] > ts[k - 1]) gaps[g++] = ts[k] - ts[k - 1];
      }
      if (g) {
        std::sort(gaps, gaps + g);
        dur = double(gaps[g / 2]);
      }
    }
    end_ticks = std::max(end_ticks, double(st.max_ts) + dur);
  }
  if (end_ticks <= 0) end_ticks = 1;  // a single frame at 0: Matroska wants Duration > 0
  info.duration_ticks = end_ticks;
  info.duration_ms = end_ticks * scale / 1e6;
  info.cues = cues_.size();

  // Info: the input's children without Duration (and Void/CRC-32), then the new Duration.
  std::vector<uint8_t> payload;
  Status s = ForEachChild(info_raw_.data(), info_raw_.size(), 0, [&](uint32_t id, const uint8_t* d, size_t n) -> Status {
    if (id == kDuration || id == kVoid || id == kCrc32) return Status::Ok();
    PutId(payload, id);
    PutSize(payload, n);
    payload.insert(payload.end(), d, d + n);
    return Status::Ok();
  });
  if (!s.ok()) return s;
  PutFloat(payload, kDuration, end_ticks);
  std::vector<uint8_t> info_el, tracks_el;
  PutMaster(info_el, kInfo, payload);
  PutMaster(tracks_el, kTracks, tracks_raw_);

  // Where each op's output starts, relative to the first body byte; only the ones cues and the
  // SeekHead need.
  std::vector<uint64_t> cue_offsets(cues_.size());
  uint64_t tags_off = 0, chapters_off = 0, attachments_off = 0, body = 0;
  size_t next_cue = 0;
  for (size_t k = 0; k < plan_.ops.size(); ++k) {
    while (next_cue < cues_.size() && cues_[next_cue].op == k) cue_offsets[next_cue++] = body;
    if (k == first_tags_op_) tags_off = body;
    if (k == first_chapters_op_) chapters_off = body;
    if (k == first_attachments_op_) attachments_off = body;
    const RepairOp& op = plan_.ops[k];
    if (op.cluster_header) body += 4 + SizeLen(op.header_content_size);
    if (op.copy) body += op.end - op.begin;
  }
  if (next_cue != cues_.size()) return Status::CorruptData("internal error: cue point without a Cluster");

  // SeekHead and Cues sizes depend on the positions they hold, which depend on their sizes: iterate to
  // the fixed point (positions only grow, so this converges in a few rounds).
  std::vector<uint8_t> seek, cues;
  uint64_t seek_len = 0, cues_len = 0;
  for (int round = 0;; ++round) {
    if (round > 64) return Status::CorruptData("internal error: SeekHead/Cues layout does not converge");
    const uint64_t info_pos = seek_len;
    const uint64_t tracks_pos = info_pos + info_el.size();
    const uint64_t cues_pos = tracks_pos + tracks_el.size();
    const uint64_t body_pos = cues_pos + cues_len;
    std::vector<uint8_t> entries;
    auto add_seek = [&](uint32_t id, uint64_t pos) {
      std::vector<uint8_t> e, idb;
      PutId(idb, id);
      PutId(e, kSeekId);
      PutSize(e, idb.size());
      e.insert(e.end(), idb.begin(), idb.end());
      PutUint(e, kSeekPosition, pos);
      PutMaster(entries, kSeek, e);
    };
    add_seek(kInfo, info_pos);
    add_seek(kTracks, tracks_pos);
    if (!cues_.empty()) add_seek(kCues, cues_pos);
    if (first_tags_op_ != UINT64_MAX) add_seek(kTags, body_pos + tags_off);
    if (first_chapters_op_ != UINT64_MAX) add_seek(kChapters, body_pos + chapters_off);
    if (first_attachments_op_ != UINT64_MAX) add_seek(kAttachments, body_pos + attachments_off);
    seek.clear();
    PutMaster(seek, kSeekHead, entries);

    cues.clear();
    if (!cues_.empty()) {
      std::vector<uint8_t> points;
      for (size_t i = 0; i < cues_.size(); ++i) {
        std::vector<uint8_t> pos, point;
        PutUint(pos, kCueTrack, cues_[i].track);
        PutUint(pos, kCueClusterPosition, body_pos + cue_offsets[i]);
        PutUint(pos, kCueRelativePosition, cues_[i].relative);
        PutUint(point, kCueTime, uint64_t(cues_[i].ts));
        PutMaster(point, kCueTrackPositions, pos);
        PutMaster(points, kCuePoint, point);
      }
      PutMaster(cues, kCues, points);
    }
    if (seek.size() == seek_len && cues.size() == cues_len) break;
    seek_len = std::max<uint64_t>(seek_len, seek.size());
    cues_len = std::max<uint64_t>(cues_len, cues.size());
  }

  const uint64_t segment_size = seek.size() + info_el.size() + tracks_el.size() + cues.size() + body;
  std::vector<uint8_t>& pre = plan_.prelude;
  pre = ebml_header_;
  PutId(pre, kSegment);
  PutSize(pre, segment_size, 8);
  pre.insert(pre.end(), seek.begin(), seek.end());
  pre.insert(pre.end(), info_el.begin(), info_el.end());
  pre.insert(pre.end(), tracks_el.begin(), tracks_el.end());
  pre.insert(pre.end(), cues.begin(), cues.end());
  info.output_size = pre.size() + body;
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------------

RepairWriter::RepairWriter(RepairPlan plan) : plan_(std::move(plan)) {}

Status RepairWriter::Fail(Status s) {
  if (!failed_) {
    failed_ = true;
    error_ = std::move(s);
  }
  return error_;
}

Status RepairWriter::Feed(const uint8_t* data, size_t size, std::vector<RepairPiece>* pieces) {
  pieces->clear();
  literal_.clear();
  if (failed_) return error_;
  if (plan_.prelude.empty()) return Fail(Status::FailedPrecondition("RepairWriter: the plan is empty (did pass 1 succeed?)"));
  if (!started_) {
    started_ = true;
    pieces->push_back(RepairPiece{RepairPiece::kPrelude, 0, plan_.prelude.size()});
    written_ += plan_.prelude.size();
  }
  const uint64_t begin = pos_, end = pos_ + size;
  if (end > plan_.info.input_size) {
    return Fail(Status::FailedPrecondition("the input changed between the two passes: it is now longer than the " +
                                           std::to_string(plan_.info.input_size) + " bytes read first"));
  }
  uint64_t cur = begin;
  while (cur < end) {
    if (op_ >= plan_.ops.size()) return Fail(Status::CorruptData("internal error: repair plan ends early"));
    const RepairOp& op = plan_.ops[op_];
    if (!op_started_) {
      op_started_ = true;
      if (op.cluster_header) {
        const size_t at = literal_.size();
        PutId(literal_, kCluster);
        PutSize(literal_, op.header_content_size);
        pieces->push_back(RepairPiece{RepairPiece::kLiteral, at, literal_.size() - at});
        written_ += literal_.size() - at;
      }
    }
    const uint64_t to = std::min(op.end, end);
    if (op.check_id) {
      const int n = IdLen(op.check_id);
      for (uint64_t k = cur; k < to && k - op.begin < uint64_t(n); ++k) {
        const uint8_t want = uint8_t(op.check_id >> (8 * (n - 1 - int(k - op.begin))));
        if (data[k - begin] != want) {
          return Fail(Status::FailedPrecondition("the input changed between the two passes: no " +
                                                 WebmElementName(op.check_id) + At(op.begin) + " any more"));
        }
      }
    }
    if (op.copy && to > cur) {
      RepairPiece* last = pieces->empty() ? nullptr : &pieces->back();
      if (last && last->source == RepairPiece::kInput && last->offset + last->size == cur - begin) {
        last->size += to - cur;
      } else {
        pieces->push_back(RepairPiece{RepairPiece::kInput, cur - begin, to - cur});
      }
      written_ += to - cur;
    }
    cur = to;
    if (cur == op.end) {
      ++op_;
      op_started_ = false;
    }
  }
  pos_ = end;
  return Status::Ok();
}

Status RepairWriter::Finish() {
  if (failed_) return error_;
  if (pos_ != plan_.info.input_size) {
    return Fail(Status::FailedPrecondition("the input changed between the two passes: it now has " + std::to_string(pos_) +
                                           " bytes instead of " + std::to_string(plan_.info.input_size)));
  }
  if (!started_ || written_ != plan_.info.output_size) {
    return Fail(Status::CorruptData("internal error: wrote " + std::to_string(written_) + " bytes, planned " +
                                    std::to_string(plan_.info.output_size)));
  }
  return Status::Ok();
}

Status MakeSeekable(const uint8_t* data, size_t size, std::vector<uint8_t>* out, const RepairOptions& options,
                    RepairInfo* info) {
  RepairPlanner planner(options);
  Status s = planner.Feed(data, size);
  if (s.ok()) s = planner.Finish();
  if (!s.ok()) return s;
  RepairWriter writer(planner.TakePlan());
  out->clear();
  out->reserve(size_t(writer.info().output_size));
  s = writer.FeedTo(data, size, [&](const uint8_t* p, size_t n) { out->insert(out->end(), p, p + n); });
  if (s.ok()) s = writer.Finish();
  if (info) *info = writer.info();
  return s;
}

}  // namespace ck
