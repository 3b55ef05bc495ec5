#include "upload/upload_queue.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "upload/queue_state_json.h"
#include "upload/sha256.h"

namespace ck {
namespace {

const char* const kKindNames[] = {"screenshot", "video"};
const char* const kStateNames[] = {"pending", "initializing", "uploading", "finalizing", "completed", "failed"};
const char* const kFailureNames[] = {"network",      "timeout",        "server5xx", "rateLimited",
                                     "client4xx",    "unauthorized",   "sessionExpired", "malformed",
                                     "checksumMismatch", "offline",    "aborted"};
const char* const kActionNames[] = {"none", "wait", "busy", "init", "uploadPart", "uploadScreenshot", "finalize",
                                    "refreshToken"};
const char* const kReasonNames[] = {"", "idle", "offline", "waitingForData", "authRequired"};

template <typename E, size_t N>
bool ParseName(const std::string& s, const char* const (&names)[N], E* out) {
  for (size_t i = 0; i < N; ++i) {
    if (s == names[i]) {
      *out = static_cast<E>(i);
      return true;
    }
  }
  return false;
}

bool Terminal(ItemState s) { return s == ItemState::kCompleted || s == ItemState::kFailed; }

std::string Quote(const std::string& id) { return "'" + id + "'"; }

Status CheckTime(int64_t t, const char* what) {
  if (t < 0 || t > kMaxTimeMs) {
    return Status::OutOfRange(std::string(what) + " must be between 0 and 2^53-1 ms, got " + std::to_string(t));
  }
  return Status::Ok();
}

Status CheckNewId(const std::string& id) {
  if (id.empty()) return Status::InvalidArgument("item id must be a non-empty string");
  if (id.size() > kMaxItemIdBytes) {
    return Status::OutOfRange("item id is " + std::to_string(id.size()) + " bytes; the limit is " +
                              std::to_string(kMaxItemIdBytes));
  }
  return Status::Ok();
}

Status CheckMetadata(const std::string& m) {
  if (m.size() > kMaxMetadataBytes) {
    return Status::OutOfRange("metadata is " + std::to_string(m.size()) + " bytes; the limit is " +
                              std::to_string(kMaxMetadataBytes));
  }
  return Status::Ok();
}

// splitmix64: tiny, good enough for jitter, and its whole state is one integer we can persist.
uint64_t NextRandom(uint64_t* state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

}  // namespace

const char* ToString(ItemKind k) { return kKindNames[static_cast<int>(k)]; }
const char* ToString(ItemState s) { return kStateNames[static_cast<int>(s)]; }
const char* ToString(FailureKind k) { return kFailureNames[static_cast<int>(k)]; }
const char* ToString(ActionType t) { return kActionNames[static_cast<int>(t)]; }
const char* ToString(IdleReason r) { return kReasonNames[static_cast<int>(r)]; }
bool ParseItemKind(const std::string& s, ItemKind* out) { return ParseName(s, kKindNames, out); }
bool ParseItemState(const std::string& s, ItemState* out) { return ParseName(s, kStateNames, out); }
bool ParseFailureKind(const std::string& s, FailureKind* out) { return ParseName(s, kFailureNames, out); }
std::string FailureKindList() {
  std::string s;
  for (const char* n : kFailureNames) s += (s.empty() ? "" : ", ") + std::string(n);
  return s;
}

uint64_t QueueItem::TotalBytes() const {
  if (kind == ItemKind::kScreenshot) return bytes;
  uint64_t t = 0;
  for (const auto& p : parts) t += p.size;
  return t;
}

uint64_t QueueItem::UploadedBytes() const {
  if (kind == ItemKind::kScreenshot) return state == ItemState::kCompleted ? bytes : 0;
  uint64_t t = 0;
  for (const auto& p : parts) t += p.confirmed ? p.size : 0;
  return t;
}

uint32_t QueueItem::ConfirmedParts() const {
  uint32_t n = 0;
  for (const auto& p : parts) n += p.confirmed ? 1 : 0;
  return n;
}

Status UploadQueue::Validate(const QueueOptions& o) {
  constexpr double kDay = 86400000.0;
  if (o.max_retries > 100) {
    return Status::OutOfRange("maxRetries must be between 0 and 100, got " + std::to_string(o.max_retries));
  }
  if (!(o.backoff_base_ms >= 0 && o.backoff_base_ms <= kDay)) {
    return Status::OutOfRange("backoffBaseMs must be between 0 and 86400000, got " + NumberText(o.backoff_base_ms));
  }
  if (!(o.backoff_factor >= 1 && o.backoff_factor <= 16)) {
    return Status::OutOfRange("backoffFactor must be between 1 and 16, got " + NumberText(o.backoff_factor));
  }
  if (!(o.backoff_max_ms >= o.backoff_base_ms && o.backoff_max_ms <= kDay)) {
    return Status::OutOfRange("backoffMaxMs must be between backoffBaseMs and 86400000, got " +
                              NumberText(o.backoff_max_ms));
  }
  if (!(o.jitter >= 0 && o.jitter <= 1)) {
    return Status::OutOfRange("jitter must be between 0 and 1, got " + NumberText(o.jitter));
  }
  return Status::Ok();  // keep_completed: any count (UINT32_MAX keeps every completed item)
}

UploadQueue::UploadQueue(const QueueOptions& options) : options_(options) { state_.rng = options.seed; }

QueueItem* UploadQueue::FindMutable(const std::string& id) {
  for (auto& it : state_.items) {
    if (it.id == id) return &it;
  }
  return nullptr;
}

const QueueItem* UploadQueue::Find(const std::string& id) const {
  for (const auto& it : state_.items) {
    if (it.id == id) return &it;
  }
  return nullptr;
}

// ---------------------------------------------------------------------------------------------- events

Status UploadQueue::EnqueueScreenshot(const std::string& id, uint64_t bytes, const std::string& metadata) {
  Status s = CheckNewId(id);
  if (!s.ok()) return s;
  if (bytes == 0 || bytes > kMaxScreenshotBytes) {
    return Status::OutOfRange("screenshot " + Quote(id) + ": bytes must be between 1 and " +
                              std::to_string(kMaxScreenshotBytes) + ", got " + std::to_string(bytes));
  }
  if (!(s = CheckMetadata(metadata)).ok()) return s;
  if (Find(id)) return Status::FailedPrecondition("item " + Quote(id) + " is already in the queue");
  if (state_.items.size() >= kMaxQueueItems) {
    return Status::ResourceExhausted("the upload queue is full (" + std::to_string(kMaxQueueItems) + " items)");
  }
  QueueItem it;
  it.id = id;
  it.kind = ItemKind::kScreenshot;
  it.bytes = bytes;
  it.metadata = metadata;
  it.recording_finished = true;
  state_.items.push_back(std::move(it));
  return Status::Ok();
}

Status UploadQueue::EnqueueVideo(const std::string& id, const std::string& metadata, bool first_part_last) {
  Status s = CheckNewId(id);
  if (!s.ok()) return s;
  if (!(s = CheckMetadata(metadata)).ok()) return s;
  if (Find(id)) return Status::FailedPrecondition("item " + Quote(id) + " is already in the queue");
  if (state_.items.size() >= kMaxQueueItems) {
    return Status::ResourceExhausted("the upload queue is full (" + std::to_string(kMaxQueueItems) + " items)");
  }
  QueueItem it;
  it.id = id;
  it.kind = ItemKind::kVideo;
  it.metadata = metadata;
  it.first_part_last = first_part_last;
  if (first_part_last) it.parts.push_back(QueuePart{0, "", false});  // placeholder for part 0
  state_.items.push_back(std::move(it));
  return Status::Ok();
}

Status UploadQueue::AddPart(const std::string& id, uint32_t index, uint64_t size, const std::string& sha256) {
  QueueItem* it = FindMutable(id);
  if (!it) return Status::FailedPrecondition("addPart: no item " + Quote(id) + " in the queue");
  if (it->kind != ItemKind::kVideo) {
    return Status::FailedPrecondition("addPart: item " + Quote(id) + " is a screenshot; only videos have parts");
  }
  if (it->recording_finished) {
    return Status::FailedPrecondition("addPart: part " + std::to_string(index) + " of " + Quote(id) +
                                      " after markRecordingFinished");
  }
  const size_t have = it->parts.size();
  if (it->first_part_last) {
    const bool zero_added = it->parts[0].size != 0;
    if (zero_added) {
      return Status::FailedPrecondition("addPart: part " + std::to_string(index) + " of " + Quote(id) +
                                        " after part 0 (with firstPartLast, part 0 comes last)");
    }
    if (index != 0 && index != have) {
      return Status::FailedPrecondition("addPart: part index " + std::to_string(index) + " of " + Quote(id) +
                                        " is out of order: expected " + std::to_string(have) +
                                        " (or 0 to end the parts)");
    }
    if (index == 0) {
      if (size == 0 || size > kMaxQueuePartBytes) {
        return Status::OutOfRange("addPart: part size must be between 1 and " + std::to_string(kMaxQueuePartBytes) +
                                  " bytes, got " + std::to_string(size));
      }
      if (!IsSha256Hex(sha256)) return Status::InvalidArgument("addPart: sha256 must be 64 lowercase hex characters");
      it->parts[0] = QueuePart{size, sha256, false};
      return Status::Ok();
    }
  }
  if (index < have) {
    return Status::FailedPrecondition("addPart: duplicate part index " + std::to_string(index) + " for " + Quote(id) +
                                      " (it has parts 0.." + std::to_string(have - 1) + ")");
  }
  if (index > have) {
    return Status::FailedPrecondition("addPart: part index " + std::to_string(index) + " of " + Quote(id) +
                                      " is out of order: expected " + std::to_string(have));
  }
  if (size == 0 || size > kMaxQueuePartBytes) {
    return Status::OutOfRange("addPart: part size must be between 1 and " + std::to_string(kMaxQueuePartBytes) +
                              " bytes, got " + std::to_string(size));
  }
  if (!IsSha256Hex(sha256)) {
    return Status::InvalidArgument("addPart: sha256 must be 64 lowercase hex characters");
  }
  if (have >= kMaxPartsPerItem) {
    return Status::ResourceExhausted("addPart: " + Quote(id) + " already has the maximum of " +
                                     std::to_string(kMaxPartsPerItem) + " parts");
  }
  it->parts.push_back(QueuePart{size, sha256, false});
  return Status::Ok();
}

Status UploadQueue::MarkRecordingFinished(const std::string& id) {
  QueueItem* it = FindMutable(id);
  if (!it) return Status::FailedPrecondition("markRecordingFinished: no item " + Quote(id) + " in the queue");
  if (it->kind != ItemKind::kVideo) {
    return Status::FailedPrecondition("markRecordingFinished: item " + Quote(id) + " is a screenshot");
  }
  if (it->recording_finished) {
    return Status::FailedPrecondition("markRecordingFinished: the recording " + Quote(id) + " is already finished");
  }
  if (it->first_part_last && it->parts[0].size == 0) {
    return Status::FailedPrecondition("markRecordingFinished: " + Quote(id) +
                                      " has firstPartLast but part 0 was not added yet");
  }
  it->recording_finished = true;
  return Status::Ok();
}

Status UploadQueue::FinishRecording(const std::string& id, bool* removed) {
  *removed = false;
  const QueueItem* it = Find(id);
  if (it && it->kind == ItemKind::kVideo && !it->recording_finished && it->TotalBytes() == 0) {
    Status s = Remove(id);
    if (s.ok()) *removed = true;
    return s;
  }
  return MarkRecordingFinished(id);
}

Status UploadQueue::AcceptServerPartList(const std::string& id, const std::vector<int64_t>& indices,
                                         uint32_t* ignored) {
  *ignored = 0;
  const QueueItem* it = Find(id);
  if (!it) return Status::FailedPrecondition("serverHasParts: no item " + Quote(id) + " in the queue");
  if (it->kind != ItemKind::kVideo || it->session_id.empty()) {
    *ignored = uint32_t(std::min<size_t>(indices.size(), UINT32_MAX));
    return Status::Ok();
  }
  std::vector<uint32_t> have;
  std::vector<bool> seen(it->parts.size(), false);
  for (int64_t i : indices) {
    if (i < 0 || uint64_t(i) >= it->parts.size() || seen[size_t(i)]) {
      ++*ignored;
      continue;
    }
    seen[size_t(i)] = true;
    have.push_back(uint32_t(i));
  }
  return ServerHasParts(id, have);
}

Status UploadQueue::ServerHasParts(const std::string& id, const std::vector<uint32_t>& indices) {
  QueueItem* it = FindMutable(id);
  if (!it) return Status::FailedPrecondition("serverHasParts: no item " + Quote(id) + " in the queue");
  if (it->kind != ItemKind::kVideo) {
    return Status::FailedPrecondition("serverHasParts: item " + Quote(id) + " is a screenshot");
  }
  if (it->session_id.empty()) {
    return Status::FailedPrecondition("serverHasParts: item " + Quote(id) + " has no upload session yet");
  }
  for (uint32_t i : indices) {
    if (i >= it->parts.size()) {
      return Status::OutOfRange("serverHasParts: the server reports part " + std::to_string(i) + " but " + Quote(id) +
                                " has " + std::to_string(it->parts.size()) + " parts");
    }
  }
  for (auto& p : it->parts) p.confirmed = false;
  for (uint32_t i : indices) it->parts[i].confirmed = it->parts[i].size != 0;  // not a firstPartLast placeholder
  return Status::Ok();
}

Status UploadQueue::Remove(const std::string& id) {
  for (size_t i = 0; i < state_.items.size(); ++i) {
    if (state_.items[i].id != id) continue;
    if (in_flight_.type != ActionType::kNone && in_flight_.item_id == id) {
      return Status::FailedPrecondition("remove: item " + Quote(id) + " has an action in flight (report it first)");
    }
    state_.items.erase(state_.items.begin() + i);
    return Status::Ok();
  }
  return Status::FailedPrecondition("remove: no item " + Quote(id) + " in the queue");
}

Status UploadQueue::RetryFailed(const std::string& id, uint32_t* count) {
  *count = 0;
  if (!id.empty()) {
    const QueueItem* it = Find(id);
    if (!it) return Status::FailedPrecondition("retryFailed: no item " + Quote(id) + " in the queue");
    if (it->state != ItemState::kFailed) {
      return Status::FailedPrecondition("retryFailed: item " + Quote(id) + " is " + ToString(it->state) +
                                        ", not failed");
    }
  }
  for (auto& it : state_.items) {
    if (it.state != ItemState::kFailed || (!id.empty() && it.id != id)) continue;
    it.state = ItemState::kPending;
    it.failures = 0;
    it.retry_at = 0;
    it.auth_grace_used = false;
    it.session_grace_used = false;
    ++*count;
  }
  return Status::Ok();
}

void UploadQueue::SetOnline(bool online) {
  if (online && !state_.online) {
    // Connectivity restored: whatever was waiting goes now (failure counts are kept).
    for (auto& it : state_.items) {
      if (!Terminal(it.state)) it.retry_at = 0;
    }
    state_.refresh_retry_at = 0;
  }
  state_.online = online;
}

void UploadQueue::TokenUpdated() {
  state_.auth_required = false;
  state_.token_refresh_needed = false;
  state_.refresh_failures = 0;
  state_.refresh_retry_at = 0;
}

// ---------------------------------------------------------------------------------------------- driver

Status UploadQueue::Decide(int64_t now, Action* out, size_t* item_index) const {
  *out = Action();
  *item_index = SIZE_MAX;
  Status s = CheckTime(now, "now");
  if (!s.ok()) return s;
  if (in_flight_.type != ActionType::kNone) {
    *out = in_flight_;
    out->type = ActionType::kBusy;
    out->busy_with = in_flight_.type;
    return Status::Ok();
  }
  auto none = [out](IdleReason r) {
    out->type = ActionType::kNone;
    out->reason = r;
    return Status::Ok();
  };
  if (!state_.online) return none(IdleReason::kOffline);
  if (state_.auth_required) return none(IdleReason::kAuthRequired);
  if (state_.token_refresh_needed) {
    if (state_.refresh_retry_at > now) {
      out->type = ActionType::kWait;
      out->until = state_.refresh_retry_at;
    } else {
      out->type = ActionType::kRefreshToken;
    }
    return Status::Ok();
  }
  int64_t earliest = std::numeric_limits<int64_t>::max();
  bool waiting_for_data = false;
  for (size_t i = 0; i < state_.items.size(); ++i) {
    const QueueItem& it = state_.items[i];
    if (Terminal(it.state)) continue;
    Action a;
    a.item_id = it.id;
    if (it.kind == ItemKind::kScreenshot) {
      a.type = ActionType::kUploadScreenshot;
      a.bytes = it.bytes;
      a.metadata = it.metadata;
    } else if (it.session_id.empty()) {
      a.type = ActionType::kInit;
      a.metadata = it.metadata;
    } else {
      size_t first = it.parts.size();
      // firstPartLast: parts 1..n first, part 0 (the patched header) last; size 0 = not added yet.
      const size_t start = it.first_part_last ? 1 : 0;
      for (size_t k = 0; k < it.parts.size(); ++k) {
        const size_t p = (start + k) % it.parts.size();
        if (!it.parts[p].confirmed && it.parts[p].size != 0) {
          first = p;
          break;
        }
      }
      a.session_id = it.session_id;
      if (first < it.parts.size()) {
        a.type = ActionType::kUploadPart;
        a.part_index = int64_t(first);
        a.bytes = it.parts[first].size;
        a.sha256 = it.parts[first].sha256;
      } else if (it.recording_finished) {
        a.type = ActionType::kFinalize;
        a.part_count = uint32_t(it.parts.size());
        a.bytes = it.TotalBytes();
        a.metadata = it.metadata;
      } else {
        waiting_for_data = true;
        continue;
      }
    }
    if (it.retry_at > now) {
      if (it.retry_at < earliest) earliest = it.retry_at;
      continue;
    }
    *out = a;
    *item_index = i;
    return Status::Ok();
  }
  if (earliest != std::numeric_limits<int64_t>::max()) {
    out->type = ActionType::kWait;
    out->until = earliest;
    return Status::Ok();
  }
  return none(waiting_for_data ? IdleReason::kWaitingForData : IdleReason::kIdle);
}

Status UploadQueue::PeekAction(int64_t now_ms, Action* out) const {
  size_t idx;
  return Decide(now_ms, out, &idx);
}

Status UploadQueue::NextAction(int64_t now_ms, Action* out) {
  size_t idx;
  Status s = Decide(now_ms, out, &idx);
  if (!s.ok()) return s;
  switch (out->type) {
    case ActionType::kNone:
    case ActionType::kWait:
    case ActionType::kBusy:
      return Status::Ok();
    default:
      break;
  }
  if (state_.next_action_id >= uint64_t(kMaxTimeMs)) state_.next_action_id = 1;  // never in practice
  out->id = state_.next_action_id++;
  if (idx != SIZE_MAX) {
    QueueItem& it = state_.items[idx];
    it.state = out->type == ActionType::kInit       ? ItemState::kInitializing
               : out->type == ActionType::kFinalize ? ItemState::kFinalizing
                                                    : ItemState::kUploading;
  }
  in_flight_ = *out;
  return Status::Ok();
}

Status UploadQueue::CheckActionId(uint64_t action_id) const {
  if (in_flight_.type == ActionType::kNone) {
    return Status::FailedPrecondition("action " + std::to_string(action_id) + " is not in flight (nothing is)");
  }
  if (in_flight_.id != action_id) {
    return Status::FailedPrecondition("action " + std::to_string(action_id) + " is not in flight (action " +
                                      std::to_string(in_flight_.id) + " is)");
  }
  return Status::Ok();
}

void UploadQueue::ResetAfterSuccess(QueueItem* it) {
  it->failures = 0;
  it->retry_at = 0;
  it->auth_grace_used = false;
  it->session_grace_used = false;
  it->last_error.clear();
  it->last_error_message.clear();
}

Status UploadQueue::Succeeded(uint64_t action_id, const std::string& result) {
  Status s = CheckActionId(action_id);
  if (!s.ok()) return s;
  const Action a = in_flight_;
  if (a.type == ActionType::kInit) {
    if (result.empty()) return Status::InvalidArgument("init succeeded without a session id");
    if (result.size() > kMaxSessionIdBytes) {
      return Status::OutOfRange("session id is " + std::to_string(result.size()) + " bytes; the limit is " +
                                std::to_string(kMaxSessionIdBytes));
    }
  }
  if (result.size() > kMaxResultBytes) {
    return Status::OutOfRange("result is " + std::to_string(result.size()) + " bytes; the limit is " +
                              std::to_string(kMaxResultBytes));
  }
  in_flight_ = Action();
  if (a.type == ActionType::kRefreshToken) {
    state_.token_refresh_needed = false;
    state_.refresh_failures = 0;
    state_.refresh_retry_at = 0;
    return Status::Ok();
  }
  QueueItem* it = FindMutable(a.item_id);
  if (!it) return Status::Ok();
  it->state = ItemState::kPending;
  it->retry_at = 0;
  if (a.type != ActionType::kInit) ResetAfterSuccess(it);  // an init alone is no progress (see the header)
  switch (a.type) {
    case ActionType::kInit:
      it->session_id = result;
      break;
    case ActionType::kUploadPart:
      if (a.part_index >= 0 && size_t(a.part_index) < it->parts.size()) it->parts[a.part_index].confirmed = true;
      break;
    case ActionType::kUploadScreenshot:
    case ActionType::kFinalize:
      it->state = ItemState::kCompleted;
      it->result = result;
      TrimCompleted();
      break;
    default:
      break;
  }
  return Status::Ok();
}

void UploadQueue::TrimCompleted() {
  size_t completed = 0;
  for (const auto& it : state_.items) completed += it.state == ItemState::kCompleted ? 1 : 0;
  if (completed <= options_.keep_completed) return;
  size_t excess = completed - options_.keep_completed;
  auto& items = state_.items;
  items.erase(std::remove_if(items.begin(), items.end(),
                             [&excess](const QueueItem& it) {
                               if (excess == 0 || it.state != ItemState::kCompleted) return false;
                               --excess;
                               return true;
                             }),
              items.end());
}

int64_t UploadQueue::BaseBackoffMs(uint32_t k) const {
  double d = std::min(options_.backoff_base_ms, options_.backoff_max_ms);
  for (uint32_t i = 1; i < k && d < options_.backoff_max_ms; ++i) d = std::min(d * options_.backoff_factor, options_.backoff_max_ms);
  return int64_t(std::floor(d));
}

int64_t UploadQueue::JitteredBackoffMs(uint32_t k) {
  const double base = double(BaseBackoffMs(k));
  const double u = double(NextRandom(&state_.rng) >> 11) * (1.0 / 9007199254740992.0);  // [0, 1)
  const double d = std::floor(base * (1.0 + options_.jitter * (2.0 * u - 1.0)));
  return d < 0 ? 0 : int64_t(d);
}

void UploadQueue::CountFailure(QueueItem* it, int64_t now, int64_t retry_after_ms) {
  ++it->failures;
  if (it->failures > options_.max_retries) {
    it->state = ItemState::kFailed;
    it->retry_at = 0;
    return;
  }
  int64_t wait = JitteredBackoffMs(it->failures);
  if (retry_after_ms > wait) wait = retry_after_ms;
  it->retry_at = std::min(now + wait, kMaxTimeMs);
}

Status UploadQueue::Failed(uint64_t action_id, FailureKind kind, int64_t now, int64_t retry_after_ms,
                           const std::string& message) {
  Status s = CheckActionId(action_id);
  if (!s.ok()) return s;
  if (!(s = CheckTime(now, "now")).ok()) return s;
  if (!(s = CheckTime(retry_after_ms, "retryAfterMs")).ok()) return s;
  const Action a = in_flight_;
  in_flight_ = Action();
  const bool free_offline = kind == FailureKind::kOffline || !state_.online;
  if (kind == FailureKind::kOffline) state_.online = false;

  if (a.type == ActionType::kRefreshToken) {
    if (free_offline || kind == FailureKind::kAborted) return Status::Ok();
    if (kind == FailureKind::kUnauthorized || kind == FailureKind::kClient4xx || kind == FailureKind::kSessionExpired) {
      state_.auth_required = true;
      return Status::Ok();
    }
    if (++state_.refresh_failures > options_.max_retries) {
      state_.auth_required = true;
      return Status::Ok();
    }
    int64_t wait = JitteredBackoffMs(state_.refresh_failures);
    if (retry_after_ms > wait) wait = retry_after_ms;
    state_.refresh_retry_at = std::min(now + wait, kMaxTimeMs);
    return Status::Ok();
  }

  QueueItem* it = FindMutable(a.item_id);
  if (!it) return Status::Ok();
  it->state = ItemState::kPending;
  it->last_error = ToString(kind);
  it->last_error_message = message.substr(0, kMaxErrorMessageBytes);
  if (free_offline || kind == FailureKind::kAborted) return Status::Ok();

  switch (kind) {
    case FailureKind::kClient4xx:
      it->state = ItemState::kFailed;
      it->retry_at = 0;
      break;
    case FailureKind::kUnauthorized:
      state_.token_refresh_needed = true;
      if (!it->auth_grace_used) {
        it->auth_grace_used = true;
      } else {
        CountFailure(it, now, retry_after_ms);
      }
      break;
    case FailureKind::kSessionExpired:
      if (it->kind == ItemKind::kVideo && (a.type == ActionType::kUploadPart || a.type == ActionType::kFinalize)) {
        it->session_id.clear();
        for (auto& p : it->parts) p.confirmed = false;
        if (!it->session_grace_used) {
          it->session_grace_used = true;
          break;
        }
      }
      CountFailure(it, now, retry_after_ms);
      break;
    default:
      CountFailure(it, now, retry_after_ms);
      break;
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------- reading

QueueSummary UploadQueue::Summary() const {
  QueueSummary s;
  s.online = state_.online;
  s.token_refresh_needed = state_.token_refresh_needed;
  s.auth_required = state_.auth_required;
  s.busy = in_flight_.type != ActionType::kNone;
  const QueueItem* current = nullptr;
  if (s.busy && !in_flight_.item_id.empty()) current = Find(in_flight_.item_id);
  int64_t next_retry = std::numeric_limits<int64_t>::max();
  for (const auto& it : state_.items) {
    ++s.total;
    switch (it.state) {
      case ItemState::kPending: ++s.pending; break;
      case ItemState::kInitializing: ++s.initializing; break;
      case ItemState::kUploading: ++s.uploading; break;
      case ItemState::kFinalizing: ++s.finalizing; break;
      case ItemState::kCompleted: ++s.completed; break;
      case ItemState::kFailed: ++s.failed; break;
    }
    s.bytes_total += it.TotalBytes();
    s.bytes_uploaded += it.UploadedBytes();
    s.parts_total += uint32_t(it.parts.size());
    s.parts_confirmed += it.ConfirmedParts();
    if (!Terminal(it.state)) {
      if (!current) current = &it;
      if (it.retry_at > 0 && it.retry_at < next_retry) next_retry = it.retry_at;
    }
  }
  if (s.bytes_total > 0) s.percentage = int(std::llround(100.0 * double(s.bytes_uploaded) / double(s.bytes_total)));
  if (current) {
    s.current_item_id = current->id;
    s.has_session = !current->session_id.empty();
  }
  if (next_retry != std::numeric_limits<int64_t>::max()) s.next_retry_at = next_retry;
  return s;
}

std::string UploadQueue::Serialize() const { return SerializeQueueState(state_); }

void UploadQueue::ForgetInFlight(QueueState* st) {
  for (auto& it : st->items) {
    if (it.state == ItemState::kInitializing || it.state == ItemState::kUploading ||
        it.state == ItemState::kFinalizing) {
      it.state = ItemState::kPending;  // its action was in flight when the state was saved: forget it
    }
  }
  state_ = std::move(*st);
  in_flight_ = Action();
}

Status UploadQueue::Restore(const std::string& json) {
  QueueState st;
  Status s = ParseQueueState(json, &st);
  if (!s.ok()) return s;
  ForgetInFlight(&st);
  return Status::Ok();
}

void UploadQueue::RestoreReadable(const std::string& json, RestoreReport* report) {
  *report = RestoreReport();
  QueueState st;
  report->error = ParseQueueState(json, &st);
  if (!report->error.ok()) {
    st = QueueState();
    st.rng = options_.seed;
    SalvageQueueState(json, &st, &report->dropped);
  }
  report->items_kept = uint32_t(st.items.size());
  ForgetInFlight(&st);
}

}  // namespace ck
