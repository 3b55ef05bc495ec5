#include "upload/queue_state_json.h"

#include <gtest/gtest.h>

#include <string>

#include "upload/sha256.h"
#include "upload/tiny_json.h"
#include "upload/upload_queue.h"

namespace ck {
namespace {

std::string Sha(int i) {
  std::string s = std::to_string(i);
  return Sha256::HashHex(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

// A queue in every interesting state: completed, failed, waiting on backoff, recording, in flight,
// with metadata that needs escaping.
UploadQueue RichQueue() {
  QueueOptions o;
  o.seed = 42;
  UploadQueue q(o);
  Action a;
  EXPECT_TRUE(q.EnqueueScreenshot("done", 100, "{\"name\":\"caf\xC3\xA9 \\\"quoted\\\"\\n\"}").ok());
  EXPECT_TRUE(q.NextAction(10, &a).ok());
  EXPECT_TRUE(q.Succeeded(a.id, "https://cdn/x.png").ok());
  EXPECT_TRUE(q.EnqueueScreenshot("bad", 5, std::string("ctl\x01\x1f\t\r\n\"\\/ \xF0\x9F\x98\x80", 17)).ok());
  EXPECT_TRUE(q.NextAction(20, &a).ok());
  EXPECT_TRUE(q.Failed(a.id, FailureKind::kClient4xx, 20, 0, "HTTP 413 \"too big\"").ok());
  EXPECT_TRUE(q.EnqueueVideo("rec", "{}").ok());
  EXPECT_TRUE(q.NextAction(30, &a).ok());
  EXPECT_TRUE(q.Succeeded(a.id, "session/\xE2\x9C\x93").ok());
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(q.AddPart("rec", i, 5u << 20, Sha(i)).ok());
  EXPECT_TRUE(q.NextAction(40, &a).ok());
  EXPECT_TRUE(q.Succeeded(a.id, "").ok());
  EXPECT_TRUE(q.NextAction(50, &a).ok());
  EXPECT_TRUE(q.Failed(a.id, FailureKind::kServer5xx, 50, 0, "503").ok());
  EXPECT_TRUE(q.EnqueueVideo("next", "").ok());
  EXPECT_TRUE(q.NextAction(60, &a).ok());  // init of "next" in flight
  EXPECT_EQ(a.type, ActionType::kInit);
  q.SetOnline(false);
  return q;
}

TEST(QueueStateJson, RoundTripIsExact) {
  UploadQueue q = RichQueue();
  const std::string saved = q.Serialize();
  EXPECT_EQ(saved.find('\n'), std::string::npos);  // compact, one line
  UploadQueue r;
  ASSERT_TRUE(r.Restore(saved).ok());
  // The in-flight init is forgotten: "next" is pending again; everything else is identical.
  EXPECT_EQ(r.Find("next")->state, ItemState::kPending);
  std::string expected = saved;
  const std::string from = "\"state\":\"initializing\"";
  expected.replace(expected.find(from), from.size(), "\"state\":\"pending\"");
  EXPECT_EQ(r.Serialize(), expected);
  UploadQueue r2;
  ASSERT_TRUE(r2.Restore(r.Serialize()).ok());
  EXPECT_EQ(r2.Serialize(), r.Serialize());
  const QueueItem* bad = r.Find("bad");
  ASSERT_NE(bad, nullptr);
  EXPECT_EQ(bad->metadata, std::string("ctl\x01\x1f\t\r\n\"\\/ \xF0\x9F\x98\x80", 17));
  EXPECT_EQ(bad->last_error_message, "HTTP 413 \"too big\"");
  EXPECT_EQ(bad->state, ItemState::kFailed);
  const QueueItem* rec = r.Find("rec");
  EXPECT_EQ(rec->session_id, "session/\xE2\x9C\x93");
  EXPECT_EQ(rec->failures, 1u);
  EXPECT_EQ(rec->retry_at, q.Find("rec")->retry_at);
  EXPECT_EQ(rec->parts.size(), 3u);
  EXPECT_TRUE(rec->parts[0].confirmed);
  EXPECT_FALSE(rec->parts[1].confirmed);
  EXPECT_EQ(rec->parts[2].sha256, Sha(2));
  EXPECT_FALSE(r.state().online);
  EXPECT_EQ(r.state().rng, q.state().rng);
  EXPECT_EQ(r.state().next_action_id, q.state().next_action_id);
}

TEST(QueueStateJson, EmptyQueue) {
  UploadQueue q;
  EXPECT_EQ(q.Serialize(),
            "{\"v\":1,\"online\":true,\"nextActionId\":1,\"rng\":\"0000000000000001\",\"auth\":{\"refreshNeeded\":false,"
            "\"required\":false,\"failures\":0,\"retryAt\":0},\"items\":[]}");
  UploadQueue r;
  ASSERT_TRUE(r.Restore(q.Serialize()).ok());
}

TEST(QueueStateJson, EveryTruncationIsRejectedAndLeavesTheQueueAlone) {
  const std::string saved = RichQueue().Serialize();
  UploadQueue r = RichQueue();
  const std::string before = r.Serialize();
  for (size_t n = 0; n < saved.size(); ++n) {
    Status s = r.Restore(saved.substr(0, n));
    ASSERT_EQ(s.code(), Code::kCorruptData) << n;
  }
  EXPECT_EQ(r.Serialize(), before);
}

TEST(QueueStateJson, RandomByteDamageNeverCrashes) {
  const std::string saved = RichQueue().Serialize();
  uint32_t x = 12345;
  int rejected = 0, accepted = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string t = saved;
    int edits = 1 + round % 4;
    for (int e = 0; e < edits; ++e) {
      x ^= x << 13; x ^= x >> 17; x ^= x << 5;
      size_t pos = x % t.size();
      switch ((x >> 20) % 4) {
        case 0: t[pos] = char(x >> 8); break;
        case 1: t.erase(pos, 1 + (x >> 12) % 8); break;
        case 2: t.insert(pos, 1, "{}[]\",:0-e.\\u"[(x >> 9) % 13]); break;
        default: t[pos] ^= char(1 << ((x >> 5) % 8)); break;
      }
      if (t.empty()) t = "x";
    }
    UploadQueue r;
    Status s = r.Restore(t);
    if (s.ok()) {
      ++accepted;  // a harmless edit (e.g. inside a string): the result must be self-consistent
      UploadQueue r2;
      ASSERT_TRUE(r2.Restore(r.Serialize()).ok()) << t;
    } else {
      ++rejected;
      ASSERT_EQ(s.code(), Code::kCorruptData);
      ASSERT_EQ(s.message().rfind("upload state: ", 0), 0u) << s.message();
    }
  }
  EXPECT_GT(rejected, 15000);
  EXPECT_GT(accepted, 10);
}

TEST(QueueStateJson, SpecificCorruptions) {
  const std::string ok = RichQueue().Serialize();
  auto replaced = [&](const std::string& from, const std::string& to) {
    std::string t = ok;
    size_t p = t.find(from);
    EXPECT_NE(p, std::string::npos) << from;
    if (p != std::string::npos) t.replace(p, from.size(), to);
    return t;
  };
  const std::pair<std::string, std::string> cases[] = {
      {"", "unexpected end"},
      {"[]", "expected an object"},
      {"{}", "state.v: missing"},
      {replaced("\"v\":1", "\"v\":3"), "unsupported version 3"},
      {replaced("\"v\":1", "\"v\":1.0"), "only integers"},
      {replaced("\"online\":false", "\"online\":0"), "state.online: expected a boolean"},
      {replaced("\"online\":false", "\"online\":false,\"extra\":1"), "state.extra: unknown field"},
      {replaced("\"online\":false", "\"online\":false,\"online\":true"), "duplicate key"},
      {replaced("\"nextActionId\":", "\"nextActionId\":-"), "nextActionId: -"},
      {replaced("\"rng\":\"", "\"rng\":\"x"), "rng"},
      {replaced("\"kind\":\"video\"", "\"kind\":\"audio\""), "unknown kind \"audio\""},
      {replaced("\"state\":\"failed\"", "\"state\":\"lost\""), "unknown state \"lost\""},
      {replaced("\"id\":\"bad\"", "\"id\":\"done\""), "duplicate id \"done\""},
      {replaced("\"id\":\"bad\"", "\"id\":\"\""), "items[1].id: empty"},
      {replaced("\"error\":\"client4xx\"", "\"error\":\"gremlins\""), "unknown failure kind"},
      {replaced(Sha(1), std::string(64, 'Z')), "items[2].parts[1]: sha256"},
      {replaced(",0]", ",2]"), "confirmed must be 0 or 1"},
      {replaced("[5242880,", "[0,"), "size must be an integer between 1"},
      {replaced("\"bytes\":100", "\"bytes\":0"), "a screenshot needs a size"},
      {replaced("\"bytes\":100", "\"bytes\":99999999999999999999"), "integer too large"},
      {replaced("\"metadata\":\"{}\"", "\"metadata\":\"\\ud800\""), "lone high surrogate"},
      {replaced("\"metadata\":\"{}\"", "\"metadata\":\"\\q\""), "unknown escape"},
      {replaced("\"metadata\":\"{}\"", "\"metadata\":[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]"), "nesting deeper"},
      {ok + " x", "unexpected text after"},
  };
  for (const auto& c : cases) {
    UploadQueue r;
    Status s = r.Restore(c.first);
    EXPECT_EQ(s.code(), Code::kCorruptData) << c.second;
    EXPECT_NE(s.message().find(c.second), std::string::npos) << "want \"" << c.second << "\" in: " << s.message();
  }
}

TEST(QueueStateJson, ConsistencyChecks) {
  UploadQueue q;
  ASSERT_TRUE(q.EnqueueVideo("v", "").ok());
  ASSERT_TRUE(q.AddPart("v", 0, 10, Sha(0)).ok());
  std::string s = q.Serialize();
  // A confirmed part without a session cannot happen.
  std::string t = s;
  t.replace(t.find(",0]"), 3, ",1]");
  UploadQueue r;
  EXPECT_NE(r.Restore(t).message().find("confirmed parts without a session"), std::string::npos);
  // Completed with unconfirmed parts cannot either.
  t = s;
  t.replace(t.find("\"pending\""), 9, "\"completed\"");
  t.replace(t.find("\"finished\":false"), 16, "\"finished\":true");
  EXPECT_NE(r.Restore(t).message().find("completed with unconfirmed parts"), std::string::npos);
}

TEST(TinyJson, ParsesWhatItWrites) {
  json::Writer w;
  w.BeginObject().Key("a").BeginArray().Int(-5).Int(json::kMaxSafeInteger).Bool(true).EndArray();
  w.Key("s").String(std::string("\x00\x7f\xc3\xa9", 4)).Key("o").BeginObject().EndObject().EndObject();
  json::Value v;
  ASSERT_TRUE(json::Parse(w.str(), &v).ok()) << w.str();
  ASSERT_EQ(v.type, json::Value::Type::kObject);
  EXPECT_EQ(v.Find("a")->items[0].i, -5);
  EXPECT_EQ(v.Find("a")->items[1].i, json::kMaxSafeInteger);
  EXPECT_TRUE(v.Find("a")->items[2].b);
  EXPECT_EQ(v.Find("s")->s, std::string("\x00\x7f\xc3\xa9", 4));
  EXPECT_EQ(v.Find("o")->type, json::Value::Type::kObject);
}

TEST(TinyJson, EscapesAndSurrogates) {
  json::Value v;
  ASSERT_TRUE(json::Parse(" \"\\u00e9\\ud83d\\ude00\\n\\/\" ", &v).ok());
  EXPECT_EQ(v.s, "\xC3\xA9\xF0\x9F\x98\x80\n/");
  ASSERT_TRUE(json::Parse("null", &v).ok());
  EXPECT_EQ(v.type, json::Value::Type::kNull);
  for (const char* bad : {"\"\\udc00\"", "\"\\ud800\\u0041\"", "\"\\u12\"", "01", "1e5", "tru", "[1,]", "{\"a\"1}",
                          "{\"a\":1,}", "\"a\x01\"", "9007199254740992", "[", "\"abc"}) {
    EXPECT_EQ(json::Parse(bad, &v).code(), Code::kCorruptData) << bad;
  }
}

}  // namespace
}  // namespace ck
