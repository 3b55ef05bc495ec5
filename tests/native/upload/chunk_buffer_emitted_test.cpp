// ChunkBuffer's emitted range: the bytes its emitted parts hold, which a recording's tail may let go of.
#include <gtest/gtest.h>

#include <vector>

#include "upload/chunk_buffer.h"

namespace ck {
namespace {

TEST(ChunkBufferEmitted, PlainPartsCoverTheStreamFromTheStart) {
  ChunkBuffer cb(ChunkBufferOptions{10, false});
  std::vector<ChunkPart> out;
  std::vector<uint8_t> bytes(25, 1);
  EXPECT_EQ(cb.emitted_end(), 0u);
  ASSERT_TRUE(cb.Append(bytes.data(), bytes.size(), &out).ok());
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(cb.emitted_begin(), 0u);
  EXPECT_EQ(cb.emitted_end(), 20u);
  ASSERT_TRUE(cb.Flush(&out).ok());
  EXPECT_EQ(cb.emitted_end(), 25u);
}

TEST(ChunkBufferEmitted, AHeldPartZeroIsNotEmitted) {
  ChunkBuffer cb(ChunkBufferOptions{10, true});
  std::vector<ChunkPart> out;
  std::vector<uint8_t> bytes(8, 1);
  ASSERT_TRUE(cb.Append(bytes.data(), bytes.size(), &out).ok());
  EXPECT_EQ(cb.emitted_begin(), 0u);
  EXPECT_EQ(cb.emitted_end(), 0u);  // part 0 is still being filled
  ASSERT_TRUE(cb.Append(bytes.data(), bytes.size(), &out).ok());
  EXPECT_TRUE(out.empty());         // part 0 is full and held
  EXPECT_EQ(cb.emitted_begin(), 10u);
  EXPECT_EQ(cb.emitted_end(), 10u);
  std::vector<uint8_t> more(20, 2);
  ASSERT_TRUE(cb.Append(more.data(), more.size(), &out).ok());
  ASSERT_EQ(out.size(), 2u);        // parts 1 and 2; bytes 30..36 wait for more
  EXPECT_EQ(cb.emitted_begin(), 10u);
  EXPECT_EQ(cb.emitted_end(), 30u);
  ASSERT_TRUE(cb.Flush(&out).ok());
  EXPECT_EQ(cb.emitted_begin(), 0u);  // part 0 went out last
  EXPECT_EQ(cb.emitted_end(), 36u);
}

}  // namespace
}  // namespace ck
