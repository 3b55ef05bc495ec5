// libFuzzer target: the upload queue's state as it comes back from IndexedDB (queue_state_json.cpp,
// tiny_json.cpp), where a browser bug, a full disk or a hostile page may have changed any byte.
//   Restore:          a state it accepts serializes to a state it accepts again, identically, and the
//                     queue then runs (a few actions succeed or fail) without an unexpected error.
//   RestoreReadable:  never fails; what it keeps always serializes to a state Restore accepts; for a
//                     state Restore accepts it keeps exactly that.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "upload/upload_queue.h"

namespace {

[[noreturn]] void Die(const char* why, const std::string& detail = "") {
  fprintf(stderr, "upload_queue_state_fuzz: %s\n%s\n", why, detail.c_str());
  abort();
}

ck::QueueOptions Options() {
  ck::QueueOptions o;
  o.keep_completed = 3;
  return o;
}

// A few steps of the driver loop; the queue must accept every report of an action it handed out.
void Drive(ck::UploadQueue* q, const std::string& text) {
  int64_t now = 1000;
  for (size_t step = 0; step < 12; ++step) {
    ck::Action a;
    ck::Status s = q->NextAction(now, &a);
    if (!s.ok()) Die("NextAction failed on a restored queue", s.message());
    if (a.type == ck::ActionType::kNone) return;
    if (a.type == ck::ActionType::kWait) {
      now = a.until;
      continue;
    }
    if (a.type == ck::ActionType::kBusy) Die("busy with nothing in flight");
    const uint8_t b = text.empty() ? 0 : uint8_t(text[step % text.size()]);
    if (b & 1) {
      s = q->Succeeded(a.id, a.type == ck::ActionType::kInit ? "session" : "");
    } else {
      s = q->Failed(a.id, ck::FailureKind((b >> 1) % 11), now, 0, "fuzz");
    }
    if (!s.ok()) Die("a report of the action in flight was refused", s.message());
    ck::QueueSummary sum = q->Summary();
    if (sum.bytes_uploaded > sum.bytes_total) Die("more bytes uploaded than there are");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);

  ck::UploadQueue strict(Options());
  const bool accepted = strict.Restore(text).ok();
  std::string once;
  if (accepted) {
    once = strict.Serialize();
    ck::UploadQueue again(Options());
    ck::Status s = again.Restore(once);
    if (!s.ok()) Die("a restored state does not restore again", s.message() + "\n" + once);
    if (again.Serialize() != once) Die("restoring a restored state changed it", once);
  }

  ck::UploadQueue lenient(Options());
  ck::UploadQueue::RestoreReport report;
  lenient.RestoreReadable(text, &report);
  if (report.error.ok() != accepted) Die("RestoreReadable and Restore disagree on whether the state reads");
  if (report.items_kept != lenient.state().items.size()) Die("items_kept is not the number of items kept");
  if (accepted && (lenient.Serialize() != once || !report.dropped.empty())) Die("a state that reads was not kept as is");
  if (!accepted && report.dropped.empty() && report.error.ok()) Die("a corrupt state without a reason");
  const std::string kept = lenient.Serialize();
  ck::UploadQueue check(Options());
  ck::Status s = check.Restore(kept);
  if (!s.ok()) Die("what RestoreReadable kept does not restore", s.message() + "\n" + kept);

  Drive(accepted ? &strict : &lenient, text);
  return 0;
}
