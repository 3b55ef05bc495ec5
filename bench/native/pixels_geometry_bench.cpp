// Native peer for bench/geometry.bench.js: the same C++ (wasm/pixels/resize.cpp, scalar path) built by
// g++ -O3 -march=native, timed on the same generated photo-like image. Prints one JSON object of
// median (and fastest) milliseconds and a checksum of each result (so the JS side can check it timed the same bytes).
//   pixels_geometry_bench [width height runs]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "pixels/resize.h"

namespace {

// Photo-like test image: smooth gradients + +-12 noise from a fixed LCG (same as bench/geometry.bench.js).
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

struct Times {
  double median, min;
};

template <typename F>
Times MedianMs(int runs, F&& f) {
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
  return {t[t.size() / 2], t[0]};
}

// FNV-1a, to compare results with the wasm builds.
uint32_t Hash(const std::vector<uint8_t>& v) {
  uint32_t h = 2166136261u;
  for (uint8_t b : v) h = (h ^ b) * 16777619u;
  return h;
}

}  // namespace

int main(int argc, char** argv) {
  const int w = argc > 2 ? std::atoi(argv[1]) : 1920;
  const int h = argc > 2 ? std::atoi(argv[2]) : 1080;
  const int runs = argc > 3 ? std::atoi(argv[3]) : 15;
  std::vector<uint8_t> photo = Photo(w, h);
  const ck::Image src{photo.data(), w, h, w * 4};
  bool ok = true;

  const int aw = w / 2, ah = h / 2, bw = w * 2 / 3, bh = h * 2 / 3;
  std::vector<uint8_t> a(size_t(aw) * ah * 4), b(size_t(bw) * bh * 4);
  const Times area = MedianMs(runs, [&] { ok &= ck::Resize(src, {a.data(), aw, ah, aw * 4}, ck::ResizeMethod::kArea).ok(); });
  const Times bilinear =
      MedianMs(runs, [&] { ok &= ck::Resize(src, {b.data(), bw, bh, bw * 4}, ck::ResizeMethod::kBilinear).ok(); });
  if (!ok) {
    std::fprintf(stderr, "resize failed\n");
    return 1;
  }
  std::printf(
      "{\"area\": %.4f, \"areaMin\": %.4f, \"bilinear\": %.4f, \"bilinearMin\": %.4f, \"areaHash\": %u, "
      "\"bilinearHash\": %u}\n",
      area.median, area.min, bilinear.median, bilinear.min, Hash(a), Hash(b));
  return 0;
}
