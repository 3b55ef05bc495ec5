// Embind for wasm/upload: ChunkBuffer and UploadQueue as JS classes. Numbers arrive as doubles and are
// checked before they become integers; results leave as plain JS objects. No decisions are made here.
#include <emscripten/bind.h>
#include <emscripten/val.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "bindings/binding_util.h"
#include "upload/chunk_buffer.h"
#include "upload/orphan_parts.h"
#include "upload/upload_queue.h"

using emscripten::val;
using ck::bindings::Bytes;
using ck::bindings::Check;
using ck::bindings::Fail;
using ck::bindings::Ptr;

namespace {

constexpr double kMaxSafe = 9007199254740991.0;

// A JS number that must be a whole number in [min, max].
bool ToInt(double v, double min, double max, const char* what, int64_t* out) {
  if (!std::isfinite(v) || std::floor(v) != v || v < min || v > max) {
    Fail(ck::Status::OutOfRange(std::string(what) + " must be an integer between " + std::to_string(int64_t(min)) +
                                " and " + std::to_string(int64_t(max)) + ", got " + ck::NumberText(v)));
    return false;
  }
  *out = int64_t(v);
  return true;
}

// ---------------------------------------------------------------------------------------- ChunkBuffer

struct ChunkBufferOptionsJs {
  double minPartSize = 5 * 1024 * 1024;
  bool holdFirstPart = false;
  double partSizeMultiple = 1;
};

// The core ChunkBuffer plus the parts the last append/flush produced, which JS collects one by one.
class ChunkBufferBinding {
 public:
  static ChunkBufferBinding* Create(const ChunkBufferOptionsJs& o) {
    int64_t size;
    int64_t multiple;
    if (!ToInt(o.minPartSize, 1, double(ck::kMaxPartSize), "minPartSize", &size)) return nullptr;
    if (!ToInt(o.partSizeMultiple, 1, double(ck::kMaxPartSize), "partSizeMultiple", &multiple)) return nullptr;
    ck::ChunkBufferOptions opts{uint64_t(size), o.holdFirstPart, uint64_t(multiple)};
    if (!Check(ck::ChunkBuffer::Validate(opts))) return nullptr;
    return new ChunkBufferBinding(opts);
  }
  bool Append(uintptr_t ptr, double len) {
    int64_t n;
    if (!ToInt(len, 0, 2147483647.0, "chunk length", &n)) return false;
    return Check(buffer_.Append(Ptr<const uint8_t>(ptr), size_t(n), &ready_));
  }
  bool Flush() { return Check(buffer_.Flush(&ready_)); }
  bool Patch(double offset, uintptr_t ptr, double len) {
    int64_t off, n;
    if (!ToInt(offset, 0, kMaxSafe, "patch offset", &off) || !ToInt(len, 0, 2147483647.0, "patch length", &n)) return false;
    return Check(buffer_.Patch(uint64_t(off), Ptr<const uint8_t>(ptr), size_t(n)));
  }
  double HeldBytes() const { return double(buffer_.held_bytes()); }
  size_t ReadyCount() const { return ready_.size(); }
  uint32_t ReadyIndex(size_t i) const { return i < ready_.size() ? ready_[i].index : 0; }
  std::string ReadySha256(size_t i) const { return i < ready_.size() ? ready_[i].sha256 : std::string(); }
  bool ReadyLast(size_t i) const { return i < ready_.size() && ready_[i].last; }
  // Moves the part's bytes out (no copy); JS copies them and deletes the Bytes.
  Bytes TakeReadyBytes(size_t i) { return i < ready_.size() ? Bytes(std::move(ready_[i].bytes)) : Bytes(); }
  void ClearReady() { ready_.clear(); }
  double TotalBytes() const { return double(buffer_.total_bytes()); }
  double BufferedBytes() const { return double(buffer_.buffered_bytes()); }
  uint32_t PartsEmitted() const { return buffer_.parts_emitted(); }
  bool Flushed() const { return buffer_.flushed(); }
  double MinPartSize() const { return double(buffer_.min_part_size()); }
  double EmittedBegin() const { return double(buffer_.emitted_begin()); }
  double EmittedEnd() const { return double(buffer_.emitted_end()); }

 private:
  explicit ChunkBufferBinding(const ck::ChunkBufferOptions& o) : buffer_(o) {}
  ck::ChunkBuffer buffer_;
  std::vector<ck::ChunkPart> ready_;
};

// ---------------------------------------------------------------------------------------- UploadQueue

struct QueueOptionsJs {
  double maxRetries = 5;
  double backoffBaseMs = 1000;
  double backoffFactor = 2;
  double backoffMaxMs = 16000;
  double jitter = 0.2;
  double seed = 1;
  double keepCompleted = 4294967295.0;
};

ck::UploadQueue* CreateQueue(const QueueOptionsJs& o) {
  ck::QueueOptions q;
  int64_t v;
  if (!ToInt(o.maxRetries, 0, 100, "maxRetries", &v)) return nullptr;
  q.max_retries = uint32_t(v);
  if (!ToInt(o.seed, 0, 4294967295.0, "seed", &v)) return nullptr;
  q.seed = uint32_t(v);
  q.backoff_base_ms = o.backoffBaseMs;
  q.backoff_factor = o.backoffFactor;
  q.backoff_max_ms = o.backoffMaxMs;
  q.jitter = o.jitter;
  if (!ToInt(o.keepCompleted, 0, 4294967295.0, "keepCompleted", &v)) return nullptr;
  q.keep_completed = uint32_t(v);
  if (!Check(ck::UploadQueue::Validate(q))) return nullptr;
  return new ck::UploadQueue(q);
}

val ActionToJs(const ck::Action& a) {
  val o = val::object();
  o.set("type", std::string(ck::ToString(a.type)));
  o.set("id", double(a.id));
  o.set("itemId", a.item_id);
  o.set("partIndex", double(a.part_index));
  o.set("sessionId", a.session_id);
  o.set("size", double(a.bytes));
  o.set("sha256", a.sha256);
  o.set("partCount", a.part_count);
  o.set("metadata", a.metadata);
  o.set("until", double(a.until));
  o.set("reason", std::string(ck::ToString(a.reason)));
  o.set("busyWith", std::string(ck::ToString(a.busy_with)));
  return o;
}

val ActionOrNull(ck::UploadQueue& q, double now, bool start) {
  int64_t t;
  if (!ToInt(now, 0, kMaxSafe, "now", &t)) return val::null();
  ck::Action a;
  ck::Status s = start ? q.NextAction(t, &a) : q.PeekAction(t, &a);
  if (!Check(s)) return val::null();
  return ActionToJs(a);
}

val ItemToJs(const ck::QueueItem& it, bool with_parts) {
  val o = val::object();
  o.set("id", it.id);
  o.set("kind", std::string(ck::ToString(it.kind)));
  o.set("state", std::string(ck::ToString(it.state)));
  o.set("metadata", it.metadata);
  o.set("size", double(it.TotalBytes()));
  o.set("uploadedBytes", double(it.UploadedBytes()));
  o.set("partCount", double(it.parts.size()));
  o.set("firstPartLast", it.first_part_last);
  o.set("confirmedParts", it.ConfirmedParts());
  o.set("recordingFinished", it.recording_finished);
  o.set("sessionId", it.session_id);
  o.set("failures", it.failures);
  o.set("retryAt", double(it.retry_at));
  o.set("lastError", it.last_error);
  o.set("lastErrorMessage", it.last_error_message);
  o.set("result", it.result);
  if (with_parts) {
    val parts = val::array();
    for (size_t i = 0; i < it.parts.size(); ++i) {
      val p = val::object();
      p.set("index", double(i));
      p.set("size", double(it.parts[i].size));
      p.set("sha256", it.parts[i].sha256);
      p.set("confirmed", it.parts[i].confirmed);
      parts.set(i, p);
    }
    o.set("parts", parts);
  }
  return o;
}

val SummaryToJs(const ck::QueueSummary& s) {
  val o = val::object();
  o.set("total", s.total);
  o.set("pending", s.pending);
  o.set("initializing", s.initializing);
  o.set("uploading", s.uploading);
  o.set("finalizing", s.finalizing);
  o.set("completed", s.completed);
  o.set("failed", s.failed);
  o.set("bytesTotal", double(s.bytes_total));
  o.set("bytesUploaded", double(s.bytes_uploaded));
  o.set("percentage", s.percentage);
  o.set("partsTotal", s.parts_total);
  o.set("partsConfirmed", s.parts_confirmed);
  o.set("isOnline", s.online);
  o.set("hasSession", s.has_session);
  o.set("currentItemId", s.current_item_id);
  o.set("tokenRefreshNeeded", s.token_refresh_needed);
  o.set("authRequired", s.auth_required);
  o.set("busy", s.busy);
  o.set("nextRetryAt", double(s.next_retry_at));
  return o;
}

bool EnqueueScreenshot(ck::UploadQueue& q, const std::string& id, double size, const std::string& metadata) {
  int64_t n;
  if (!ToInt(size, 1, double(ck::kMaxScreenshotBytes), "size", &n)) return false;
  return Check(q.EnqueueScreenshot(id, uint64_t(n), metadata));
}

bool AddPart(ck::UploadQueue& q, const std::string& id, double index, double size, const std::string& sha) {
  int64_t i, n;
  if (!ToInt(index, 0, 4294967295.0, "part index", &i)) return false;
  if (!ToInt(size, 1, double(ck::kMaxQueuePartBytes), "part size", &n)) return false;
  return Check(q.AddPart(id, uint32_t(i), uint64_t(n), sha));
}

bool ServerHasParts(ck::UploadQueue& q, const std::string& id, val indices) {
  const size_t n = indices["length"].as<size_t>();
  std::vector<uint32_t> v;
  v.reserve(n);
  for (size_t k = 0; k < n; ++k) {
    int64_t i;
    if (!ToInt(indices[k].as<double>(), 0, 4294967295.0, "part index", &i)) return false;
    v.push_back(uint32_t(i));
  }
  return Check(q.ServerHasParts(id, v));
}

// 0: finished, 1: removed (the recording held no byte), -1: error.
double FinishRecording(ck::UploadQueue& q, const std::string& id) {
  bool removed = false;
  if (!Check(q.FinishRecording(id, &removed))) return -1;
  return removed ? 1 : 0;
}

// How many indices were ignored, or -1 (error). Indices arrive as whole numbers (the JS checks).
double AcceptServerPartList(ck::UploadQueue& q, const std::string& id, val indices) {
  const size_t n = indices["length"].as<size_t>();
  std::vector<int64_t> v;
  v.reserve(n);
  for (size_t k = 0; k < n; ++k) {
    int64_t i;
    if (!ToInt(indices[k].as<double>(), -kMaxSafe, kMaxSafe, "part index", &i)) return -1;
    v.push_back(i);
  }
  uint32_t ignored = 0;
  return Check(q.AcceptServerPartList(id, v, &ignored)) ? double(ignored) : -1;
}

val RestoreReadable(ck::UploadQueue& q, const std::string& json) {
  ck::UploadQueue::RestoreReport r;
  q.RestoreReadable(json, &r);
  val o = val::object();
  o.set("error", r.error.message());
  o.set("itemsKept", r.items_kept);
  val dropped = val::array();
  for (size_t i = 0; i < r.dropped.size(); ++i) dropped.set(i, r.dropped[i]);
  o.set("dropped", dropped);
  return o;
}

val UploadLimits() {
  val o = val::object();
  o.set("maxQueueItems", double(ck::kMaxQueueItems));
  o.set("maxPartsPerItem", double(ck::kMaxPartsPerItem));
  o.set("maxItemIdBytes", double(ck::kMaxItemIdBytes));
  o.set("maxMetadataBytes", double(ck::kMaxMetadataBytes));
  o.set("maxSessionIdBytes", double(ck::kMaxSessionIdBytes));
  o.set("maxResultBytes", double(ck::kMaxResultBytes));
  o.set("maxErrorMessageBytes", double(ck::kMaxErrorMessageBytes));
  o.set("maxQueuePartBytes", double(ck::kMaxQueuePartBytes));
  o.set("maxScreenshotBytes", double(ck::kMaxScreenshotBytes));
  o.set("maxPartSize", double(ck::kMaxPartSize));
  return o;
}

// ---------------------------------------------------------------------------------------- OrphanParts

struct OrphanLayoutJs {
  double minPartSize = 5 * 1024 * 1024;
  bool firstPartLast = false;
  double partCount = 0;
  double storedBytes = 0;
};

// The core OrphanParts plus the parts Finish() produced, which JS collects one by one.
class OrphanPartsBinding {
 public:
  static OrphanPartsBinding* Create(const OrphanLayoutJs& o) {
    int64_t size, count, stored;
    if (!ToInt(o.minPartSize, 1, double(ck::kMaxPartSize), "minPartSize", &size) ||
        !ToInt(o.partCount, 0, 4294967295.0, "partCount", &count) ||
        !ToInt(o.storedBytes, 0, kMaxSafe, "storedBytes", &stored)) {
      return nullptr;
    }
    ck::OrphanLayout l{uint64_t(size), o.firstPartLast, uint32_t(count), uint64_t(stored)};
    if (!Check(ck::OrphanParts::Validate(l))) return nullptr;
    return new OrphanPartsBinding(l);
  }
  bool Add(double start, uintptr_t ptr, double len) {
    int64_t at, n;
    if (!ToInt(start, 0, kMaxSafe, "tail start", &at) || !ToInt(len, 0, 2147483647.0, "tail length", &n)) return false;
    return Check(parts_.Add(uint64_t(at), Ptr<const uint8_t>(ptr), size_t(n)));
  }
  bool Finish() { return Check(parts_.Finish(&ready_)); }
  double RecordingBytes() const { return double(parts_.recording_bytes()); }
  size_t ReadyCount() const { return ready_.size(); }
  uint32_t ReadyIndex(size_t i) const { return i < ready_.size() ? ready_[i].index : 0; }
  std::string ReadySha256(size_t i) const { return i < ready_.size() ? ready_[i].sha256 : std::string(); }
  Bytes TakeReadyBytes(size_t i) { return i < ready_.size() ? Bytes(std::move(ready_[i].bytes)) : Bytes(); }

 private:
  explicit OrphanPartsBinding(const ck::OrphanLayout& l) : parts_(l) {}
  ck::OrphanParts parts_;
  std::vector<ck::ChunkPart> ready_;
};

double RetryFailed(ck::UploadQueue& q, const std::string& id) {
  uint32_t n = 0;
  return Check(q.RetryFailed(id, &n)) ? double(n) : -1;
}

bool Succeeded(ck::UploadQueue& q, double action_id, const std::string& result) {
  int64_t id;
  if (!ToInt(action_id, 1, kMaxSafe, "action id", &id)) return false;
  return Check(q.Succeeded(uint64_t(id), result));
}

bool Failed(ck::UploadQueue& q, double action_id, const std::string& kind, double now, double retry_after,
            const std::string& message) {
  int64_t id, t, ra;
  ck::FailureKind k;
  if (!ck::ParseFailureKind(kind, &k)) {
    return Fail(ck::Status::InvalidArgument("failure kind must be one of " + ck::FailureKindList() + ", got \"" +
                                            kind + "\""));
  }
  if (!ToInt(action_id, 1, kMaxSafe, "action id", &id)) return false;
  if (!ToInt(now, 0, kMaxSafe, "now", &t)) return false;
  if (!ToInt(retry_after, 0, kMaxSafe, "retryAfterMs", &ra)) return false;
  return Check(q.Failed(uint64_t(id), k, t, ra, message));
}

val ItemOrUndefined(ck::UploadQueue& q, const std::string& id) {
  const ck::QueueItem* it = q.Find(id);
  return it ? ItemToJs(*it, true) : val::undefined();
}

val Items(ck::UploadQueue& q) {
  val a = val::array();
  const auto& items = q.state().items;
  for (size_t i = 0; i < items.size(); ++i) a.set(i, ItemToJs(items[i], false));
  return a;
}

}  // namespace

EMSCRIPTEN_BINDINGS(ck_upload) {
  emscripten::value_object<ChunkBufferOptionsJs>("ChunkBufferOptions")
      .field("minPartSize", &ChunkBufferOptionsJs::minPartSize)
      .field("holdFirstPart", &ChunkBufferOptionsJs::holdFirstPart)
      .field("partSizeMultiple", &ChunkBufferOptionsJs::partSizeMultiple);

  emscripten::class_<ChunkBufferBinding>("ChunkBuffer")
      .class_function("create", &ChunkBufferBinding::Create, emscripten::allow_raw_pointers())
      .function("append", &ChunkBufferBinding::Append)
      .function("flush", &ChunkBufferBinding::Flush)
      .function("patch", &ChunkBufferBinding::Patch)
      .function("heldBytes", &ChunkBufferBinding::HeldBytes)
      .function("readyCount", &ChunkBufferBinding::ReadyCount)
      .function("readyIndex", &ChunkBufferBinding::ReadyIndex)
      .function("readySha256", &ChunkBufferBinding::ReadySha256)
      .function("readyLast", &ChunkBufferBinding::ReadyLast)
      .function("takeReadyBytes", &ChunkBufferBinding::TakeReadyBytes)
      .function("clearReady", &ChunkBufferBinding::ClearReady)
      .function("totalBytes", &ChunkBufferBinding::TotalBytes)
      .function("bufferedBytes", &ChunkBufferBinding::BufferedBytes)
      .function("partsEmitted", &ChunkBufferBinding::PartsEmitted)
      .function("flushed", &ChunkBufferBinding::Flushed)
      .function("minPartSize", &ChunkBufferBinding::MinPartSize)
      .function("emittedBegin", &ChunkBufferBinding::EmittedBegin)
      .function("emittedEnd", &ChunkBufferBinding::EmittedEnd);

  emscripten::function("sha256Hex", +[](uintptr_t ptr, double len) {
    int64_t n;
    if (!ToInt(len, 0, 2147483647.0, "length", &n)) return std::string();
    return ck::Sha256::HashHex(Ptr<const uint8_t>(ptr), size_t(n));
  });

  emscripten::value_object<QueueOptionsJs>("QueueOptions")
      .field("maxRetries", &QueueOptionsJs::maxRetries)
      .field("backoffBaseMs", &QueueOptionsJs::backoffBaseMs)
      .field("backoffFactor", &QueueOptionsJs::backoffFactor)
      .field("backoffMaxMs", &QueueOptionsJs::backoffMaxMs)
      .field("jitter", &QueueOptionsJs::jitter)
      .field("seed", &QueueOptionsJs::seed)
      .field("keepCompleted", &QueueOptionsJs::keepCompleted);

  emscripten::function("uploadLimits", &UploadLimits);

  emscripten::value_object<OrphanLayoutJs>("OrphanLayout")
      .field("minPartSize", &OrphanLayoutJs::minPartSize)
      .field("firstPartLast", &OrphanLayoutJs::firstPartLast)
      .field("partCount", &OrphanLayoutJs::partCount)
      .field("storedBytes", &OrphanLayoutJs::storedBytes);

  emscripten::class_<OrphanPartsBinding>("OrphanParts")
      .class_function("create", &OrphanPartsBinding::Create, emscripten::allow_raw_pointers())
      .function("add", &OrphanPartsBinding::Add)
      .function("finish", &OrphanPartsBinding::Finish)
      .function("recordingBytes", &OrphanPartsBinding::RecordingBytes)
      .function("readyCount", &OrphanPartsBinding::ReadyCount)
      .function("readyIndex", &OrphanPartsBinding::ReadyIndex)
      .function("readySha256", &OrphanPartsBinding::ReadySha256)
      .function("takeReadyBytes", &OrphanPartsBinding::TakeReadyBytes);

  emscripten::class_<ck::UploadQueue>("UploadQueue")
      .class_function("create", &CreateQueue, emscripten::allow_raw_pointers())
      .function("enqueueScreenshot", &EnqueueScreenshot)
      .function("enqueueVideo", +[](ck::UploadQueue& q, const std::string& id, const std::string& metadata, bool first_part_last) {
        return Check(q.EnqueueVideo(id, metadata, first_part_last));
      })
      .function("addPart", &AddPart)
      .function("markRecordingFinished", +[](ck::UploadQueue& q, const std::string& id) {
        return Check(q.MarkRecordingFinished(id));
      })
      .function("serverHasParts", &ServerHasParts)
      .function("acceptServerPartList", &AcceptServerPartList)
      .function("finishRecording", &FinishRecording)
      .function("remove", +[](ck::UploadQueue& q, const std::string& id) { return Check(q.Remove(id)); })
      .function("retryFailed", &RetryFailed)
      .function("setOnline", +[](ck::UploadQueue& q, bool online) { q.SetOnline(online); })
      .function("tokenUpdated", +[](ck::UploadQueue& q) { q.TokenUpdated(); })
      .function("nextAction", +[](ck::UploadQueue& q, double now) { return ActionOrNull(q, now, true); })
      .function("peekAction", +[](ck::UploadQueue& q, double now) { return ActionOrNull(q, now, false); })
      .function("succeeded", &Succeeded)
      .function("failed", &Failed)
      .function("summary", +[](ck::UploadQueue& q) { return SummaryToJs(q.Summary()); })
      .function("item", &ItemOrUndefined)
      .function("items", &Items)
      .function("serialize", +[](ck::UploadQueue& q) { return q.Serialize(); })
      .function("restore", +[](ck::UploadQueue& q, const std::string& json) { return Check(q.Restore(json)); })
      .function("restoreReadable", &RestoreReadable);
}
