// Embind for wasm/video (the separate capturekit-video module): a VideoWriter with its output sink.
// Nothing but type conversion: the JS glue is js-glue/video/video-writer.js.
//
// Output: in memory (takeBytes() after finish()), or streaming: the ranges the StreamingByteSink emits
// are queued here and handed to JS by drainRanges() after each call (an array of
// { offset, data: Uint8Array view of wasm memory }), so JS callbacks never run inside the encoder.
#include <emscripten/bind.h>
#include <emscripten/val.h>

#include <memory>
#include <string>
#include <vector>

#include "bindings/binding_util.h"
#include "video/byte_sink.h"
#include "video/mp4_muxer.h"
#include "video/mp4_repair.h"
#include "video/remux.h"
#include "video/video_writer.h"
#include "video/webm_muxer.h"
#include "video/webm_repair.h"

using ck::bindings::Check;
using ck::bindings::Fail;
using ck::bindings::Ptr;
using emscripten::val;

namespace {

// The audio track, given by setAudio() before open() (a writer or muxer without it has no audio):
// channels, the input sample rate, the pre-skip for a built OpusHead, and an OpusHead in wasm memory
// (ptr 0 / size 0: build one).
ck::WebmAudioOptions AudioOptions(int channels, int sample_rate, int pre_skip, uintptr_t head, int head_size) {
  ck::WebmAudioOptions a;
  a.enabled = true;
  a.channels = channels;
  a.sample_rate = sample_rate;
  a.pre_skip = pre_skip;
  if (head && head_size > 0) {
    const uint8_t* p = Ptr<const uint8_t>(head);
    a.codec_private.assign(p, p + head_size);
  }
  return a;
}

struct JsVideoOptions {
  std::string codec = "vp8";
  int width = 0;
  int height = 0;
  double fps = 30;
  double bitrate = 2'500'000;
  int keyframeInterval = 0;
  int speed = 0;
  std::string rateControl = "vbr";
  bool flipY = false;
  bool streaming = false;
  std::string container = "webm";      // "webm" | "mp4"
  std::string mp4Layout = "fragmented";  // "fragmented" | "progressive" (MP4 only)
};

// "fragmented" / "progressive" as an Mp4Layout; false (with the error recorded) otherwise.
bool ParseMp4Layout(const std::string& s, ck::Mp4Layout* out) {
  if (s == "fragmented") *out = ck::Mp4Layout::kFragmented;
  else if (s == "progressive") *out = ck::Mp4Layout::kProgressive;
  else return Fail(ck::Status::OutOfRange("mp4: layout must be \"fragmented\" or \"progressive\", got \"" + s + "\""));
  return true;
}

struct JsVideoStats {
  std::string codec;
  double frames = 0;
  double keyframes = 0;
  double duration = 0;
  double bytes = 0;
  int keyframeInterval = 0;
  int speed = 0;
  double audioPackets = 0;
  double audioDuration = 0;
  std::string mimeType;
};

// Where a writer's or muxer's bytes go: in memory (takeBytes() after finish), or streamed as ranges
// that JS drains after each call (drainRanges(); an offset below the end is a header patch).
class OutputSink {
 public:
  ck::ByteSink* Open(bool streaming) {
    if (streaming) {
      sink_ = std::make_unique<ck::StreamingByteSink>([this](int64_t offset, const uint8_t* d, size_t n) {
        ranges_.push_back(Range{offset, std::vector<uint8_t>(d, d + n)});
        return true;
      });
    } else {
      auto memory = std::make_unique<ck::MemoryByteSink>();
      memory_ = memory.get();
      sink_ = std::move(memory);
    }
    return sink_.get();
  }

  double Size() const { return sink_ ? double(sink_->Size()) : 0; }

  // The ranges emitted since the last call; the views stay valid until the next call into the owner.
  val DrainRanges() {
    drained_.swap(ranges_);
    ranges_.clear();
    val out = val::array();
    for (const Range& r : drained_) {
      val o = val::object();
      o.set("offset", double(r.offset));
      o.set("data", val(emscripten::typed_memory_view(r.bytes.size(), r.bytes.data())));
      out.call<void>("push", o);
    }
    return out;
  }

  // The whole file (memory output, after finish()).
  ck::bindings::Bytes* TakeBytes() {
    return new ck::bindings::Bytes(memory_ ? memory_->Take() : std::vector<uint8_t>());
  }

 private:
  struct Range {
    int64_t offset;
    std::vector<uint8_t> bytes;
  };
  std::unique_ptr<ck::ByteSink> sink_;
  ck::MemoryByteSink* memory_ = nullptr;  // sink_ when the output is in memory
  std::vector<Range> ranges_, drained_;
};

class JsVideoWriter {
 public:
  bool open(const JsVideoOptions& o) {
    ck::VideoWriterOptions w;
    if (o.codec == "vp8") {
      w.codec = ck::VideoCodec::kVp8;
    } else if (o.codec == "vp9") {
      w.codec = ck::VideoCodec::kVp9;
    } else {
      return Fail(ck::Status::OutOfRange("video: codec must be \"vp8\" or \"vp9\", got \"" + o.codec + "\""));
    }
    if (o.rateControl == "vbr") {
      w.rate_control = ck::RateControl::kVbr;
    } else if (o.rateControl == "cbr") {
      w.rate_control = ck::RateControl::kCbr;
    } else {
      return Fail(ck::Status::OutOfRange("video: rateControl must be \"vbr\" or \"cbr\""));
    }
    w.width = o.width;
    w.height = o.height;
    w.fps = o.fps;
    if (!(o.bitrate >= 0 && o.bitrate <= 1e12)) return Fail(ck::Status::OutOfRange("video: bad bitrate"));
    w.bitrate = int64_t(o.bitrate);
    w.keyframe_interval = o.keyframeInterval;
    w.speed = o.speed;
    w.flip_y = o.flipY;
    w.audio = audio_;
    if (o.container == "mp4") {
      w.container = ck::Container::kMp4;
      if (!ParseMp4Layout(o.mp4Layout, &w.mp4_layout)) return false;
    } else if (o.container != "webm") {
      return Fail(ck::Status::OutOfRange("video: container must be \"webm\" or \"mp4\", got \"" + o.container + "\""));
    }
    return Check(writer_.Open(w, output_.Open(o.streaming)));
  }

  void setAudio(int channels, int sample_rate, int pre_skip) { audio_ = AudioOptions(channels, sample_rate, pre_skip, 0, 0); }

  // The file time (microseconds) of a timestamp on the frames' clock; -1 after Fail().
  double audioTimeUs(double ts_us) {
    int64_t out = 0;
    if (!Check(writer_.AudioTimeUs(int64_t(ts_us), &out))) return -1;
    return double(out);
  }

  bool addAudio(uintptr_t p, size_t n, double pts_ns, double discard_ns) {
    return Check(writer_.AddAudio(Ptr<const uint8_t>(p), n, int64_t(pts_ns), int64_t(discard_ns)));
  }

  bool addFrame(uintptr_t p, int w, int h, int stride, bool has_ts, double ts_us, uintptr_t meta, int meta_len) {
    const int64_t ts = has_ts ? int64_t(ts_us) : ck::kAutoTimestamp;
    return Check(writer_.AddFrame(ck::Image{Ptr<uint8_t>(p), w, h, stride}, ts, Ptr<const uint8_t>(meta),
                                  meta_len > 0 ? size_t(meta_len) : 0));
  }

  bool finish() { return Check(writer_.Finish()); }
  bool failed() const { return writer_.failed(); }

  JsVideoStats stats() const {
    const ck::VideoStats s = writer_.stats();
    JsVideoStats j;
    j.codec = ck::VideoCodecName(s.codec);
    j.frames = double(s.frames);
    j.keyframes = double(s.keyframes);
    j.duration = s.duration_s;
    j.bytes = double(s.bytes);
    j.keyframeInterval = writer_.options().keyframe_interval;
    j.speed = writer_.options().speed;
    j.audioPackets = double(s.audio_packets);
    j.audioDuration = s.audio_duration_s;
    j.mimeType = writer_.MimeType();
    return j;
  }

  val drainRanges() { return output_.DrainRanges(); }
  ck::bindings::Bytes* takeBytes() { return output_.TakeBytes(); }

 private:
  OutputSink output_;
  ck::VideoWriter writer_;
  ck::WebmAudioOptions audio_;
};

}  // namespace

CK_REGISTER_COMMON_BINDINGS()

EMSCRIPTEN_BINDINGS(ck_video) {
  emscripten::value_object<JsVideoOptions>("VideoOptions")
      .field("codec", &JsVideoOptions::codec)
      .field("width", &JsVideoOptions::width)
      .field("height", &JsVideoOptions::height)
      .field("fps", &JsVideoOptions::fps)
      .field("bitrate", &JsVideoOptions::bitrate)
      .field("keyframeInterval", &JsVideoOptions::keyframeInterval)
      .field("speed", &JsVideoOptions::speed)
      .field("rateControl", &JsVideoOptions::rateControl)
      .field("flipY", &JsVideoOptions::flipY)
      .field("streaming", &JsVideoOptions::streaming)
      .field("container", &JsVideoOptions::container)
      .field("mp4Layout", &JsVideoOptions::mp4Layout);
  emscripten::value_object<JsVideoStats>("VideoStats")
      .field("codec", &JsVideoStats::codec)
      .field("frames", &JsVideoStats::frames)
      .field("keyframes", &JsVideoStats::keyframes)
      .field("duration", &JsVideoStats::duration)
      .field("bytes", &JsVideoStats::bytes)
      .field("keyframeInterval", &JsVideoStats::keyframeInterval)
      .field("speed", &JsVideoStats::speed)
      .field("audioPackets", &JsVideoStats::audioPackets)
      .field("audioDuration", &JsVideoStats::audioDuration)
      .field("mimeType", &JsVideoStats::mimeType);
  emscripten::class_<JsVideoWriter>("VideoWriter")
      .constructor<>()
      .function("open", &JsVideoWriter::open)
      .function("addFrame", &JsVideoWriter::addFrame)
      .function("setAudio", &JsVideoWriter::setAudio)
      .function("audioTimeUs", &JsVideoWriter::audioTimeUs)
      .function("addAudio", &JsVideoWriter::addAudio)
      .function("finish", &JsVideoWriter::finish)
      .function("failed", &JsVideoWriter::failed)
      .function("stats", &JsVideoWriter::stats)
      .function("drainRanges", &JsVideoWriter::drainRanges)
      .function("takeBytes", &JsVideoWriter::takeBytes, emscripten::allow_raw_pointers());
}

// ---- makeSeekable (wasm/video/webm_repair.h), driven by js-glue/video/repair.js ----
// Pass 1: scan(ptr, n) for every input chunk, then finishScan(). Pass 2: write(ptr, n) for the same
// chunks; after each, pieces() is a Float64Array of (source, offset, size) triples, source 0 = the chunk
// just written (JS slices its own copy), 1 = literal(), 2 = prelude() (views valid until the next call).
namespace {

struct JsRepairInfo {
  std::string docType, codecs;
  double durationMs = 0, inputSize = 0, outputSize = 0, clusters = 0, cues = 0, frames = 0, droppedBytes = 0;
  bool truncated = false, hadCues = false, hadDuration = false;
};

class JsWebmRepair {
 public:
  explicit JsWebmRepair(bool allow_truncated) {
    ck::RepairOptions o;
    o.allow_truncated = allow_truncated;
    planner_ = std::make_unique<ck::RepairPlanner>(o);
  }
  bool scan(uintptr_t p, size_t n) {
    if (!planner_) return Fail(ck::Status::FailedPrecondition("makeSeekable: scan() after finishScan()"));
    return Check(planner_->Feed(Ptr<const uint8_t>(p), n));
  }
  bool finishScan() {
    if (!planner_) return Fail(ck::Status::FailedPrecondition("makeSeekable: finishScan() twice"));
    if (!Check(planner_->Finish())) return false;
    writer_ = std::make_unique<ck::RepairWriter>(planner_->TakePlan());
    planner_.reset();
    return true;
  }
  JsRepairInfo info() const {
    const ck::RepairInfo& i = writer_ ? writer_->info() : planner_->info();
    JsRepairInfo j;
    j.docType = i.doc_type;
    j.codecs = i.codecs;
    j.durationMs = i.duration_ms;
    j.inputSize = double(i.input_size);
    j.outputSize = double(i.output_size);
    j.clusters = double(i.clusters);
    j.cues = double(i.cues);
    j.frames = double(i.frames);
    j.droppedBytes = double(i.dropped_bytes);
    j.truncated = i.truncated;
    j.hadCues = i.had_cues;
    j.hadDuration = i.had_duration;
    return j;
  }
  bool write(uintptr_t p, size_t n) {
    if (!writer_) return Fail(ck::Status::FailedPrecondition("makeSeekable: write() before finishScan()"));
    if (!Check(writer_->Feed(Ptr<const uint8_t>(p), n, &pieces_))) return false;
    flat_.clear();
    for (const ck::RepairPiece& piece : pieces_) {
      flat_.push_back(double(piece.source));
      flat_.push_back(double(piece.offset));
      flat_.push_back(double(piece.size));
    }
    return true;
  }
  bool finishWrite() {
    if (!writer_) return Fail(ck::Status::FailedPrecondition("makeSeekable: finishWrite() before finishScan()"));
    return Check(writer_->Finish());
  }
  val pieces() const { return val(emscripten::typed_memory_view(flat_.size(), flat_.data())); }
  val literal() const { return View(writer_ ? &writer_->literal() : nullptr); }
  val prelude() const { return View(writer_ ? &writer_->prelude() : nullptr); }

 private:
  static val View(const std::vector<uint8_t>* v) {
    return v ? val(emscripten::typed_memory_view(v->size(), v->data())) : val(emscripten::typed_memory_view(size_t(0), static_cast<const uint8_t*>(nullptr)));
  }
  std::unique_ptr<ck::RepairPlanner> planner_;
  std::unique_ptr<ck::RepairWriter> writer_;
  std::vector<ck::RepairPiece> pieces_;
  std::vector<double> flat_;
};

// makeSeekable for MP4 (wasm/video/mp4_repair.h): the same calls as WebmRepair, so repair.js drives
// either after the file's first bytes ('ftyp' at byte 4: MP4). It writes no literal pieces (source 1).
// info(): docType "mp4", clusters = fragments kept, cues = the video's sync samples, frames = samples.
class JsMp4Repair {
 public:
  explicit JsMp4Repair(bool allow_truncated) : planner_(std::make_unique<ck::Mp4RepairPlanner>(allow_truncated)) {}
  bool scan(uintptr_t p, size_t n) {
    if (!planner_) return Fail(ck::Status::FailedPrecondition("makeSeekable: scan() after finishScan()"));
    return Check(planner_->Feed(Ptr<const uint8_t>(p), n));
  }
  bool finishScan() {
    if (!planner_) return Fail(ck::Status::FailedPrecondition("makeSeekable: finishScan() twice"));
    if (!Check(planner_->Finish())) return false;
    writer_ = std::make_unique<ck::Mp4RepairWriter>(planner_->TakePlan());
    planner_.reset();
    return true;
  }
  JsRepairInfo info() const {
    const ck::Mp4RepairInfo& i = writer_ ? writer_->info() : planner_->info();
    JsRepairInfo j;
    j.docType = "mp4";
    j.codecs = i.codecs;
    j.durationMs = i.duration_ms;
    j.inputSize = double(i.input_size);
    j.outputSize = double(i.output_size);
    j.clusters = double(i.fragments);
    j.cues = double(i.sync_samples);
    j.frames = double(i.samples);
    j.droppedBytes = double(i.dropped_bytes);
    j.truncated = i.truncated;
    j.hadCues = i.had_index;
    j.hadDuration = false;
    return j;
  }
  bool write(uintptr_t p, size_t n) {
    if (!writer_) return Fail(ck::Status::FailedPrecondition("makeSeekable: write() before finishScan()"));
    if (!Check(writer_->Feed(Ptr<const uint8_t>(p), n, &pieces_))) return false;
    flat_.clear();
    for (const ck::RepairPiece& piece : pieces_) {
      flat_.push_back(double(piece.source));
      flat_.push_back(double(piece.offset));
      flat_.push_back(double(piece.size));
    }
    return true;
  }
  bool finishWrite() {
    if (!writer_) return Fail(ck::Status::FailedPrecondition("makeSeekable: finishWrite() before finishScan()"));
    return Check(writer_->Finish());
  }
  val pieces() const { return val(emscripten::typed_memory_view(flat_.size(), flat_.data())); }
  val literal() const { return val(emscripten::typed_memory_view(size_t(0), static_cast<const uint8_t*>(nullptr))); }
  val prelude() const {
    return writer_ ? val(emscripten::typed_memory_view(writer_->prelude().size(), writer_->prelude().data()))
                   : literal();
  }

 private:
  std::unique_ptr<ck::Mp4RepairPlanner> planner_;
  std::unique_ptr<ck::Mp4RepairWriter> writer_;
  std::vector<ck::RepairPiece> pieces_;
  std::vector<double> flat_;
};

}  // namespace

EMSCRIPTEN_BINDINGS(ck_video_repair) {
  emscripten::value_object<JsRepairInfo>("RepairInfo")
      .field("docType", &JsRepairInfo::docType)
      .field("codecs", &JsRepairInfo::codecs)
      .field("durationMs", &JsRepairInfo::durationMs)
      .field("inputSize", &JsRepairInfo::inputSize)
      .field("outputSize", &JsRepairInfo::outputSize)
      .field("clusters", &JsRepairInfo::clusters)
      .field("cues", &JsRepairInfo::cues)
      .field("frames", &JsRepairInfo::frames)
      .field("droppedBytes", &JsRepairInfo::droppedBytes)
      .field("truncated", &JsRepairInfo::truncated)
      .field("hadCues", &JsRepairInfo::hadCues)
      .field("hadDuration", &JsRepairInfo::hadDuration);
  emscripten::class_<JsWebmRepair>("WebmRepair")
      .constructor<bool>()
      .function("scan", &JsWebmRepair::scan)
      .function("finishScan", &JsWebmRepair::finishScan)
      .function("info", &JsWebmRepair::info)
      .function("write", &JsWebmRepair::write)
      .function("finishWrite", &JsWebmRepair::finishWrite)
      .function("pieces", &JsWebmRepair::pieces)
      .function("literal", &JsWebmRepair::literal)
      .function("prelude", &JsWebmRepair::prelude);
  emscripten::class_<JsMp4Repair>("Mp4Repair")
      .constructor<bool>()
      .function("scan", &JsMp4Repair::scan)
      .function("finishScan", &JsMp4Repair::finishScan)
      .function("info", &JsMp4Repair::info)
      .function("write", &JsMp4Repair::write)
      .function("finishWrite", &JsMp4Repair::finishWrite)
      .function("pieces", &JsMp4Repair::pieces)
      .function("literal", &JsMp4Repair::literal)
      .function("prelude", &JsMp4Repair::prelude);
}

// ---- WebmMuxer (wasm/video/webm_muxer.h) alone: frames encoded elsewhere (the browser's VideoEncoder)
// muxed by libwebm, driven by js-glue/video/webm-muxer.js. Output as for VideoWriter: in memory
// (takeBytes() after finish()) or streaming ranges handed out by drainRanges().
namespace {

struct JsMuxOptions {
  std::string codec = "vp8";
  int width = 0;
  int height = 0;
  double fps = 30;
  bool streaming = false;
};

struct JsMuxStats {
  std::string codec;
  double frames = 0;
  double keyframes = 0;
  double duration = 0;
  double bytes = 0;
  double audioPackets = 0;
  double audioDuration = 0;
  int audioPreSkip = 0;
};

class JsWebmMuxerHandle {
 public:
  bool open(const JsMuxOptions& o) {
    ck::WebmMuxerOptions m;
    if (o.codec == "vp8") {
      m.codec = ck::VideoCodec::kVp8;
    } else if (o.codec == "vp9") {
      m.codec = ck::VideoCodec::kVp9;
    } else if (o.codec == "av1") {
      return Fail(ck::Status::OutOfRange(
          "webm muxer: AV1 is not supported (Matroska needs an av1C CodecPrivate this muxer does not write); use \"vp8\" or \"vp9\""));
    } else {
      return Fail(ck::Status::OutOfRange("webm muxer: codec must be \"vp8\" or \"vp9\", got \"" + o.codec + "\""));
    }
    m.width = o.width;
    m.height = o.height;
    m.fps = o.fps;
    m.audio = audio_;
    codec_ = o.codec;
    return Check(muxer_.Open(output_.Open(o.streaming), m));
  }

  // A refused frame (bad arguments) leaves the muxer usable; any other failure ends it (failed()).
  bool addFrame(uintptr_t p, size_t n, double timestamp_ns, bool keyframe, uintptr_t meta, size_t meta_len) {
    if (failed_) return Fail(ck::Status::FailedPrecondition("webm muxer: an earlier failure stopped the file"));
    if (!(timestamp_ns >= 0 && timestamp_ns <= 9.007199254740992e15))
      return Fail(ck::Status::OutOfRange("webm muxer: timestamp out of range"));
    const ck::Status s = muxer_.AddFrame(Ptr<const uint8_t>(p), n, keyframe, uint64_t(timestamp_ns),
                                         Ptr<const uint8_t>(meta), meta_len);
    if (s.ok()) {
      if (keyframe) ++keyframes_;
      return true;
    }
    if (s.code() != ck::Code::kInvalidArgument && s.code() != ck::Code::kOutOfRange) failed_ = true;
    return Fail(s);
  }

  void setAudio(int channels, int sample_rate, int pre_skip, uintptr_t head, int head_size) {
    audio_ = AudioOptions(channels, sample_rate, pre_skip, head, head_size);
  }

  // One Opus packet; refusals leave the muxer usable, as for frames.
  bool addAudio(uintptr_t p, size_t n, double timestamp_ns, double discard_ns) {
    if (failed_) return Fail(ck::Status::FailedPrecondition("webm muxer: an earlier failure stopped the file"));
    if (!(timestamp_ns >= 0 && timestamp_ns <= 9.007199254740992e15) || !(discard_ns >= 0 && discard_ns < 1e9))
      return Fail(ck::Status::OutOfRange("webm muxer: audio timestamp out of range"));
    const ck::Status s = muxer_.AddAudio(Ptr<const uint8_t>(p), n, uint64_t(timestamp_ns), uint64_t(discard_ns));
    if (s.ok()) return true;
    if (s.code() != ck::Code::kInvalidArgument && s.code() != ck::Code::kOutOfRange &&
        s.code() != ck::Code::kFailedPrecondition)
      failed_ = true;
    return Fail(s);
  }

  // duration_ns > 0 sets the Duration; 0 lets the muxer work it out from the frame times.
  bool finish(double duration_ns) {
    const ck::Status s = muxer_.Finish(duration_ns > 0 ? duration_ns : 0);
    if (!s.ok()) failed_ = true;
    return Check(s);
  }
  bool failed() const { return failed_; }

  JsMuxStats stats() const {
    JsMuxStats j;
    j.codec = codec_;
    j.frames = double(muxer_.frames());
    j.keyframes = double(keyframes_);
    j.duration = muxer_.duration_seconds();
    j.bytes = output_.Size();
    j.audioPackets = double(muxer_.audio_packets());
    j.audioDuration = muxer_.audio_end_seconds();
    j.audioPreSkip = muxer_.audio_pre_skip();
    return j;
  }

  val drainRanges() { return output_.DrainRanges(); }
  ck::bindings::Bytes* takeBytes() { return output_.TakeBytes(); }

 private:
  OutputSink output_;
  ck::WebmMuxer muxer_;
  std::string codec_;
  int64_t keyframes_ = 0;
  bool failed_ = false;
  ck::WebmAudioOptions audio_;
};

}  // namespace

EMSCRIPTEN_BINDINGS(ck_video_mux) {
  emscripten::value_object<JsMuxOptions>("WebmMuxerOptions")
      .field("codec", &JsMuxOptions::codec)
      .field("width", &JsMuxOptions::width)
      .field("height", &JsMuxOptions::height)
      .field("fps", &JsMuxOptions::fps)
      .field("streaming", &JsMuxOptions::streaming);
  emscripten::value_object<JsMuxStats>("WebmMuxerStats")
      .field("codec", &JsMuxStats::codec)
      .field("frames", &JsMuxStats::frames)
      .field("keyframes", &JsMuxStats::keyframes)
      .field("duration", &JsMuxStats::duration)
      .field("bytes", &JsMuxStats::bytes)
      .field("audioPackets", &JsMuxStats::audioPackets)
      .field("audioDuration", &JsMuxStats::audioDuration)
      .field("audioPreSkip", &JsMuxStats::audioPreSkip);
  emscripten::class_<JsWebmMuxerHandle>("WebmMuxerHandle")
      .constructor<>()
      .function("open", &JsWebmMuxerHandle::open)
      .function("addFrame", &JsWebmMuxerHandle::addFrame)
      .function("setAudio", &JsWebmMuxerHandle::setAudio)
      .function("addAudio", &JsWebmMuxerHandle::addAudio)
      .function("finish", &JsWebmMuxerHandle::finish)
      .function("failed", &JsWebmMuxerHandle::failed)
      .function("stats", &JsWebmMuxerHandle::stats)
      .function("drainRanges", &JsWebmMuxerHandle::drainRanges)
      .function("takeBytes", &JsWebmMuxerHandle::takeBytes, emscripten::allow_raw_pointers());
}

// ---- Mp4Muxer (wasm/video/mp4_muxer.h): frames and packets encoded elsewhere (VideoEncoder,
// AudioEncoder) into MP4, driven by js-glue/video/mp4-muxer.js. Output as for WebmMuxerHandle.
namespace {

struct JsMp4Options {
  std::string codec;  // a WebCodecs codec string or "vp9" / "h264" / "av1" (mp4_sample_entry.h)
  int width = 0;
  int height = 0;
  double fps = 30;
  std::string layout = "fragmented";
  bool streaming = false;
};

struct JsMp4Stats {
  std::string codec, mimeType;
  double frames = 0, keyframes = 0, duration = 0, bytes = 0, fragments = 0, audioPackets = 0, audioDuration = 0;
};

std::vector<uint8_t> CopyIn(uintptr_t p, int n) {
  const uint8_t* d = Ptr<const uint8_t>(p);
  return p && n > 0 ? std::vector<uint8_t>(d, d + n) : std::vector<uint8_t>();
}

class JsMp4MuxerHandle {
 public:
  // The video codec's description (avcC / av1C), before open(); ptr 0: none.
  void setDescription(uintptr_t p, int n) { description_ = CopyIn(p, n); }
  // The audio track, before open(): "opus" or "aac", an OpusHead / AudioSpecificConfig or none.
  void setAudio(const std::string& codec, int channels, int sample_rate, int pre_skip, uintptr_t p, int n) {
    audio_.enabled = true;
    audio_.codec = codec;
    audio_.channels = channels;
    audio_.sample_rate = sample_rate;
    audio_.pre_skip = pre_skip;
    audio_.description = CopyIn(p, n);
  }

  bool open(const JsMp4Options& o) {
    ck::Mp4MuxerOptions m;
    if (!ParseMp4Layout(o.layout, &m.layout)) return false;
    m.codec = o.codec;
    m.width = o.width;
    m.height = o.height;
    m.fps = o.fps;
    m.description = description_;
    m.audio = audio_;
    return Check(muxer_.Open(output_.Open(o.streaming), m));
  }

  // A refused frame (bad arguments or data) leaves the muxer usable; a failure of the output ends it.
  bool addFrame(uintptr_t p, size_t n, double timestamp_ns, bool keyframe) {
    if (!(timestamp_ns >= 0 && timestamp_ns <= 9.007199254740992e15))
      return Fail(ck::Status::OutOfRange("mp4 muxer: timestamp out of range"));
    const ck::Status s = muxer_.AddFrame(Ptr<const uint8_t>(p), n, keyframe, uint64_t(timestamp_ns));
    if (s.ok() && keyframe) ++keyframes_;
    return Check(s);
  }
  bool addAudio(uintptr_t p, size_t n, double timestamp_ns, double discard_ns) {
    if (!(timestamp_ns >= 0 && timestamp_ns <= 9.007199254740992e15) || !(discard_ns >= 0 && discard_ns < 1e9))
      return Fail(ck::Status::OutOfRange("mp4 muxer: audio timestamp out of range"));
    return Check(muxer_.AddAudio(Ptr<const uint8_t>(p), n, uint64_t(timestamp_ns), uint64_t(discard_ns)));
  }
  bool finish(double duration_ns) { return Check(muxer_.Finish(duration_ns > 0 ? uint64_t(duration_ns) : 0)); }
  bool failed() const { return muxer_.failed(); }

  JsMp4Stats stats() const {
    JsMp4Stats j;
    j.codec = muxer_.VideoCodecString();
    j.mimeType = muxer_.MimeType();
    j.frames = double(muxer_.frames());
    j.keyframes = double(keyframes_);
    j.duration = muxer_.duration_seconds();
    j.bytes = output_.Size();
    j.fragments = double(muxer_.fragments());
    j.audioPackets = double(muxer_.audio_packets());
    j.audioDuration = muxer_.audio_end_seconds();
    return j;
  }

  val drainRanges() { return output_.DrainRanges(); }
  ck::bindings::Bytes* takeBytes() { return output_.TakeBytes(); }

 private:
  OutputSink output_;
  ck::Mp4Muxer muxer_;
  std::vector<uint8_t> description_;
  ck::Mp4AudioOptions audio_;
  int64_t keyframes_ = 0;
};

}  // namespace

EMSCRIPTEN_BINDINGS(ck_video_mp4) {
  emscripten::value_object<JsMp4Options>("Mp4MuxerOptions")
      .field("codec", &JsMp4Options::codec)
      .field("width", &JsMp4Options::width)
      .field("height", &JsMp4Options::height)
      .field("fps", &JsMp4Options::fps)
      .field("layout", &JsMp4Options::layout)
      .field("streaming", &JsMp4Options::streaming);
  emscripten::value_object<JsMp4Stats>("Mp4MuxerStats")
      .field("codec", &JsMp4Stats::codec)
      .field("mimeType", &JsMp4Stats::mimeType)
      .field("frames", &JsMp4Stats::frames)
      .field("keyframes", &JsMp4Stats::keyframes)
      .field("duration", &JsMp4Stats::duration)
      .field("bytes", &JsMp4Stats::bytes)
      .field("fragments", &JsMp4Stats::fragments)
      .field("audioPackets", &JsMp4Stats::audioPackets)
      .field("audioDuration", &JsMp4Stats::audioDuration);
  emscripten::class_<JsMp4MuxerHandle>("Mp4MuxerHandle")
      .constructor<>()
      .function("setDescription", &JsMp4MuxerHandle::setDescription)
      .function("setAudio", &JsMp4MuxerHandle::setAudio)
      .function("open", &JsMp4MuxerHandle::open)
      .function("addFrame", &JsMp4MuxerHandle::addFrame)
      .function("addAudio", &JsMp4MuxerHandle::addAudio)
      .function("finish", &JsMp4MuxerHandle::finish)
      .function("failed", &JsMp4MuxerHandle::failed)
      .function("stats", &JsMp4MuxerHandle::stats)
      .function("drainRanges", &JsMp4MuxerHandle::drainRanges)
      .function("takeBytes", &JsMp4MuxerHandle::takeBytes, emscripten::allow_raw_pointers());
}

// ---- remux (wasm/video/remux.h), driven by js-glue/video/remux.js ----
// open(container, layout, allowTruncated, streaming), then feed(ptr, n) for every input chunk and
// finish(); after each call drainRanges() hands over what the output sink emitted (streaming), or
// takeBytes() the whole file after finish() (in memory).
namespace {

struct JsRemuxInfo {
  std::string inputType, mimeType, videoCodec;
  bool hasAudio = false, truncated = false;
  double frames = 0, audioPackets = 0, duration = 0, outputSize = 0;
};

class JsRemuxer {
 public:
  bool open(const std::string& container, const std::string& layout, bool allow_truncated, bool streaming) {
    ck::RemuxOptions o;
    if (container == "mp4") o.container = ck::RemuxContainer::kMp4;
    else if (container == "webm") o.container = ck::RemuxContainer::kWebm;
    else return Fail(ck::Status::InvalidArgument("remux: container must be \"mp4\" or \"webm\", got \"" + container + "\""));
    if (!ParseMp4Layout(layout, &o.layout)) return false;
    o.allow_truncated = allow_truncated;
    return Check(remuxer_.Open(output_.Open(streaming), o));
  }
  bool feed(uintptr_t p, size_t n) { return Check(remuxer_.Feed(Ptr<const uint8_t>(p), n)); }
  bool finish() { return Check(remuxer_.Finish()); }
  val drainRanges() { return output_.DrainRanges(); }
  ck::bindings::Bytes* takeBytes() { return output_.TakeBytes(); }
  JsRemuxInfo info() const {
    const ck::RemuxInfo& i = remuxer_.info();
    JsRemuxInfo j;
    j.inputType = i.input_type;
    j.mimeType = i.mime_type;
    j.videoCodec = i.video_codec;
    j.hasAudio = i.has_audio;
    j.truncated = i.truncated;
    j.frames = double(i.frames);
    j.audioPackets = double(i.audio_packets);
    j.duration = i.duration_seconds;
    j.outputSize = output_.Size();
    return j;
  }

 private:
  OutputSink output_;
  ck::Remuxer remuxer_;  // declared after output_: destroyed first, while its sink still exists
};

}  // namespace

EMSCRIPTEN_BINDINGS(ck_video_remux) {
  emscripten::value_object<JsRemuxInfo>("RemuxInfo")
      .field("inputType", &JsRemuxInfo::inputType)
      .field("mimeType", &JsRemuxInfo::mimeType)
      .field("videoCodec", &JsRemuxInfo::videoCodec)
      .field("hasAudio", &JsRemuxInfo::hasAudio)
      .field("truncated", &JsRemuxInfo::truncated)
      .field("frames", &JsRemuxInfo::frames)
      .field("audioPackets", &JsRemuxInfo::audioPackets)
      .field("duration", &JsRemuxInfo::duration)
      .field("outputSize", &JsRemuxInfo::outputSize);
  emscripten::class_<JsRemuxer>("Remuxer")
      .constructor<>()
      .function("open", &JsRemuxer::open)
      .function("feed", &JsRemuxer::feed)
      .function("finish", &JsRemuxer::finish)
      .function("drainRanges", &JsRemuxer::drainRanges)
      .function("takeBytes", &JsRemuxer::takeBytes, emscripten::allow_raw_pointers())
      .function("info", &JsRemuxer::info);
}
