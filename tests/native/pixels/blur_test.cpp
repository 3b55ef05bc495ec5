#include "pixels/blur.h"

#include <gtest/gtest.h>

#include <vector>

#include "test_images.h"

namespace ck {
namespace {

using Px = std::vector<uint8_t>;

// The documented two passes written directly (2D index clamping, no padding, no row pointers).
Px Reference(const Px& in, int w, int h, int stride, int r) {
  const std::vector<int> k = GaussianKernel(r);
  auto wt = [&](int d) { return k[d < 0 ? -d : d]; };
  auto cl = [](int v, int n) { return v < 0 ? 0 : (v >= n ? n - 1 : v); };
  std::vector<int> mid(size_t(w) * h * 4);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < 4; ++c) {
        int acc = 0;
        for (int d = -r; d <= r; ++d) acc += wt(d) * in[y * stride + cl(x + d, w) * 4 + c];
        mid[(y * w + x) * 4 + c] = (acc + 128) >> 8;
      }
  Px out = in;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < 4; ++c) {
        int64_t acc = 0;
        for (int d = -r; d <= r; ++d) acc += int64_t(wt(d)) * mid[(cl(y + d, h) * w + x) * 4 + c];
        out[y * stride + x * 4 + c] = uint8_t((acc + (1 << 19)) >> 20);
      }
  return out;
}

TEST(Blur, KernelIsSymmetricNormalisedAndDecreasing) {
  for (int r = 0; r <= kMaxBlurRadius; ++r) {
    const std::vector<int> w = GaussianKernel(r);
    ASSERT_EQ(w.size(), size_t(r) + 1);
    int sum = w[0];
    for (int k = 1; k <= r; ++k) {
      sum += 2 * w[k];
      EXPECT_GT(w[k], 0) << r;
      EXPECT_LE(w[k], w[k - 1]) << r;
    }
    EXPECT_EQ(sum, 1 << kBlurWeightBits) << r;
  }
  // sigma = r/2: by hand, exp(-k^2 / (2 sigma^2)) scaled to 2^14.
  EXPECT_EQ(GaussianKernel(1), (std::vector<int>{12894, 1745}));
  EXPECT_EQ(GaussianKernel(2), (std::vector<int>{6596, 4001, 893}));
  EXPECT_EQ(GaussianKernel(4), (std::vector<int>{3346, 2952, 2029, 1086, 452}));
}

TEST(Blur, RadiusZeroIsIdentity) {
  Px px = testing_images::Noise(13, 7, 5), orig = px;
  ASSERT_TRUE(GaussianBlur({px.data(), 13, 7, 52}, {0}).ok());
  EXPECT_EQ(px, orig);
}

TEST(Blur, ConstantImageStaysExactlyConstant) {
  for (int r : {1, 2, 4, 17, 64}) {
    for (auto [w, h] : {std::pair{1, 1}, {3, 5}, {40, 2}, {9, 70}}) {
      const int stride = w * 4 + 8;
      Px px(size_t(stride) * h, 0xCD);
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
          uint8_t* p = &px[y * stride + x * 4];
          p[0] = 0, p[1] = 1, p[2] = 254, p[3] = 255;
        }
      Px orig = px;
      ASSERT_TRUE(GaussianBlur({px.data(), w, h, stride}, {r}).ok());
      EXPECT_EQ(px, orig) << "r=" << r << " " << w << "x" << h;  // padding untouched too
    }
  }
}

TEST(Blur, ImpulseResponseByHand) {
  // A 3x3 black image with one 255 in the centre's red channel, radius 1 (weights 12894, 1745):
  // horizontal Q6 row: 1738, 12844, 1738; vertical: centre (12844*12894 + 2^19) >> 20 = 158,
  // edge middles 21, corners (1738*1745 + 2^19) >> 20 = 3.
  Px px(3 * 3 * 4, 0);
  px[(1 * 3 + 1) * 4] = 255;
  ASSERT_TRUE(GaussianBlur({px.data(), 3, 3, 12}, {1}).ok());
  const int want[9] = {3, 21, 3, 21, 158, 21, 3, 21, 3};
  for (int i = 0; i < 9; ++i) {
    EXPECT_EQ(px[i * 4], want[i]) << i;
    EXPECT_EQ(px[i * 4 + 1], 0);
    EXPECT_EQ(px[i * 4 + 3], 0);
  }
}

TEST(Blur, MatchesReferenceOnNoise) {
  for (int r : {1, 3, 4, 10, 64}) {
    for (auto [w, h] : {std::pair{1, 1}, {7, 5}, {33, 9}, {3, 2}}) {
      const int stride = w * 4 + 4;
      Px px(size_t(stride) * h);
      Px noise = testing_images::Noise(w, h, uint32_t(r * 100 + w));
      for (int y = 0; y < h; ++y)
        for (int i = 0; i < w * 4 + 4; ++i) px[y * stride + i] = i < w * 4 ? noise[y * w * 4 + i] : 0x77;
      Px want = Reference(px, w, h, stride, r);
      ASSERT_TRUE(GaussianBlur({px.data(), w, h, stride}, {r}).ok());
      EXPECT_EQ(px, want) << "r=" << r << " " << w << "x" << h;
    }
  }
}

TEST(Blur, SmoothsNoise) {
  Px px = testing_images::Noise(64, 64, 9);
  auto energy = [&] {
    int64_t e = 0;
    for (int y = 0; y < 64; ++y)
      for (int x = 1; x < 64; ++x) e += std::abs(px[(y * 64 + x) * 4] - px[(y * 64 + x - 1) * 4]);
    return e;
  };
  const int64_t before = energy();
  ASSERT_TRUE(GaussianBlur({px.data(), 64, 64, 256}, {4}).ok());
  EXPECT_LT(energy() * 10, before);
}

TEST(Blur, RejectsBadRadiusAndImages) {
  Px px(16, 1), orig = px;
  Status s = GaussianBlur({px.data(), 2, 2, 8}, {65});
  EXPECT_EQ(s.code(), Code::kOutOfRange);
  EXPECT_NE(s.message().find("radius must be between 0 and 64, got 65"), std::string::npos) << s.message();
  EXPECT_EQ(GaussianBlur({px.data(), 2, 2, 8}, {-1}).code(), Code::kOutOfRange);
  EXPECT_EQ(px, orig);
  EXPECT_EQ(GaussianBlur({px.data(), 2, 2, 7}, {1}).code(), Code::kOutOfRange);
  EXPECT_EQ(GaussianBlur({nullptr, 2, 2, 8}, {1}).code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace ck
