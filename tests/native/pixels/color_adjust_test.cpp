#include "pixels/color_adjust.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "test_images.h"

namespace ck {
namespace {

using Px = std::vector<uint8_t>;

// The documented formulas, written independently (floating floor) as the reference.
int Clamp(double v) { return v < 0 ? 0 : (v > 255 ? 255 : int(v)); }
void Reference(uint8_t* p, int b, int c, int s) {
  int ch[3];
  for (int i = 0; i < 3; ++i) ch[i] = Clamp(128 + std::floor(((p[i] + b - 128) * double(c) + 128) / 256));
  const int y = int(std::floor((77.0 * ch[0] + 150.0 * ch[1] + 29.0 * ch[2] + 128) / 256));
  for (int i = 0; i < 3; ++i) p[i] = uint8_t(Clamp(y + std::floor(((ch[i] - y) * double(s) + 128) / 256)));
}

Px Adjusted(Px px, double b, double c, double s) {
  EXPECT_TRUE(AdjustColor({px.data(), int(px.size() / 4), 1, int(px.size())}, {b, c, s}).ok());
  return px;
}

TEST(ColorAdjust, ZeroIsExactIdentity) {
  Px px = testing_images::Noise(37, 5, 3), orig = px;
  ASSERT_TRUE(AdjustColor({px.data(), 37, 5, 37 * 4}, {}).ok());
  EXPECT_EQ(px, orig);
  // Tiny values round to the identity parameters too.
  ASSERT_TRUE(AdjustColor({px.data(), 37, 5, 37 * 4}, {0.001, 0.001, -0.001}).ok());
  EXPECT_EQ(px, orig);
}

TEST(ColorAdjust, FixedPointParameters) {
  AdjustParams p;
  ASSERT_TRUE(MakeAdjustParams({0.5, -0.5, 1}, &p).ok());
  EXPECT_EQ(p.brightness, 128);  // round(127.5)
  EXPECT_EQ(p.contrast_q8, 128);
  EXPECT_EQ(p.saturation_q8, 512);
  ASSERT_TRUE(MakeAdjustParams({-1, 1, -1}, &p).ok());
  EXPECT_EQ(p.brightness, -255);
  EXPECT_EQ(p.contrast_q8, 512);
  EXPECT_EQ(p.saturation_q8, 0);
}

TEST(ColorAdjust, BrightnessAddsAndClamps) {
  EXPECT_EQ(Adjusted({0, 100, 250, 7}, 1, 0, 0), (Px{255, 255, 255, 7}));
  EXPECT_EQ(Adjusted({0, 100, 250, 7}, -1, 0, 0), (Px{0, 0, 0, 7}));
  EXPECT_EQ(Adjusted({0, 100, 250, 7}, 0.2, 0, 0), (Px{51, 151, 255, 7}));  // +51
  EXPECT_EQ(Adjusted({0, 100, 250, 7}, -0.2, 0, 0), (Px{0, 49, 199, 7}));
}

TEST(ColorAdjust, ContrastAroundMidGrey) {
  EXPECT_EQ(Adjusted({0, 128, 255, 9}, 0, -1, 0), (Px{128, 128, 128, 9}));        // flat grey
  EXPECT_EQ(Adjusted({100, 128, 200, 9}, 0, 1, 0), (Px{72, 128, 255, 9}));       // 128 + 2(v - 128)
  EXPECT_EQ(Adjusted({0, 64, 192, 9}, 0, 0.5, 0), (Px{0, 32, 224, 9}));          // 128 + 1.5(v - 128)
  EXPECT_EQ(Adjusted({0, 64, 255, 9}, 0, -0.5, 0), (Px{64, 96, 192, 9}));        // 128 + 0.5(v - 128), floor
  // Brightness first, then contrast: (100 + 51 - 128) * 2 + 128 = 174.
  EXPECT_EQ(Adjusted({100, 100, 100, 1}, 0.2, 1, 0), (Px{174, 174, 174, 1}));
}

TEST(ColorAdjust, SaturationUsesBt601Luma) {
  // -1: greyscale with Y = (77R + 150G + 29B + 128) >> 8.
  EXPECT_EQ(Adjusted({255, 0, 0, 200}, 0, 0, -1), (Px{77, 77, 77, 200}));
  EXPECT_EQ(Adjusted({0, 255, 0, 200}, 0, 0, -1), (Px{149, 149, 149, 200}));
  EXPECT_EQ(Adjusted({0, 0, 255, 200}, 0, 0, -1), (Px{29, 29, 29, 200}));
  EXPECT_EQ(Adjusted({200, 100, 50, 0}, 0, 0, -1), (Px{124, 124, 124, 0}));
  // +1: distance from Y doubled, clamped: Y = 124, R 124 + 152, G 124 - 48, B 124 - 148.
  EXPECT_EQ(Adjusted({200, 100, 50, 0}, 0, 0, 1), (Px{255, 76, 0, 0}));
  // Greys have nothing to saturate.
  EXPECT_EQ(Adjusted({100, 100, 100, 3, 0, 0, 0, 0, 255, 255, 255, 255}, 0, 0, 1),
            (Px{100, 100, 100, 3, 0, 0, 0, 0, 255, 255, 255, 255}));
}

TEST(ColorAdjust, MatchesReferenceOnEveryValue) {
  // Every channel value at every position, odd width, stride padding that must stay untouched.
  const int w = 257, h = 3, stride = w * 4 + 12;
  Px px(size_t(stride) * h, 0xA5);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < 4; ++c) px[y * stride + x * 4 + c] = uint8_t(x * (c + 1) + y * 85 + c * 60);
  const double cases[][3] = {{0.3, 0.4, 0.5}, {-0.7, 0.9, -0.3}, {0.1, -0.6, 1}, {0, 0, -0.5}, {-1, -1, 1}, {0.9, 0.2, 0}};
  for (const auto& o : cases) {
    Px got = px, want = px;
    ASSERT_TRUE(AdjustColor({got.data(), w, h, stride}, {o[0], o[1], o[2]}).ok());
    AdjustParams p;
    ASSERT_TRUE(MakeAdjustParams({o[0], o[1], o[2]}, &p).ok());
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) Reference(&want[y * stride + x * 4], p.brightness, p.contrast_q8, p.saturation_q8);
    EXPECT_EQ(got, want) << o[0] << " " << o[1] << " " << o[2];
  }
}

TEST(ColorAdjust, LutMatchesFormula) {
  AdjustParams p;
  ASSERT_TRUE(MakeAdjustParams({-0.3, 0.7, 0}, &p).ok());
  uint8_t lut[256];
  BuildToneLut(p, lut);
  for (int v = 0; v < 256; ++v) {
    uint8_t px[4] = {uint8_t(v), 0, 0, 0};
    Reference(px, p.brightness, p.contrast_q8, 256);
    EXPECT_EQ(lut[v], px[0]) << v;
    if (v) {
      EXPECT_GE(lut[v], lut[v - 1]);
    }
  }
}

TEST(ColorAdjust, OneByOne) {
  Px px = {10, 20, 30, 40};
  ASSERT_TRUE(AdjustColor({px.data(), 1, 1, 4}, {0.1, 0, 0}).ok());
  EXPECT_EQ(px, (Px{36, 46, 56, 40}));  // round(25.5) = 26
}

TEST(ColorAdjust, RejectsBadOptionsWithoutTouchingPixels) {
  Px px = {10, 20, 30, 40}, orig = px;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  Status s = AdjustColor({px.data(), 1, 1, 4}, {nan, 0, 0});
  EXPECT_EQ(s.code(), Code::kOutOfRange);
  EXPECT_NE(s.message().find("brightness must be between -1 and 1, got nan"), std::string::npos) << s.message();
  s = AdjustColor({px.data(), 1, 1, 4}, {0, 1.5, 0});
  EXPECT_NE(s.message().find("contrast must be between -1 and 1, got 1.5"), std::string::npos) << s.message();
  s = AdjustColor({px.data(), 1, 1, 4}, {0, 0, -std::numeric_limits<double>::infinity()});
  EXPECT_NE(s.message().find("saturation"), std::string::npos) << s.message();
  EXPECT_EQ(px, orig);
  EXPECT_EQ(AdjustColor({px.data(), 2, 1, 4}, {}).code(), Code::kOutOfRange);
  EXPECT_EQ(AdjustColor({nullptr, 1, 1, 4}, {}).code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace ck
