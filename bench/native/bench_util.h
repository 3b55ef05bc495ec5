// Shared by the native benchmark peers in bench/native: the generated test image and the timer.
#pragma once
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <vector>

namespace bench {

// Photo-like test image: smooth gradients + +-12 noise from a fixed LCG (the same bytes the JS benches
// generate, so both sides time identical input).
inline std::vector<uint8_t> Photo(int w, int h) {
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

// Runs f twice to warm up, then `runs` times; median and fastest in milliseconds.
template <typename F>
Times Time(int runs, F&& f) {
  f();
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

template <typename F>
double MedianMs(int runs, F&& f) { return Time(runs, f).median; }

}  // namespace bench
