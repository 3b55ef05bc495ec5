// Native peer for bench/pixels.bench.js: the same C++ (wasm/pixels) built by g++ -O3 -march=native,
// timed on the same generated 1920x1080 image. Prints one JSON object of median milliseconds.
//   pixels_color_bench [width height runs]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "pixels/blur.h"
#include "pixels/color_adjust.h"
#include "pixels/convert_i420.h"
#include "pixels/flip.h"

namespace {

// Photo-like test image: smooth gradients + +-12 noise from a fixed LCG (same as bench/pixels.bench.js).
std::vector<uint8_t> Photo(int w, int h) {
  std::vector<uint8_t> v(size_t(w) * h * 4);
  uint32_t s = 1;
  auto c = [](int x) { return uint8_t(x < 0 ? 0 : (x > 255 ? 255 : x)); };
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      s = s * 1103515245u + 12345u;
      const int n = int((s >> 16) % 25) - 12;
      uint8_t* p = &v[(size_t(y) * w + x) * 4];
      p[0] = c(x * 255 / w + n);
      p[1] = c(y * 255 / h - n);
      p[2] = c((x + y) * 255 / (w + h) + n / 2);
      p[3] = 255;
    }
  return v;
}

template <typename F>
double MedianMs(int runs, F&& f) {
  f();  // warm-up
  f();
  std::vector<double> t;
  for (int i = 0; i < runs; ++i) {
    const auto a = std::chrono::steady_clock::now();
    f();
    const auto b = std::chrono::steady_clock::now();
    t.push_back(std::chrono::duration<double, std::milli>(b - a).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const int w = argc > 2 ? std::atoi(argv[1]) : 1920;
  const int h = argc > 2 ? std::atoi(argv[2]) : 1080;
  const int runs = argc > 3 ? std::atoi(argv[3]) : 15;
  const std::vector<uint8_t> photo = Photo(w, h);
  std::vector<uint8_t> px = photo, copy(photo.size());
  const ck::Image im{px.data(), w, h, w * 4};
  const int cw = (w + 1) / 2, ch = (h + 1) / 2;
  std::vector<uint8_t> y(size_t(w) * h), u(size_t(cw) * ch), v(size_t(cw) * ch);
  bool ok = true;
  auto fresh = [&] { std::memcpy(px.data(), photo.data(), photo.size()); };

  const double i420 = MedianMs(runs, [&] { ok &= ck::RgbaToI420(im, y.data(), w, u.data(), cw, v.data(), cw).ok(); });
  // Restoring the image is not timed: adjust and blur run in place.
  auto timed = [&](auto op) {
    std::vector<double> t;
    for (int i = 0; i < runs + 2; ++i) {
      fresh();
      const auto a = std::chrono::steady_clock::now();
      op();
      const auto b = std::chrono::steady_clock::now();
      if (i >= 2) t.push_back(std::chrono::duration<double, std::milli>(b - a).count());
    }
    std::sort(t.begin(), t.end());
    return t[t.size() / 2];
  };
  const double blur4 = timed([&] { ok &= ck::GaussianBlur(im, {4}).ok(); });
  const double adjust = timed([&] { ok &= ck::AdjustColor(im, {0.1, 0.2, 0.3}).ok(); });
  const double adjustSat = timed([&] { ok &= ck::AdjustColor(im, {0, 0, -0.5}).ok(); });
  const double flip = MedianMs(runs, [&] { ok &= ck::FlipVertical(im).ok(); });
  const double memcpyMs = MedianMs(runs, [&] { std::memcpy(copy.data(), px.data(), px.size()); });
  std::printf(
      "{\"width\":%d,\"height\":%d,\"runs\":%d,\"ok\":%s,\"i420\":%.3f,\"blur4\":%.3f,\"adjust\":%.3f,"
      "\"adjustSaturation\":%.3f,\"flip\":%.3f,\"memcpy\":%.3f,\"checksum\":%u}\n",
      w, h, runs, ok ? "true" : "false", i420, blur4, adjust, adjustSat, flip, memcpyMs,
      unsigned(y[y.size() / 2] + u[7] + v[9] + copy[12345 % copy.size()]));
  return ok ? 0 : 1;
}
