// UploadQueue: the upload decisions as a pure, deterministic state machine. The JS driver touches the
// network and IndexedDB; this class only says what to do next and records what happened.
//
//   driver loop:  a = NextAction(now)
//                   kInit / kUploadPart / kUploadScreenshot / kFinalize / kRefreshToken -> do it, then
//                       Succeeded(a.id, result) or Failed(a.id, kind, now, retryAfterMs, message)
//                   kWait  -> sleep until a.until (or until an event), then ask again
//                   kNone  -> nothing to do until an event (a.reason says which: idle, offline,
//                             waitingForData, authRequired)
//                   kBusy  -> an action is already in flight (at most one at a time)
//
// Items (screenshots, videos) keep their enqueue order (FIFO). An item waiting for a retry or for more
// recording data does not block the items behind it. Video parts are numbered 0, 1, 2 ... as the
// ChunkBuffer emits them; a part the server confirmed is never sent again. Time is whatever the driver
// passes (ms); nothing here reads a clock, so native tests run on simulated time.
//
// Failure policy (Failed(kind)):
//   network, timeout, server5xx, rateLimited, malformed, checksumMismatch
//       counted: the item waits backoff(k) (k = consecutive failures, 1-based; base * factor^(k-1) capped at
//       max, then +-jitter from a seeded PRNG, and at least retryAfterMs) and is retried; after
//       max_retries retries the next counted failure makes it `failed` (RetryFailed() puts it back).
//   client4xx        permanent at once: the item becomes `failed`.
//   unauthorized     the first 401 since the item's last success is free: the queue asks for a
//                    refreshToken action first, then retries. Further 401s count (and refresh again).
//   sessionExpired   (video parts/finalize) the session id is dropped and every part unconfirmed; the
//                    item re-inits (ServerHasParts() may then mark what the new session already has).
//                    Free the first time since the item's last success, counted after that.
//   offline          the queue goes offline; nothing is counted. Any failure while offline is free too.
//   aborted          the driver cancelled the request: nothing is counted, the item is simply pending.
// A success that moves data (a part, a finalize, a screenshot) resets the item's failure count and its
// free 401 / session expiry; a successful init does not, so a server that keeps expiring sessions or
// rejecting tokens still ends in `failed`. SetOnline(true) clears pending backoff waits.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace ck {

enum class ItemKind : uint8_t { kScreenshot, kVideo };
enum class ItemState : uint8_t { kPending, kInitializing, kUploading, kFinalizing, kCompleted, kFailed };
enum class FailureKind : uint8_t {
  kNetwork, kTimeout, kServer5xx, kRateLimited, kClient4xx, kUnauthorized, kSessionExpired,
  kMalformed, kChecksumMismatch, kOffline, kAborted,
};
enum class ActionType : uint8_t { kNone, kWait, kBusy, kInit, kUploadPart, kUploadScreenshot, kFinalize, kRefreshToken };
enum class IdleReason : uint8_t { kNotIdle, kIdle, kOffline, kWaitingForData, kAuthRequired };

const char* ToString(ItemKind k);           // "screenshot" | "video"
const char* ToString(ItemState s);          // "pending" | "initializing" | "uploading" | "finalizing" | "completed" | "failed"
const char* ToString(FailureKind k);        // "network" | "timeout" | "server5xx" | "rateLimited" | "client4xx" |
                                            // "unauthorized" | "sessionExpired" | "malformed" | "checksumMismatch" |
                                            // "offline" | "aborted"
const char* ToString(ActionType t);         // "none" | "wait" | "busy" | "init" | "uploadPart" | "uploadScreenshot" |
                                            // "finalize" | "refreshToken"
const char* ToString(IdleReason r);         // "" | "idle" | "offline" | "waitingForData" | "authRequired"
bool ParseItemKind(const std::string& s, ItemKind* out);
bool ParseItemState(const std::string& s, ItemState* out);
bool ParseFailureKind(const std::string& s, FailureKind* out);
std::string FailureKindList();              // for error messages

// Limits (checked on every event and on Restore). The JS glue reads them from the wasm module
// (uploadLimits()), so an id or metadata the glue accepts is one the queue accepts.
constexpr size_t kMaxQueueItems = 10000;
constexpr size_t kMaxPartsPerItem = 10000;               // S3 multipart's limit
constexpr size_t kMaxItemIdBytes = 256;
constexpr size_t kMaxMetadataBytes = 64 * 1024;
constexpr size_t kMaxSessionIdBytes = 1024;
constexpr size_t kMaxResultBytes = 8 * 1024;
constexpr size_t kMaxErrorMessageBytes = 1024;           // longer messages are truncated
constexpr uint64_t kMaxQueuePartBytes = uint64_t(5) << 30;   // 5 GiB, S3's part limit
constexpr uint64_t kMaxScreenshotBytes = uint64_t(4) << 30;
constexpr int64_t kMaxTimeMs = (int64_t(1) << 53) - 1;
constexpr int kQueueStateVersion = 1;
// Written instead when an item uses first_part_last (the item then carries "firstPartLast": true and its
// part 0 may be a placeholder [0, "", 0]); both versions are read.
constexpr int kQueueStateVersionFirstPartLast = 2;

struct QueueOptions {
  uint32_t max_retries = 5;          // counted failures allowed before the next one is permanent
  double backoff_base_ms = 1000;     // wait after the 1st counted failure
  double backoff_factor = 2;         // each further failure multiplies the wait ...
  double backoff_max_ms = 16000;     // ... up to this: 1, 2, 4, 8, 16 s
  double jitter = 0.2;               // each wait is scaled by a factor in [1 - jitter, 1 + jitter)
  uint32_t seed = 1;                 // PRNG seed for the jitter (state is persisted)
  // Completed items stay in the queue (for progress and items()) up to this many; when another item
  // completes, the oldest completed ones leave. Failed items always stay (RetryFailed needs them).
  uint32_t keep_completed = UINT32_MAX;
};

struct QueuePart {
  uint64_t size = 0;
  std::string sha256;
  bool confirmed = false;  // the server has it (in the current session)
};

struct QueueItem {
  std::string id;
  ItemKind kind = ItemKind::kScreenshot;
  ItemState state = ItemState::kPending;
  std::string metadata;          // opaque (JSON text from the app)
  uint64_t bytes = 0;            // screenshots: the file size; videos: 0 (their size is the sum of parts)
  std::vector<QueuePart> parts;  // videos
  bool recording_finished = false;  // videos: no more parts will come; screenshots: always true
  // Videos (seekable streaming): parts arrive as 1, 2 ... n and then 0 (its header patched at the end).
  // parts[0] is a placeholder (size 0) until part 0 is added; parts 1..n upload as they come.
  bool first_part_last = false;
  std::string session_id;        // videos: from a successful init
  uint32_t failures = 0;         // consecutive counted failures since the last success
  int64_t retry_at = 0;          // not before this time (ms)
  bool auth_grace_used = false;     // a free 401 was used since the last success
  bool session_grace_used = false;  // a free session expiry was used since the last success
  std::string last_error;        // FailureKind name of the last failure, "" after a success
  std::string last_error_message;
  std::string result;            // what finalize / uploadScreenshot returned (e.g. the URL)

  uint64_t TotalBytes() const;
  uint64_t UploadedBytes() const;
  uint32_t ConfirmedParts() const;
};

// Everything that is persisted (Serialize/Restore). The in-flight action is not: on restore it is
// forgotten and its item is pending again.
struct QueueState {
  bool online = true;
  uint64_t next_action_id = 1;
  uint64_t rng = 0;
  bool token_refresh_needed = false;
  bool auth_required = false;
  uint32_t refresh_failures = 0;
  int64_t refresh_retry_at = 0;
  std::vector<QueueItem> items;  // enqueue order
};

struct Action {
  ActionType type = ActionType::kNone;
  uint64_t id = 0;                // for Succeeded/Failed (0 for none/wait)
  std::string item_id;
  int64_t part_index = -1;        // uploadPart
  std::string session_id;         // uploadPart / finalize
  uint64_t bytes = 0;             // uploadPart: part size; uploadScreenshot: file size
  std::string sha256;             // uploadPart
  uint32_t part_count = 0;        // finalize: number of parts (0 .. n-1 all confirmed)
  std::string metadata;           // init / uploadScreenshot / finalize: the item's metadata
  int64_t until = 0;              // wait
  IdleReason reason = IdleReason::kNotIdle;  // none
  ActionType busy_with = ActionType::kNone;  // busy: the in-flight action's type
};

struct QueueSummary {
  uint32_t total = 0, pending = 0, initializing = 0, uploading = 0, finalizing = 0, completed = 0, failed = 0;
  uint64_t bytes_total = 0, bytes_uploaded = 0;
  int percentage = 0;  // round(100 * uploaded / total), 0 when total is 0
  uint32_t parts_total = 0, parts_confirmed = 0;
  bool online = true;
  bool has_session = false;       // the current item has a session id
  std::string current_item_id;    // the in-flight item, else the first unfinished item ("" if none)
  bool token_refresh_needed = false;
  bool auth_required = false;
  bool busy = false;
  int64_t next_retry_at = 0;      // earliest backoff end among waiting items (0 if none)
};

class UploadQueue {
 public:
  static Status Validate(const QueueOptions& options);
  // options must pass Validate().
  explicit UploadQueue(const QueueOptions& options = {});

  // --- events from the app ---
  Status EnqueueScreenshot(const std::string& id, uint64_t bytes, const std::string& metadata);
  Status EnqueueVideo(const std::string& id, const std::string& metadata, bool first_part_last = false);
  // Parts come in order 0, 1, 2 ... (ChunkBuffer numbering), until MarkRecordingFinished. For a
  // first_part_last item: 1, 2 ... n, then 0 (after which no other part may come; it must come before
  // MarkRecordingFinished).
  Status AddPart(const std::string& id, uint32_t index, uint64_t size, const std::string& sha256);
  Status MarkRecordingFinished(const std::string& id);
  // Ends a recording, whatever it holds: a recording with at least one byte is marked finished (as
  // MarkRecordingFinished does); one without a byte (no part; with first_part_last, not even part 0)
  // has nothing to upload and leaves the queue: *removed says so. A first_part_last recording with
  // parts 1..n but no part 0 is an error, as for MarkRecordingFinished.
  Status FinishRecording(const std::string& id, bool* removed);
  // The server's list of parts it has for the item's current session: exactly those are confirmed.
  Status ServerHasParts(const std::string& id, const std::vector<uint32_t>& indices);
  // The same for a list as a server sent it (an init answer, a listParts, an error's part list):
  // indices the item does not have (negative, or past its last part: a server that kept parts of a
  // longer upload) and repeats are ignored; *ignored counts them. An item that is not a video with a
  // session (e.g. the failure just dropped the session) ignores the whole list. No such item is an error.
  Status AcceptServerPartList(const std::string& id, const std::vector<int64_t>& indices, uint32_t* ignored);
  // Drops an item (not while it is in flight).
  Status Remove(const std::string& id);
  // Failed items go back to pending with a fresh retry budget. id "" = all; returns how many.
  Status RetryFailed(const std::string& id, uint32_t* count);
  void SetOnline(bool online);
  // The app has a new token by other means (e.g. the user logged in again): clears authRequired.
  void TokenUpdated();

  // --- the driver ---
  // What to do now; an action it returns is in flight until Succeeded/Failed with its id.
  Status NextAction(int64_t now_ms, Action* out);
  // The same answer without starting anything.
  Status PeekAction(int64_t now_ms, Action* out) const;
  // result: init -> the session id (required); finalize / uploadScreenshot -> e.g. the URL (optional).
  Status Succeeded(uint64_t action_id, const std::string& result);
  Status Failed(uint64_t action_id, FailureKind kind, int64_t now_ms, int64_t retry_after_ms,
                const std::string& message);

  // --- reading ---
  QueueSummary Summary() const;
  const QueueState& state() const { return state_; }
  const QueueItem* Find(const std::string& id) const;
  const Action* in_flight() const { return in_flight_.type == ActionType::kNone ? nullptr : &in_flight_; }
  const QueueOptions& options() const { return options_; }
  // The wait after the k-th consecutive counted failure, before jitter (k >= 1).
  int64_t BaseBackoffMs(uint32_t k) const;

  // --- persistence (compact JSON, see queue_state_json.h) ---
  std::string Serialize() const;
  // Replaces the state; on failure (CorruptData) the queue is unchanged. An in-flight action is forgotten.
  Status Restore(const std::string& json);
  // Restore for a stored state that may be corrupt (a browser bug, a full disk, a hostile page): a
  // state that reads is restored as Restore() does; otherwise the queue keeps every item that still
  // reads on its own, in order (of repeated ids, the first), and the top-level fields that read (the
  // defaults for the others). Never fails; the report says what was lost.
  struct RestoreReport {
    Status error;                       // why the state did not read as a whole (ok when it did)
    uint32_t items_kept = 0;
    std::vector<std::string> dropped;   // one line per item or field that could not be read
  };
  void RestoreReadable(const std::string& json, RestoreReport* report);

 private:
  QueueItem* FindMutable(const std::string& id);
  Status Decide(int64_t now_ms, Action* out, size_t* item_index) const;
  Status CheckActionId(uint64_t action_id) const;
  void CountFailure(QueueItem* item, int64_t now_ms, int64_t retry_after_ms);
  int64_t JitteredBackoffMs(uint32_t k);
  void ResetAfterSuccess(QueueItem* item);
  void TrimCompleted();
  void ForgetInFlight(QueueState* state);

  QueueOptions options_;
  QueueState state_;
  Action in_flight_;  // type kNone when nothing is in flight
};

}  // namespace ck
