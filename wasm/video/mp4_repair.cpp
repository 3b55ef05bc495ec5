#include "video/mp4_repair.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "video/mp4_box_writer.h"

namespace ck {

namespace {
constexpr uint32_t kMovieTimescale = 1000;
uint64_t Rescale(uint64_t v, uint64_t from, uint64_t to) {
  if (from == 0) return 0;
  return uint64_t((long double)v * to / from + 0.5L);
}
}  // namespace

// What the output's sample tables need of one track.
struct Mp4RepairPlanner::Table {
  std::vector<uint32_t> sizes;
  std::vector<std::pair<uint32_t, uint32_t>> stts;  // (count, duration)
  std::vector<std::pair<uint32_t, int32_t>> ctts;   // (count, offset)
  bool any_cto = false, negative_cto = false;
  std::vector<uint32_t> stss;                        // 1-based sample numbers
  std::vector<std::pair<uint64_t, uint32_t>> chunks; // (offset in the output's mdat payload, samples)
  uint64_t out_end = UINT64_MAX;                     // where this track's last sample ends in the output
  uint64_t in_end = 0;                               // and in the input
  bool has_prev = false;
  Mp4Sample prev;                                    // its duration is known once the next one comes
  uint64_t first_decode = 0;
  uint64_t media_duration = 0;

  void AddDuration(uint32_t d) {
    if (!stts.empty() && stts.back().second == d && stts.back().first < UINT32_MAX) {
      ++stts.back().first;
    } else {
      stts.emplace_back(1, d);
    }
    media_duration += d;
  }
  Status Add(const Mp4Sample& s, uint64_t out_offset, uint32_t track_id) {
    if (has_prev) {
      if (s.decode_time < prev.decode_time) {
        return Status::CorruptData("track " + std::to_string(track_id) + ": decode times go backwards (" +
                                   std::to_string(s.decode_time) + " after " + std::to_string(prev.decode_time) + ")");
      }
      const uint64_t d = s.decode_time - prev.decode_time;
      if (d > UINT32_MAX) return Status::OutOfRange("track " + std::to_string(track_id) + ": a gap too long for a sample duration");
      AddDuration(uint32_t(d));
    } else {
      first_decode = s.decode_time;
    }
    prev = s;
    has_prev = true;
    sizes.push_back(s.size);
    if (s.composition_offset != 0) any_cto = true;
    if (s.composition_offset < 0) negative_cto = true;
    if (!ctts.empty() && ctts.back().second == s.composition_offset) {
      ++ctts.back().first;
    } else {
      ctts.emplace_back(1, s.composition_offset);
    }
    if (s.sync) stss.push_back(uint32_t(sizes.size()));
    if (!chunks.empty() && out_end == out_offset) {
      ++chunks.back().second;
    } else {
      chunks.emplace_back(out_offset, 1);
    }
    out_end = out_offset + s.size;
    in_end = s.offset + s.size;
    return Status::Ok();
  }
  void Close() {
    if (has_prev) AddDuration(prev.duration);
    has_prev = false;
  }
};

Mp4RepairPlanner::Mp4RepairPlanner(bool allow_truncated) : allow_truncated_(allow_truncated), reader_(this) {}
Mp4RepairPlanner::~Mp4RepairPlanner() = default;

Status Mp4RepairPlanner::Feed(const uint8_t* data, size_t size) {
  if (finished_) return Status::FailedPrecondition("Feed after Finish");
  plan_.info.input_size += size;
  return reader_.Feed(data, size);
}

Status Mp4RepairPlanner::OnMovie(const Mp4Movie& movie) {
  movie_ = movie;
  plan_.info.fragmented = movie.fragmented;
  tables_.clear();
  for (size_t i = 0; i < movie_.tracks.size(); ++i) {
    tables_.push_back(std::make_unique<Table>());
    if (!movie_.tracks[i].samples.empty()) {
      for (const Mp4Sample& s : movie_.tracks[i].samples) pending_.push_back({i, s});
    }
    std::vector<Mp4Sample>().swap(movie_.tracks[i].samples);
  }
  return Status::Ok();
}

Status Mp4RepairPlanner::OnFragment(const Mp4Fragment& fragment) {
  // The reader has checked that the previous fragment's samples were all in its mdat.
  if (!pending_.empty() || pending_fragments_) {
    Status s = Commit(&pending_, UINT64_MAX);
    if (!s.ok()) return s;
  }
  for (const Mp4TrackRun& run : fragment.runs) {
    size_t index = 0;
    while (index < movie_.tracks.size() && movie_.tracks[index].id != run.track_id) ++index;
    for (const Mp4Sample& s : run.samples) pending_.push_back({index, s});
  }
  pending_fragments_ = 1;
  return Status::Ok();
}

Status Mp4RepairPlanner::OnIndex(const std::vector<Mp4IndexEntry>& entries) {
  plan_.info.had_index = true;
  return Status::Ok();
}

Status Mp4RepairPlanner::Commit(std::vector<Placed>* samples, uint64_t limit) {
  std::stable_sort(samples->begin(), samples->end(),
                   [](const Placed& a, const Placed& b) { return a.sample.offset < b.sample.offset; });
  bool kept_any = false;
  for (const Placed& p : *samples) {
    const Mp4Sample& s = p.sample;
    if (s.offset + s.size > limit) break;  // cut off (the rest lie further on)
    Table& t = *tables_[p.track];
    const uint32_t id = movie_.tracks[p.track].id;
    if (s.offset < last_end_ && s.size > 0) {
      return Status::CorruptData("track " + std::to_string(id) + ": a sample at byte " + std::to_string(s.offset) +
                                 " overlaps the sample before it");
    }
    if (s.offset < t.in_end) {
      return Status::CorruptData("track " + std::to_string(id) + ": samples are not in file order at byte " +
                                 std::to_string(s.offset));
    }
    Status st = t.Add(s, copied_, id);
    if (!st.ok()) return st;
    if (s.size > 0) {
      if (!plan_.copies.empty() && plan_.copies.back().second == s.offset) {
        plan_.copies.back().second += s.size;
      } else {
        plan_.copies.emplace_back(s.offset, s.offset + s.size);
      }
      last_end_ = s.offset + s.size;
    }
    copied_ += s.size;
    ++plan_.info.samples;
    if (movie_.tracks[p.track].video()) {
      ++plan_.info.video_samples;
      plan_.info.sync_samples += s.sync;
    }
    kept_any = true;
  }
  if (pending_fragments_ && kept_any) plan_.info.fragments += pending_fragments_;
  pending_fragments_ = 0;
  samples->clear();
  return Status::Ok();
}

Status Mp4RepairPlanner::Finish() {
  if (finished_) return finish_status_;
  finished_ = true;
  Status s = reader_.Finish();
  if (!s.ok() && !(reader_.truncated() && allow_truncated_ && reader_.has_movie())) {
    if (reader_.truncated()) {
      s = Status::CorruptData(s.message() + "; pass allowTruncated to keep every complete sample");
    }
    return finish_status_ = s;
  }
  if (!s.ok()) {
    plan_.info.truncated = true;
    s = Commit(&pending_, reader_.position());
  } else {
    s = Commit(&pending_, UINT64_MAX);
  }
  if (!s.ok()) return finish_status_ = s;
  if (plan_.info.samples == 0) return finish_status_ = Status::CorruptData("the MP4 holds no complete sample");
  if (plan_.info.truncated) plan_.info.dropped_bytes = plan_.info.input_size - last_end_;
  return finish_status_ = BuildPlan();
}

namespace {

void Matrix(Mp4BoxWriter* w) {
  const uint32_t m[9] = {0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000};
  for (uint32_t v : m) w->U32(v);
}

}  // namespace

Status Mp4RepairPlanner::BuildPlan() {
  Mp4RepairInfo& info = plan_.info;
  struct TrackOut {
    uint64_t empty = 0;       // movie timescale
    int64_t media_time = 0;   // track timescale
    uint64_t segment = 0;     // movie timescale
    bool edts = false;
  };
  std::vector<TrackOut> outs(movie_.tracks.size());
  uint64_t movie_duration = 0;
  std::string codecs;
  uint32_t next_id = 1;
  bool avc = false, av1 = false;
  for (size_t i = 0; i < movie_.tracks.size(); ++i) {
    const Mp4Track& tr = movie_.tracks[i];
    Table& t = *tables_[i];
    t.Close();
    TrackOut& o = outs[i];
    // The input's presentation start S (its normal edit's media time, else 0) and its empty edit E.
    uint64_t in_empty = 0, in_segment = 0;
    int64_t start = 0;
    for (const Mp4EditEntry& e : tr.edits) {
      if (e.media_time < 0) {
        in_empty += e.segment_duration;
      } else {
        start = e.media_time;
        in_segment = e.segment_duration;
        break;
      }
    }
    const uint32_t in_timescale = movie_.timescale ? movie_.timescale : kMovieTimescale;
    in_empty = Rescale(in_empty, in_timescale, kMovieTimescale);
    const uint64_t first = t.first_decode;
    if (uint64_t(start) >= first) {
      o.media_time = int64_t(uint64_t(start) - first);
      o.empty = in_empty;
    } else {
      o.media_time = 0;
      o.empty = in_empty + Rescale(first - uint64_t(start), tr.timescale, kMovieTimescale);
    }
    const uint64_t shown = t.media_duration > uint64_t(o.media_time) ? t.media_duration - uint64_t(o.media_time) : 0;
    const uint64_t full = Rescale(shown, tr.timescale, kMovieTimescale);
    o.segment = full;
    // An input edit that ends the track early (e.g. B-frames decoded past the end) keeps doing so; a
    // fragmented input's edit of 0 (length unknown when it was written) does not. A short edit in a finer
    // movie timescale stays at least 1 ms: rounded to 0 it would read as "length unknown" next time, and
    // repairing the repaired file would change it.
    if (in_segment > 0 && uint64_t(start) >= first) {
      o.segment = std::min(full, std::max<uint64_t>(1, Rescale(in_segment, in_timescale, kMovieTimescale)));
    }
    // The edit is written whenever it says something: an empty start, a media start, or an early end.
    o.edts = o.empty > 0 || o.media_time > 0 || o.segment < full;
    if (!t.sizes.empty()) movie_duration = std::max(movie_duration, o.empty + o.segment);
    if (t.sizes.empty()) continue;  // not written (see below)
    if (!codecs.empty()) codecs += ",";
    codecs += tr.CodecString();
    next_id = std::max(next_id, tr.id + 1);
    avc |= tr.codec() == "h264";
    av1 |= tr.codec() == "av1";
  }
  info.codecs = codecs;
  info.duration_ms = double(movie_duration);

  const uint64_t payload = copied_;
  const bool big_mdat = payload + 8 > UINT32_MAX;
  auto build = [&](uint64_t data_start, bool co64) {
    Mp4BoxWriter w;
    w.Begin("ftyp");
    w.FourCC("isom");
    w.U32(512);
    w.FourCC("isom");
    w.FourCC("iso2");
    w.FourCC("mp41");
    if (avc) w.FourCC("avc1");
    if (av1) w.FourCC("av01");
    w.End();
    w.Begin("moov");
    w.BeginFull("mvhd", 1, 0);
    w.U64(0);
    w.U64(0);
    w.U32(kMovieTimescale);
    w.U64(movie_duration);
    w.U32(0x00010000);
    w.U16(0x0100);
    w.Zeros(10);
    Matrix(&w);
    w.Zeros(24);
    w.U32(next_id);
    w.End();
    for (size_t i = 0; i < movie_.tracks.size(); ++i) {
      const Mp4Track& tr = movie_.tracks[i];
      const Table& t = *tables_[i];
      const TrackOut& o = outs[i];
      if (t.sizes.empty()) continue;  // a track with no sample left (e.g. audio cut before its first packet)
      w.Begin("trak");
      w.BeginFull("tkhd", 1, 3);
      w.U64(0);
      w.U64(0);
      w.U32(tr.id);
      w.U32(0);
      w.U64(o.empty + o.segment);
      w.Zeros(8);
      w.U16(0);
      w.U16(tr.audio() ? 1 : 0);
      w.U16(tr.audio() ? 0x0100 : 0);
      w.U16(0);
      Matrix(&w);
      w.U32(tr.video() ? uint32_t(tr.width) << 16 : 0);
      w.U32(tr.video() ? uint32_t(tr.height) << 16 : 0);
      w.End();
      if (o.edts) {
        w.Begin("edts");
        w.BeginFull("elst", 1, 0);
        w.U32(o.empty ? 2 : 1);
        if (o.empty) {
          w.U64(o.empty);
          w.U64(uint64_t(int64_t(-1)));
          w.U32(0x00010000);
        }
        w.U64(o.segment);
        w.U64(uint64_t(o.media_time));
        w.U32(0x00010000);
        w.End();
        w.End();
      }
      w.Begin("mdia");
      w.BeginFull("mdhd", 1, 0);
      w.U64(0);
      w.U64(0);
      w.U32(tr.timescale);
      w.U64(t.media_duration);
      w.U16(0x55c4);  // "und"
      w.U16(0);
      w.End();
      w.BeginFull("hdlr", 0, 0);
      w.U32(0);
      w.U32(tr.handler);
      w.Zeros(12);
      const char* name = tr.video() ? "VideoHandler" : tr.audio() ? "SoundHandler" : "DataHandler";
      w.Bytes(reinterpret_cast<const uint8_t*>(name), strlen(name) + 1);
      w.End();
      w.Begin("minf");
      if (tr.video()) {
        w.BeginFull("vmhd", 0, 1);
        w.Zeros(8);
        w.End();
      } else if (tr.audio()) {
        w.BeginFull("smhd", 0, 0);
        w.Zeros(4);
        w.End();
      } else {
        w.BeginFull("nmhd", 0, 0);
        w.End();
      }
      w.Begin("dinf");
      w.BeginFull("dref", 0, 0);
      w.U32(1);
      w.BeginFull("url ", 0, 1);
      w.End();
      w.End();
      w.End();
      w.Begin("stbl");
      w.BeginFull("stsd", 0, 0);
      w.U32(1);
      w.Bytes(tr.sample_entry);
      w.End();
      w.BeginFull("stts", 0, 0);
      w.U32(uint32_t(t.stts.size()));
      for (const auto& e : t.stts) w.U32(e.first), w.U32(e.second);
      w.End();
      if (t.any_cto) {
        w.BeginFull("ctts", t.negative_cto ? 1 : 0, 0);
        w.U32(uint32_t(t.ctts.size()));
        for (const auto& e : t.ctts) w.U32(e.first), w.U32(uint32_t(e.second));
        w.End();
      }
      if (t.stss.size() != t.sizes.size()) {
        w.BeginFull("stss", 0, 0);
        w.U32(uint32_t(t.stss.size()));
        for (uint32_t n : t.stss) w.U32(n);
        w.End();
      }
      w.BeginFull("stsc", 0, 0);
      const size_t stsc_count_at = w.Mark();
      w.U32(0);
      uint32_t runs = 0;
      for (size_t c = 0; c < t.chunks.size(); ++c) {
        if (c > 0 && t.chunks[c].second == t.chunks[c - 1].second) continue;
        w.U32(uint32_t(c + 1));
        w.U32(t.chunks[c].second);
        w.U32(1);
        ++runs;
      }
      w.PatchU32(stsc_count_at, runs);
      w.End();
      w.BeginFull("stsz", 0, 0);
      w.U32(0);
      w.U32(uint32_t(t.sizes.size()));
      for (uint32_t s : t.sizes) w.U32(s);
      w.End();
      w.BeginFull(co64 ? "co64" : "stco", 0, 0);
      w.U32(uint32_t(t.chunks.size()));
      for (const auto& c : t.chunks) {
        if (co64) {
          w.U64(data_start + c.first);
        } else {
          w.U32(uint32_t(data_start + c.first));
        }
      }
      w.End();
      w.End();  // stbl
      w.End();  // minf
      w.End();  // mdia
      w.End();  // trak
    }
    w.End();  // moov
    if (big_mdat) {
      w.U32(1);
      w.FourCC("mdat");
      w.U64(payload + 16);
    } else {
      w.U32(uint32_t(payload + 8));
      w.FourCC("mdat");
    }
    return w.Take();
  };
  const size_t head = build(0, false).size();
  const bool co64 = head + payload > UINT32_MAX;
  const size_t head64 = co64 ? build(0, true).size() : head;
  plan_.prelude = build(head64, co64);
  info.output_size = plan_.prelude.size() + payload;
  return Status::Ok();
}

Mp4RepairWriter::Mp4RepairWriter(Mp4RepairPlan plan) : plan_(std::move(plan)) {}

Status Mp4RepairWriter::Fail(Status s) {
  failed_ = true;
  error_ = s;
  return s;
}

Status Mp4RepairWriter::Feed(const uint8_t* data, size_t size, std::vector<RepairPiece>* pieces) {
  pieces->clear();
  if (failed_) return error_;
  if (pos_ + size > plan_.info.input_size) {
    return Fail(Status::FailedPrecondition("the input is longer in pass 2 than in pass 1 (" +
                                           std::to_string(plan_.info.input_size) + " bytes): it changed"));
  }
  if (!started_) {
    started_ = true;
    pieces->push_back({RepairPiece::kPrelude, 0, plan_.prelude.size()});
    written_ += plan_.prelude.size();
  }
  const uint64_t end = pos_ + size;
  while (next_copy_ < plan_.copies.size()) {
    const auto& c = plan_.copies[next_copy_];
    if (c.first >= end) break;
    const uint64_t b = std::max(c.first, pos_), e = std::min(c.second, end);
    if (e > b) {
      pieces->push_back({RepairPiece::kInput, b - pos_, e - b});
      written_ += e - b;
    }
    if (c.second <= end) {
      ++next_copy_;
    } else {
      break;
    }
  }
  pos_ = end;
  return Status::Ok();
}

Status Mp4RepairWriter::Finish() {
  if (failed_) return error_;
  if (pos_ != plan_.info.input_size || next_copy_ != plan_.copies.size()) {
    return Fail(Status::FailedPrecondition("the input is shorter in pass 2 (" + std::to_string(pos_) +
                                           " bytes) than in pass 1 (" + std::to_string(plan_.info.input_size) +
                                           "): it changed"));
  }
  if (written_ != plan_.info.output_size) return Fail(Status::FailedPrecondition("wrote a different size than planned"));
  return Status::Ok();
}

}  // namespace ck
