#include "pixels/premultiply.h"

#include <gtest/gtest.h>

#include <vector>

#include "test_images.h"

namespace ck {
namespace {

TEST(Unpremultiply, EveryValueAndAlphaMatchesTheDivision) {
  // 256 x 256: pixel (c, a) = {c, 255 - c, c / 2, a}.
  std::vector<uint8_t> px(256 * 256 * 4);
  for (int a = 0; a < 256; ++a)
    for (int c = 0; c < 256; ++c) {
      uint8_t* p = &px[(a * 256 + c) * 4];
      p[0] = uint8_t(c), p[1] = uint8_t(255 - c), p[2] = uint8_t(c / 2), p[3] = uint8_t(a);
    }
  ASSERT_TRUE(UnpremultiplyAlpha({px.data(), 256, 256, 1024}).ok());
  auto want = [](int v, int a) { return a == 0 ? 0 : std::min(255, (v * 255 + a / 2) / a); };
  for (int a = 0; a < 256; ++a)
    for (int c = 0; c < 256; ++c) {
      const uint8_t* p = &px[(a * 256 + c) * 4];
      ASSERT_EQ(p[0], want(c, a)) << c << "/" << a;
      ASSERT_EQ(p[1], want(255 - c, a)) << c << "/" << a;
      ASSERT_EQ(p[2], want(c / 2, a)) << c << "/" << a;
      ASSERT_EQ(p[3], a);
    }
}

TEST(Unpremultiply, ExamplesAndOneByOne) {
  std::vector<uint8_t> px = {64, 32, 0, 128};  // 64*255/128 = 127.5 -> 128 (half up), 32 -> 63.75 -> 64
  ASSERT_TRUE(UnpremultiplyAlpha({px.data(), 1, 1, 4}).ok());
  EXPECT_EQ(px, (std::vector<uint8_t>{128, 64, 0, 128}));
  px = {10, 20, 30, 0};
  ASSERT_TRUE(UnpremultiplyAlpha({px.data(), 1, 1, 4}).ok());
  EXPECT_EQ(px, (std::vector<uint8_t>{0, 0, 0, 0}));
  px = {10, 20, 30, 255};
  ASSERT_TRUE(UnpremultiplyAlpha({px.data(), 1, 1, 4}).ok());
  EXPECT_EQ(px, (std::vector<uint8_t>{10, 20, 30, 255}));
}

TEST(Unpremultiply, UndoesPremultiplyWithinRounding) {
  std::vector<uint8_t> orig = testing_images::Noise(31, 9, 4), px = orig;
  Image im{px.data(), 31, 9, 31 * 4};
  ASSERT_TRUE(PremultiplyAlpha(im).ok());
  ASSERT_TRUE(UnpremultiplyAlpha(im).ok());
  for (size_t i = 0; i < px.size(); i += 4) {
    const int a = orig[i + 3];
    ASSERT_EQ(px[i + 3], a);
    if (a == 0) continue;
    // Premultiplied storage keeps about a levels per channel, so the error is at most 255 / (2a) + 1.
    for (int c = 0; c < 3; ++c) ASSERT_LE(std::abs(px[i + c] - orig[i + c]), 255 / (2 * a) + 1) << "alpha " << a;
  }
}

TEST(Unpremultiply, LeavesStridePaddingAlone) {
  const int w = 3, h = 2, s = w * 4 + 4;
  std::vector<uint8_t> px(size_t(s) * h, 0xEE);
  for (int y = 0; y < h; ++y)
    for (int i = 0; i < w * 4; ++i) px[y * s + i] = (i % 4 == 3) ? 128 : 64;
  ASSERT_TRUE(UnpremultiplyAlpha({px.data(), w, h, s}).ok());
  for (int y = 0; y < h; ++y) {
    for (int i = 0; i < w * 4; ++i) EXPECT_EQ(px[y * s + i], 128);
    for (int i = w * 4; i < s; ++i) EXPECT_EQ(px[y * s + i], 0xEE);
  }
}

TEST(Unpremultiply, RejectsBadImages) {
  std::vector<uint8_t> px(16);
  EXPECT_EQ(UnpremultiplyAlpha({px.data(), 0, 1, 4}).code(), Code::kOutOfRange);
  EXPECT_EQ(UnpremultiplyAlpha({nullptr, 1, 1, 4}).code(), Code::kInvalidArgument);
  EXPECT_EQ(UnpremultiplyAlpha({px.data(), 2, 2, 4}).code(), Code::kOutOfRange);
}

}  // namespace
}  // namespace ck
