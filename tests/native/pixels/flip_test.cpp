#include "pixels/flip.h"

#include <gtest/gtest.h>

#include <vector>

#include "test_images.h"

namespace ck {
namespace {

TEST(Flip, OneByOneIsUnchanged) {
  std::vector<uint8_t> px = {1, 2, 3, 4};
  ASSERT_TRUE(FlipVertical({px.data(), 1, 1, 4}).ok());
  EXPECT_EQ(px, (std::vector<uint8_t>{1, 2, 3, 4}));
}

TEST(Flip, OddHeightKeepsMiddleRow) {
  // 2x3, each row filled with its row number.
  std::vector<uint8_t> px(2 * 3 * 4);
  for (int y = 0; y < 3; ++y)
    for (int i = 0; i < 8; ++i) px[y * 8 + i] = uint8_t(y);
  ASSERT_TRUE(FlipVertical({px.data(), 2, 3, 8}).ok());
  for (int y = 0; y < 3; ++y)
    for (int i = 0; i < 8; ++i) EXPECT_EQ(px[y * 8 + i], 2 - y);
}

TEST(Flip, StrideLargerThanRowLeavesPaddingAlone) {
  const int w = 3, h = 4, stride = w * 4 + 5;
  std::vector<uint8_t> px(stride * h, 0xEE);
  for (int y = 0; y < h; ++y)
    for (int i = 0; i < w * 4; ++i) px[y * stride + i] = uint8_t(y * 16 + i);
  ASSERT_TRUE(FlipVertical({px.data(), w, h, stride}).ok());
  for (int y = 0; y < h; ++y) {
    for (int i = 0; i < w * 4; ++i) EXPECT_EQ(px[y * stride + i], uint8_t((h - 1 - y) * 16 + i));
    for (int i = w * 4; i < stride; ++i) EXPECT_EQ(px[y * stride + i], 0xEE);
  }
}

TEST(Flip, TwiceIsIdentityOnWideRows) {
  // Rows wider than the 256-byte swap block, odd width.
  std::vector<uint8_t> px = testing_images::Noise(301, 7, 42);
  std::vector<uint8_t> orig = px;
  Image im{px.data(), 301, 7, 301 * 4};
  ASSERT_TRUE(FlipVertical(im).ok());
  EXPECT_NE(px, orig);
  ASSERT_TRUE(FlipVertical(im).ok());
  EXPECT_EQ(px, orig);
}

TEST(Flip, CopyMatchesInPlace) {
  std::vector<uint8_t> a = testing_images::Noise(17, 9, 1), b(17 * 9 * 4);
  ASSERT_TRUE(FlipVerticalCopy({a.data(), 17, 9, 68}, {b.data(), 17, 9, 68}).ok());
  ASSERT_TRUE(FlipVertical({a.data(), 17, 9, 68}).ok());
  EXPECT_EQ(a, b);
}

TEST(Flip, RejectsBadImages) {
  std::vector<uint8_t> px(16);
  EXPECT_EQ(FlipVertical({px.data(), 0, 1, 4}).code(), Code::kOutOfRange);
  EXPECT_EQ(FlipVertical({px.data(), 2, 2, 4}).code(), Code::kOutOfRange);  // stride < width*4
  EXPECT_EQ(FlipVertical({nullptr, 1, 1, 4}).code(), Code::kInvalidArgument);
  EXPECT_EQ(FlipVertical({px.data(), 20000, 1, 80000}).code(), Code::kOutOfRange);
}

}  // namespace
}  // namespace ck
