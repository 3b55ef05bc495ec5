// The upload queue on simulated time, through every failure scenario of a chunked video upload (the
// error table: network, 5xx, 4xx, 401, lost sessions) and of background uploads (retries, crash
// recovery, several items).
#include "upload/upload_queue.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "upload/sha256.h"

namespace ck {
namespace {

std::string Sha(int i) {
  std::string s = "part-" + std::to_string(i);
  return Sha256::HashHex(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

QueueOptions NoJitter() {
  QueueOptions o;
  o.jitter = 0;
  return o;
}

// A queue plus a simulated clock, with helpers that fail the test on any unexpected Status.
struct Sim {
  explicit Sim(QueueOptions o = NoJitter()) : q(o) {}
  UploadQueue q;
  int64_t now = 1000000;

  Action Next() {
    Action a;
    Status s = q.NextAction(now, &a);
    EXPECT_TRUE(s.ok()) << s.message();
    return a;
  }
  Action Peek() const {
    Action a;
    EXPECT_TRUE(q.PeekAction(now, &a).ok());
    return a;
  }
  void Ok(const Action& a, const std::string& result = "") {
    Status s = q.Succeeded(a.id, result);
    ASSERT_TRUE(s.ok()) << s.message();
  }
  void Fail(const Action& a, FailureKind k, int64_t retry_after = 0) {
    Status s = q.Failed(a.id, k, now, retry_after, std::string("simulated ") + ToString(k));
    ASSERT_TRUE(s.ok()) << s.message();
  }
  void Video(const std::string& id, int parts, bool finished, uint64_t part_size = 100) {
    ASSERT_TRUE(q.EnqueueVideo(id, "{\"fps\":30}").ok());
    for (int i = 0; i < parts; ++i) ASSERT_TRUE(q.AddPart(id, i, part_size, Sha(i)).ok());
    if (finished) {
      ASSERT_TRUE(q.MarkRecordingFinished(id).ok());
    }
  }
  const QueueItem& Item(const std::string& id) const {
    const QueueItem* it = q.Find(id);
    EXPECT_NE(it, nullptr) << id;
    return *it;
  }
  // Runs actions to completion with no failures; returns "type:item[:part]" for each.
  std::vector<std::string> Drain() {
    std::vector<std::string> log;
    for (int guard = 0; guard < 10000; ++guard) {
      Action a = Next();
      if (a.type == ActionType::kWait) {
        now = a.until;
        continue;
      }
      if (a.type == ActionType::kNone) break;
      log.push_back(Describe(a));
      Ok(a, a.type == ActionType::kInit ? "session-" + a.item_id : "url-" + a.item_id);
    }
    return log;
  }
  static std::string Describe(const Action& a) {
    std::string s = std::string(ToString(a.type)) + ":" + a.item_id;
    if (a.type == ActionType::kUploadPart) s += ":" + std::to_string(a.part_index);
    return s;
  }
};

using Log = std::vector<std::string>;

// ------------------------------------------------------------------------------------- happy paths

TEST(UploadQueue, ScreenshotUploadsOnceAndCompletes) {
  Sim s;
  ASSERT_TRUE(s.q.EnqueueScreenshot("shot", 12345, "{\"w\":640}").ok());
  Action a = s.Next();
  EXPECT_EQ(a.type, ActionType::kUploadScreenshot);
  EXPECT_EQ(a.item_id, "shot");
  EXPECT_EQ(a.bytes, 12345u);
  EXPECT_GT(a.id, 0u);
  EXPECT_EQ(s.Item("shot").state, ItemState::kUploading);
  EXPECT_EQ(s.Next().type, ActionType::kBusy);
  EXPECT_EQ(s.Next().busy_with, ActionType::kUploadScreenshot);
  s.Ok(a, "https://cdn.example/shot.png");
  EXPECT_EQ(s.Item("shot").state, ItemState::kCompleted);
  EXPECT_EQ(s.Item("shot").result, "https://cdn.example/shot.png");
  Action n = s.Next();
  EXPECT_EQ(n.type, ActionType::kNone);
  EXPECT_EQ(n.reason, IdleReason::kIdle);
  QueueSummary sum = s.q.Summary();
  EXPECT_EQ(sum.completed, 1u);
  EXPECT_EQ(sum.bytes_uploaded, 12345u);
  EXPECT_EQ(sum.percentage, 100);
}

TEST(UploadQueue, VideoInitPartsFinalizeInOrder) {
  Sim s;
  s.Video("v", 3, true, 5u << 20);
  Action a = s.Next();
  ASSERT_EQ(a.type, ActionType::kInit);
  EXPECT_EQ(a.metadata, "{\"fps\":30}");
  EXPECT_EQ(s.Item("v").state, ItemState::kInitializing);
  s.Ok(a, "sess-1");
  EXPECT_EQ(s.Item("v").session_id, "sess-1");
  for (int i = 0; i < 3; ++i) {
    a = s.Next();
    ASSERT_EQ(a.type, ActionType::kUploadPart);
    EXPECT_EQ(a.part_index, i);
    EXPECT_EQ(a.session_id, "sess-1");
    EXPECT_EQ(a.sha256, Sha(i));
    EXPECT_EQ(a.bytes, 5u << 20);
    s.Ok(a);
  }
  a = s.Next();
  ASSERT_EQ(a.type, ActionType::kFinalize);
  EXPECT_EQ(a.part_count, 3u);
  EXPECT_EQ(a.bytes, 15u << 20);
  EXPECT_EQ(s.Item("v").state, ItemState::kFinalizing);
  s.Ok(a, "https://cdn.example/v.webm");
  EXPECT_EQ(s.Item("v").state, ItemState::kCompleted);
  EXPECT_EQ(s.Next().type, ActionType::kNone);
}

TEST(UploadQueue, RecordingInProgressUploadsPartsAsTheyComeAndFinalizesOnlyAtTheEnd) {
  Sim s;
  ASSERT_TRUE(s.q.EnqueueVideo("rec", "{}").ok());
  Action a = s.Next();
  ASSERT_EQ(a.type, ActionType::kInit);  // the session opens as the recording starts
  s.Ok(a, "sid");
  Action idle = s.Next();
  EXPECT_EQ(idle.type, ActionType::kNone);
  EXPECT_EQ(idle.reason, IdleReason::kWaitingForData);
  ASSERT_TRUE(s.q.AddPart("rec", 0, 100, Sha(0)).ok());
  a = s.Next();
  ASSERT_EQ(a.type, ActionType::kUploadPart);
  ASSERT_TRUE(s.q.AddPart("rec", 1, 100, Sha(1)).ok());  // the recorder keeps going during the upload
  ASSERT_TRUE(s.q.AddPart("rec", 2, 40, Sha(2)).ok());
  s.Ok(a);
  a = s.Next();
  EXPECT_EQ(a.part_index, 1);
  s.Ok(a);
  a = s.Next();
  EXPECT_EQ(a.part_index, 2);
  s.Ok(a);
  EXPECT_EQ(s.Next().reason, IdleReason::kWaitingForData);  // all confirmed, but no finalize yet
  ASSERT_TRUE(s.q.MarkRecordingFinished("rec").ok());
  a = s.Next();
  ASSERT_EQ(a.type, ActionType::kFinalize);
  EXPECT_EQ(a.part_count, 3u);
  s.Ok(a);
  EXPECT_EQ(s.Item("rec").state, ItemState::kCompleted);
}

TEST(UploadQueue, FinalizeWaitsForEveryPartEvenAfterFinish) {
  Sim s;
  s.Video("v", 2, true);
  s.Ok(s.Next(), "sid");
  Action p0 = s.Next();
  s.Fail(p0, FailureKind::kServer5xx);
  // Part 0 is waiting for its retry: the queue waits rather than finalizing or skipping ahead.
  Action w = s.Next();
  ASSERT_EQ(w.type, ActionType::kWait);
  EXPECT_EQ(w.until, s.now + 1000);
  s.now = w.until;
  EXPECT_EQ(s.Next().part_index, 0);
}

TEST(UploadQueue, FifoWhenNothingFails) {
  Sim s;
  s.Video("v1", 2, true);
  ASSERT_TRUE(s.q.EnqueueScreenshot("s1", 10, "").ok());
  s.Video("v2", 1, true);
  EXPECT_EQ(s.Drain(), (Log{"init:v1", "uploadPart:v1:0", "uploadPart:v1:1", "finalize:v1", "uploadScreenshot:s1",
                            "init:v2", "uploadPart:v2:0", "finalize:v2"}));
  EXPECT_EQ(s.q.Summary().completed, 3u);
}

// ------------------------------------------------------------------------- a network drop

TEST(UploadQueue, NetworkDropMidUploadPausesAndResumesAtTheSamePart) {
  Sim s;
  s.Video("v", 4, true);
  s.Ok(s.Next(), "sid");
  s.Ok(s.Next());  // part 0
  Action p1 = s.Next();
  ASSERT_EQ(p1.part_index, 1);
  // The connection drops: the browser says offline, then the fetch fails.
  s.q.SetOnline(false);
  s.Fail(p1, FailureKind::kNetwork);
  EXPECT_EQ(s.Item("v").failures, 0u);  // not counted while offline
  Action off = s.Next();
  EXPECT_EQ(off.type, ActionType::kNone);
  EXPECT_EQ(off.reason, IdleReason::kOffline);
  EXPECT_FALSE(s.q.Summary().online);
  s.now += 3600 * 1000;  // an hour offline: nothing is counted, nothing expires
  EXPECT_EQ(s.Next().reason, IdleReason::kOffline);
  s.q.SetOnline(true);
  Action again = s.Next();
  ASSERT_EQ(again.type, ActionType::kUploadPart);
  EXPECT_EQ(again.part_index, 1);  // part 0 is not sent again
  s.Ok(again);
  EXPECT_EQ(s.Drain(), (Log{"uploadPart:v:2", "uploadPart:v:3", "finalize:v"}));
}

TEST(UploadQueue, OfflineFailureKindTakesTheQueueOffline) {
  Sim s;
  ASSERT_TRUE(s.q.EnqueueScreenshot("a", 5, "").ok());
  s.Fail(s.Next(), FailureKind::kOffline);
  EXPECT_EQ(s.Item("a").failures, 0u);
  EXPECT_EQ(s.Item("a").state, ItemState::kPending);
  EXPECT_EQ(s.Next().reason, IdleReason::kOffline);
  s.q.SetOnline(true);
  EXPECT_EQ(s.Next().type, ActionType::kUploadScreenshot);
}

TEST(UploadQueue, FlakyNetworkWhileOnlineIsCountedThenRecovers) {
  Sim s;
  s.Video("v", 2, true);
  s.Ok(s.Next(), "sid");
  s.Fail(s.Next(), FailureKind::kNetwork);
  s.Fail((s.now += 1000, s.Next()), FailureKind::kTimeout);
  EXPECT_EQ(s.Item("v").failures, 2u);
  EXPECT_EQ(s.Item("v").last_error, "timeout");
  s.now += 2000;
  Action a = s.Next();
  EXPECT_EQ(a.part_index, 0);
  s.Ok(a);
  EXPECT_EQ(s.Item("v").failures, 0u);  // a success resets the count
  EXPECT_EQ(s.Item("v").last_error, "");
}

TEST(UploadQueue, OfflinePausesWithoutCountingAttemptsAndOnlineRetriesAtOnce) {
  Sim s;
  ASSERT_TRUE(s.q.EnqueueScreenshot("a", 5, "").ok());
  s.Fail(s.Next(), FailureKind::kServer5xx);
  s.now += 1000;
  s.Fail(s.Next(), FailureKind::kServer5xx);
  EXPECT_EQ(s.Item("a").failures, 2u);
  EXPECT_EQ(s.Item("a").retry_at, s.now + 2000);
  s.q.SetOnline(false);
  EXPECT_EQ(s.Next().reason, IdleReason::kOffline);
  s.q.SetOnline(true);
  Action a = s.Next();  // the backoff wait is cleared: connectivity restored, resume now
  ASSERT_EQ(a.type, ActionType::kUploadScreenshot);
  s.q.SetOnline(false);  // lost again while in flight
  s.Fail(a, FailureKind::kNetwork);
  EXPECT_EQ(s.Item("a").failures, 2u);
  s.q.SetOnline(true);
  s.Ok(s.Next());
  EXPECT_EQ(s.Item("a").state, ItemState::kCompleted);
}

TEST(UploadQueue, RedundantOnlineEventKeepsBackoff) {
  Sim s;
  ASSERT_TRUE(s.q.EnqueueScreenshot("a", 5, "").ok());
  s.Fail(s.Next(), FailureKind::kServer5xx);
  s.q.SetOnline(true);  // already online
  EXPECT_EQ(s.Next().type, ActionType::kWait);
}

// ------------------------------------------------------------------------- a browser crash

TEST(UploadQueue, BrowserCrashMidUploadResumesFromTheFirstUnconfirmedPart) {
  Sim s;
  s.Video("v", 5, true);
  ASSERT_TRUE(s.q.EnqueueScreenshot("later", 7, "{\"n\":1}").ok());
  s.Ok(s.Next(), "sid-9");
  s.Ok(s.Next());
  s.Ok(s.Next());
  Action p2 = s.Next();
  ASSERT_EQ(p2.part_index, 2);
  const std::string saved = s.q.Serialize();  // persisted after each event (the page dies here)

  Sim r;
  r.now = s.now + 5000;
  ASSERT_TRUE(r.q.Restore(saved).ok());
  EXPECT_EQ(r.Item("v").state, ItemState::kPending);  // "uploading" -> "pending"
  EXPECT_EQ(r.Item("v").session_id, "sid-9");
  EXPECT_EQ(r.Item("v").ConfirmedParts(), 2u);
  EXPECT_EQ(r.q.in_flight(), nullptr);
  EXPECT_EQ(r.q.Succeeded(p2.id, "").code(), Code::kFailedPrecondition);  // the lost action is gone
  Action a = r.Next();
  ASSERT_EQ(a.type, ActionType::kUploadPart);
  EXPECT_EQ(a.part_index, 2);
  EXPECT_GT(a.id, p2.id);  // action ids never repeat across a restore
  r.Ok(a);
  EXPECT_EQ(r.Drain(), (Log{"uploadPart:v:3", "uploadPart:v:4", "finalize:v", "uploadScreenshot:later"}));
}

TEST(UploadQueue, CrashDuringInitOrFinalizeRepeatsThatStep) {
  Sim s;
  s.Video("v", 1, true);
  Action init = s.Next();
  ASSERT_EQ(init.type, ActionType::kInit);
  Sim r;
  ASSERT_TRUE(r.q.Restore(s.q.Serialize()).ok());
  EXPECT_EQ(r.Next().type, ActionType::kInit);

  s.Ok(init, "sid");
  s.Ok(s.Next());
  Action fin = s.Next();
  ASSERT_EQ(fin.type, ActionType::kFinalize);
  Sim r2;
  ASSERT_TRUE(r2.q.Restore(s.q.Serialize()).ok());
  EXPECT_EQ(r2.Item("v").state, ItemState::kPending);
  EXPECT_EQ(r2.Next().type, ActionType::kFinalize);
}

// ------------------------------------------------------------------------- a server that stays down

TEST(UploadQueue, ServerDownBacksOff1_2_4_8_16ThenFailsPermanently) {
  Sim s;
  ASSERT_TRUE(s.q.EnqueueScreenshot("a", 5, "").ok());
  const int64_t expected[] = {1000, 2000, 4000, 8000, 16000};
  for (int k = 0; k < 5; ++k) {
    Action a = s.Next();
    ASSERT_EQ(a.type, ActionType::kUploadScreenshot) << k;
    s.Fail(a, k % 2 ? FailureKind::kServer5xx : FailureKind::kServer5xx);
    EXPECT_EQ(s.Item("a").failures, uint32_t(k + 1));
    Action w = s.Next();
    ASSERT_EQ(w.type, ActionType::kWait);
    EXPECT_EQ(w.until - s.now, expected[k]);
    EXPECT_EQ(s.q.Summary().next_retry_at, w.until);
    s.now = w.until - 1;
    EXPECT_EQ(s.Next().type, ActionType::kWait);  // not a millisecond early
    s.now = w.until;
  }
  s.Fail(s.Next(), FailureKind::kServer5xx);  // the 5th retry fails too
  EXPECT_EQ(s.Item("a").state, ItemState::kFailed);
  EXPECT_EQ(s.Item("a").last_error, "server5xx");
  EXPECT_EQ(s.Item("a").last_error_message, "simulated server5xx");
  EXPECT_EQ(s.Next().reason, IdleReason::kIdle);
  EXPECT_EQ(s.q.Summary().failed, 1u);
  // The user presses "Retry failed uploads".
  uint32_t n = 0;
  ASSERT_TRUE(s.q.RetryFailed("", &n).ok());
  EXPECT_EQ(n, 1u);
  EXPECT_EQ(s.Item("a").failures, 0u);
  Action a = s.Next();
  ASSERT_EQ(a.type, ActionType::kUploadScreenshot);
  s.Fail(a, FailureKind::kServer5xx);
  EXPECT_EQ(s.Next().until - s.now, 1000);  // a fresh budget, starting at 1 s again
}

TEST(UploadQueue, JitterStaysWithinBoundsAndIsDeterministic) {
  QueueOptions o;  // jitter 0.2
  o.seed = 1234;
  std::vector<int64_t> waits[2];
  for (int run = 0; run < 2; ++run) {
    Sim s(o);
    ASSERT_TRUE(s.q.EnqueueScreenshot("a", 5, "").ok());
    for (int k = 0; k < 5; ++k) {
      s.Fail(s.Next(), FailureKind::kServer5xx);
      Action w = s.Next();
      const int64_t d = w.until - s.now;
      const int64_t base = 1000 << k;
      EXPECT_GE(d, base * 8 / 10) << k;
      EXPECT_LT(d, base * 12 / 10) << k;
      waits[run].push_back(d);
      s.now = w.until;
    }
  }
  EXPECT_EQ(waits[0], waits[1]);
  std::set<int64_t> distinct;
  for (int k = 0; k < 5; ++k) distinct.insert(waits[0][k] * 16 / (1000 << k));  // not all unjittered
  EXPECT_GT(distinct.size(), 1u);
  // Another seed gives other waits.
  o.seed = 99;
  Sim s(o);
  ASSERT_TRUE(s.q.EnqueueScreenshot("a", 5, "").ok());
  s.Fail(s.Next(), FailureKind::kServer5xx);
  EXPECT_NE(s.Next().until - s.now, waits[0][0]);
}

TEST(UploadQueue, JitterSequenceSurvivesSerialisation) {
  QueueOptions o;
  o.seed = 7;
  Sim a(o), b(o);
  for (Sim* s : {&a, &b}) {
    ASSERT_TRUE(s->q.EnqueueScreenshot("x", 5, "").ok());
    s->Fail(s->Next(), FailureKind::kServer5xx);
    s->now = s->Next().until;
  }
  Sim c(o);
  c.now = b.now;
  ASSERT_TRUE(c.q.Restore(b.q.Serialize()).ok());
  a.Fail(a.Next(), FailureKind::kServer5xx);
  c.Fail(c.Next(), FailureKind::kServer5xx);
  EXPECT_EQ(a.Next().until, c.Next().until);
}

TEST(UploadQueue, ConfigurableBackoff) {
  QueueOptions o = NoJitter();
  o.backoff_base_ms = 500;
  o.backoff_factor = 3;
  o.backoff_max_ms = 10000;
  o.max_retries = 7;
  UploadQueue q(o);
  EXPECT_EQ(q.BaseBackoffMs(1), 500);
  EXPECT_EQ(q.BaseBackoffMs(2), 1500);
  EXPECT_EQ(q.BaseBackoffMs(3), 4500);
  EXPECT_EQ(q.BaseBackoffMs(4), 10000);
  EXPECT_EQ(q.BaseBackoffMs(90), 10000);
  Sim s(o);
  ASSERT_TRUE(s.q.EnqueueScreenshot("a", 5, "").ok());
  for (int k = 0; k < 7; ++k) {
    s.Fail(s.Next(), FailureKind::kMalformed);
    s.now = s.Next().until;
  }
  s.Fail(s.Next(), FailureKind::kChecksumMismatch);
  EXPECT_EQ(s.Item("a").state, ItemState::kFailed);
}

// Bad options say what they got the way a JS caller wrote it ("0.5", not printf's "0.500000").
TEST(UploadQueue, BadOptionsSayTheNumberAsWritten) {
  QueueOptions o;
  o.jitter = 1.5;
  Status s = UploadQueue::Validate(o);
  EXPECT_EQ(s.code(), Code::kOutOfRange);
  EXPECT_EQ(s.message(), "jitter must be between 0 and 1, got 1.5");
  o = QueueOptions();
  o.backoff_factor = 0.25;
  EXPECT_EQ(UploadQueue::Validate(o).message(), "backoffFactor must be between 1 and 16, got 0.25");
  o = QueueOptions();
  o.backoff_base_ms = -3;
  EXPECT_EQ(UploadQueue::Validate(o).message(), "backoffBaseMs must be between 0 and 86400000, got -3");
  o = QueueOptions();
  o.backoff_max_ms = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(UploadQueue::Validate(o).message(), "backoffMaxMs must be between backoffBaseMs and 86400000, got NaN");
}

TEST(NumberText, PrintsNumbersAsJsWouldForOrdinaryValues) {
  EXPECT_EQ(NumberText(0), "0");
  EXPECT_EQ(NumberText(-0.0), "0");
  EXPECT_EQ(NumberText(17), "17");
  EXPECT_EQ(NumberText(-2), "-2");
  EXPECT_EQ(NumberText(0.5), "0.5");
  EXPECT_EQ(NumberText(1.000001), "1.000001");
  EXPECT_EQ(NumberText(2.9999999), "3");           // rounded to 6 decimals
  EXPECT_EQ(NumberText(1e-9), "0");
  EXPECT_EQ(NumberText(9007199254740991.0), "9007199254740991");
  EXPECT_EQ(NumberText(1.5e300), "1.5e+300");
  EXPECT_EQ(NumberText(-std::numeric_limits<double>::infinity()), "-Infinity");
  EXPECT_EQ(NumberText(std::numeric_limits<double>::infinity()), "Infinity");
  EXPECT_EQ(NumberText(std::numeric_limits<double>::quiet_NaN()), "NaN");
}

TEST(UploadQueue, RateLimitedHonoursRetryAfter) {
  Sim s;
  ASSERT_TRUE(s.q.EnqueueScreenshot("a", 5, "").ok());
  s.Fail(s.Next(), FailureKind::kRateLimited, 30000);
  EXPECT_EQ(s.Next().until, s.now + 30000);
  s.now += 30000;
  s.Fail(s.Next(), FailureKind::kServer5xx, 100);  // a shorter Retry-After than the backoff: backoff wins
  EXPECT_EQ(s.Next().until, s.now + 2000);
}

TEST(UploadQueue, ClientErrorFailsAtOnceAndCanBeRetried) {
  Sim s;
  s.Video("v", 1, true);
  s.Ok(s.Next(), "sid");
  s.Fail(s.Next(), FailureKind::kClient4xx);
  EXPECT_EQ(s.Item("v").state, ItemState::kFailed);
  EXPECT_EQ(s.Item("v").last_error, "client4xx");
  uint32_t n = 0;
  EXPECT_EQ(s.q.RetryFailed("nope", &n).code(), Code::kFailedPrecondition);
  ASSERT_TRUE(s.q.RetryFailed("v", &n).ok());
  EXPECT_EQ(n, 1u);
  EXPECT_EQ(s.q.RetryFailed("v", &n).code(), Code::kFailedPrecondition);  // not failed any more
  EXPECT_EQ(s.Drain(), (Log{"uploadPart:v:0", "finalize:v"}));
}

TEST(UploadQueue, AbortedIsNotCounted) {
  Sim s;
  ASSERT_TRUE(s.q.EnqueueScreenshot("a", 5, "").ok());
  s.Fail(s.Next(), FailureKind::kAborted);
  EXPECT_EQ(s.Item("a").failures, 0u);
  EXPECT_EQ(s.Next().type, ActionType::kUploadScreenshot);
}

// ------------------------------------------------------------------------- one failing item among several

TEST(UploadQueue, AFailingItemDoesNotBlockTheOnesBehindIt) {
  Sim s;
  s.Video("v1", 1, true);
  s.Video("v2", 1, true);
  s.Video("v3", 1, true);
  Action a = s.Next();
  ASSERT_EQ(a.item_id, "v1");
  s.Fail(a, FailureKind::kServer5xx);  // v1 waits 1 s
  Log log;
  for (int i = 0; i < 3; ++i) {  // v2 makes progress meanwhile
    Action b = s.Next();
    log.push_back(Sim::Describe(b));
    s.Ok(b, "sid2");
    s.now += 200;
  }
  // 600 ms later v1 is still waiting; v2 is done; v3 starts.
  EXPECT_EQ(log, (Log{"init:v2", "uploadPart:v2:0", "finalize:v2"}));
  Action c = s.Next();
  EXPECT_EQ(Sim::Describe(c), "init:v3");
  s.Ok(c, "sid3");
  s.now += 400;  // v1's wait is over: FIFO puts it ahead of v3 again
  EXPECT_EQ(s.Drain(), (Log{"init:v1", "uploadPart:v1:0", "finalize:v1", "uploadPart:v3:0", "finalize:v3"}));
  QueueSummary sum = s.q.Summary();
  EXPECT_EQ(sum.completed, 3u);
  EXPECT_EQ(sum.pending, 0u);
}

TEST(UploadQueue, PermanentlyFailedItemLetsTheRestFinish) {
  Sim s;
  ASSERT_TRUE(s.q.EnqueueScreenshot("bad", 5, "").ok());
  ASSERT_TRUE(s.q.EnqueueScreenshot("good", 5, "").ok());
  s.Fail(s.Next(), FailureKind::kClient4xx);
  s.Ok(s.Next());
  QueueSummary sum = s.q.Summary();
  EXPECT_EQ(sum.failed, 1u);
  EXPECT_EQ(sum.completed, 1u);
  EXPECT_EQ(sum.percentage, 50);
}

TEST(UploadQueue, ARecordingWaitingForDataDoesNotBlockAScreenshot) {
  Sim s;
  ASSERT_TRUE(s.q.EnqueueVideo("rec", "").ok());
  s.Ok(s.Next(), "sid");
  ASSERT_TRUE(s.q.EnqueueScreenshot("shot", 9, "").ok());
  EXPECT_EQ(s.Drain(), (Log{"uploadScreenshot:shot"}));
  EXPECT_EQ(s.Next().reason, IdleReason::kWaitingForData);
}

// ------------------------------------------------------------------------- the error table

TEST(UploadQueue, UnauthorizedRefreshesTheTokenThenRetriesWithoutCounting) {
  Sim s;
  s.Video("v", 2, true);
  s.Ok(s.Next(), "sid");
  Action p0 = s.Next();
  s.Fail(p0, FailureKind::kUnauthorized);
  EXPECT_EQ(s.Item("v").failures, 0u);
  EXPECT_TRUE(s.q.Summary().token_refresh_needed);
  Action r = s.Next();
  ASSERT_EQ(r.type, ActionType::kRefreshToken);
  EXPECT_EQ(r.item_id, "");
  EXPECT_EQ(s.Next().busy_with, ActionType::kRefreshToken);
  s.Ok(r);
  Action again = s.Next();
  ASSERT_EQ(again.type, ActionType::kUploadPart);
  EXPECT_EQ(again.part_index, 0);
  s.Ok(again);
  EXPECT_EQ(s.Drain(), (Log{"uploadPart:v:1", "finalize:v"}));
}

TEST(UploadQueue, RepeatedUnauthorizedAfterRefreshCountsAndIsBounded) {
  Sim s;
  ASSERT_TRUE(s.q.EnqueueScreenshot("a", 5, "").ok());
  int refreshes = 0, uploads = 0;
  for (int guard = 0; guard < 100 && s.Item("a").state != ItemState::kFailed; ++guard) {
    Action a = s.Next();
    if (a.type == ActionType::kWait) {
      s.now = a.until;
    } else if (a.type == ActionType::kRefreshToken) {
      ++refreshes;
      s.Ok(a);  // the refresh "works" but the server keeps saying 401
    } else {
      ASSERT_EQ(a.type, ActionType::kUploadScreenshot);
      ++uploads;
      s.Fail(a, FailureKind::kUnauthorized);
    }
  }
  EXPECT_EQ(s.Item("a").state, ItemState::kFailed);
  EXPECT_EQ(uploads, 7);    // 1 free 401 + 1 first counted + 5 retries
  EXPECT_EQ(refreshes, 6);  // a refresh before each retry
}

TEST(UploadQueue, FailedRefreshMeansAuthRequiredUntilTokenUpdated) {
  Sim s;
  ASSERT_TRUE(s.q.EnqueueScreenshot("a", 5, "").ok());
  s.Fail(s.Next(), FailureKind::kUnauthorized);
  Action r = s.Next();
  ASSERT_EQ(r.type, ActionType::kRefreshToken);
  s.Fail(r, FailureKind::kUnauthorized);  // the refresh token is dead too: the user must log in
  Action n = s.Next();
  EXPECT_EQ(n.type, ActionType::kNone);
  EXPECT_EQ(n.reason, IdleReason::kAuthRequired);
  EXPECT_TRUE(s.q.Summary().auth_required);
  s.q.TokenUpdated();
  EXPECT_EQ(s.Next().type, ActionType::kUploadScreenshot);
}

TEST(UploadQueue, TransientRefreshFailuresBackOffAndAreBounded) {
  Sim s;
  ASSERT_TRUE(s.q.EnqueueScreenshot("a", 5, "").ok());
  s.Fail(s.Next(), FailureKind::kUnauthorized);
  for (int k = 0; k < 5; ++k) {
    Action r = s.Next();
    ASSERT_EQ(r.type, ActionType::kRefreshToken) << k;
    s.Fail(r, FailureKind::kServer5xx);
    Action w = s.Next();
    ASSERT_EQ(w.type, ActionType::kWait);
    EXPECT_EQ(w.until - s.now, 1000 << k);
    s.now = w.until;
  }
  s.Fail(s.Next(), FailureKind::kTimeout);
  EXPECT_EQ(s.Next().reason, IdleReason::kAuthRequired);
  EXPECT_EQ(s.Item("a").failures, 0u);  // the item itself was never counted
}

TEST(UploadQueue, RefreshInterruptedByOfflineIsAskedAgain) {
  Sim s;
  ASSERT_TRUE(s.q.EnqueueScreenshot("a", 5, "").ok());
  s.Fail(s.Next(), FailureKind::kUnauthorized);
  s.Fail(s.Next(), FailureKind::kOffline);
  EXPECT_EQ(s.Next().reason, IdleReason::kOffline);
  s.q.SetOnline(true);
  Action r = s.Next();
  EXPECT_EQ(r.type, ActionType::kRefreshToken);
  s.Fail(r, FailureKind::kAborted);
  EXPECT_EQ(s.Next().type, ActionType::kRefreshToken);
}

TEST(UploadQueue, ExpiredSessionReinitialisesAndResumesWhatTheServerHas) {
  Sim s;
  s.Video("v", 4, true);
  s.Ok(s.Next(), "old");
  s.Ok(s.Next());
  s.Ok(s.Next());
  Action p2 = s.Next();
  ASSERT_EQ(p2.part_index, 2);
  s.Fail(p2, FailureKind::kSessionExpired);
  EXPECT_EQ(s.Item("v").failures, 0u);
  EXPECT_EQ(s.Item("v").session_id, "");
  EXPECT_EQ(s.Item("v").ConfirmedParts(), 0u);  // a new session has nothing until the server says so
  EXPECT_FALSE(s.q.Summary().has_session);
  Action init = s.Next();
  ASSERT_EQ(init.type, ActionType::kInit);
  s.Ok(init, "new");
  // The server kept parts 0 and 1 (its init response lists them).
  ASSERT_TRUE(s.q.ServerHasParts("v", {0, 1}).ok());
  EXPECT_EQ(s.Drain(), (Log{"uploadPart:v:2", "uploadPart:v:3", "finalize:v"}));
}

TEST(UploadQueue, ExpiredSessionWithoutServerListResendsEverything) {
  Sim s;
  s.Video("v", 2, true);
  s.Ok(s.Next(), "old");
  s.Ok(s.Next());
  s.Ok(s.Next());
  Action fin = s.Next();
  ASSERT_EQ(fin.type, ActionType::kFinalize);
  s.Fail(fin, FailureKind::kSessionExpired);
  EXPECT_EQ(s.Drain(), (Log{"init:v", "uploadPart:v:0", "uploadPart:v:1", "finalize:v"}));
  EXPECT_EQ(s.Item("v").session_id, "session-v");
}

TEST(UploadQueue, RepeatedSessionExpiryIsCountedAndBounded) {
  // A server that accepts every init and expires every session at the first part.
  Sim s;
  s.Video("v", 2, true);
  int inits = 0, parts = 0;
  for (int guard = 0; guard < 100 && s.Item("v").state != ItemState::kFailed; ++guard) {
    Action a = s.Next();
    if (a.type == ActionType::kWait) {
      s.now = a.until;
    } else if (a.type == ActionType::kInit) {
      ++inits;
      s.Ok(a, "sid" + std::to_string(inits));
    } else {
      ASSERT_EQ(a.type, ActionType::kUploadPart);
      EXPECT_EQ(a.part_index, 0);
      ++parts;
      s.Fail(a, FailureKind::kSessionExpired);
      if (parts == 1) EXPECT_EQ(s.Item("v").failures, 0u);  // the first one is free
    }
  }
  EXPECT_EQ(s.Item("v").state, ItemState::kFailed);
  EXPECT_EQ(parts, 7);  // 1 free + 1 counted + 5 retries
  EXPECT_EQ(inits, 7);
}

TEST(UploadQueue, ProgressRestoresTheFreeSessionExpiry) {
  Sim s;
  s.Video("v", 3, true);
  s.Ok(s.Next(), "s1");
  s.Fail(s.Next(), FailureKind::kSessionExpired);  // free
  s.Ok(s.Next(), "s2");
  s.Ok(s.Next());                                  // part 0 confirmed: progress
  s.Fail(s.Next(), FailureKind::kSessionExpired);  // free again
  EXPECT_EQ(s.Item("v").failures, 0u);
  Action init = s.Next();
  ASSERT_EQ(init.type, ActionType::kInit);
  // A session expiry reported on init itself is just a counted transient failure.
  s.Fail(init, FailureKind::kSessionExpired);
  EXPECT_EQ(s.Item("v").failures, 1u);
  s.now = s.Next().until;
  s.Ok(s.Next(), "s3");
  EXPECT_EQ(s.Item("v").failures, 1u);  // init alone is not progress
  s.Ok(s.Next());
  EXPECT_EQ(s.Item("v").failures, 0u);
}

TEST(UploadQueue, ServerHasPartsIsAuthoritative) {
  Sim s;
  s.Video("v", 3, false);
  EXPECT_EQ(s.q.ServerHasParts("v", {0}).code(), Code::kFailedPrecondition);  // no session yet
  s.Ok(s.Next(), "sid");
  s.Ok(s.Next());
  ASSERT_TRUE(s.q.ServerHasParts("v", {2}).ok());
  EXPECT_FALSE(s.Item("v").parts[0].confirmed);
  EXPECT_TRUE(s.Item("v").parts[2].confirmed);
  EXPECT_EQ(s.Next().part_index, 0);
  Status bad = s.q.ServerHasParts("v", {3});
  EXPECT_EQ(bad.code(), Code::kOutOfRange);
  EXPECT_NE(bad.message().find("reports part 3 but 'v' has 3 parts"), std::string::npos);
}

// ------------------------------------------------------------------------- event validation

TEST(UploadQueue, RejectsBadEventsWithClearMessages) {
  Sim s;
  s.Video("v", 2, false);
  auto msg = [](const Status& st) { return st.message(); };
  Status st = s.q.AddPart("v", 1, 10, Sha(1));
  EXPECT_EQ(st.code(), Code::kFailedPrecondition);
  EXPECT_NE(msg(st).find("duplicate part index 1"), std::string::npos) << msg(st);
  st = s.q.AddPart("v", 5, 10, Sha(5));
  EXPECT_NE(msg(st).find("out of order: expected 2"), std::string::npos) << msg(st);
  EXPECT_EQ(s.q.AddPart("v", 2, 0, Sha(2)).code(), Code::kOutOfRange);
  EXPECT_EQ(s.q.AddPart("v", 2, kMaxQueuePartBytes + 1, Sha(2)).code(), Code::kOutOfRange);
  EXPECT_EQ(s.q.AddPart("v", 2, 10, "ABC").code(), Code::kInvalidArgument);
  EXPECT_EQ(s.q.AddPart("nope", 0, 10, Sha(0)).code(), Code::kFailedPrecondition);
  ASSERT_TRUE(s.q.MarkRecordingFinished("v").ok());
  st = s.q.AddPart("v", 2, 10, Sha(2));
  EXPECT_EQ(st.code(), Code::kFailedPrecondition);
  EXPECT_NE(msg(st).find("after markRecordingFinished"), std::string::npos) << msg(st);
  EXPECT_NE(msg(s.q.MarkRecordingFinished("v")).find("already finished"), std::string::npos);
  EXPECT_EQ(s.q.EnqueueVideo("v", "").code(), Code::kFailedPrecondition);
  EXPECT_EQ(s.q.EnqueueVideo("", "").code(), Code::kInvalidArgument);
  EXPECT_EQ(s.q.EnqueueVideo(std::string(kMaxItemIdBytes + 1, 'x'), "").code(), Code::kOutOfRange);
  EXPECT_EQ(s.q.EnqueueVideo("m", std::string(kMaxMetadataBytes + 1, ' ')).code(), Code::kOutOfRange);
  EXPECT_EQ(s.q.EnqueueScreenshot("s", 0, "").code(), Code::kOutOfRange);
  ASSERT_TRUE(s.q.EnqueueScreenshot("s", 1, "").ok());
  EXPECT_NE(msg(s.q.AddPart("s", 0, 1, Sha(0))).find("only videos have parts"), std::string::npos);
  EXPECT_EQ(s.q.MarkRecordingFinished("s").code(), Code::kFailedPrecondition);
  Action a;
  EXPECT_EQ(s.q.NextAction(-1, &a).code(), Code::kOutOfRange);
  // Reporting on actions.
  EXPECT_NE(msg(s.q.Succeeded(1, "")).find("not in flight (nothing is)"), std::string::npos);
  Action init = s.Next();
  EXPECT_NE(msg(s.q.Succeeded(init.id + 1, "")).find("(action " + std::to_string(init.id) + " is)"),
            std::string::npos);
  EXPECT_NE(msg(s.q.Succeeded(init.id, "")).find("without a session id"), std::string::npos);
  EXPECT_EQ(s.q.Succeeded(init.id, std::string(kMaxSessionIdBytes + 1, 's')).code(), Code::kOutOfRange);
  EXPECT_EQ(s.q.Failed(init.id, FailureKind::kNetwork, -5, 0, "").code(), Code::kOutOfRange);
  EXPECT_EQ(s.q.Failed(init.id, FailureKind::kNetwork, 5, -1, "").code(), Code::kOutOfRange);
  EXPECT_EQ(s.Item("v").state, ItemState::kInitializing);  // rejected reports change nothing
  EXPECT_NE(msg(s.q.Remove("v")).find("in flight"), std::string::npos);
  s.Ok(init, "sid");
  EXPECT_EQ(s.q.Succeeded(init.id, "sid").code(), Code::kFailedPrecondition);  // reported twice
  ASSERT_TRUE(s.q.Remove("v").ok());
  EXPECT_EQ(s.q.Remove("v").code(), Code::kFailedPrecondition);
  EXPECT_EQ(s.q.Find("v"), nullptr);
}

TEST(UploadQueue, OptionsAreValidated) {
  EXPECT_TRUE(UploadQueue::Validate({}).ok());
  QueueOptions o;
  o.jitter = 1.5;
  EXPECT_EQ(UploadQueue::Validate(o).code(), Code::kOutOfRange);
  o = {};
  o.backoff_factor = 0.5;
  EXPECT_EQ(UploadQueue::Validate(o).code(), Code::kOutOfRange);
  o = {};
  o.backoff_max_ms = 10;
  EXPECT_NE(UploadQueue::Validate(o).message().find("backoffMaxMs"), std::string::npos);
  o = {};
  o.backoff_base_ms = -1;
  EXPECT_EQ(UploadQueue::Validate(o).code(), Code::kOutOfRange);
  o = {};
  o.max_retries = 101;
  EXPECT_EQ(UploadQueue::Validate(o).code(), Code::kOutOfRange);
}

TEST(UploadQueue, LimitsOnItemsAndParts) {
  Sim s;
  ASSERT_TRUE(s.q.EnqueueVideo("v", "").ok());
  for (size_t i = 0; i < kMaxPartsPerItem; ++i) ASSERT_TRUE(s.q.AddPart("v", uint32_t(i), 1, Sha(0)).ok());
  EXPECT_EQ(s.q.AddPart("v", uint32_t(kMaxPartsPerItem), 1, Sha(0)).code(), Code::kResourceExhausted);
  for (size_t i = 1; i < kMaxQueueItems; ++i) ASSERT_TRUE(s.q.EnqueueScreenshot(std::to_string(i), 1, "").ok());
  EXPECT_EQ(s.q.EnqueueScreenshot("one-too-many", 1, "").code(), Code::kResourceExhausted);
  // The largest legal state round-trips.
  Sim r;
  ASSERT_TRUE(r.q.Restore(s.q.Serialize()).ok());
  EXPECT_EQ(r.q.Serialize(), s.q.Serialize());
}

// ------------------------------------------------------------------------- progress

TEST(UploadQueue, SummaryCountsBytesAndCurrentItem) {
  Sim s;
  QueueSummary e = s.q.Summary();
  EXPECT_EQ(e.total, 0u);
  EXPECT_EQ(e.percentage, 0);
  EXPECT_EQ(e.current_item_id, "");
  s.Video("v", 4, true, 250);
  ASSERT_TRUE(s.q.EnqueueScreenshot("s", 1000, "").ok());
  s.Ok(s.Next(), "sid");
  s.Ok(s.Next());
  Action p1 = s.Next();
  QueueSummary sum = s.q.Summary();
  EXPECT_EQ(sum.total, 2u);
  EXPECT_EQ(sum.uploading, 1u);
  EXPECT_EQ(sum.pending, 1u);
  EXPECT_EQ(sum.bytes_total, 2000u);
  EXPECT_EQ(sum.bytes_uploaded, 250u);
  EXPECT_EQ(sum.percentage, 13);  // 12.5 rounds up
  EXPECT_EQ(sum.parts_total, 4u);
  EXPECT_EQ(sum.parts_confirmed, 1u);
  EXPECT_EQ(sum.current_item_id, "v");
  EXPECT_TRUE(sum.has_session);
  EXPECT_TRUE(sum.busy);
  EXPECT_TRUE(sum.online);
  s.Ok(p1);
  s.Drain();
  sum = s.q.Summary();
  EXPECT_EQ(sum.completed, 2u);
  EXPECT_EQ(sum.percentage, 100);
  EXPECT_FALSE(sum.busy);
}

// ------------------------------------------------------------------------- a long random run

// A small model server: sessions hold the parts they received (with checksums) and may expire.
struct ModelServer {
  std::map<std::string, std::map<int64_t, std::string>> sessions;  // session -> part -> sha256
  std::set<std::string> expired;
  std::set<std::string> finished_items;
  int next_session = 1;
};

TEST(UploadQueue, RandomFailuresCrashesAndOfflineStillDeliverEverything) {
  int crashes = 0, expiries = 0, failures = 0, lost_in_flight = 0, completed = 0;
  for (uint32_t seed = 1; seed <= 20; ++seed) {
    QueueOptions o;
    o.seed = seed;
    o.max_retries = 3;
    auto q = std::make_unique<UploadQueue>(o);
    ModelServer server;
    uint64_t rnd = seed * 0x9E3779B97F4A7C15ull + 12345;
    auto roll = [&rnd](int n) {
      rnd ^= rnd << 13; rnd ^= rnd >> 7; rnd ^= rnd << 17;
      return int(rnd % uint64_t(n));
    };
    int64_t now = 0;
    int items = 0, parts_added[12] = {0};
    bool finished[12] = {false};
    bool chaos = true;
    for (int step = 0; step < 20000; ++step) {
      if (step == 4000) chaos = false;
      if (!chaos) q->SetOnline(true);
      // The app: enqueue up to 6 items and keep recording.
      if (items < 12 && roll(40) == 0) {
        const std::string id = "i" + std::to_string(items);
        if (items % 3 == 2) ASSERT_TRUE(q->EnqueueScreenshot(id, 1000, "").ok());
        else ASSERT_TRUE(q->EnqueueVideo(id, "").ok());
        ++items;
      }
      for (int i = 0; i < items; ++i) {
        if (i % 3 == 2 || finished[i]) continue;
        const std::string id = "i" + std::to_string(i);
        if (roll(4) == 0 && parts_added[i] < 20) {
          ASSERT_TRUE(q->AddPart(id, parts_added[i], 100, Sha(i * 100 + parts_added[i])).ok());
          ++parts_added[i];
        } else if (parts_added[i] >= 3 && roll(60) == 0) {
          ASSERT_TRUE(q->MarkRecordingFinished(id).ok());
          finished[i] = true;
        }
      }
      if (chaos && roll(50) == 0) q->SetOnline(roll(2) == 0);
      if ((chaos && roll(150) == 0) || step == 4000) {  // the tab crashes and comes back
        std::string saved = q->Serialize();
        ++crashes;
        q = std::make_unique<UploadQueue>(o);
        ASSERT_TRUE(q->Restore(saved).ok());
        const bool had_in_flight = saved.find("\"uploading\"") != std::string::npos ||
                                   saved.find("\"initializing\"") != std::string::npos ||
                                   saved.find("\"finalizing\"") != std::string::npos;
        if (!had_in_flight) {
          ASSERT_EQ(q->Serialize(), saved);
        }
        if (step == 4000) {
          uint32_t n;
          ASSERT_TRUE(q->RetryFailed("", &n).ok());
        }
      }
      Action a;
      ASSERT_TRUE(q->NextAction(now, &a).ok());
      now += 50;
      if (a.type == ActionType::kWait) {
        now = std::max(now, a.until);
        continue;
      }
      if (a.type == ActionType::kNone && a.reason == IdleReason::kAuthRequired) q->TokenUpdated();  // user logs in
      if (a.type == ActionType::kNone || a.type == ActionType::kBusy) continue;
      // The network and the server.
      if (chaos) {
        int r = roll(100);
        FailureKind k = FailureKind::kNetwork;
        bool fail = true;
        if (r < 8) k = FailureKind::kServer5xx;
        else if (r < 12) k = FailureKind::kNetwork;
        else if (r < 14) k = FailureKind::kTimeout;
        else if (r < 16) k = FailureKind::kUnauthorized;
        else if (r < 17) k = FailureKind::kOffline;
        else if (r < 18) k = FailureKind::kAborted;
        else if (r < 19 && !a.session_id.empty()) { server.expired.insert(a.session_id); fail = false; ++expiries; }
        else fail = false;
        if (fail) {
          ASSERT_TRUE(q->Failed(a.id, k, now, 0, "chaos").ok());
          ++failures;
          continue;
        }
        if (roll(30) == 0) {  // the tab dies with the request in flight
          ++lost_in_flight;
          continue;
        }
      }
      if (a.type == ActionType::kRefreshToken) {
        ASSERT_TRUE(q->Succeeded(a.id, "").ok());
        continue;
      }
      if (a.type == ActionType::kUploadScreenshot) {
        ASSERT_EQ(server.finished_items.count(a.item_id), 0u) << "completed twice";
        server.finished_items.insert(a.item_id);
        ASSERT_TRUE(q->Succeeded(a.id, "url").ok());
        continue;
      }
      if (a.type == ActionType::kInit) {
        std::string sid = "s" + std::to_string(server.next_session++);
        server.sessions[sid];
        ASSERT_TRUE(q->Succeeded(a.id, sid).ok());
        continue;
      }
      if (server.expired.count(a.session_id)) {
        ASSERT_TRUE(q->Failed(a.id, FailureKind::kSessionExpired, now, 0, "gone").ok());
        continue;
      }
      auto& sess = server.sessions[a.session_id];
      if (a.type == ActionType::kUploadPart) {
        sess[a.part_index] = a.sha256;
        ASSERT_TRUE(q->Succeeded(a.id, "").ok());
        continue;
      }
      ASSERT_EQ(a.type, ActionType::kFinalize);
      // The server checks it has every part 0..n-1 with the right checksum.
      const int item = std::stoi(a.item_id.substr(1));
      ASSERT_EQ(int(a.part_count), parts_added[item]);
      ASSERT_EQ(int(sess.size()), parts_added[item]) << a.item_id << " seed " << seed;
      for (int p = 0; p < parts_added[item]; ++p) ASSERT_EQ(sess[p], Sha(item * 100 + p));
      ASSERT_EQ(server.finished_items.count(a.item_id), 0u) << "completed twice";
      server.finished_items.insert(a.item_id);
      ASSERT_TRUE(q->Succeeded(a.id, "url").ok());
      if (!chaos) {
        uint32_t n;
        ASSERT_TRUE(q->RetryFailed("", &n).ok());
      }
    }
    uint32_t n;
    ASSERT_TRUE(q->RetryFailed("", &n).ok());
    // Calm: finish whatever is left.
    for (int step = 0; step < 2000; ++step) {
      Action a;
      ASSERT_TRUE(q->NextAction(now, &a).ok());
      if (a.type == ActionType::kNone) break;
      ASSERT_NE(a.type, ActionType::kBusy);
      if (a.type == ActionType::kWait) { now = a.until; continue; }
      std::string result = a.type == ActionType::kInit ? "late" + std::to_string(step) : "";
      if (a.type == ActionType::kFinalize || a.type == ActionType::kUploadScreenshot) server.finished_items.insert(a.item_id);
      ASSERT_TRUE(q->Succeeded(a.id, result).ok());
    }
    QueueSummary sum = q->Summary();
    EXPECT_EQ(sum.total, uint32_t(items)) << seed;
    EXPECT_EQ(sum.completed, uint32_t(items)) << seed;
    EXPECT_EQ(server.finished_items.size(), size_t(items)) << seed;
    completed += int(sum.completed);
  }
  // The run really went through the rough parts.
  EXPECT_GT(crashes, 100);
  EXPECT_GT(expiries, 10);
  EXPECT_GT(failures, 200);
  EXPECT_GT(lost_in_flight, 20);
  EXPECT_EQ(completed, 240);
  std::printf("random run: %d crashes, %d session expiries, %d failures, %d lost requests, %d items delivered\n",
              crashes, expiries, failures, lost_in_flight, completed);
}

}  // namespace
}  // namespace ck
