#include "pixels/composite.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "test_images.h"

namespace ck {
namespace {

using Pixels = std::vector<uint8_t>;

Pixels Solid(int w, int h, Pixels rgba) {
  Pixels p;
  for (int i = 0; i < w * h; ++i) p.insert(p.end(), rgba.begin(), rgba.end());
  return p;
}

CompositeOptions At(Anchor a, int margin = 0, double opacity = 1.0) {
  CompositeOptions o;
  o.anchor = a;
  o.margin = margin;
  o.opacity = opacity;
  return o;
}

// Which pixels of a w x h image an opaque mark changed (1) or not (0), row by row.
std::vector<int> Footprint(int w, int h, int mw, int mh, const CompositeOptions& o) {
  Pixels im = Solid(w, h, {0, 0, 0, 255}), mark = Solid(mw, mh, {255, 255, 255, 255});
  EXPECT_TRUE(CompositeOver({im.data(), w, h, w * 4}, {mark.data(), mw, mh, mw * 4}, o).ok());
  std::vector<int> f;
  for (int i = 0; i < w * h; ++i) f.push_back(im[i * 4] == 255);
  return f;
}

TEST(Composite, OpacityZeroLeavesTheImageExactlyAlone) {
  Pixels im = testing_images::Noise(9, 7, 1), mark = testing_images::Noise(4, 3, 2), orig = im;
  ASSERT_TRUE(CompositeOver({im.data(), 9, 7, 36}, {mark.data(), 4, 3, 16}, At(Anchor::kCenter, 0, 0.0)).ok());
  EXPECT_EQ(im, orig);
  // Tiny opacities that quantise to 0 as well.
  ASSERT_TRUE(CompositeOver({im.data(), 9, 7, 36}, {mark.data(), 4, 3, 16}, At(Anchor::kCenter, 0, 0.0019)).ok());
  EXPECT_EQ(im, orig);
}

TEST(Composite, TransparentMarkPixelsChangeNothing) {
  Pixels im = testing_images::Noise(5, 5, 3), orig = im, mark = Solid(5, 5, {255, 0, 0, 0});
  ASSERT_TRUE(CompositeOver({im.data(), 5, 5, 20}, {mark.data(), 5, 5, 20}, At(Anchor::kTopLeft)).ok());
  EXPECT_EQ(im, orig);
}

TEST(Composite, OpaqueMarkReplacesPixels) {
  Pixels im = testing_images::Noise(4, 4, 5), mark = testing_images::Noise(2, 2, 6);
  for (size_t i = 3; i < mark.size(); i += 4) mark[i] = 255;
  Pixels orig = im;
  ASSERT_TRUE(CompositeOver({im.data(), 4, 4, 16}, {mark.data(), 2, 2, 8}, At(Anchor::kBottomRight)).ok());
  for (int y = 0; y < 4; ++y)
    for (int x = 0; x < 4; ++x)
      for (int c = 0; c < 4; ++c) {
        const bool inside = x >= 2 && y >= 2;
        EXPECT_EQ(im[(y * 4 + x) * 4 + c], inside ? mark[((y - 2) * 2 + x - 2) * 4 + c] : orig[(y * 4 + x) * 4 + c]);
      }
}

TEST(Composite, Positions) {
  // 6x5 image, 2x2 mark, margin 1.
  auto mark_at = [](int x, int y) {
    std::vector<int> f(30, 0);
    for (int j = 0; j < 2; ++j)
      for (int i = 0; i < 2; ++i) f[(y + j) * 6 + x + i] = 1;
    return f;
  };
  EXPECT_EQ(Footprint(6, 5, 2, 2, At(Anchor::kTopLeft, 1)), mark_at(1, 1));
  EXPECT_EQ(Footprint(6, 5, 2, 2, At(Anchor::kTopRight, 1)), mark_at(3, 1));
  EXPECT_EQ(Footprint(6, 5, 2, 2, At(Anchor::kBottomLeft, 1)), mark_at(1, 2));
  EXPECT_EQ(Footprint(6, 5, 2, 2, At(Anchor::kBottomRight, 1)), mark_at(3, 2));
  EXPECT_EQ(Footprint(6, 5, 2, 2, At(Anchor::kCenter, 1)), mark_at(2, 1));  // centre ignores the margin, rounds down
  EXPECT_EQ(Footprint(6, 5, 2, 2, At(Anchor::kBottomRight, 0)), mark_at(4, 3));
}

TEST(Composite, LargeMarksAndMarginsAreClipped) {
  // 3x3 mark centred on a 2x2 image: origin (-1, -1), so mark pixels (1..2, 1..2) land.
  Pixels im = Solid(2, 2, {0, 0, 0, 255}), mark(3 * 3 * 4);
  for (int i = 0; i < 9; ++i) mark[i * 4] = uint8_t(i * 10), mark[i * 4 + 3] = 255;
  ASSERT_TRUE(CompositeOver({im.data(), 2, 2, 8}, {mark.data(), 3, 3, 12}, At(Anchor::kCenter)).ok());
  EXPECT_EQ(im[0], 40);
  EXPECT_EQ(im[4], 50);
  EXPECT_EQ(im[8], 70);
  EXPECT_EQ(im[12], 80);
  // A margin that pushes the mark off the image changes nothing.
  std::vector<int> none(12, 0);
  EXPECT_EQ(Footprint(4, 3, 2, 2, At(Anchor::kTopLeft, 16384)), none);
  EXPECT_EQ(Footprint(4, 3, 2, 2, At(Anchor::kBottomRight, 5)), none);
  // Bigger than the image in one direction.
  EXPECT_EQ(Footprint(4, 3, 10, 1, At(Anchor::kTopRight)), (std::vector<int>{1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0}));
}

TEST(Composite, HalfTransparentWhiteOverBlack) {
  Pixels im = Solid(1, 1, {0, 0, 0, 255}), mark = Solid(1, 1, {255, 255, 255, 128});
  ASSERT_TRUE(CompositeOver({im.data(), 1, 1, 4}, {mark.data(), 1, 1, 4}, At(Anchor::kTopLeft)).ok());
  EXPECT_EQ(im, (Pixels{128, 128, 128, 255}));
  // Opacity 0.5 on an opaque mark: 0.5 * 255 = 127.5 -> 128.
  im = Solid(1, 1, {0, 0, 0, 255}), mark = Solid(1, 1, {255, 255, 255, 255});
  ASSERT_TRUE(CompositeOver({im.data(), 1, 1, 4}, {mark.data(), 1, 1, 4}, At(Anchor::kTopLeft, 0, 0.5)).ok());
  EXPECT_EQ(im, (Pixels{128, 128, 128, 255}));
}

TEST(Composite, OverATransparentImageKeepsTheMarkColour) {
  Pixels im = Solid(1, 1, {9, 9, 9, 0}), mark = Solid(1, 1, {200, 100, 50, 77});
  ASSERT_TRUE(CompositeOver({im.data(), 1, 1, 4}, {mark.data(), 1, 1, 4}, At(Anchor::kTopLeft)).ok());
  EXPECT_EQ(im, (Pixels{200, 100, 50, 77}));
}

TEST(Composite, MatchesTheExactFormula) {
  const int w = 23, h = 19, mw = 11, mh = 13;
  Pixels im = testing_images::Noise(w, h, 7), mark = testing_images::Noise(mw, mh, 8);
  for (double opacity : {1.0, 0.7, 0.25}) {
    Pixels out = im;
    ASSERT_TRUE(CompositeOver({out.data(), w, h, w * 4}, {mark.data(), mw, mh, mw * 4}, At(Anchor::kCenter, 0, opacity)).ok());
    const int ox = (w - mw) / 2, oy = (h - mh) / 2;
    const double o = std::lround(opacity * 255) / 255.0;
    for (int y = 0; y < mh; ++y)
      for (int x = 0; x < mw; ++x) {
        const uint8_t* m = &mark[(y * mw + x) * 4];
        const uint8_t* d = &im[((oy + y) * w + ox + x) * 4];
        const uint8_t* r = &out[((oy + y) * w + ox + x) * 4];
        const double as = m[3] / 255.0 * o, ad = d[3] / 255.0;
        const double a = as + ad * (1 - as);
        if (as == 0) {
          for (int c = 0; c < 4; ++c) EXPECT_EQ(r[c], d[c]);
          continue;
        }
        for (int c = 0; c < 3; ++c) EXPECT_NEAR(r[c], (m[c] * as + d[c] * ad * (1 - as)) / a, 0.5 + 1e-9);
        EXPECT_NEAR(r[3], a * 255, 0.5 + 1e-9);
      }
  }
}

TEST(Composite, HonoursStrides) {
  const int w = 3, h = 2, s = w * 4 + 4, ms = 2 * 4 + 8;
  Pixels im(size_t(s) * h, 0xEE), mark(size_t(ms) * 2, 0x77);
  for (int y = 0; y < h; ++y)
    for (int i = 0; i < w * 4; ++i) im[y * s + i] = (i % 4 == 3) ? 255 : 0;
  for (int y = 0; y < 2; ++y)
    for (int i = 0; i < 8; ++i) mark[y * ms + i] = 255;
  ASSERT_TRUE(CompositeOver({im.data(), w, h, s}, {mark.data(), 2, 2, ms}, At(Anchor::kTopRight)).ok());
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) EXPECT_EQ(im[y * s + x * 4], x >= 1 ? 255 : 0);
    for (int i = w * 4; i < s; ++i) EXPECT_EQ(im[y * s + i], 0xEE);
  }
}

TEST(Composite, RejectsBadOptions) {
  Pixels im(16), mark(4);
  const Image a{im.data(), 2, 2, 8}, m{mark.data(), 1, 1, 4};
  EXPECT_EQ(CompositeOver(a, m, At(Anchor::kCenter, 0, std::nan(""))).code(), Code::kOutOfRange);
  EXPECT_EQ(CompositeOver(a, m, At(Anchor::kCenter, 0, std::nan(""))).message(),
            "composite: opacity must be between 0 and 1, got NaN");
  EXPECT_EQ(CompositeOver(a, m, At(Anchor::kCenter, 0, 1.01)).code(), Code::kOutOfRange);
  EXPECT_EQ(CompositeOver(a, m, At(Anchor::kCenter, 0, -0.1)).code(), Code::kOutOfRange);
  EXPECT_EQ(CompositeOver(a, m, At(Anchor::kCenter, -1, 1)).code(), Code::kOutOfRange);
  EXPECT_EQ(CompositeOver(a, {nullptr, 1, 1, 4}, At(Anchor::kCenter)).code(), Code::kInvalidArgument);
  Anchor anchor;
  EXPECT_TRUE(ParseAnchor("bottom-left", &anchor).ok());
  EXPECT_EQ(anchor, Anchor::kBottomLeft);
  EXPECT_EQ(ParseAnchor("middle", &anchor).code(), Code::kOutOfRange);
}

}  // namespace
}  // namespace ck
