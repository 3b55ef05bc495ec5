// Decisions the JS driver used to make itself: trimming completed items (keep_completed), a server's
// part list with indices the item does not have, and ending a recording that holds no byte.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "upload/sha256.h"
#include "upload/upload_queue.h"

namespace ck {
namespace {

std::string Sha(int i) {
  std::string s = "part-" + std::to_string(i);
  return Sha256::HashHex(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

QueueOptions Keep(uint32_t n) {
  QueueOptions o;
  o.jitter = 0;
  o.keep_completed = n;
  return o;
}

void Complete(UploadQueue* q, const std::string& id) {
  ASSERT_TRUE(q->EnqueueScreenshot(id, 10, "").ok());
  Action a;
  ASSERT_TRUE(q->NextAction(0, &a).ok());
  ASSERT_EQ(a.item_id, id);
  ASSERT_TRUE(q->Succeeded(a.id, "url").ok());
}

std::vector<std::string> Ids(const UploadQueue& q) {
  std::vector<std::string> ids;
  for (const auto& it : q.state().items) ids.push_back(it.id);
  return ids;
}

TEST(UploadQueueKeepCompleted, TheOldestCompletedItemsLeaveWhenAnotherCompletes) {
  UploadQueue q(Keep(2));
  Complete(&q, "a");
  Complete(&q, "b");
  EXPECT_EQ(Ids(q), (std::vector<std::string>{"a", "b"}));
  // A failed and a pending item in between stay where they are.
  ASSERT_TRUE(q.EnqueueScreenshot("f", 10, "").ok());
  Action a;
  ASSERT_TRUE(q.NextAction(0, &a).ok());
  ASSERT_TRUE(q.Failed(a.id, FailureKind::kClient4xx, 0, 0, "413").ok());
  Complete(&q, "c");
  EXPECT_EQ(Ids(q), (std::vector<std::string>{"b", "f", "c"}));
  Complete(&q, "d");
  EXPECT_EQ(Ids(q), (std::vector<std::string>{"f", "c", "d"}));
  EXPECT_EQ(q.Summary().completed, 2u);
  EXPECT_EQ(q.Summary().failed, 1u);
}

TEST(UploadQueueKeepCompleted, ZeroKeepsNoneAndTheDefaultKeepsAll) {
  UploadQueue none(Keep(0));
  Complete(&none, "a");
  EXPECT_TRUE(none.state().items.empty());
  UploadQueue all;
  for (int i = 0; i < 150; ++i) Complete(&all, "s" + std::to_string(i));
  EXPECT_EQ(all.state().items.size(), 150u);
}

TEST(UploadQueueKeepCompleted, AFinalizedVideoCountsToo) {
  UploadQueue q(Keep(1));
  Complete(&q, "shot");
  ASSERT_TRUE(q.EnqueueVideo("v", "").ok());
  ASSERT_TRUE(q.AddPart("v", 0, 5, Sha(0)).ok());
  ASSERT_TRUE(q.MarkRecordingFinished("v").ok());
  Action a;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(q.NextAction(0, &a).ok());
    ASSERT_TRUE(q.Succeeded(a.id, a.type == ActionType::kInit ? "sid" : "").ok());
  }
  EXPECT_EQ(Ids(q), (std::vector<std::string>{"v"}));
}

TEST(UploadQueueServerPartList, IndicesTheItemDoesNotHaveAndRepeatsAreIgnored) {
  UploadQueue q(Keep(UINT32_MAX));
  ASSERT_TRUE(q.EnqueueVideo("v", "").ok());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(q.AddPart("v", i, 5, Sha(i)).ok());
  uint32_t ignored = 99;
  // No session yet: the whole list is ignored (it belongs to no session of this item).
  ASSERT_TRUE(q.AcceptServerPartList("v", {0, 1}, &ignored).ok());
  EXPECT_EQ(ignored, 2u);
  EXPECT_EQ(q.Find("v")->ConfirmedParts(), 0u);
  Action a;
  ASSERT_TRUE(q.NextAction(0, &a).ok());
  ASSERT_TRUE(q.Succeeded(a.id, "sid").ok());
  ASSERT_TRUE(q.AcceptServerPartList("v", {2, 7, -1, 2, 0, 3}, &ignored).ok());
  EXPECT_EQ(ignored, 4u);
  const QueueItem* it = q.Find("v");
  EXPECT_TRUE(it->parts[0].confirmed);
  EXPECT_FALSE(it->parts[1].confirmed);
  EXPECT_TRUE(it->parts[2].confirmed);
  // Still authoritative: a shorter list unconfirms the rest.
  ASSERT_TRUE(q.AcceptServerPartList("v", {}, &ignored).ok());
  EXPECT_EQ(q.Find("v")->ConfirmedParts(), 0u);
  EXPECT_EQ(q.AcceptServerPartList("nope", {0}, &ignored).code(), Code::kFailedPrecondition);
  ASSERT_TRUE(q.EnqueueScreenshot("s", 3, "").ok());
  ASSERT_TRUE(q.AcceptServerPartList("s", {0}, &ignored).ok());
  EXPECT_EQ(ignored, 1u);
}

TEST(UploadQueueServerPartList, APlaceholderPartZeroIsNeverConfirmed) {
  UploadQueue q(Keep(UINT32_MAX));
  ASSERT_TRUE(q.EnqueueVideo("v", "", true).ok());
  ASSERT_TRUE(q.AddPart("v", 1, 5, Sha(1)).ok());
  Action a;
  ASSERT_TRUE(q.NextAction(0, &a).ok());
  ASSERT_TRUE(q.Succeeded(a.id, "sid").ok());
  uint32_t ignored;
  ASSERT_TRUE(q.AcceptServerPartList("v", {0, 1}, &ignored).ok());
  EXPECT_EQ(ignored, 0u);
  EXPECT_FALSE(q.Find("v")->parts[0].confirmed);
  EXPECT_TRUE(q.Find("v")->parts[1].confirmed);
}

TEST(UploadQueueFinishRecording, ARecordingWithoutAByteLeavesTheQueue) {
  UploadQueue q(Keep(UINT32_MAX));
  bool removed = true;
  ASSERT_TRUE(q.EnqueueVideo("v", "").ok());
  ASSERT_TRUE(q.AddPart("v", 0, 5, Sha(0)).ok());
  ASSERT_TRUE(q.FinishRecording("v", &removed).ok());
  EXPECT_FALSE(removed);
  EXPECT_TRUE(q.Find("v")->recording_finished);

  ASSERT_TRUE(q.EnqueueVideo("empty", "").ok());
  ASSERT_TRUE(q.FinishRecording("empty", &removed).ok());
  EXPECT_TRUE(removed);
  EXPECT_EQ(q.Find("empty"), nullptr);

  // firstPartLast: only the placeholder is no byte; parts 1..n without part 0 is an error.
  ASSERT_TRUE(q.EnqueueVideo("seek", "", true).ok());
  ASSERT_TRUE(q.FinishRecording("seek", &removed).ok());
  EXPECT_TRUE(removed);
  ASSERT_TRUE(q.EnqueueVideo("seek2", "", true).ok());
  ASSERT_TRUE(q.AddPart("seek2", 1, 5, Sha(1)).ok());
  Status s = q.FinishRecording("seek2", &removed);
  EXPECT_EQ(s.code(), Code::kFailedPrecondition);
  EXPECT_NE(s.message().find("part 0 was not added"), std::string::npos) << s.message();
  EXPECT_FALSE(removed);

  // Finishing twice and finishing a screenshot stay errors.
  EXPECT_NE(q.FinishRecording("v", &removed).message().find("already finished"), std::string::npos);
  ASSERT_TRUE(q.EnqueueScreenshot("s", 3, "").ok());
  EXPECT_EQ(q.FinishRecording("s", &removed).code(), Code::kFailedPrecondition);
  EXPECT_EQ(q.FinishRecording("nope", &removed).code(), Code::kFailedPrecondition);
}

}  // namespace
}  // namespace ck
