// A stored queue state that does not read as a whole (a browser bug, a full disk, a hostile page):
// RestoreReadable keeps every item that still reads, says what was lost, and the result is a state
// Restore accepts.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "upload/queue_state_json.h"
#include "upload/sha256.h"
#include "upload/upload_queue.h"

namespace ck {
namespace {

std::string Sha(int i) {
  std::string s = std::to_string(i);
  return Sha256::HashHex(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

// Three items: a screenshot, a video with two parts (one confirmed), a second screenshot.
std::string Saved() {
  QueueOptions o;
  o.jitter = 0;
  UploadQueue q(o);
  Action a;
  EXPECT_TRUE(q.EnqueueScreenshot("one", 10, "{\"n\":1}").ok());
  EXPECT_TRUE(q.EnqueueVideo("two", "{\"n\":2}").ok());
  EXPECT_TRUE(q.AddPart("two", 0, 5, Sha(0)).ok());
  EXPECT_TRUE(q.AddPart("two", 1, 5, Sha(1)).ok());
  EXPECT_TRUE(q.EnqueueScreenshot("three", 30, "{\"n\":3}").ok());
  EXPECT_TRUE(q.NextAction(1, &a).ok());  // "one" is in flight when the state is saved
  return q.Serialize();
}

std::vector<std::string> Ids(const UploadQueue& q) {
  std::vector<std::string> ids;
  for (const auto& it : q.state().items) ids.push_back(it.id);
  return ids;
}

void ExpectRestorable(const UploadQueue& q) {
  UploadQueue r;
  Status s = r.Restore(q.Serialize());
  EXPECT_TRUE(s.ok()) << s.message() << "\n" << q.Serialize();
}

TEST(QueueStateSalvage, AStateThatReadsIsRestoredAsIs) {
  UploadQueue q;
  UploadQueue::RestoreReport r;
  q.RestoreReadable(Saved(), &r);
  EXPECT_TRUE(r.error.ok());
  EXPECT_TRUE(r.dropped.empty());
  EXPECT_EQ(r.items_kept, 3u);
  EXPECT_EQ(q.Find("one")->state, ItemState::kPending);  // the in-flight action is forgotten
}

TEST(QueueStateSalvage, AnItemThatDoesNotReadIsDroppedTheOthersStay) {
  std::string s = Saved();
  const std::string from = "\"kind\":\"video\"";
  s.replace(s.find(from), from.size(), "\"kind\":\"movie\"");
  UploadQueue q;
  ASSERT_FALSE(q.Restore(s).ok());
  UploadQueue::RestoreReport r;
  q.RestoreReadable(s, &r);
  EXPECT_EQ(r.error.code(), Code::kCorruptData);
  EXPECT_NE(r.error.message().find("items[1].kind: unknown kind \"movie\""), std::string::npos) << r.error.message();
  EXPECT_EQ(Ids(q), (std::vector<std::string>{"one", "three"}));
  EXPECT_EQ(r.items_kept, 2u);
  ASSERT_EQ(r.dropped.size(), 1u);
  EXPECT_NE(r.dropped[0].find("items[1]"), std::string::npos) << r.dropped[0];
  ExpectRestorable(q);
  // The queue works: "one" uploads first.
  Action a;
  ASSERT_TRUE(q.NextAction(2, &a).ok());
  EXPECT_EQ(a.item_id, "one");
}

TEST(QueueStateSalvage, ATruncatedStateKeepsTheItemsBeforeTheCut) {
  const std::string s = Saved();
  const size_t three = s.find("{\"id\":\"three\"");
  ASSERT_NE(three, std::string::npos);
  UploadQueue q;
  UploadQueue::RestoreReport r;
  q.RestoreReadable(s.substr(0, three + 20), &r);
  EXPECT_EQ(r.error.code(), Code::kCorruptData);
  EXPECT_EQ(Ids(q), (std::vector<std::string>{"one", "two"}));
  EXPECT_EQ(q.Find("two")->parts.size(), 2u);
  EXPECT_FALSE(r.dropped.empty());
  ExpectRestorable(q);
}

TEST(QueueStateSalvage, BytesOverwrittenInTheMiddleLoseOnlyTheItemThere) {
  std::string s = Saved();
  const size_t two = s.find("{\"id\":\"two\"");
  s.replace(two + 20, 12, "\x01\xff garbage \"");
  UploadQueue q;
  UploadQueue::RestoreReport r;
  q.RestoreReadable(s, &r);
  EXPECT_EQ(Ids(q), (std::vector<std::string>{"one", "three"}));
  ExpectRestorable(q);
}

TEST(QueueStateSalvage, TopLevelFieldsThatDoNotReadTakeTheirDefaults) {
  std::string s = Saved();
  s.replace(s.find("\"rng\":\""), 7, "\"rng\":\"zz");
  s.replace(s.find("\"online\":true"), 13, "\"online\":\"yes\"");
  QueueOptions o;
  o.seed = 77;
  UploadQueue q(o);
  UploadQueue::RestoreReport r;
  q.RestoreReadable(s, &r);
  EXPECT_EQ(r.items_kept, 3u);
  EXPECT_TRUE(q.state().online);
  EXPECT_EQ(q.state().rng, 77u);
  EXPECT_EQ(r.dropped.size(), 2u);
  ExpectRestorable(q);
}

TEST(QueueStateSalvage, RepeatedIdsKeepTheFirst) {
  std::string s = Saved();
  s.replace(s.find("{\"id\":\"three\""), 13, "{\"id\":\"one\"");
  UploadQueue q;
  UploadQueue::RestoreReport r;
  q.RestoreReadable(s, &r);
  EXPECT_EQ(Ids(q), (std::vector<std::string>{"one", "two"}));
  EXPECT_EQ(q.Find("one")->bytes, 10u);
  ASSERT_EQ(r.dropped.size(), 1u);
  EXPECT_NE(r.dropped[0].find("a second item \"one\""), std::string::npos) << r.dropped[0];
}

TEST(QueueStateSalvage, NothingReadableGivesAnEmptyWorkingQueue) {
  for (const std::string s : {std::string(""), std::string("not json"), std::string("[1,2]"), std::string("{\"v\":1}"),
                              std::string(1000, '{'), std::string("{\"id\":\"") + std::string(5000, 'x')}) {
    UploadQueue q;
    UploadQueue::RestoreReport r;
    q.RestoreReadable(s, &r);
    EXPECT_FALSE(r.error.ok()) << s;
    EXPECT_EQ(r.items_kept, 0u);
    EXPECT_TRUE(q.state().items.empty());
    ExpectRestorable(q);
    ASSERT_TRUE(q.EnqueueScreenshot("new", 1, "").ok());
  }
}

TEST(QueueStateSalvage, AHostileTextIsReadInLinearTime) {
  // Many item starts nested in each other and a long unterminated string: every attempt stops within a
  // few item starts (nesting is limited), so 20,000 starts take milliseconds, not minutes.
  std::string s;
  for (int i = 0; i < 20000; ++i) s += "{\"id\":\"x\",\"a\":[";
  s += "\"" + std::string(200000, 'a');
  UploadQueue q;
  UploadQueue::RestoreReport r;
  q.RestoreReadable(s, &r);
  EXPECT_TRUE(q.state().items.empty());
  EXPECT_EQ(r.dropped.size(), 20000u);
}

}  // namespace
}  // namespace ck
