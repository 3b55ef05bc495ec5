#include "image/png_encode.h"

#include <gtest/gtest.h>

#include <vector>

#include "image/decode.h"
#include "test_images.h"

namespace ck {
namespace {

std::vector<uint8_t> Encode(const Image& im, PngOptions o = {}) {
  std::vector<uint8_t> out;
  Status s = EncodePng(im, o, &out);
  EXPECT_TRUE(s.ok()) << s.message();
  return out;
}

// Decodes with our decoder and returns packed RGBA.
std::vector<uint8_t> Decode(const std::vector<uint8_t>& file, int* w, int* h) {
  DecodedImage d;
  Status s = DecodeImage(file.data(), file.size(), DecodeOptions(), &d);
  EXPECT_TRUE(s.ok()) << s.message();
  *w = d.width();
  *h = d.height();
  return std::vector<uint8_t>(d.data(), d.data() + d.size());
}

int ColourType(const std::vector<uint8_t>& png) { return png.size() > 25 ? png[25] : -1; }

TEST(PngEncode, RoundTripIsBitExactForEveryLevelAndStrategy) {
  const int w = 37, h = 23;
  std::vector<uint8_t> px = testing_images::Noise(w, h, 7);  // random alpha too
  for (int level : {0, 1, 6, 9}) {
    for (int s = 0; s < kPngStrategyCount; ++s) {
      std::vector<uint8_t> png = Encode({px.data(), w, h, w * 4}, {level, PngStrategy(s)});
      ASSERT_EQ(ColourType(png), 6);
      int dw = 0, dh = 0;
      EXPECT_EQ(Decode(png, &dw, &dh), px) << "level " << level << " strategy " << PngStrategyName(PngStrategy(s));
      EXPECT_EQ(dw, w);
      EXPECT_EQ(dh, h);
    }
  }
}

TEST(PngEncode, StrideWiderThanRowIsHonoured) {
  const int w = 13, h = 9, stride = w * 4 + 12;
  std::vector<uint8_t> packed = testing_images::Noise(w, h, 3);
  std::vector<uint8_t> padded(size_t(stride) * h, 0xAB);
  for (int y = 0; y < h; ++y) std::copy_n(&packed[y * w * 4], w * 4, &padded[y * stride]);
  std::vector<uint8_t> a = Encode({padded.data(), w, h, stride});
  std::vector<uint8_t> b = Encode({packed.data(), w, h, w * 4});
  EXPECT_EQ(a, b);  // the padding never reaches the file
  int dw = 0, dh = 0;
  EXPECT_EQ(Decode(a, &dw, &dh), packed);
}

TEST(PngEncode, OpaqueImageIsWrittenAsRgbAndDecodesToTheSameRgba) {
  const int w = 64, h = 40;
  std::vector<uint8_t> px = testing_images::Gradient(w, h);  // alpha 255
  const int stride = w * 4 + 8;
  std::vector<uint8_t> padded(size_t(stride) * h, 0);  // padding alpha 0 must not matter
  for (int y = 0; y < h; ++y) std::copy_n(&px[y * w * 4], w * 4, &padded[y * stride]);
  std::vector<uint8_t> png = Encode({padded.data(), w, h, stride});
  EXPECT_EQ(ColourType(png), 2);
  int dw = 0, dh = 0;
  EXPECT_EQ(Decode(png, &dw, &dh), px);
}

TEST(PngEncode, OneTransparentPixelKeepsAlpha) {
  std::vector<uint8_t> px = testing_images::Gradient(8, 8);
  px[5 * 32 + 3 * 4 + 3] = 254;
  std::vector<uint8_t> png = Encode({px.data(), 8, 8, 32});
  EXPECT_EQ(ColourType(png), 6);
  int dw = 0, dh = 0;
  EXPECT_EQ(Decode(png, &dw, &dh), px);
}

TEST(PngEncode, OnePixel) {
  std::vector<uint8_t> px = {1, 2, 3, 4};
  std::vector<uint8_t> png = Encode({px.data(), 1, 1, 4});
  int dw = 0, dh = 0;
  EXPECT_EQ(Decode(png, &dw, &dh), px);
  EXPECT_EQ(dw, 1);
}

TEST(PngEncode, LevelsTradeSizeAsExpected) {
  const int w = 200, h = 120;
  std::vector<uint8_t> px = testing_images::Gradient(w, h);
  Image im{px.data(), w, h, w * 4};
  const size_t stored = Encode(im, {0, PngStrategy::kDefault}).size();
  const size_t best = Encode(im, {9, PngStrategy::kDefault}).size();
  EXPECT_GT(stored, size_t(w) * h * 3);  // level 0 stores: at least the raw RGB bytes
  EXPECT_LT(best * 4, stored);
  // The signature and IHDR are always first, IEND last.
  std::vector<uint8_t> png = Encode(im);
  EXPECT_EQ(std::vector<uint8_t>(png.begin(), png.begin() + 8),
            (std::vector<uint8_t>{0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'}));
  EXPECT_EQ(std::string(png.end() - 8, png.end() - 4), "IEND");
}

// A flat "UI" image: a few rectangles of solid colour.
std::vector<uint8_t> Flat(int w, int h) {
  std::vector<uint8_t> v(size_t(w) * h * 4);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      uint8_t* p = &v[(size_t(y) * w + x) * 4];
      const bool panel = (x / 40 + y / 30) % 3 == 0;
      p[0] = panel ? 30 : 245;
      p[1] = panel ? 40 : 246;
      p[2] = panel ? 60 : 250;
      p[3] = 255;
    }
  return v;
}

TEST(PngEncode, AutoUsesLz77OnFlatBandsAndRleOnNoisyBands) {
  const int w = 120, h = 64;
  std::vector<uint8_t> flat = Flat(w, h), noise = testing_images::Noise(w, h, 4);
  for (size_t i = 3; i < noise.size(); i += 4) noise[i] = 255;
  Image f{flat.data(), w, h, w * 4}, n{noise.data(), w, h, w * 4};
  EXPECT_EQ(Encode(f, {6, PngStrategy::kAuto}), Encode(f, {6, PngStrategy::kDefault}));
  EXPECT_EQ(Encode(n, {6, PngStrategy::kAuto}), Encode(n, {6, PngStrategy::kRle}));
  // Half noise, half flat: switches strategy mid-stream and still round-trips.
  std::vector<uint8_t> mixed = flat;
  std::copy(noise.begin(), noise.begin() + noise.size() / 2, mixed.begin());
  std::vector<uint8_t> png = Encode({mixed.data(), w, h, w * 4}, {6, PngStrategy::kAuto});
  EXPECT_NE(png, Encode({mixed.data(), w, h, w * 4}, {6, PngStrategy::kDefault}));
  EXPECT_NE(png, Encode({mixed.data(), w, h, w * 4}, {6, PngStrategy::kRle}));
  int dw = 0, dh = 0;
  EXPECT_EQ(Decode(png, &dw, &dh), mixed);
}

TEST(PngEncode, IncompressibleDataGrowsTheOutputBuffer) {
  // Level 0 and noise with alpha: the stored stream is bigger than its input; a many-band auto
  // stream flushes a block per strategy switch.
  const int w = 300, h = 257;
  std::vector<uint8_t> px = testing_images::Noise(w, h, 8);
  for (int y = 0; y < h; y += 64)  // flat stripes every other band
    for (int yy = y; yy < y + 32 && yy < h; ++yy) std::fill_n(&px[size_t(yy) * w * 4], w * 4, uint8_t(9));
  for (int level : {0, 1, 9}) {
    std::vector<uint8_t> png = Encode({px.data(), w, h, w * 4}, {level, PngStrategy::kAuto});
    int dw = 0, dh = 0;
    EXPECT_EQ(Decode(png, &dw, &dh), px) << "level " << level;
  }
}

TEST(PngEncode, OutputIsDeterministic) {
  std::vector<uint8_t> px = testing_images::Noise(50, 50, 11);
  EXPECT_EQ(Encode({px.data(), 50, 50, 200}), Encode({px.data(), 50, 50, 200}));
}

TEST(PngEncode, RejectsBadArguments) {
  std::vector<uint8_t> px(64), out;
  Image im{px.data(), 4, 4, 16};
  EXPECT_EQ(EncodePng(im, {-1, PngStrategy::kDefault}, &out).code(), Code::kOutOfRange);
  EXPECT_EQ(EncodePng(im, {10, PngStrategy::kDefault}, &out).code(), Code::kOutOfRange);
  EXPECT_EQ(EncodePng(im, {6, PngStrategy(6)}, &out).code(), Code::kOutOfRange);
  EXPECT_EQ(EncodePng(im, {6, PngStrategy(-1)}, &out).code(), Code::kOutOfRange);
  EXPECT_EQ(EncodePng({px.data(), 4, 4, 12}, {}, &out).code(), Code::kOutOfRange);  // stride < width*4
  EXPECT_EQ(EncodePng({nullptr, 4, 4, 16}, {}, &out).code(), Code::kInvalidArgument);
  EXPECT_EQ(EncodePng({px.data(), 0, 4, 16}, {}, &out).code(), Code::kOutOfRange);
  Status s = EncodePng(im, {12, PngStrategy::kDefault}, &out);
  EXPECT_NE(s.message().find("level must be between 0 and 9, got 12"), std::string::npos) << s.message();
}

TEST(PngEncode, StrategyNames) {
  EXPECT_STREQ(PngStrategyName(PngStrategy::kDefault), "default");
  EXPECT_STREQ(PngStrategyName(PngStrategy::kFiltered), "filtered");
  EXPECT_STREQ(PngStrategyName(PngStrategy::kHuffmanOnly), "huffman-only");
  EXPECT_STREQ(PngStrategyName(PngStrategy::kRle), "rle");
  EXPECT_STREQ(PngStrategyName(PngStrategy::kFixed), "fixed");
  EXPECT_STREQ(PngStrategyName(PngStrategy::kAuto), "auto");
  EXPECT_EQ(PngOptions().strategy, PngStrategy::kAuto);
  EXPECT_EQ(PngOptions().level, 6);
}

}  // namespace
}  // namespace ck
