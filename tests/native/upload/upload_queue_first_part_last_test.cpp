// UploadQueue items with first_part_last (seekable streaming): parts 1..n upload as they come, part 0
// (the patched header) arrives and uploads last, finalize waits for it; the state survives a restore.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "upload/sha256.h"
#include "upload/upload_queue.h"

namespace ck {
namespace {

std::string Sha(int i) {
  std::string s = "fpl-" + std::to_string(i);
  return Sha256::HashHex(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

QueueOptions NoJitter() {
  QueueOptions o;
  o.jitter = 0;
  return o;
}

Action Next(UploadQueue& q, int64_t now = 1000) {
  Action a;
  Status s = q.NextAction(now, &a);
  EXPECT_TRUE(s.ok()) << s.message();
  return a;
}

// Drives the queue until it stops producing actions; returns the uploaded part indices in order.
std::vector<int64_t> Drain(UploadQueue& q, bool* finalized, uint32_t* part_count = nullptr) {
  std::vector<int64_t> order;
  for (int guard = 0; guard < 100; ++guard) {
    Action a = Next(q);
    if (a.type == ActionType::kInit) {
      EXPECT_TRUE(q.Succeeded(a.id, "session-1").ok());
    } else if (a.type == ActionType::kUploadPart) {
      order.push_back(a.part_index);
      EXPECT_TRUE(q.Succeeded(a.id, "").ok());
    } else if (a.type == ActionType::kFinalize) {
      *finalized = true;
      if (part_count) *part_count = a.part_count;
      EXPECT_TRUE(q.Succeeded(a.id, "url").ok());
    } else {
      break;
    }
  }
  return order;
}

TEST(UploadQueueFirstPartLast, PartsThenPartZeroThenFinalize) {
  UploadQueue q(NoJitter());
  ASSERT_TRUE(q.EnqueueVideo("v", "{}", true).ok());
  ASSERT_TRUE(q.AddPart("v", 1, 100, Sha(1)).ok());
  ASSERT_TRUE(q.AddPart("v", 2, 100, Sha(2)).ok());
  bool finalized = false;
  EXPECT_EQ(Drain(q, &finalized), (std::vector<int64_t>{1, 2}));
  EXPECT_FALSE(finalized);
  Action a;
  ASSERT_TRUE(q.PeekAction(1000, &a).ok());
  EXPECT_EQ(a.type, ActionType::kNone);
  EXPECT_EQ(a.reason, IdleReason::kWaitingForData);
  ASSERT_TRUE(q.AddPart("v", 3, 40, Sha(3)).ok());
  ASSERT_TRUE(q.AddPart("v", 0, 100, Sha(0)).ok());
  ASSERT_TRUE(q.MarkRecordingFinished("v").ok());
  uint32_t count = 0;
  EXPECT_EQ(Drain(q, &finalized, &count), (std::vector<int64_t>{3, 0}));
  EXPECT_TRUE(finalized);
  EXPECT_EQ(count, 4u);
  const QueueItem* it = q.Find("v");
  ASSERT_NE(it, nullptr);
  EXPECT_EQ(it->state, ItemState::kCompleted);
  EXPECT_EQ(it->TotalBytes(), 340u);
}

TEST(UploadQueueFirstPartLast, OnlyPartZero) {
  UploadQueue q(NoJitter());
  ASSERT_TRUE(q.EnqueueVideo("v", "{}", true).ok());
  ASSERT_TRUE(q.AddPart("v", 0, 10, Sha(0)).ok());
  ASSERT_TRUE(q.MarkRecordingFinished("v").ok());
  bool finalized = false;
  uint32_t count = 0;
  EXPECT_EQ(Drain(q, &finalized, &count), (std::vector<int64_t>{0}));
  EXPECT_TRUE(finalized);
  EXPECT_EQ(count, 1u);
}

TEST(UploadQueueFirstPartLast, RestoreMidway) {
  UploadQueue q(NoJitter());
  ASSERT_TRUE(q.EnqueueVideo("v", "{}", true).ok());
  ASSERT_TRUE(q.AddPart("v", 1, 100, Sha(1)).ok());
  bool finalized = false;
  EXPECT_EQ(Drain(q, &finalized), (std::vector<int64_t>{1}));
  ASSERT_TRUE(q.AddPart("v", 2, 100, Sha(2)).ok());
  const std::string json = q.Serialize();
  EXPECT_NE(json.find("\"v\":2"), std::string::npos) << json;
  EXPECT_NE(json.find("\"firstPartLast\":true"), std::string::npos) << json;
  EXPECT_NE(json.find("[0,\"\",0]"), std::string::npos) << json;

  UploadQueue r(NoJitter());
  Status s = r.Restore(json);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(r.Serialize(), json);
  // Part 0 still has to come last; part 1 is not sent again.
  EXPECT_FALSE(r.AddPart("v", 2, 100, Sha(2)).ok());
  ASSERT_TRUE(r.AddPart("v", 0, 100, Sha(0)).ok());
  ASSERT_TRUE(r.MarkRecordingFinished("v").ok());
  EXPECT_EQ(Drain(r, &finalized), (std::vector<int64_t>{2, 0}));
  EXPECT_TRUE(finalized);
}

TEST(UploadQueueFirstPartLast, PlainItemsStillWriteVersion1) {
  UploadQueue q(NoJitter());
  ASSERT_TRUE(q.EnqueueVideo("v", "{}").ok());
  const std::string json = q.Serialize();
  EXPECT_NE(json.find("\"v\":1"), std::string::npos);
  EXPECT_EQ(json.find("firstPartLast"), std::string::npos);
}

TEST(UploadQueueFirstPartLast, BadSequences) {
  UploadQueue q(NoJitter());
  ASSERT_TRUE(q.EnqueueVideo("v", "{}", true).ok());
  Status s = q.AddPart("v", 2, 100, Sha(2));
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("out of order: expected 1 (or 0 to end the parts)"), std::string::npos) << s.message();
  s = q.MarkRecordingFinished("v");
  EXPECT_EQ(s.code(), Code::kFailedPrecondition);
  EXPECT_NE(s.message().find("part 0 was not added"), std::string::npos) << s.message();
  ASSERT_TRUE(q.AddPart("v", 1, 100, Sha(1)).ok());
  EXPECT_FALSE(q.AddPart("v", 1, 100, Sha(1)).ok());
  EXPECT_EQ(q.AddPart("v", 0, 0, Sha(0)).code(), Code::kOutOfRange);
  EXPECT_EQ(q.AddPart("v", 0, 10, "nothex").code(), Code::kInvalidArgument);
  ASSERT_TRUE(q.AddPart("v", 0, 100, Sha(0)).ok());
  s = q.AddPart("v", 2, 100, Sha(2));
  EXPECT_NE(s.message().find("after part 0"), std::string::npos) << s.message();
  EXPECT_FALSE(q.AddPart("v", 0, 100, Sha(0)).ok());
  ASSERT_TRUE(q.MarkRecordingFinished("v").ok());

  // Restore rejects a placeholder outside firstPartLast items, and a finished item without part 0.
  UploadQueue plain(NoJitter());
  ASSERT_TRUE(plain.EnqueueVideo("p", "{}").ok());
  ASSERT_TRUE(plain.AddPart("p", 0, 5, Sha(0)).ok());
  std::string j = plain.Serialize();
  const std::string part = "[5,\"" + Sha(0) + "\",0]";
  j.replace(j.find(part), part.size(), "[0,\"\",0]");
  UploadQueue r(NoJitter());
  EXPECT_EQ(r.Restore(j).code(), Code::kCorruptData);

  UploadQueue f(NoJitter());
  ASSERT_TRUE(f.EnqueueVideo("f", "{}", true).ok());
  std::string k = f.Serialize();
  k.replace(k.find("\"finished\":false"), 16, "\"finished\":true");
  s = r.Restore(k);
  EXPECT_EQ(s.code(), Code::kCorruptData);
  EXPECT_NE(s.message().find("finished before part 0"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace ck
