#include "pixels/convert_i420.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "test_images.h"

namespace ck {
namespace {

using Px = std::vector<uint8_t>;

struct Planes {
  int w, h, cw, ch;
  Px y, u, v;
  Planes(int w_, int h_) : w(w_), h(h_), cw((w_ + 1) / 2), ch((h_ + 1) / 2), y(w * h), u(cw * ch), v(cw * ch) {}
};

Planes Convert(const Px& rgba, int w, int h, int stride = 0) {
  Planes p(w, h);
  Status s = RgbaToI420({const_cast<uint8_t*>(rgba.data()), w, h, stride ? stride : w * 4}, p.y.data(), w,
                        p.u.data(), p.cw, p.v.data(), p.cw);
  EXPECT_TRUE(s.ok()) << s.message();
  return p;
}

Px Solid(int w, int h, uint8_t r, uint8_t g, uint8_t b) {
  Px px(size_t(w) * h * 4);
  for (size_t i = 0; i < px.size(); i += 4) px[i] = r, px[i + 1] = g, px[i + 2] = b, px[i + 3] = 99;
  return px;
}

void ExpectSolid(const Planes& p, int y, int u, int v) {
  for (uint8_t a : p.y) ASSERT_EQ(a, y);
  for (uint8_t a : p.u) ASSERT_EQ(a, u);
  for (uint8_t a : p.v) ASSERT_EQ(a, v);
}

TEST(I420, WhiteBlackAndPrimaries) {
  for (auto [w, h] : {std::pair{1, 1}, {2, 2}, {5, 3}, {33, 17}}) {
    ExpectSolid(Convert(Solid(w, h, 255, 255, 255), w, h), 235, 128, 128);
    ExpectSolid(Convert(Solid(w, h, 0, 0, 0), w, h), 16, 128, 128);
    ExpectSolid(Convert(Solid(w, h, 128, 128, 128), w, h), 126, 128, 128);  // (220*128 + 128) >> 8 = 110, + 16
    // BT.601 studio swing: red 82/90/240, green 144/54/34, blue 41/240/110.
    ExpectSolid(Convert(Solid(w, h, 255, 0, 0), w, h), 82, 90, 240);
    ExpectSolid(Convert(Solid(w, h, 0, 255, 0), w, h), 144, 54, 34);
    ExpectSolid(Convert(Solid(w, h, 0, 0, 255), w, h), 41, 240, 110);
  }
}

TEST(I420, ChromaIsTheRoundedBlockAverage) {
  // 2x2: red, green / blue, white. Average R = (255 + 0 + 0 + 255 + 2) >> 2 = 128, G = 128, B = 128: grey.
  Px px = {255, 0, 0, 0, 0, 255, 0, 0, 0, 0, 255, 0, 255, 255, 255, 0};
  Planes p = Convert(px, 2, 2);
  EXPECT_EQ(p.y, (Px{82, 144, 41, 235}));
  EXPECT_EQ(p.u[0], 128);
  EXPECT_EQ(p.v[0], 128);
  // Average (1+2+3+4+2)>>2 = 3 for R, G = 0, B = 0: U = (-38*3 + 0x8080) >> 8 = 128, V = (336 + 0x8080) >> 8 = 129.
  Px q = {1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0};
  Planes pq = Convert(q, 2, 2);
  EXPECT_EQ(pq.u[0], 128);
  EXPECT_EQ(pq.v[0], 129);
}

TEST(I420, OddSizesRepeatTheLastColumnAndRow) {
  // 3x3 noise: the block at (1,1) is just pixel (2,2) repeated, the block at (1,0) pixels (2,0) and (2,1).
  Px px = testing_images::Noise(3, 3, 11);
  Planes p = Convert(px, 3, 3);
  ASSERT_EQ(p.u.size(), 4u);
  auto at = [&](int x, int y, int c) { return int(px[(y * 3 + x) * 4 + c]); };
  auto u = [](int r, int g, int b) { return (112 * b - 74 * g - 38 * r + 0x8080) >> 8; };
  auto v = [](int r, int g, int b) { return (112 * r - 94 * g - 18 * b + 0x8080) >> 8; };
  EXPECT_EQ(p.u[3], u(at(2, 2, 0), at(2, 2, 1), at(2, 2, 2)));
  EXPECT_EQ(p.v[3], v(at(2, 2, 0), at(2, 2, 1), at(2, 2, 2)));
  int r = (2 * at(2, 0, 0) + 2 * at(2, 1, 0) + 2) >> 2, g = (2 * at(2, 0, 1) + 2 * at(2, 1, 1) + 2) >> 2,
      b = (2 * at(2, 0, 2) + 2 * at(2, 1, 2) + 2) >> 2;
  EXPECT_EQ(p.u[1], u(r, g, b));
  EXPECT_EQ(p.v[1], v(r, g, b));
}

TEST(I420, MatchesFloatingPointBt601WithinRounding) {
  // The integer formulas against the real-valued BT.601 limited-range matrix: within 1.5 levels.
  Px px = testing_images::Noise(41, 23, 2);
  Planes p = Convert(px, 41, 23);
  for (int y = 0; y < 23; ++y)
    for (int x = 0; x < 41; ++x) {
      const uint8_t* c = &px[(y * 41 + x) * 4];
      const double want = 16 + (65.481 * c[0] + 128.553 * c[1] + 24.966 * c[2]) / 255;
      EXPECT_LE(std::abs(p.y[y * 41 + x] - want), 1.5) << x << "," << y;
    }
}

TEST(I420, StridesArePadded) {
  const int w = 37, h = 5, stride = w * 4 + 12, ys = w + 3, cs = (w + 1) / 2 + 5;
  Px noise = testing_images::Noise(w, h, 8), px(size_t(stride) * h, 0xEE);
  for (int y = 0; y < h; ++y)
    for (int i = 0; i < w * 4; ++i) px[y * stride + i] = noise[y * w * 4 + i];
  Px yp(size_t(ys) * h, 0x55), up(size_t(cs) * 3, 0x55), vp(size_t(cs) * 3, 0x55);
  ASSERT_TRUE(RgbaToI420({px.data(), w, h, stride}, yp.data(), ys, up.data(), cs, vp.data(), cs).ok());
  Planes packed = Convert(noise, w, h);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) EXPECT_EQ(yp[y * ys + x], packed.y[y * w + x]);
    for (int x = w; x < ys; ++x) EXPECT_EQ(yp[y * ys + x], 0x55);
  }
  for (int y = 0; y < 3; ++y) {
    for (int x = 0; x < packed.cw; ++x) {
      EXPECT_EQ(up[y * cs + x], packed.u[y * packed.cw + x]);
      EXPECT_EQ(vp[y * cs + x], packed.v[y * packed.cw + x]);
    }
    for (int x = packed.cw; x < cs; ++x) EXPECT_EQ(up[y * cs + x], 0x55);
  }
}

TEST(I420, RejectsBadArguments) {
  Px px(16), y(4), u(1), v(1);
  Image im{px.data(), 2, 2, 8};
  EXPECT_EQ(RgbaToI420(im, nullptr, 2, u.data(), 1, v.data(), 1).code(), Code::kInvalidArgument);
  Status s = RgbaToI420(im, y.data(), 1, u.data(), 1, v.data(), 1);
  EXPECT_EQ(s.code(), Code::kOutOfRange);
  EXPECT_NE(s.message().find("Y stride 1 is less than the width 2"), std::string::npos) << s.message();
  EXPECT_EQ(RgbaToI420(im, y.data(), 2, u.data(), 0, v.data(), 1).code(), Code::kOutOfRange);
  EXPECT_EQ(RgbaToI420({px.data(), 2, 2, 4}, y.data(), 2, u.data(), 1, v.data(), 1).code(), Code::kOutOfRange);
}

}  // namespace
}  // namespace ck
