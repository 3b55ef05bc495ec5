#include "pixels/resize.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "test_images.h"

namespace ck {
namespace {

using Pixels = std::vector<uint8_t>;

Pixels Resized(const Pixels& src, int sw, int sh, int dw, int dh, ResizeMethod m) {
  Pixels dst(size_t(dw) * dh * 4, 0xCD);
  Status s = Resize({const_cast<uint8_t*>(src.data()), sw, sh, sw * 4}, {dst.data(), dw, dh, dw * 4}, m);
  EXPECT_TRUE(s.ok()) << s.message();
  return dst;
}

// A one-row grey image (r = g = b = a = v) from values.
Pixels Row(std::initializer_list<int> v) {
  Pixels p;
  for (int x : v) p.insert(p.end(), 4, uint8_t(x));
  return p;
}
std::vector<int> Channel0(const Pixels& p) {
  std::vector<int> v;
  for (size_t i = 0; i < p.size(); i += 4) v.push_back(p[i]);
  return v;
}

// Exact (double) area average, and pixel-centre bilinear, for comparison.
double AreaRef(const Pixels& src, int sw, int sh, int dw, int dh, int x, int y, int c) {
  double sum = 0;
  const double fx = double(sw) / dw, fy = double(sh) / dh;
  for (int j = 0; j < sh; ++j) {
    const double cy = std::max(0.0, std::min(j + 1.0, (y + 1) * fy) - std::max(double(j), y * fy));
    if (cy <= 0) continue;
    for (int i = 0; i < sw; ++i) {
      const double cx = std::max(0.0, std::min(i + 1.0, (x + 1) * fx) - std::max(double(i), x * fx));
      sum += cx * cy * src[(size_t(j) * sw + i) * 4 + c];
    }
  }
  return sum / (fx * fy);
}
double BilinearRef(const Pixels& src, int sw, int sh, int dw, int dh, int x, int y, int c) {
  auto coord = [](int o, int s, int d, int* i0, double* f) {
    double p = (o + 0.5) * s / d - 0.5;
    p = std::max(0.0, std::min(p, double(s - 1)));
    *i0 = int(std::floor(p));
    *f = p - *i0;
  };
  int x0, y0;
  double fx, fy;
  coord(x, sw, dw, &x0, &fx);
  coord(y, sh, dh, &y0, &fy);
  const int x1 = std::min(x0 + 1, sw - 1), y1 = std::min(y0 + 1, sh - 1);
  auto at = [&](int i, int j) { return double(src[(size_t(j) * sw + i) * 4 + c]); };
  return (1 - fy) * ((1 - fx) * at(x0, y0) + fx * at(x1, y0)) + fy * ((1 - fx) * at(x0, y1) + fx * at(x1, y1));
}

TEST(Resize, SameSizeIsACopy) {
  Pixels src = testing_images::Noise(13, 7, 3);
  for (ResizeMethod m : {ResizeMethod::kArea, ResizeMethod::kBilinear, ResizeMethod::kAuto})
    EXPECT_EQ(Resized(src, 13, 7, 13, 7, m), src);
}

TEST(Resize, OneByOne) {
  Pixels px = {10, 20, 30, 40};
  EXPECT_EQ(Resized(px, 1, 1, 1, 1, ResizeMethod::kArea), px);
  // Enlarging a single pixel repeats it with either filter.
  Pixels big = Resized(px, 1, 1, 3, 2, ResizeMethod::kBilinear);
  for (size_t i = 0; i < big.size(); ++i) EXPECT_EQ(big[i], px[i % 4]);
  EXPECT_EQ(Resized(px, 1, 1, 3, 2, ResizeMethod::kArea), big);
}

TEST(Resize, TwoByTwoToOneIsTheRoundedAverage) {
  // Channels: sums 6 (1.5 -> 2, half up), 4 (1), 1020 (255), 2 (0.5 -> 1).
  Pixels src = {0, 1, 255, 0, 1, 1, 255, 1, 2, 1, 255, 0, 3, 1, 255, 1};
  EXPECT_EQ(Resized(src, 2, 2, 1, 1, ResizeMethod::kArea), (Pixels{2, 1, 255, 1}));
}

TEST(Resize, IntegerRatioAreaIsTheExactBlockAverage) {
  Pixels src = testing_images::Noise(8, 6, 11);
  Pixels out = Resized(src, 8, 6, 4, 3, ResizeMethod::kArea);  // 2x2 blocks
  for (int y = 0; y < 3; ++y)
    for (int x = 0; x < 4; ++x)
      for (int c = 0; c < 4; ++c) {
        int sum = 0;
        for (int j = 0; j < 2; ++j)
          for (int i = 0; i < 2; ++i) sum += src[((2 * y + j) * 8 + 2 * x + i) * 4 + c];
        EXPECT_EQ(out[(y * 4 + x) * 4 + c], (sum + 2) / 4) << x << "," << y << "," << c;
      }
  Pixels quarter = Resized(src, 8, 6, 2, 3, ResizeMethod::kArea);  // 4x2 blocks
  for (int y = 0; y < 3; ++y)
    for (int x = 0; x < 2; ++x)
      for (int c = 0; c < 4; ++c) {
        int sum = 0;
        for (int j = 0; j < 2; ++j)
          for (int i = 0; i < 4; ++i) sum += src[((2 * y + j) * 8 + 4 * x + i) * 4 + c];
        EXPECT_EQ(quarter[(y * 2 + x) * 4 + c], (sum + 4) / 8);
      }
}

TEST(Resize, NonIntegerAreaRatioUsesFractionalCoverage) {
  // 3 -> 2: output 0 = (2a + b) / 3, output 1 = (b + 2c) / 3.
  EXPECT_EQ(Channel0(Resized(Row({0, 90, 180}), 3, 1, 2, 1, ResizeMethod::kArea)), (std::vector<int>{30, 150}));
  EXPECT_EQ(Channel0(Resized(Row({255, 0, 0}), 3, 1, 2, 1, ResizeMethod::kArea)), (std::vector<int>{170, 0}));
  // 5 -> 2: output 0 = (a + b + c/2) / 2.5.
  EXPECT_EQ(Channel0(Resized(Row({100, 100, 50, 0, 0}), 5, 1, 2, 1, ResizeMethod::kArea)), (std::vector<int>{90, 10}));
  // 3 -> 1 averages all three.
  EXPECT_EQ(Channel0(Resized(Row({0, 255, 0}), 3, 1, 1, 1, ResizeMethod::kArea)), (std::vector<int>{85}));
}

TEST(Resize, ToOneByOneIsTheAverage) {
  for (auto [w, h] : {std::pair{2, 2}, {4, 4}, {16, 8}, {3, 3}, {7, 5}, {100, 1}, {1, 37}, {61, 43}}) {
    Pixels src = testing_images::Noise(w, h, uint32_t(w * 31 + h));
    Pixels out = Resized(src, w, h, 1, 1, ResizeMethod::kArea);
    for (int c = 0; c < 4; ++c) {
      double sum = 0;
      for (int i = 0; i < w * h; ++i) sum += src[i * 4 + c];
      const double avg = sum / (w * h);
      if ((w & (w - 1)) == 0 && (h & (h - 1)) == 0) {
        EXPECT_EQ(out[c], int(std::floor(avg + 0.5))) << w << "x" << h;  // power-of-two boxes are exact
      } else {
        EXPECT_NEAR(out[c], avg, 0.55) << w << "x" << h << " channel " << c;  // round(avg) up to fixed-point ties
      }
    }
  }
}

TEST(Resize, FlatImagesStayFlat) {
  for (auto [sw, sh, dw, dh] : {std::array{7, 5, 3, 2}, {3, 2, 7, 5}, {640, 3, 17, 9}, {5, 5, 13, 1}}) {
    Pixels src;
    for (int i = 0; i < sw * sh; ++i) src.insert(src.end(), {201, 3, 77, 129});
    for (ResizeMethod m : {ResizeMethod::kArea, ResizeMethod::kBilinear}) {
      Pixels out = Resized(src, sw, sh, dw, dh, m);
      for (size_t i = 0; i < out.size(); i += 4)
        ASSERT_EQ(Pixels(out.begin() + i, out.begin() + i + 4), (Pixels{201, 3, 77, 129}));
    }
  }
}

TEST(Resize, BilinearIsPixelCentreAligned) {
  // 2 -> 4 samples the source at -0.25 (clamped), 0.25, 0.75, 1.25 (clamped).
  EXPECT_EQ(Channel0(Resized(Row({0, 255}), 2, 1, 4, 1, ResizeMethod::kBilinear)), (std::vector<int>{0, 64, 191, 255}));
  // 4 -> 2 samples 0.5 and 2.5: pair averages, half up.
  EXPECT_EQ(Channel0(Resized(Row({0, 1, 10, 20}), 4, 1, 2, 1, ResizeMethod::kBilinear)), (std::vector<int>{1, 15}));
  // 3 -> 1 samples the middle pixel.
  EXPECT_EQ(Channel0(Resized(Row({9, 50, 200}), 3, 1, 1, 1, ResizeMethod::kBilinear)), (std::vector<int>{50}));
}

TEST(Resize, AutoPicksAreaToShrinkAndBilinearToEnlarge) {
  Pixels src = testing_images::Noise(9, 6, 5);
  EXPECT_EQ(Resized(src, 9, 6, 4, 5, ResizeMethod::kAuto), Resized(src, 9, 6, 4, 5, ResizeMethod::kArea));
  EXPECT_EQ(Resized(src, 9, 6, 20, 13, ResizeMethod::kAuto), Resized(src, 9, 6, 20, 13, ResizeMethod::kBilinear));
  // Mixed: each axis on its own. Width shrinks (area), height grows (bilinear): compare 1-D cases.
  Pixels col = testing_images::Noise(1, 6, 8), row = testing_images::Noise(9, 1, 8);
  EXPECT_EQ(Resized(col, 1, 6, 1, 11, ResizeMethod::kAuto), Resized(col, 1, 6, 1, 11, ResizeMethod::kBilinear));
  EXPECT_EQ(Resized(row, 9, 1, 4, 1, ResizeMethod::kAuto), Resized(row, 9, 1, 4, 1, ResizeMethod::kArea));
}

TEST(Resize, OddSizesMatchTheExactFilters) {
  for (auto [sw, sh, dw, dh] : {std::array{7, 5, 3, 2}, {3, 2, 7, 5}, {31, 17, 10, 9}, {10, 9, 31, 17},
                                {101, 3, 100, 2}, {5, 40, 4, 7}}) {
    Pixels src = testing_images::Noise(sw, sh, uint32_t(sw + sh));
    Pixels area = Resized(src, sw, sh, dw, dh, ResizeMethod::kArea);
    Pixels bil = Resized(src, sw, sh, dw, dh, ResizeMethod::kBilinear);
    for (int y = 0; y < dh; ++y)
      for (int x = 0; x < dw; ++x)
        for (int c = 0; c < 4; ++c) {
          const size_t i = (size_t(y) * dw + x) * 4 + c;
          ASSERT_NEAR(area[i], AreaRef(src, sw, sh, dw, dh, x, y, c), 0.55) << sw << "x" << sh << "->" << dw << "x" << dh;
          ASSERT_NEAR(bil[i], BilinearRef(src, sw, sh, dw, dh, x, y, c), 0.55) << sw << "x" << sh << "->" << dw << "x" << dh;
        }
  }
}

TEST(Resize, LargeRatioAverages) {
  // 4000 -> 3 on alternating black/white columns: each output is the mean of its third (no aliasing).
  const int sw = 4000;
  Pixels src(size_t(sw) * 4);
  for (int x = 0; x < sw; ++x) src[x * 4] = src[x * 4 + 1] = src[x * 4 + 2] = src[x * 4 + 3] = uint8_t(x % 2 ? 255 : 0);
  Pixels out = Resized(src, sw, 1, 3, 1, ResizeMethod::kArea);
  for (int x = 0; x < 3; ++x) EXPECT_NEAR(out[x * 4], 127.5, 1.0);
}

TEST(Resize, StridesOnBothSides) {
  const int sw = 9, sh = 7, dw = 5, dh = 4, ss = sw * 4 + 12, ds = dw * 4 + 8;
  Pixels packed = testing_images::Noise(sw, sh, 21);
  Pixels src(size_t(ss) * sh, 0xEE), dst(size_t(ds) * dh, 0xAA);
  for (int y = 0; y < sh; ++y) std::copy_n(&packed[y * sw * 4], sw * 4, &src[y * ss]);
  for (ResizeMethod m : {ResizeMethod::kArea, ResizeMethod::kBilinear}) {
    ASSERT_TRUE(Resize({src.data(), sw, sh, ss}, {dst.data(), dw, dh, ds}, m).ok());
    Pixels want = Resized(packed, sw, sh, dw, dh, m);
    for (int y = 0; y < dh; ++y) {
      EXPECT_EQ(Pixels(&dst[y * ds], &dst[y * ds] + dw * 4), Pixels(&want[y * dw * 4], &want[y * dw * 4] + dw * 4));
      for (int i = dw * 4; i < ds; ++i) EXPECT_EQ(dst[y * ds + i], 0xAA);
    }
  }
}

TEST(Resize, RejectsBadImages) {
  Pixels px(64);
  EXPECT_EQ(Resize({px.data(), 0, 1, 4}, {px.data(), 1, 1, 4}, ResizeMethod::kArea).code(), Code::kOutOfRange);
  EXPECT_EQ(Resize({px.data(), 2, 2, 8}, {nullptr, 1, 1, 4}, ResizeMethod::kArea).code(), Code::kInvalidArgument);
  EXPECT_EQ(Resize({px.data(), 2, 2, 8}, {px.data(), 20000, 1, 80000}, ResizeMethod::kArea).code(), Code::kOutOfRange);
}

TEST(FitWithin, KeepsTheAspectRatio) {
  ImageSize s;
  ASSERT_TRUE(FitWithin(1920, 1080, 1280, 1280, &s).ok());
  EXPECT_EQ(s.width, 1280);
  EXPECT_EQ(s.height, 720);
  ASSERT_TRUE(FitWithin(1080, 1920, 100, 100, &s).ok());  // 56.25 -> 56
  EXPECT_EQ(s.width, 56);
  EXPECT_EQ(s.height, 100);
  ASSERT_TRUE(FitWithin(3, 2, 100, 100, &s).ok());  // enlarges: 66.67 -> 67
  EXPECT_EQ(s.width, 100);
  EXPECT_EQ(s.height, 67);
  ASSERT_TRUE(FitWithin(4, 1, 10, 10, &s).ok());  // 2.5 -> 3 (half up)
  EXPECT_EQ(s.width, 10);
  EXPECT_EQ(s.height, 3);
  ASSERT_TRUE(FitWithin(10000, 1, 10, 10, &s).ok());  // never below 1
  EXPECT_EQ(s.width, 10);
  EXPECT_EQ(s.height, 1);
  ASSERT_TRUE(FitWithin(16384, 16384, 1, 16384, &s).ok());
  EXPECT_EQ(s.width, 1);
  EXPECT_EQ(s.height, 1);
  EXPECT_EQ(FitWithin(0, 1, 1, 1, &s).code(), Code::kOutOfRange);
  EXPECT_EQ(FitWithin(1, 1, 1, 16385, &s).code(), Code::kOutOfRange);
  EXPECT_EQ(FitWithin(1, 1, 1, 16385, &s).message(), "fitWithin: box: 1x16385 exceeds the limit of 16384 per side");
}

TEST(ThumbnailSize, NeverEnlarges) {
  ImageSize s;
  ASSERT_TRUE(ThumbnailSize(100, 50, 200, 200, &s).ok());
  EXPECT_EQ(s.width, 100);
  EXPECT_EQ(s.height, 50);
  ASSERT_TRUE(ThumbnailSize(400, 100, 200, 200, &s).ok());
  EXPECT_EQ(s.width, 200);
  EXPECT_EQ(s.height, 50);
  ASSERT_TRUE(ThumbnailSize(100, 400, 200, 200, &s).ok());
  EXPECT_EQ(s.width, 50);
  EXPECT_EQ(s.height, 200);
}

TEST(ResizeTargetSize, ExactOrContain) {
  ImageSize s;
  ASSERT_TRUE(ResizeTargetSize(640, 480, 100, 100, ResizeFit::kExact, &s).ok());
  EXPECT_EQ(s.width, 100);
  EXPECT_EQ(s.height, 100);
  ASSERT_TRUE(ResizeTargetSize(640, 480, 100, 100, ResizeFit::kContain, &s).ok());
  EXPECT_EQ(s.width, 100);
  EXPECT_EQ(s.height, 75);
  EXPECT_EQ(ResizeTargetSize(640, 480, -1, 100, ResizeFit::kExact, &s).code(), Code::kOutOfRange);
}

TEST(ResizeOptions, ParseTheJsStrings) {
  ResizeMethod m;
  ResizeFit f;
  EXPECT_TRUE(ParseResizeMethod("area", &m).ok());
  EXPECT_EQ(m, ResizeMethod::kArea);
  EXPECT_TRUE(ParseResizeMethod("bilinear", &m).ok());
  EXPECT_EQ(m, ResizeMethod::kBilinear);
  EXPECT_EQ(ParseResizeMethod("lanczos", &m).message(),
            "resize: method must be \"auto\", \"bilinear\" or \"area\", got \"lanczos\"");
  EXPECT_TRUE(ParseResizeFit("contain", &f).ok());
  EXPECT_EQ(f, ResizeFit::kContain);
  EXPECT_EQ(ParseResizeFit("cover", &f).code(), Code::kOutOfRange);
}

}  // namespace
}  // namespace ck
