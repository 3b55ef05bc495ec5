#include "video/remux.h"

#include <algorithm>
#include <cstring>
#include <deque>

#include "video/mp4_reader.h"
#include "video/opus_head.h"
#include "video/webm_muxer.h"
#include "video/webm_parser.h"

namespace ck {

class Remuxer::Converter {
 public:
  virtual ~Converter() = default;
  virtual Status Feed(const uint8_t* data, size_t size) = 0;
  virtual Status Finish(bool allow_truncated, RemuxInfo* info) = 0;
};

namespace {

constexpr uint32_t kDiscardPaddingId = 0x75A2;

// ---- WebM -> MP4 ----
class WebmToMp4 final : public Remuxer::Converter, public WebmListener {
 public:
  WebmToMp4(ByteSink* sink, Mp4Layout layout) : sink_(sink), layout_(layout), parser_(this) {}

  Status Feed(const uint8_t* data, size_t size) override { return parser_.Feed(data, size); }

  Status Finish(bool allow_truncated, RemuxInfo* info) override {
    Status s = parser_.Finish();
    if (!s.ok()) {
      if (!parser_.truncated() || !allow_truncated) return s;
      info->truncated = true;
    }
    if (!open_) return Status::CorruptData("the WebM has no Tracks: nothing to remux");
    if (video_frames_ == 0) return Status::CorruptData("the WebM has no video frames");
    uint64_t end = 0;
    if (info_duration_ > 0) {
      const double ns = info_duration_ * double(timecode_scale_);
      if (ns > double(last_video_ns_)) end = uint64_t(ns);
    }
    s = muxer_.Finish(end);
    if (!s.ok()) return s;
    info->mime_type = muxer_.MimeType();
    info->video_codec = video_codec_;
    info->has_audio = muxer_.has_audio();
    info->frames = muxer_.frames();
    info->audio_packets = muxer_.audio_packets();
    info->duration_seconds = muxer_.duration_seconds();
    return Status::Ok();
  }

  Status OnElementData(const EbmlElement& e, const uint8_t* data, size_t size) override {
    switch (e.id) {
      case webm_id::kEbml: {
        WebmEbmlHeader h;
        Status s = ParseEbmlHeader(data, size, &h);
        if (!s.ok()) return s;
        if (h.doc_type != "webm" && h.doc_type != "matroska") {
          return Status::CorruptData("not a WebM file: DocType '" + h.doc_type + "'");
        }
        return Status::Ok();
      }
      case webm_id::kInfo: {
        WebmInfo info;
        Status s = ParseInfo(data, size, &info);
        if (!s.ok()) return s;
        timecode_scale_ = info.timecode_scale;
        info_duration_ = info.duration;
        return Status::Ok();
      }
      case webm_id::kTracks: return OnTracks(data, size);
      case webm_id::kTimecode: {
        uint64_t v = 0;
        if (!ReadEbmlUint(data, size, &v)) return Status::CorruptData("a bad Cluster Timecode at byte " + std::to_string(e.offset));
        cluster_time_ = v;
        return Status::Ok();
      }
      case webm_id::kReferenceBlock: group_reference_ = true; return Status::Ok();
      case kDiscardPaddingId: {
        int64_t v = 0;
        if (ReadEbmlInt(data, size, &v) && v > 0) group_discard_ns_ = uint64_t(v);
        return Status::Ok();
      }
      default: return Status::Ok();
    }
  }

  Status OnElementStart(const EbmlElement& e) override {
    if (e.id == webm_id::kBlockGroup) {
      group_reference_ = false;
      group_discard_ns_ = 0;
      group_has_block_ = false;
    }
    if (e.id == webm_id::kEncryptedBlock) return Status::InvalidArgument("encrypted WebM blocks cannot be remuxed");
    return Status::Ok();
  }

  Status OnBlock(const EbmlElement& e, const WebmBlockHeader& b) override {
    if (!open_) return Status::CorruptData("a block at byte " + std::to_string(e.offset) + " before the Tracks");
    block_ = b;
    frame_.clear();
    block_wanted_ = b.track == video_track_ || (audio_track_ && b.track == audio_track_);
    if (block_wanted_ && b.lacing != 0) {
      return Status::InvalidArgument("laced WebM blocks (byte " + std::to_string(e.offset) + ") are not supported");
    }
    return Status::Ok();
  }

  Status OnBlockData(const uint8_t* data, size_t size) override {
    if (block_wanted_) frame_.insert(frame_.end(), data, data + size);
    return Status::Ok();
  }

  Status OnElementEnd(const EbmlElement& e, uint64_t) override {
    if (e.id == webm_id::kSimpleBlock) return Emit(block_.keyframe, 0);
    if (e.id == webm_id::kBlock) group_has_block_ = true;
    if (e.id == webm_id::kBlockGroup && group_has_block_) return Emit(!group_reference_, group_discard_ns_);
    return Status::Ok();
  }

 private:
  Status OnTracks(const uint8_t* data, size_t size) {
    if (open_) return Status::CorruptData("a second Tracks element");
    std::vector<WebmTrack> tracks;
    Status s = ParseTracks(data, size, &tracks);
    if (!s.ok()) return s;
    const WebmTrack* video = nullptr;
    const WebmTrack* audio = nullptr;
    for (const WebmTrack& t : tracks) {
      if (t.type == 1 && !video) video = &t;
      if (t.type == 2 && !audio) audio = &t;
    }
    if (!video) return Status::InvalidArgument("the WebM has no video track");
    Mp4MuxerOptions o;
    o.layout = layout_;
    o.width = int(video->width);
    o.height = int(video->height);
    if (video->default_duration_ns > 0) o.fps = 1e9 / double(video->default_duration_ns);
    if (video->content_encoded) return Status::InvalidArgument("the WebM's video track is compressed or encrypted (ContentEncodings)");
    if (video->codec_id == "V_VP9") {
      o.codec = "vp9";
    } else if (video->codec_id == "V_AV1") {
      o.codec = "av1";
      o.description = video->codec_private;
    } else if (video->codec_id == "V_MPEG4/ISO/AVC") {
      o.codec = "h264";
      o.description = video->codec_private;
    } else if (video->codec_id == "V_VP8") {
      return Status::InvalidArgument("VP8 cannot go into MP4: it has no MP4 mapping that players accept (re-encode to VP9, AV1 or H.264)");
    } else {
      return Status::InvalidArgument("the WebM's video codec " + video->codec_id + " cannot be remuxed into MP4");
    }
    video_codec_ = o.codec;
    video_track_ = video->number;
    if (audio) {
      if (audio->codec_id != "A_OPUS") {
        return Status::InvalidArgument("the WebM's audio codec " + audio->codec_id + " cannot be remuxed into MP4 (Opus only)");
      }
      if (audio->content_encoded) return Status::InvalidArgument("the WebM's audio track is compressed or encrypted (ContentEncodings)");
      OpusHead head;
      s = ParseOpusHead(audio->codec_private.data(), audio->codec_private.size(), &head);
      if (!s.ok()) return Status::CorruptData("the WebM's Opus CodecPrivate: " + s.message());
      o.audio.enabled = true;
      o.audio.codec = "opus";
      o.audio.channels = head.channels;
      o.audio.sample_rate = head.input_sample_rate > 0 ? head.input_sample_rate : 48000;
      o.audio.pre_skip = head.pre_skip;
      o.audio.description = audio->codec_private;
      audio_track_ = audio->number;
    }
    s = muxer_.Open(sink_, o);
    if (!s.ok()) return s;
    open_ = true;
    return Status::Ok();
  }

  Status Emit(bool keyframe, uint64_t discard_ns) {
    if (!block_wanted_) return Status::Ok();
    block_wanted_ = false;
    const int64_t ticks = int64_t(cluster_time_) + block_.timecode;
    if (ticks < 0) return Status::CorruptData("a block before time zero");
    const uint64_t ns = uint64_t(ticks) * timecode_scale_;
    if (block_.track == video_track_) {
      Status s = muxer_.AddFrame(frame_.data(), frame_.size(), keyframe, ns);
      if (!s.ok()) return s;
      ++video_frames_;
      last_video_ns_ = ns;
      return Status::Ok();
    }
    return muxer_.AddAudio(frame_.data(), frame_.size(), ns, discard_ns);
  }

  ByteSink* sink_;
  Mp4Layout layout_;
  WebmStreamParser parser_;
  Mp4Muxer muxer_;
  bool open_ = false;
  std::string video_codec_;
  uint64_t timecode_scale_ = 1000000;
  double info_duration_ = -1;
  uint64_t video_track_ = 0, audio_track_ = 0;
  uint64_t cluster_time_ = 0;
  WebmBlockHeader block_;
  bool block_wanted_ = false;
  bool group_reference_ = false, group_has_block_ = false;
  uint64_t group_discard_ns_ = 0;
  std::vector<uint8_t> frame_;
  int64_t video_frames_ = 0;
  uint64_t last_video_ns_ = 0;
};

// ---- MP4 -> WebM ----
class Mp4ToWebm final : public Remuxer::Converter, public Mp4Listener {
 public:
  explicit Mp4ToWebm(ByteSink* sink) : sink_(sink), reader_(this) {}

  Status Feed(const uint8_t* data, size_t size) override { return reader_.Feed(data, size); }

  Status Finish(bool allow_truncated, RemuxInfo* info) override {
    Status s = reader_.Finish();
    if (!s.ok()) {
      if (!reader_.truncated() || !allow_truncated) return s;
      info->truncated = true;
    }
    if (!open_) return Status::CorruptData("the MP4 has no moov: nothing to remux");
    if (!info->truncated && !queue_.empty()) {
      return Status::CorruptData("sample at byte " + std::to_string(queue_.front().offset) + " lies outside every mdat");
    }
    if (muxer_.frames() == 0) return Status::CorruptData("the MP4 has no video samples");
    s = muxer_.Finish(double(video_end_ns_));
    if (!s.ok()) return s;
    info->mime_type = muxer_.has_audio() ? "video/webm; codecs=\"vp9, opus\"" : "video/webm; codecs=\"vp9\"";
    info->video_codec = "vp9";
    info->has_audio = muxer_.has_audio();
    info->frames = muxer_.frames();
    info->audio_packets = muxer_.audio_packets();
    info->duration_seconds = muxer_.duration_seconds();
    return Status::Ok();
  }

  Status OnMovie(const Mp4Movie& movie) override {
    const Mp4Track* video = nullptr;
    const Mp4Track* audio = nullptr;
    for (const Mp4Track& t : movie.tracks) {
      if (t.video() && !video) video = &t;
      if (t.audio() && !audio) audio = &t;
    }
    if (!video) return Status::InvalidArgument("the MP4 has no video track");
    const std::string vc = video->codec();
    if (vc == "h264" || vc == "hevc") {
      return Status::InvalidArgument("WebM has no " + std::string(vc == "h264" ? "H.264" : "HEVC") +
                                     ": this MP4's video cannot be remuxed into WebM (re-encode to VP9)");
    }
    if (vc != "vp9") return Status::InvalidArgument("the MP4's video codec " + vc + " cannot be remuxed into WebM (VP9 only)");
    WebmMuxerOptions o;
    o.codec = VideoCodec::kVp9;
    o.width = video->width;
    o.height = video->height;
    if (video->samples.size() > 1 && video->timescale) {
      const Mp4Sample& last = video->samples.back();
      const double span = double(last.decode_time - video->samples.front().decode_time) / video->timescale;
      if (span > 0) o.fps = std::clamp(double(video->samples.size() - 1) / span, 1.0, 240.0);
    }
    video_.Init(*video, movie.timescale, true);
    if (audio) {
      if (audio->codec() != "opus") {
        return Status::InvalidArgument("the MP4's audio codec " + audio->codec() + " cannot go into WebM (Opus only)");
      }
      OpusHead head;
      Status s = DopsToOpusHead(audio->config, &head);
      if (!s.ok()) return s;
      o.audio.enabled = true;
      o.audio.channels = head.channels;
      o.audio.sample_rate = head.input_sample_rate;
      o.audio.pre_skip = head.pre_skip;
      o.audio.codec_private = BuildOpusHead(head);
      audio_.Init(*audio, movie.timescale, false);
      audio_id_ = audio->id;
    }
    video_id_ = video->id;
    Status s = muxer_.Open(sink_, o);
    if (!s.ok()) return s;
    open_ = true;
    std::vector<Item> items;
    AddSamples(video->id, video->samples, &items);
    if (audio) AddSamples(audio->id, audio->samples, &items);
    Enqueue(&items);
    return Status::Ok();
  }

  Status OnFragment(const Mp4Fragment& f) override {
    if (!open_) return Status::CorruptData("a moof before the moov");
    std::vector<Item> items;
    for (const Mp4TrackRun& run : f.runs) AddSamples(run.track_id, run.samples, &items);
    Enqueue(&items);
    return Status::Ok();
  }

  Status OnMediaData(uint64_t offset, const uint8_t* data, size_t size) override {
    uint64_t at = offset;
    const uint64_t end = offset + size;
    while (at < end && !queue_.empty()) {
      Item& it = queue_.front();
      if (it.offset + it.size <= at && it.size > 0) {
        return Status::CorruptData("sample at byte " + std::to_string(it.offset) + " lies outside every mdat");
      }
      const uint64_t want = it.offset + got_;
      if (want >= end) break;
      if (want < at) return Status::CorruptData("samples overlap at byte " + std::to_string(want));
      const uint64_t begin = want;
      const uint64_t stop = std::min<uint64_t>(end, it.offset + it.size);
      sample_.insert(sample_.end(), data + (begin - offset), data + (stop - offset));
      got_ += stop - begin;
      at = stop;
      if (got_ == it.size) {
        Status s = EmitFront();
        if (!s.ok()) return s;
      }
    }
    return Status::Ok();
  }

 private:
  struct Item {
    uint64_t offset = 0;
    uint32_t size = 0;
    bool video = true;
    bool sync = false;
    uint64_t time_ns = 0;
    uint64_t end_ns = 0;
  };
  struct TrackTime {
    uint32_t timescale = 1;
    int64_t shift_ticks = 0;   // subtracted (edit media time, video only)
    uint64_t delay_ns = 0;     // an empty edit's duration
    void Init(const Mp4Track& t, uint32_t movie_timescale, bool video) {
      timescale = t.timescale ? t.timescale : 1;
      for (const Mp4EditEntry& e : t.edits) {
        if (e.media_time < 0) {
          if (movie_timescale) delay_ns += uint64_t(double(e.segment_duration) * 1e9 / movie_timescale);
        } else {
          if (video) shift_ticks = e.media_time;
          break;
        }
      }
    }
    uint64_t Ns(int64_t ticks) const {
      const int64_t t = ticks - shift_ticks;
      return delay_ns + (t > 0 ? uint64_t(double(t) * 1e9 / timescale + 0.5) : 0);
    }
  };

  static Status DopsToOpusHead(const std::vector<uint8_t>& d, OpusHead* head) {
    if (d.size() < 11) return Status::CorruptData("the MP4's dOps box is too short");
    head->channels = d[1];
    head->pre_skip = int(uint32_t(d[2]) << 8 | d[3]);
    head->input_sample_rate = int(uint32_t(d[4]) << 24 | uint32_t(d[5]) << 16 | uint32_t(d[6]) << 8 | d[7]);
    head->output_gain = int16_t(uint16_t(d[8]) << 8 | d[9]);
    head->mapping_family = d[10];
    if (head->mapping_family != 0 || head->channels < 1 || head->channels > 2) {
      return Status::InvalidArgument("the MP4's Opus has " + std::to_string(head->channels) +
                                     " channels (mapping family " + std::to_string(head->mapping_family) +
                                     "): only mono and stereo go into WebM here");
    }
    static const int kRates[] = {8000, 12000, 16000, 24000, 48000};
    if (std::find(std::begin(kRates), std::end(kRates), head->input_sample_rate) == std::end(kRates)) {
      head->input_sample_rate = 48000;
    }
    return Status::Ok();
  }

  void AddSamples(uint32_t track_id, const std::vector<Mp4Sample>& samples, std::vector<Item>* out) {
    const bool video = track_id == video_id_;
    if (!video && track_id != audio_id_) return;
    const TrackTime& tt = video ? video_ : audio_;
    for (const Mp4Sample& s : samples) {
      Item it;
      it.offset = s.offset;
      it.size = s.size;
      it.video = video;
      it.sync = s.sync;
      it.time_ns = tt.Ns(int64_t(s.decode_time) + s.composition_offset);
      it.end_ns = tt.Ns(int64_t(s.decode_time + s.duration) + s.composition_offset);
      out->push_back(it);
    }
  }

  void Enqueue(std::vector<Item>* items) {
    std::stable_sort(items->begin(), items->end(), [](const Item& a, const Item& b) { return a.offset < b.offset; });
    for (const Item& it : *items) queue_.push_back(it);
  }

  Status EmitFront() {
    const Item it = queue_.front();
    queue_.pop_front();
    got_ = 0;
    Status s;
    if (it.video) {
      s = muxer_.AddFrame(sample_.data(), sample_.size(), it.sync, it.time_ns);
      video_end_ns_ = std::max(video_end_ns_, it.end_ns);
    } else {
      s = muxer_.AddAudio(sample_.data(), sample_.size(), it.time_ns);
    }
    sample_.clear();
    return s;
  }

  ByteSink* sink_;
  Mp4StreamReader reader_;
  WebmMuxer muxer_;
  bool open_ = false;
  uint32_t video_id_ = 0, audio_id_ = 0;
  TrackTime video_, audio_;
  std::deque<Item> queue_;  // samples not yet complete, in file order
  uint64_t got_ = 0;        // bytes of queue_.front() gathered in sample_
  std::vector<uint8_t> sample_;
  uint64_t video_end_ns_ = 0;
};

}  // namespace

Remuxer::Remuxer() = default;
Remuxer::~Remuxer() = default;

Status Remuxer::Fail(Status s) {
  failed_ = true;
  error_ = s;
  return s;
}

Status Remuxer::Open(ByteSink* sink, const RemuxOptions& options) {
  if (open_) return Status::FailedPrecondition("the remuxer is already open");
  if (!sink) return Status::InvalidArgument("no output sink");
  sink_ = sink;
  options_ = options;
  open_ = true;
  return Status::Ok();
}

Status Remuxer::Start() {
  const uint8_t* h = head_.data();
  if (head_.size() >= 4 && h[0] == 0x1A && h[1] == 0x45 && h[2] == 0xDF && h[3] == 0xA3) {
    info_.input_type = "webm";
    if (options_.container != RemuxContainer::kMp4) {
      return Status::InvalidArgument("the input is already WebM: use makeSeekable to rewrite a WebM");
    }
    converter_ = std::make_unique<WebmToMp4>(sink_, options_.layout);
    return Status::Ok();
  }
  if (head_.size() >= 8 && (std::memcmp(h + 4, "ftyp", 4) == 0 || std::memcmp(h + 4, "styp", 4) == 0)) {
    info_.input_type = "mp4";
    if (options_.container != RemuxContainer::kWebm) {
      return Status::InvalidArgument("the input is already MP4: use makeSeekable to rewrite an MP4");
    }
    converter_ = std::make_unique<Mp4ToWebm>(sink_);
    return Status::Ok();
  }
  return Status::CorruptData("not a WebM or MP4 file (its first bytes are neither the EBML magic nor an ftyp box)");
}

Status Remuxer::Feed(const uint8_t* data, size_t size) {
  if (failed_) return error_;
  if (!open_) return Status::FailedPrecondition("the remuxer is not open");
  if (finished_) return Status::FailedPrecondition("the remuxer is finished");
  if (!converter_) {
    const size_t take = std::min(size, size_t(8) - head_.size());
    head_.insert(head_.end(), data, data + take);
    if (head_.size() < 8) return Status::Ok();
    Status s = Start();
    if (!s.ok()) return Fail(s);
    s = converter_->Feed(head_.data(), head_.size());
    if (!s.ok()) return Fail(s);
    data += take;
    size -= take;
  }
  if (size == 0) return Status::Ok();
  Status s = converter_->Feed(data, size);
  if (!s.ok()) return Fail(s);
  return Status::Ok();
}

Status Remuxer::Finish() {
  if (failed_) return error_;
  if (!open_) return Status::FailedPrecondition("the remuxer is not open");
  if (finished_) return Status::FailedPrecondition("the remuxer is finished");
  finished_ = true;
  if (!converter_) {
    if (head_.empty()) return Fail(Status::CorruptData("the input is empty"));
    Status s = Start();
    if (!s.ok()) return Fail(s);
    s = converter_->Feed(head_.data(), head_.size());
    if (!s.ok()) return Fail(s);
  }
  Status s = converter_->Finish(options_.allow_truncated, &info_);
  if (!s.ok()) return Fail(s);
  return Status::Ok();
}

}  // namespace ck
