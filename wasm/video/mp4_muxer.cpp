#include "video/mp4_muxer.h"

#include <algorithm>
#include <cmath>

namespace ck {
namespace {

constexpr uint32_t kVideoTrackId = 1, kAudioTrackId = 2;
constexpr uint32_t kSyncSampleFlags = 0x02000000;     // sample_depends_on = 2 (an I-frame)
constexpr uint32_t kNonSyncSampleFlags = 0x01010000;  // sample_depends_on = 1, sample_is_non_sync_sample
constexpr uint32_t kTrunFlags = 0x000701;             // data offset, per-sample duration, size, flags
constexpr uint32_t kTfhdDefaultBaseIsMoof = 0x020000;

uint64_t ToTicks(uint64_t ns, uint32_t timescale) {
  return ns / 1'000'000'000 * timescale + (ns % 1'000'000'000 * timescale + 500'000'000) / 1'000'000'000;
}
uint64_t TicksToNs(uint64_t ticks, uint32_t timescale) {
  return ticks / timescale * 1'000'000'000 + (ticks % timescale * 1'000'000'000 + timescale / 2) / timescale;
}
uint64_t ToMovie(uint64_t ticks, uint32_t timescale) {
  return (ticks * kMp4MovieTimescale + timescale / 2) / timescale;
}
std::string Ms(uint64_t ns) { return std::to_string(ns / 1'000'000) + " ms"; }

void WriteMatrix(Mp4BoxWriter* w) {
  const uint32_t m[9] = {0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000};
  for (uint32_t v : m) w->U32(v);
}

void WriteFtyp(Mp4BoxWriter* w, Mp4Codec video, bool fragmented) {
  w->Begin("ftyp");
  w->FourCC("isom");
  w->U32(0x200);
  w->FourCC("isom");
  if (fragmented) w->FourCC("iso6");
  w->FourCC("iso2");
  w->FourCC("mp41");
  if (video == Mp4Codec::kH264) w->FourCC("avc1");
  if (video == Mp4Codec::kAv1) w->FourCC("av01");
  w->End();
}

}  // namespace

Mp4Muxer::Mp4Muxer() = default;
Mp4Muxer::~Mp4Muxer() = default;

Status Mp4Muxer::Fail(Status s) {
  failed_ = true;
  failure_ = s;
  return s;
}

Status Mp4Muxer::Open(ByteSink* sink, const Mp4MuxerOptions& o) {
  if (open_) return Status::FailedPrecondition("mp4 muxer: already open");
  if (!sink || !sink->Seekable()) return Status::InvalidArgument("mp4 muxer: needs a seekable sink");
  if (o.width < 2 || o.width > 16384 || o.height < 2 || o.height > 16384)
    return Status::OutOfRange("mp4 muxer: size " + std::to_string(o.width) + "x" + std::to_string(o.height) +
                              " is outside 2..16384");
  if (!(o.fps >= 0.1 && o.fps <= 240)) return Status::OutOfRange("mp4 muxer: fps must be within 0.1..240");
  Status s = video_.entry.InitVideo(o.codec, o.width, o.height, o.fps, o.description);
  if (!s.ok()) return s;
  video_.id = kVideoTrackId;
  if (o.audio.enabled) {
    const int r = o.audio.sample_rate;
    if (r < 8000 || r > 192000) return Status::OutOfRange("mp4 muxer: audio sample rate " + std::to_string(r) + " is outside 8000..192000");
    s = audio_.entry.InitAudio(o.audio.codec, r, o.audio.channels, o.audio.pre_skip, o.audio.description);
    if (!s.ok()) return s;
    audio_.id = kAudioTrackId;
    audio_enabled_ = true;
  }
  sink_ = sink;
  options_ = o;
  open_ = true;
  if (o.layout == Mp4Layout::kFragmented && video_.entry.complete()) return WriteInit();
  return Status::Ok();
}

std::string Mp4Muxer::MimeType() const {
  std::string codecs = video_.entry.CodecString();
  if (audio_enabled_) codecs += ", " + audio_.entry.CodecString();
  return "video/mp4; codecs=\"" + codecs + "\"";
}

uint64_t Mp4Muxer::PresentationEndNs(const Track& t) const {
  if (!t.any) return 0;
  const uint32_t ts = t.entry.timescale();
  const uint64_t trim = t.end_padding + t.entry.pre_skip();
  const uint64_t end = t.last_end > trim ? t.last_end - trim : 0;
  return TicksToNs(end, ts);
}

uint64_t Mp4Muxer::TrackDurationMovie(const Track& t) const {
  return (PresentationEndNs(t) * kMp4MovieTimescale + 500'000'000) / 1'000'000'000;
}

void Mp4Muxer::WriteStbl(Mp4BoxWriter* w, const Track& t, const std::vector<uint64_t>* chunk_offsets,
                         const std::vector<uint32_t>* chunk_samples, bool co64) {
  const std::vector<Sample>* samples = chunk_offsets ? &t.pending : nullptr;
  w->Begin("stbl");
  w->BeginFull("stsd", 0, 0);
  w->U32(1);
  t.entry.Write(w);
  w->End();
  // stts: runs of equal durations
  w->BeginFull("stts", 0, 0);
  size_t count_at = w->Mark();
  w->U32(0);
  uint32_t runs = 0;
  if (samples) {
    for (size_t i = 0; i < samples->size();) {
      size_t j = i;
      while (j < samples->size() && (*samples)[j].duration == (*samples)[i].duration) ++j;
      w->U32(uint32_t(j - i));
      w->U32((*samples)[i].duration);
      ++runs;
      i = j;
    }
  }
  w->PatchU32(count_at, runs);
  w->End();
  // stss: only when some sample is not a key frame
  if (samples && t.entry.is_video() &&
      std::any_of(samples->begin(), samples->end(), [](const Sample& s) { return !s.sync; })) {
    w->BeginFull("stss", 0, 0);
    count_at = w->Mark();
    w->U32(0);
    uint32_t n = 0;
    for (size_t i = 0; i < samples->size(); ++i)
      if ((*samples)[i].sync) w->U32(uint32_t(i + 1)), ++n;
    w->PatchU32(count_at, n);
    w->End();
  }
  // stsc: a run of chunks with the same number of samples is one entry
  w->BeginFull("stsc", 0, 0);
  count_at = w->Mark();
  w->U32(0);
  uint32_t entries = 0;
  if (chunk_samples) {
    for (size_t c = 0; c < chunk_samples->size(); ++c) {
      if (c > 0 && (*chunk_samples)[c] == (*chunk_samples)[c - 1]) continue;
      w->U32(uint32_t(c + 1));
      w->U32((*chunk_samples)[c]);
      w->U32(1);
      ++entries;
    }
  }
  w->PatchU32(count_at, entries);
  w->End();
  w->BeginFull("stsz", 0, 0);
  w->U32(0);  // sizes differ: one per sample
  w->U32(samples ? uint32_t(samples->size()) : 0);
  if (samples)
    for (const Sample& s : *samples) w->U32(uint32_t(s.data.size()));
  w->End();
  w->BeginFull(co64 ? "co64" : "stco", 0, 0);
  w->U32(chunk_offsets ? uint32_t(chunk_offsets->size()) : 0);
  if (chunk_offsets)
    for (uint64_t off : *chunk_offsets) co64 ? w->U64(off) : w->U32(uint32_t(off));
  w->End();
  w->End();  // stbl
}

void Mp4Muxer::WriteTrak(Mp4BoxWriter* w, Track& t, bool fragmented, std::vector<size_t>* tkhd_marks) {
  const bool video = t.entry.is_video();
  const uint32_t ts = t.entry.timescale();
  w->Begin("trak");
  w->BeginFull("tkhd", 1, 3);  // enabled, in movie
  w->U64(0);
  w->U64(0);
  w->U32(t.id);
  w->U32(0);
  if (tkhd_marks) tkhd_marks->push_back(w->Mark());
  w->U64(fragmented ? 0 : TrackDurationMovie(t));
  w->Zeros(8);
  w->U16(0);  // layer
  w->U16(0);  // alternate_group
  w->U16(video ? 0 : 0x0100);
  w->U16(0);
  WriteMatrix(w);
  w->U32(video ? uint32_t(options_.width) << 16 : 0);
  w->U32(video ? uint32_t(options_.height) << 16 : 0);
  w->End();

  // Edits: an empty edit for a late start (progressive), the Opus pre-skip as the media time.
  const uint64_t skip = t.entry.pre_skip();
  const uint64_t start = fragmented ? 0 : t.first_time;
  const uint64_t media = t.last_end - t.first_time;
  if (skip > 0 || start > 0 || (!fragmented && t.end_padding > 0)) {
    w->Begin("edts");
    w->BeginFull("elst", 1, 0);
    w->U32(start > 0 ? 2 : 1);
    if (start > 0) {
      w->U64(ToMovie(start, ts));
      w->U64(~uint64_t(0));  // media_time -1: an empty edit
      w->U32(0x00010000);
    }
    const uint64_t trim = skip + t.end_padding;
    w->U64(fragmented ? 0 : ToMovie(media > trim ? media - trim : 0, ts));  // 0: as long as the media
    w->U64(skip);
    w->U32(0x00010000);  // media_rate 1.0
    w->End();
    w->End();
  }

  w->Begin("mdia");
  w->BeginFull("mdhd", 1, 0);
  w->U64(0);
  w->U64(0);
  w->U32(ts);
  w->U64(fragmented ? 0 : media);
  w->U16(0x55c4);  // 'und'
  w->U16(0);
  w->End();
  w->BeginFull("hdlr", 0, 0);
  w->U32(0);
  w->FourCC(video ? "vide" : "soun");
  w->Zeros(12);
  const char* name = video ? "VideoHandler" : "SoundHandler";
  w->Bytes(reinterpret_cast<const uint8_t*>(name), std::char_traits<char>::length(name) + 1);
  w->End();
  w->Begin("minf");
  if (video) {
    w->BeginFull("vmhd", 0, 1);
    w->Zeros(8);
  } else {
    w->BeginFull("smhd", 0, 0);
    w->Zeros(4);
  }
  w->End();
  w->Begin("dinf");
  w->BeginFull("dref", 0, 0);
  w->U32(1);
  w->BeginFull("url ", 0, 1);  // the media is in this file
  w->End();
  w->End();
  w->End();
}

Status Mp4Muxer::WriteInit() {
  Mp4BoxWriter w;
  WriteFtyp(&w, video_.entry.codec(), true);
  w.Begin("moov");
  w.BeginFull("mvhd", 1, 0);
  w.U64(0);
  w.U64(0);
  w.U32(kMp4MovieTimescale);
  const size_t mvhd_duration = w.Mark();
  w.U64(0);
  w.U32(0x00010000);
  w.U16(0x0100);
  w.Zeros(10);
  WriteMatrix(&w);
  w.Zeros(24);
  w.U32(audio_enabled_ ? 3 : 2);  // next_track_ID
  w.End();
  w.Begin("mvex");
  w.BeginFull("mehd", 1, 0);
  const size_t mehd_duration = w.Mark();
  w.U64(0);
  w.End();
  for (Track* t : {&video_, &audio_}) {
    if (!t->id) continue;
    w.BeginFull("trex", 0, 0);
    w.U32(t->id);
    w.U32(1);  // default_sample_description_index
    w.U32(0);
    w.U32(0);
    w.U32(0);
    w.End();
  }
  w.End();  // mvex
  for (Track* t : {&video_, &audio_}) {
    if (!t->id) continue;
    std::vector<size_t> marks;
    WriteTrak(&w, *t, true, &marks);
    WriteStbl(&w, *t, nullptr, nullptr, false);
    w.End();  // minf
    w.End();  // mdia
    w.End();  // trak
    t->tkhd_duration_at = sink_->Position() + int64_t(marks[0]);
  }
  w.End();  // moov
  const int64_t base = sink_->Position();
  mvhd_duration_at_ = base + int64_t(mvhd_duration);
  mehd_duration_at_ = base + int64_t(mehd_duration);
  Status s = sink_->Write(w.bytes().data(), w.bytes().size());
  if (!s.ok()) return Fail(s);
  sink_->Commit(sink_->Position());
  init_written_ = true;
  return Status::Ok();
}

Status Mp4Muxer::AddFrame(const uint8_t* data, size_t size, bool keyframe, uint64_t timestamp_ns) {
  if (!open_) return Status::FailedPrecondition("mp4 muxer: not open");
  if (failed_) return failure_;
  if (finished_) return Status::FailedPrecondition("mp4 muxer: already finished");
  if (!data || size == 0) return Status::InvalidArgument("mp4 muxer: empty video frame");
  if (size > kMaxMp4SampleBytes)
    return Status::OutOfRange("mp4 muxer: a video frame of " + std::to_string(size) + " bytes is over the " +
                              std::to_string(kMaxMp4SampleBytes) + "-byte limit");
  if (timestamp_ns > kMaxMp4TimestampNs) return Status::OutOfRange("mp4 muxer: video timestamp beyond 2^50 ns");
  if (video_.count == 0 && !keyframe) return Status::InvalidArgument("mp4 muxer: the first video frame must be a key frame");
  const uint32_t ts = video_.entry.timescale();
  const uint64_t ticks = ToTicks(timestamp_ns, ts);
  if (video_.any && ticks <= video_.last_time)
    return Status::OutOfRange("mp4 muxer: video timestamps must increase: " + std::to_string(timestamp_ns) +
                              " ns after " + std::to_string(TicksToNs(video_.last_time, ts)) + " ns");
  if (video_.any && ticks - video_.last_time > UINT32_MAX)
    return Status::OutOfRange("mp4 muxer: a gap of more than " + Ms(TicksToNs(UINT32_MAX, ts)) +
                              " between video frames does not fit a sample duration");
  if (!video_.entry.complete()) {
    Status s = video_.entry.CompleteFromKeyframe(data, size);
    if (!s.ok()) return s;
  }
  Sample sample;
  Status s = video_.entry.FrameSample(data, size, &sample.data);
  if (!s.ok()) return s;
  sample.time = ticks;
  sample.sync = keyframe;
  sample.duration = uint32_t(std::llround(ts / options_.fps));  // until the next frame says otherwise
  if (options_.layout == Mp4Layout::kFragmented) {
    if (!init_written_) {
      s = WriteInit();
      if (!s.ok()) return s;
    }
    if (!video_.pending.empty()) video_.pending.back().duration = uint32_t(ticks - video_.pending.back().time);
    // A fragment ends before every key frame, and when too much waits.
    if (keyframe && !video_.pending.empty()) {
      s = Flush(ticks, false);
      if (!s.ok()) return s;
    } else if (!video_.pending.empty() && (ticks - video_.pending.front().time > ToTicks(kMaxMp4FragmentNs, ts) ||
                                           video_.pending_bytes > kMaxMp4FragmentBytes)) {
      s = Flush(ticks, false);
      if (!s.ok()) return s;
    }
  } else if (!video_.pending.empty()) {
    video_.pending.back().duration = uint32_t(ticks - video_.pending.back().time);
  }
  if (!video_.any) video_.first_time = ticks;
  video_.any = true;
  video_.last_time = ticks;
  video_.last_end = ticks + sample.duration;
  video_.pending_bytes += sample.data.size();
  video_.pending.push_back(std::move(sample));
  ++video_.count;
  return Status::Ok();
}

Status Mp4Muxer::AddAudio(const uint8_t* data, size_t size, uint64_t timestamp_ns, uint64_t discard_padding_ns) {
  if (!open_) return Status::FailedPrecondition("mp4 muxer: not open");
  if (failed_) return failure_;
  if (finished_) return Status::FailedPrecondition("mp4 muxer: already finished");
  if (!audio_enabled_) return Status::FailedPrecondition("mp4 muxer: the file has no audio track");
  if (!data || size == 0) return Status::InvalidArgument("mp4 muxer: empty audio packet");
  if (size > kMaxMp4SampleBytes) return Status::OutOfRange("mp4 muxer: an audio packet over the size limit");
  if (timestamp_ns > kMaxMp4TimestampNs) return Status::OutOfRange("mp4 muxer: audio timestamp beyond 2^50 ns");
  uint32_t toc = 0;
  Status s = audio_.entry.PacketDuration(data, size, &toc);
  if (!s.ok()) return Status::CorruptData("mp4 muxer: " + s.message());
  const uint32_t ts = audio_.entry.timescale();
  const uint64_t ticks = ToTicks(timestamp_ns, ts);
  if (audio_.any && ticks <= audio_.last_time)
    return Status::OutOfRange("mp4 muxer: audio timestamps must increase: " + std::to_string(timestamp_ns) +
                              " ns after " + std::to_string(TicksToNs(audio_.last_time, ts)) + " ns");
  if (audio_.any && ticks - audio_.last_time > UINT32_MAX)
    return Status::OutOfRange("mp4 muxer: a gap of more than " + Ms(TicksToNs(UINT32_MAX, ts)) +
                              " between audio packets does not fit a sample duration");
  const uint64_t padding = ToTicks(discard_padding_ns, ts);
  if (padding > toc) return Status::OutOfRange("mp4 muxer: audio discard padding longer than the packet");
  if (!init_written_ && options_.layout == Mp4Layout::kFragmented && audio_.pending_bytes + size > kMaxMp4PendingAudioBytes)
    return Status::ResourceExhausted("mp4 muxer: " + std::to_string(kMaxMp4PendingAudioBytes) +
                                     " bytes of audio wait for the first video key frame");
  Sample sample;
  s = audio_.entry.FrameSample(data, size, &sample.data);
  if (!s.ok()) return s;
  sample.time = ticks;
  sample.duration = toc;
  if (!audio_.pending.empty()) audio_.pending.back().duration = uint32_t(ticks - audio_.pending.back().time);
  if (!audio_.any) audio_.first_time = ticks;
  audio_.any = true;
  audio_.last_time = ticks;
  audio_.last_end = ticks + toc;
  audio_.end_padding = padding;
  audio_.pending_bytes += sample.data.size();
  audio_.pending.push_back(std::move(sample));
  ++audio_.count;
  if (options_.layout == Mp4Layout::kFragmented && init_written_ &&
      (ticks - audio_.pending.front().time > ToTicks(kMaxMp4FragmentNs, ts) ||
       audio_.pending_bytes > kMaxMp4FragmentBytes)) {
    // Sound runs on without video key frames (a still screen): it gets fragments of its own.
    s = Flush(0, true);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

// Writes one fragment. video_cut: the video time (ticks) up to which samples go out (the samples
// before it; with `audio_only`, no video); audio goes out up to the same time, or all of it.
Status Mp4Muxer::Flush(uint64_t video_cut, bool audio_only) {
  std::vector<Sample> video, audio;
  uint64_t audio_cut_ns = UINT64_MAX;
  if (!audio_only) {
    size_t n = 0;
    while (n < video_.pending.size() && video_.pending[n].time < video_cut) ++n;
    video.assign(std::make_move_iterator(video_.pending.begin()), std::make_move_iterator(video_.pending.begin() + ptrdiff_t(n)));
    video_.pending.erase(video_.pending.begin(), video_.pending.begin() + ptrdiff_t(n));
    for (const Sample& v : video) video_.pending_bytes -= v.data.size();
    audio_cut_ns = video_cut == UINT64_MAX ? UINT64_MAX : TicksToNs(video_cut, video_.entry.timescale());
  }
  if (audio_enabled_) {
    const uint32_t ts = audio_.entry.timescale();
    size_t n = 0;
    while (n < audio_.pending.size() && TicksToNs(audio_.pending[n].time, ts) < audio_cut_ns) ++n;
    audio.assign(std::make_move_iterator(audio_.pending.begin()), std::make_move_iterator(audio_.pending.begin() + ptrdiff_t(n)));
    audio_.pending.erase(audio_.pending.begin(), audio_.pending.begin() + ptrdiff_t(n));
    for (const Sample& a : audio) audio_.pending_bytes -= a.data.size();
  }
  if (video.empty() && audio.empty()) return Status::Ok();
  return WriteFragment(&video, &audio);
}

Status Mp4Muxer::WriteFragment(std::vector<Sample>* video, std::vector<Sample>* audio) {
  const uint64_t moof_offset = uint64_t(sink_->Position());
  Mp4BoxWriter w;
  w.Begin("moof");
  w.BeginFull("mfhd", 0, 0);
  w.U32(++sequence_);
  w.End();
  struct Run { Track* track; std::vector<Sample>* samples; size_t offset_at; };
  std::vector<Run> runs;
  uint8_t traf_number = 0;
  for (auto [t, samples] : {std::pair<Track*, std::vector<Sample>*>{&video_, video}, {&audio_, audio}}) {
    if (samples->empty()) continue;
    ++traf_number;
    w.Begin("traf");
    w.BeginFull("tfhd", 0, kTfhdDefaultBaseIsMoof);
    w.U32(t->id);
    w.End();
    w.BeginFull("tfdt", 1, 0);
    w.U64(samples->front().time);
    w.End();
    w.BeginFull("trun", 0, kTrunFlags);
    w.U32(uint32_t(samples->size()));
    runs.push_back({t, samples, w.Mark()});
    w.U32(0);  // data_offset, below
    for (const Sample& s : *samples) {
      w.U32(s.duration);
      w.U32(uint32_t(s.data.size()));
      w.U32(s.sync ? kSyncSampleFlags : kNonSyncSampleFlags);
    }
    w.End();
    w.End();
    // tfra: the fragment's first sync sample
    for (size_t i = 0; i < samples->size(); ++i) {
      if (!(*samples)[i].sync) continue;
      t->index.push_back({(*samples)[i].time, moof_offset, traf_number, uint32_t(i + 1)});
      break;
    }
  }
  w.End();  // moof
  uint64_t payload = 0;
  for (const Run& r : runs)
    for (const Sample& s : *r.samples) payload += s.data.size();
  const bool large = payload + 8 > UINT32_MAX;
  uint64_t data_offset = w.bytes().size() + (large ? 16 : 8);
  for (const Run& r : runs) {
    w.PatchU32(r.offset_at, uint32_t(data_offset));
    for (const Sample& s : *r.samples) data_offset += s.data.size();
  }
  if (large) {
    w.U32(1);
    w.FourCC("mdat");
    w.U64(payload + 16);
  } else {
    w.U32(uint32_t(payload + 8));
    w.FourCC("mdat");
  }
  Status s = sink_->Write(w.bytes().data(), w.bytes().size());
  for (const Run& r : runs)
    for (const Sample& sample : *r.samples)
      if (s.ok()) s = sink_->Write(sample.data.data(), sample.data.size());
  if (!s.ok()) return Fail(s);
  sink_->Commit(sink_->Position());
  ++fragments_;
  return Status::Ok();
}

Status Mp4Muxer::WriteProgressive() {
  // Interleave in time (video first on equal times): one chunk per run of one track's samples.
  struct Chunk { Track* track; size_t first, count; };
  std::vector<Chunk> chunks;
  size_t vi = 0, ai = 0;
  const uint32_t vts = video_.entry.timescale(), ats = audio_enabled_ ? audio_.entry.timescale() : 1;
  while (vi < video_.pending.size() || ai < audio_.pending.size()) {
    const bool take_video =
        ai >= audio_.pending.size() ||
        (vi < video_.pending.size() &&
         TicksToNs(video_.pending[vi].time, vts) <= TicksToNs(audio_.pending[ai].time, ats));
    Track* t = take_video ? &video_ : &audio_;
    size_t& i = take_video ? vi : ai;
    if (chunks.empty() || chunks.back().track != t) chunks.push_back({t, i, 0});
    ++chunks.back().count;
    ++i;
  }
  uint64_t payload = 0;
  for (Track* t : {&video_, &audio_})
    for (const Sample& s : t->pending) payload += s.data.size();

  auto build_moov = [&](uint64_t data_start, bool co64) {
    std::vector<uint64_t> offsets[2];
    std::vector<uint32_t> counts[2];
    uint64_t at = data_start;
    for (const Chunk& c : chunks) {
      const int k = c.track == &video_ ? 0 : 1;
      offsets[k].push_back(at);
      counts[k].push_back(uint32_t(c.count));
      for (size_t i = 0; i < c.count; ++i) at += c.track->pending[c.first + i].data.size();
    }
    Mp4BoxWriter w;
    w.Begin("moov");
    w.BeginFull("mvhd", 1, 0);
    w.U64(0);
    w.U64(0);
    w.U32(kMp4MovieTimescale);
    w.U64(std::max(TrackDurationMovie(video_), audio_enabled_ ? TrackDurationMovie(audio_) : 0));
    w.U32(0x00010000);
    w.U16(0x0100);
    w.Zeros(10);
    WriteMatrix(&w);
    w.Zeros(24);
    w.U32(audio_enabled_ ? 3 : 2);
    w.End();
    int k = 0;
    for (Track* t : {&video_, &audio_}) {
      if (t->id && t->any) {
        WriteTrak(&w, *t, false, nullptr);
        WriteStbl(&w, *t, &offsets[k], &counts[k], co64);
        w.End();  // minf
        w.End();  // mdia
        w.End();  // trak
      }
      ++k;
    }
    w.End();
    return w.Take();
  };

  Mp4BoxWriter head;
  WriteFtyp(&head, video_.entry.codec(), false);
  const bool large = payload + 8 > UINT32_MAX;
  const uint64_t mdat_header = large ? 16 : 8;
  std::vector<uint8_t> moov = build_moov(0, false);
  bool co64 = head.bytes().size() + moov.size() + mdat_header + payload > UINT32_MAX;
  if (co64) moov = build_moov(0, true);
  const uint64_t data_start = head.bytes().size() + moov.size() + mdat_header;
  moov = build_moov(data_start, co64);  // same size: the offsets are fixed-width
  head.Bytes(moov);
  if (large) {
    head.U32(1);
    head.FourCC("mdat");
    head.U64(payload + 16);
  } else {
    head.U32(uint32_t(payload + 8));
    head.FourCC("mdat");
  }
  Status s = sink_->Write(head.bytes().data(), head.bytes().size());
  for (const Chunk& c : chunks) {
    for (size_t i = 0; i < c.count && s.ok(); ++i) {
      std::vector<uint8_t>& d = c.track->pending[c.first + i].data;
      s = sink_->Write(d.data(), d.size());
      std::vector<uint8_t>().swap(d);  // written: let it go
    }
    if (!s.ok()) return Fail(s);
    sink_->Commit(sink_->Position());
  }
  if (!s.ok()) return Fail(s);
  return Status::Ok();
}

Status Mp4Muxer::Finish(uint64_t duration_ns) {
  if (!open_) return Status::FailedPrecondition("mp4 muxer: not open");
  if (failed_) return failure_;
  if (finished_) return Status::FailedPrecondition("mp4 muxer: already finished");
  if (video_.count == 0) return Status::FailedPrecondition("mp4 muxer: no video frame was added");
  const uint32_t vts = video_.entry.timescale();
  // The last frame's duration: up to the given end, else the average spacing (1 / fps for one frame).
  uint64_t last_duration = 0;
  if (duration_ns > 0) {
    const uint64_t end = ToTicks(duration_ns, vts);
    if (end <= video_.last_time)
      return Status::OutOfRange("mp4 muxer: the duration " + Ms(duration_ns) + " ends before the last frame at " +
                                Ms(TicksToNs(video_.last_time, vts)));
    last_duration = end - video_.last_time;
  } else if (video_.count > 1) {
    last_duration = (video_.last_time - video_.first_time + uint64_t(video_.count - 1) / 2) / uint64_t(video_.count - 1);
  } else {
    last_duration = uint64_t(std::llround(vts / options_.fps));
  }
  video_.pending.back().duration = uint32_t(std::max<uint64_t>(last_duration, 1));
  video_.last_end = video_.last_time + video_.pending.back().duration;
  finished_ = true;
  const uint64_t end_ns = std::max(PresentationEndNs(video_), audio_enabled_ ? PresentationEndNs(audio_) : 0);
  duration_s_ = double(end_ns) / 1e9;

  if (options_.layout == Mp4Layout::kProgressive) {
    Status s = WriteProgressive();
    if (!s.ok()) return s;
    s = sink_->Close();
    return s.ok() ? s : Fail(s);
  }

  Status s = Flush(UINT64_MAX, false);
  if (!s.ok()) return s;
  // mfra: where each track's fragments start, for players that seek without reading every moof.
  Mp4BoxWriter w;
  w.Begin("mfra");
  for (Track* t : {&video_, &audio_}) {
    if (!t->id) continue;
    w.BeginFull("tfra", 1, 0);
    w.U32(t->id);
    w.U32(0x3);  // traf and trun numbers in 1 byte, sample numbers in 4
    w.U32(uint32_t(t->index.size()));
    for (const FragmentEntry& e : t->index) {
      w.U64(e.time);
      w.U64(e.moof_offset);
      w.U8(e.traf_number);
      w.U8(1);
      w.U32(e.sample_number);
    }
    w.End();
  }
  w.BeginFull("mfro", 0, 0);
  w.U32(uint32_t(w.bytes().size() + 4));  // the mfra's size, this field included
  w.End();
  w.End();
  s = sink_->Write(w.bytes().data(), w.bytes().size());
  if (!s.ok()) return Fail(s);
  // Patch the durations reserved in the init segment.
  const uint64_t movie = (end_ns * kMp4MovieTimescale + 500'000'000) / 1'000'000'000;
  const std::vector<uint8_t> d = Mp4U64(movie);
  std::vector<std::pair<int64_t, std::vector<uint8_t>>> patches = {{mvhd_duration_at_, d}, {mehd_duration_at_, d}};
  for (Track* t : {&video_, &audio_})
    if (t->id) patches.push_back({t->tkhd_duration_at, Mp4U64(TrackDurationMovie(*t))});
  const int64_t end = sink_->Position();
  for (auto& [at, bytes] : patches) {
    if (s.ok()) s = sink_->Seek(at);
    if (s.ok()) s = sink_->Write(bytes.data(), bytes.size());
  }
  if (s.ok()) s = sink_->Seek(end);
  if (s.ok()) s = sink_->Close();
  return s.ok() ? s : Fail(s);
}

}  // namespace ck
