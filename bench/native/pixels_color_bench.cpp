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
#include "bench_util.h"

namespace {

using bench::MedianMs;
using bench::Photo;



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
