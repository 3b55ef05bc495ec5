// Deterministic test images shared by the native tests.
#pragma once
#include <cstdint>
#include <vector>

namespace testing_images {

// RGBA noise from a fixed-seed xorshift: same bytes on every machine.
inline std::vector<uint8_t> Noise(int w, int h, uint32_t seed) {
  std::vector<uint8_t> v(size_t(w) * h * 4);
  uint32_t x = seed * 2654435761u + 1;
  for (auto& b : v) {
    x ^= x << 13; x ^= x >> 17; x ^= x << 5;
    b = uint8_t(x >> 24);
  }
  return v;
}

// A smooth colour gradient (photo-like content for codec tests).
inline std::vector<uint8_t> Gradient(int w, int h) {
  std::vector<uint8_t> v(size_t(w) * h * 4);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      uint8_t* p = &v[(size_t(y) * w + x) * 4];
      p[0] = uint8_t(x * 255 / (w > 1 ? w - 1 : 1));
      p[1] = uint8_t(y * 255 / (h > 1 ? h - 1 : 1));
      p[2] = uint8_t((x + y) * 127 / (w + h));
      p[3] = 255;
    }
  return v;
}

}  // namespace testing_images
