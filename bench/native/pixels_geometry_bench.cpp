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
#include "bench_util.h"

namespace {

using bench::Photo;
using bench::Times;



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
  const Times area = bench::Time(runs, [&] { ok &= ck::Resize(src, {a.data(), aw, ah, aw * 4}, ck::ResizeMethod::kArea).ok(); });
  const Times bilinear =
      bench::Time(runs, [&] { ok &= ck::Resize(src, {b.data(), bw, bh, bw * 4}, ck::ResizeMethod::kBilinear).ok(); });
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
