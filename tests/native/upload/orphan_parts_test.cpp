// OrphanParts cuts a recording's stored tail where the recorder's ChunkBuffer would have cut it.
#include "upload/orphan_parts.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "upload/chunk_buffer.h"
#include "upload/sha256.h"

namespace ck {
namespace {

std::vector<uint8_t> Bytes(size_t n, uint8_t seed) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = uint8_t(seed + i * 7);
  return v;
}

// What the recorder would have produced from `all`, cut by a ChunkBuffer with these options.
std::vector<ChunkPart> Recorder(const std::vector<uint8_t>& all, uint64_t part, bool hold) {
  ChunkBuffer cb(ChunkBufferOptions{part, hold});
  std::vector<ChunkPart> out;
  EXPECT_TRUE(cb.Append(all.data(), all.size(), &out).ok());
  EXPECT_TRUE(cb.Flush(&out).ok());
  return out;
}

std::vector<ChunkPart> Recover(const OrphanLayout& l, const std::vector<std::pair<uint64_t, std::vector<uint8_t>>>& tail) {
  EXPECT_TRUE(OrphanParts::Validate(l).ok());
  OrphanParts o(l);
  for (const auto& [start, bytes] : tail) EXPECT_TRUE(o.Add(start, bytes.data(), bytes.size()).ok());
  std::vector<ChunkPart> out;
  EXPECT_TRUE(o.Finish(&out).ok());
  return out;
}

std::vector<uint8_t> Slice(const std::vector<uint8_t>& v, size_t from, size_t to) {
  return std::vector<uint8_t>(v.begin() + from, v.begin() + to);
}

TEST(OrphanParts, PlainRecordingTheTailAfterTheStoredPartsIsTheLastPart) {
  const auto all = Bytes(2500, 3);
  const auto want = Recorder(all, 1000, false);  // parts 0, 1 (1000 each), 2 (500)
  ASSERT_EQ(want.size(), 3u);
  // Parts 0 and 1 were stored; the tail holds chunks from 1800 on (the earlier ones were deleted),
  // the first overlapping part 1.
  OrphanLayout l{1000, false, 2, 2000};
  auto got = Recover(l, {{1800, Slice(all, 1800, 2300)}, {2300, Slice(all, 2300, 2500)}});
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].index, 2u);
  EXPECT_EQ(got[0].bytes, want[2].bytes);
  EXPECT_EQ(got[0].sha256, want[2].sha256);
  EXPECT_TRUE(got[0].last);
}

TEST(OrphanParts, ALongTailIsCutIntoFullParts) {
  const auto all = Bytes(3500, 9);
  const auto want = Recorder(all, 1000, false);
  OrphanLayout l{1000, false, 1, 1000};
  auto got = Recover(l, {{1000, Slice(all, 1000, 3500)}});
  ASSERT_EQ(got.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(got[i].index, i + 1);
    EXPECT_EQ(got[i].sha256, want[i + 1].sha256);
  }
}

TEST(OrphanParts, NothingNewGivesNoPart) {
  const auto all = Bytes(2000, 1);
  OrphanLayout l{1000, false, 2, 2000};
  EXPECT_TRUE(Recover(l, {{1500, Slice(all, 1500, 2000)}}).empty());
  OrphanLayout none{1000, false, 0, 0};
  EXPECT_TRUE(Recover(none, {}).empty());
}

TEST(OrphanParts, AGapEndsTheRecording) {
  const auto all = Bytes(2000, 1);
  OrphanLayout l{1000, false, 0, 0};
  auto got = Recover(l, {{0, Slice(all, 0, 300)}, {400, Slice(all, 400, 600)}});
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].bytes, Slice(all, 0, 300));
}

TEST(OrphanParts, FirstPartLastPartZeroComesFromTheTailAndGoesLast) {
  const auto all = Bytes(3300, 5);
  const auto want = Recorder(all, 1000, true);  // 1, 2, 3 (300), then 0
  ASSERT_EQ(want.size(), 4u);
  ASSERT_EQ(want.back().index, 0u);
  // Part 1 was stored (placeholder + part 1: partCount 2, 1000 bytes); the tail kept part 0's chunks
  // and the chunks after part 1.
  OrphanLayout l{1000, true, 2, 1000};
  auto got = Recover(l, {{0, Slice(all, 0, 600)}, {600, Slice(all, 600, 1200)}, {2000, Slice(all, 2000, 3300)}});
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].index, 2u);
  EXPECT_EQ(got[0].sha256, want[1].sha256);
  EXPECT_EQ(got[1].index, 3u);
  EXPECT_EQ(got[1].sha256, want[2].sha256);
  EXPECT_EQ(got[2].index, 0u);
  EXPECT_EQ(got[2].sha256, want[3].sha256);
  EXPECT_TRUE(got[2].last);
}

TEST(OrphanParts, FirstPartLastARecordingShorterThanPartZeroIsPartZeroAlone) {
  const auto all = Bytes(700, 2);
  OrphanLayout l{1000, true, 1, 0};
  OrphanParts o(l);
  ASSERT_TRUE(o.Add(0, all.data(), 400).ok());
  ASSERT_TRUE(o.Add(400, all.data() + 400, 300).ok());
  EXPECT_EQ(o.recording_bytes(), 700u);
  std::vector<ChunkPart> got;
  ASSERT_TRUE(o.Finish(&got).ok());
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].index, 0u);
  EXPECT_EQ(got[0].bytes, all);
  EXPECT_EQ(got[0].sha256, Sha256::HashHex(all.data(), all.size()));
  EXPECT_EQ(o.recording_bytes(), 700u);  // still known after Finish() handed the bytes out
  EXPECT_EQ(o.Finish(&got).code(), Code::kFailedPrecondition);
  EXPECT_EQ(o.Add(0, all.data(), 1).code(), Code::kFailedPrecondition);
}

TEST(OrphanParts, FirstPartLastWithoutAnyByteGivesNoPart) {
  OrphanLayout l{1000, true, 1, 0};
  EXPECT_TRUE(Recover(l, {}).empty());
}

TEST(OrphanParts, ValidateSaysWhatIsWrong) {
  EXPECT_EQ(OrphanParts::Validate(OrphanLayout{0, false, 0, 0}).code(), Code::kOutOfRange);
  EXPECT_EQ(OrphanParts::Validate(OrphanLayout{10, true, 0, 0}).code(), Code::kInvalidArgument);
  Status s = OrphanParts::Validate(OrphanLayout{10, false, 2, 21});
  EXPECT_EQ(s.code(), Code::kOutOfRange);
  EXPECT_NE(s.message().find("2 parts of 10 bytes"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace ck
