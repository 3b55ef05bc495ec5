#include "image/jpeg_encode.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <vector>

#include "image/decode.h"
#include "test_images.h"

namespace ck {
namespace {

std::vector<uint8_t> Encode(const Image& im, int quality) {
  std::vector<uint8_t> out;
  Status s = EncodeJpeg(im, {quality}, &out);
  EXPECT_TRUE(s.ok()) << s.message();
  return out;
}

DecodedImage Decode(const std::vector<uint8_t>& file) {
  DecodedImage d;
  Status s = DecodeImage(file.data(), file.size(), DecodeOptions(), &d);
  EXPECT_TRUE(s.ok()) << s.message();
  return d;
}

// PSNR of the luma of two packed RGBA images.
double PsnrY(const uint8_t* a, const uint8_t* b, size_t pixels) {
  double se = 0;
  for (size_t i = 0; i < pixels; ++i) {
    const uint8_t* p = a + i * 4;
    const uint8_t* q = b + i * 4;
    const double ya = 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2];
    const double yb = 0.299 * q[0] + 0.587 * q[1] + 0.114 * q[2];
    se += (ya - yb) * (ya - yb);
  }
  const double mse = se / double(pixels);
  return mse == 0 ? 99.0 : 10 * std::log10(255.0 * 255.0 / mse);
}

TEST(JpegEncode, FlatColourDecodesNearIt) {
  const int w = 37, h = 29;  // not multiples of 8 or 16
  std::vector<uint8_t> px(size_t(w) * h * 4);
  for (size_t i = 0; i < px.size(); i += 4) {
    px[i] = 200;
    px[i + 1] = 120;
    px[i + 2] = 40;
    px[i + 3] = 255;
  }
  for (int q : {50, 90, 100}) {
    std::vector<uint8_t> jpg = Encode({px.data(), w, h, w * 4}, q);
    ASSERT_GE(jpg.size(), 4u);
    EXPECT_EQ(jpg[0], 0xFF);
    EXPECT_EQ(jpg[1], 0xD8);
    EXPECT_EQ(jpg[jpg.size() - 2], 0xFF);
    EXPECT_EQ(jpg[jpg.size() - 1], 0xD9);
    DecodedImage d = Decode(jpg);
    ASSERT_EQ(d.width(), w);
    ASSERT_EQ(d.height(), h);
    for (size_t i = 0; i < d.size(); i += 4) {
      ASSERT_NEAR(d.data()[i], 200, 3) << "quality " << q;
      ASSERT_NEAR(d.data()[i + 1], 120, 3);
      ASSERT_NEAR(d.data()[i + 2], 40, 3);
      ASSERT_EQ(d.data()[i + 3], 255);
    }
  }
}

TEST(JpegEncode, SmoothImageAtQuality90IsAbove35dB) {
  const int w = 160, h = 96;
  std::vector<uint8_t> px = testing_images::Gradient(w, h);
  std::vector<uint8_t> jpg = Encode({px.data(), w, h, w * 4}, 90);
  DecodedImage d = Decode(jpg);
  EXPECT_GE(PsnrY(px.data(), d.data(), size_t(w) * h), 35.0);
}

TEST(JpegEncode, QualityTradesSize) {
  const int w = 96, h = 64;
  std::vector<uint8_t> px = testing_images::Noise(w, h, 5);
  EXPECT_LT(Encode({px.data(), w, h, w * 4}, 10).size(), Encode({px.data(), w, h, w * 4}, 95).size());
}

TEST(JpegEncode, PaddedStrideGivesTheSameBytes) {
  const int w = 21, h = 17, stride = w * 4 + 20;
  std::vector<uint8_t> packed = testing_images::Noise(w, h, 9);
  std::vector<uint8_t> padded(size_t(stride) * h, 0x55);
  for (int y = 0; y < h; ++y) std::copy_n(&packed[y * w * 4], w * 4, &padded[y * stride]);
  EXPECT_EQ(Encode({padded.data(), w, h, stride}, 80), Encode({packed.data(), w, h, w * 4}, 80));
}

TEST(JpegEncode, AlphaIsIgnored) {
  std::vector<uint8_t> a = testing_images::Gradient(24, 24), b = a;
  for (size_t i = 3; i < b.size(); i += 4) b[i] = uint8_t(i);
  EXPECT_EQ(Encode({a.data(), 24, 24, 96}, 75), Encode({b.data(), 24, 24, 96}, 75));
}

TEST(JpegEncode, RejectsBadArguments) {
  std::vector<uint8_t> px(64), out;
  Image im{px.data(), 4, 4, 16};
  EXPECT_EQ(EncodeJpeg(im, {0}, &out).code(), Code::kOutOfRange);
  EXPECT_EQ(EncodeJpeg(im, {101}, &out).code(), Code::kOutOfRange);
  EXPECT_EQ(EncodeJpeg({px.data(), 4, 4, 8}, {90}, &out).code(), Code::kOutOfRange);
  EXPECT_EQ(EncodeJpeg({nullptr, 4, 4, 16}, {90}, &out).code(), Code::kInvalidArgument);
  Status s = EncodeJpeg(im, {0}, &out);
  EXPECT_NE(s.message().find("quality must be between 1 and 100, got 0"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace ck
