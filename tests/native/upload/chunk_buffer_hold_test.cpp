// ChunkBuffer with hold_first_part (seekable streaming): part 0 is kept back, patched, and emitted last.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "upload/chunk_buffer.h"
#include "upload/sha256.h"

namespace ck {
namespace {

std::vector<uint8_t> Seq(size_t n, uint8_t start = 0) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = uint8_t(start + i * 7);
  return v;
}

TEST(ChunkBufferHold, PartZeroComesLastWithPatchedBytes) {
  ChunkBuffer cb({10, true});
  std::vector<ChunkPart> out;
  auto data = Seq(35);
  ASSERT_TRUE(cb.Append(data.data(), 4, &out).ok());
  const uint8_t early[2] = {0xAA, 0xBB};
  ASSERT_TRUE(cb.Patch(1, early, 2).ok());  // while part 0 is still filling
  ASSERT_TRUE(cb.Append(data.data() + 4, 31, &out).ok());
  // Parts 1 and 2 are out (part 3 holds 5 bytes); part 0 is held.
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].index, 1u);
  EXPECT_EQ(out[1].index, 2u);
  EXPECT_EQ(cb.parts_emitted(), 2u);
  EXPECT_EQ(cb.held_bytes(), 10u);
  EXPECT_EQ(cb.buffered_bytes(), 5u);
  const uint8_t late[3] = {1, 2, 3};
  ASSERT_TRUE(cb.Patch(7, late, 3).ok());
  out.clear();
  ASSERT_TRUE(cb.Flush(&out).ok());
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].index, 3u);
  EXPECT_TRUE(out[0].last);
  EXPECT_EQ(out[0].bytes, std::vector<uint8_t>(data.begin() + 30, data.end()));
  EXPECT_EQ(out[1].index, 0u);
  EXPECT_FALSE(out[1].last);
  std::vector<uint8_t> want(data.begin(), data.begin() + 10);
  want[1] = 0xAA; want[2] = 0xBB; want[7] = 1; want[8] = 2; want[9] = 3;
  EXPECT_EQ(out[1].bytes, want);
  EXPECT_EQ(out[1].sha256, Sha256::HashHex(want.data(), want.size()));
  EXPECT_EQ(out[0].sha256, Sha256::HashHex(out[0].bytes.data(), out[0].bytes.size()));
  EXPECT_EQ(cb.held_bytes(), 0u);
}

TEST(ChunkBufferHold, TailHashesAreUnaffected) {
  ChunkBuffer plain({8}), hold({8, true});
  std::vector<ChunkPart> a, b;
  auto data = Seq(30, 3);
  ASSERT_TRUE(plain.Append(data.data(), data.size(), &a).ok());
  ASSERT_TRUE(hold.Append(data.data(), data.size(), &b).ok());
  ASSERT_TRUE(plain.Flush(&a).ok());
  ASSERT_TRUE(hold.Flush(&b).ok());
  ASSERT_EQ(a.size(), 4u);
  ASSERT_EQ(b.size(), 4u);
  for (size_t i = 1; i < 4; ++i) {
    EXPECT_EQ(b[i - 1].index, a[i].index);
    EXPECT_EQ(b[i - 1].sha256, a[i].sha256);
    EXPECT_EQ(b[i - 1].bytes, a[i].bytes);
  }
  EXPECT_EQ(b[3].index, 0u);
  EXPECT_EQ(b[3].sha256, a[0].sha256);  // unpatched: identical
}

TEST(ChunkBufferHold, OnlyPartZero) {
  ChunkBuffer cb({100, true});
  std::vector<ChunkPart> out;
  auto data = Seq(20);
  ASSERT_TRUE(cb.Append(data.data(), data.size(), &out).ok());
  const uint8_t x = 9;
  ASSERT_TRUE(cb.Patch(19, &x, 1).ok());
  ASSERT_TRUE(cb.Flush(&out).ok());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].index, 0u);
  EXPECT_TRUE(out[0].last);
  data[19] = 9;
  EXPECT_EQ(out[0].bytes, data);
  EXPECT_EQ(out[0].sha256, Sha256::HashHex(data.data(), data.size()));
}

TEST(ChunkBufferHold, ExactlyOnePartHeldThenFlush) {
  ChunkBuffer cb({10, true});
  std::vector<ChunkPart> out;
  auto data = Seq(10);
  ASSERT_TRUE(cb.Append(data.data(), 10, &out).ok());
  ASSERT_TRUE(cb.Flush(&out).ok());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].index, 0u);
  EXPECT_TRUE(out[0].last);
}

TEST(ChunkBufferHold, EmptyStreamEmitsNothing) {
  ChunkBuffer cb({10, true});
  std::vector<ChunkPart> out;
  ASSERT_TRUE(cb.Flush(&out).ok());
  EXPECT_TRUE(out.empty());
}

TEST(ChunkBufferHold, BadPatches) {
  ChunkBuffer cb({10, true});
  std::vector<ChunkPart> out;
  auto data = Seq(25);
  const uint8_t b[4] = {0, 0, 0, 0};
  ASSERT_TRUE(cb.Append(data.data(), 5, &out).ok());
  Status s = cb.Patch(3, b, 4);  // past the 5 bytes appended
  EXPECT_EQ(s.code(), Code::kOutOfRange);
  EXPECT_NE(s.message().find("appended so far"), std::string::npos);
  ASSERT_TRUE(cb.Append(data.data() + 5, 20, &out).ok());
  s = cb.Patch(8, b, 4);  // crosses into part 1
  EXPECT_EQ(s.code(), Code::kOutOfRange);
  EXPECT_NE(s.message().find("past part 0"), std::string::npos);
  EXPECT_EQ(cb.Patch(8, nullptr, 2).code(), Code::kInvalidArgument);
  EXPECT_TRUE(cb.Patch(8, b, 0).ok());
  ASSERT_TRUE(cb.Flush(&out).ok());
  EXPECT_EQ(cb.Patch(0, b, 1).code(), Code::kFailedPrecondition);

  ChunkBuffer plain({10});
  ASSERT_TRUE(plain.Append(data.data(), 5, &out).ok());
  s = plain.Patch(0, b, 1);
  EXPECT_EQ(s.code(), Code::kFailedPrecondition);
  EXPECT_NE(s.message().find("holdFirstPart"), std::string::npos);
}

}  // namespace
}  // namespace ck
