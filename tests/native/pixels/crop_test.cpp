#include "pixels/crop.h"

#include <gtest/gtest.h>

#include <vector>

#include "test_images.h"

namespace ck {
namespace {

TEST(Crop, CopiesTheRectangle) {
  // 4x3 image, pixel (x, y) = {x, y, 7, 255}.
  std::vector<uint8_t> src(4 * 3 * 4);
  for (int y = 0; y < 3; ++y)
    for (int x = 0; x < 4; ++x) {
      uint8_t* p = &src[(y * 4 + x) * 4];
      p[0] = uint8_t(x), p[1] = uint8_t(y), p[2] = 7, p[3] = 255;
    }
  std::vector<uint8_t> dst(2 * 2 * 4);
  ASSERT_TRUE(Crop({src.data(), 4, 3, 16}, {1, 1, 2, 2}, {dst.data(), 2, 2, 8}).ok());
  EXPECT_EQ(dst, (std::vector<uint8_t>{1, 1, 7, 255, 2, 1, 7, 255, 1, 2, 7, 255, 2, 2, 7, 255}));
}

TEST(Crop, WholeImageAndOnePixel) {
  std::vector<uint8_t> src = testing_images::Noise(5, 3, 9), dst(5 * 3 * 4), one(4);
  ASSERT_TRUE(Crop({src.data(), 5, 3, 20}, {0, 0, 5, 3}, {dst.data(), 5, 3, 20}).ok());
  EXPECT_EQ(dst, src);
  ASSERT_TRUE(Crop({src.data(), 5, 3, 20}, {4, 2, 1, 1}, {one.data(), 1, 1, 4}).ok());
  EXPECT_EQ(one, std::vector<uint8_t>(src.end() - 4, src.end()));
}

TEST(Crop, HonoursStrides) {
  const int w = 3, h = 3, stride = w * 4 + 8, dstride = 2 * 4 + 4;
  std::vector<uint8_t> src(stride * h, 0xEE), dst(dstride * 2, 0xAA);
  for (int y = 0; y < h; ++y)
    for (int i = 0; i < w * 4; ++i) src[y * stride + i] = uint8_t(y * 16 + i);
  ASSERT_TRUE(Crop({src.data(), w, h, stride}, {1, 1, 2, 2}, {dst.data(), 2, 2, dstride}).ok());
  for (int y = 0; y < 2; ++y) {
    for (int i = 0; i < 8; ++i) EXPECT_EQ(dst[y * dstride + i], uint8_t((y + 1) * 16 + 4 + i));
    for (int i = 8; i < dstride; ++i) EXPECT_EQ(dst[y * dstride + i], 0xAA);  // padding untouched
  }
}

TEST(Crop, ViewSharesPixels) {
  std::vector<uint8_t> src = testing_images::Noise(6, 4, 2);
  Image v;
  ASSERT_TRUE(CropView({src.data(), 6, 4, 24}, {2, 1, 3, 2}, &v).ok());
  EXPECT_EQ(v.data, src.data() + 24 + 8);
  EXPECT_EQ(v.width, 3);
  EXPECT_EQ(v.height, 2);
  EXPECT_EQ(v.stride, 24);
}

TEST(Crop, RejectsRectanglesOutsideTheImage) {
  std::vector<uint8_t> src(4 * 3 * 4), dst(64);
  Image im{src.data(), 4, 3, 16};
  for (Rect r : {Rect{-1, 0, 1, 1}, Rect{0, -1, 1, 1}, Rect{3, 0, 2, 1}, Rect{0, 2, 1, 2}, Rect{4, 0, 1, 1},
                 Rect{0, 0, 0, 1}, Rect{0, 0, 1, -1}, Rect{2147483647, 0, 1, 1}, Rect{1, 1, 2147483647, 1}}) {
    Status s = Crop(im, r, {dst.data(), 1, 1, 4});
    EXPECT_EQ(s.code(), Code::kOutOfRange) << r.x << "," << r.y << "," << r.width << "," << r.height;
  }
  Status s = CheckCropRect(4, 3, {3, 0, 2, 1});
  EXPECT_EQ(s.message(), "crop: rectangle {x: 3, y: 0, width: 2, height: 1} does not lie inside the 4x3 image");
}

TEST(Crop, RejectsWrongDestination) {
  std::vector<uint8_t> src(4 * 3 * 4), dst(64);
  EXPECT_EQ(Crop({src.data(), 4, 3, 16}, {0, 0, 2, 2}, {dst.data(), 2, 3, 8}).code(), Code::kInvalidArgument);
  EXPECT_EQ(Crop({src.data(), 4, 3, 16}, {0, 0, 2, 2}, {nullptr, 2, 2, 8}).code(), Code::kInvalidArgument);
  EXPECT_EQ(Crop({src.data(), 4, 3, 8}, {0, 0, 2, 2}, {dst.data(), 2, 2, 8}).code(), Code::kOutOfRange);
}

}  // namespace
}  // namespace ck
