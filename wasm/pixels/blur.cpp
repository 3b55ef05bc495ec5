#include "pixels/blur.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>

#ifdef __wasm_simd128__
#include <wasm_simd128.h>
#endif

namespace ck {
namespace {

constexpr int kMidBits = 7;                                // fractional bits kept between the passes
constexpr int kHShift = kBlurWeightBits - kMidBits;        // horizontal: u8 * 2^14 -> Q7
constexpr int kVShift = kBlurWeightBits + kMidBits;        // vertical: Q7 * 2^14 -> u8
constexpr int kHRound = 1 << (kHShift - 1);
constexpr int kVRound = 1 << (kVShift - 1);

// Frees what it holds when the scope ends (no exceptions in the wasm build, so plain malloc).
struct Scratch {
  void* p = nullptr;
  explicit Scratch(size_t n) : p(std::malloc(n)) {}
  ~Scratch() { std::free(p); }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
};

// One output row of the horizontal pass: c points at the row's first byte inside a row padded with
// r clamped pixels on each side; n = width * 4 bytes; out gets Q7 values.
void HorizontalScalar(const uint8_t* c, uint16_t* out, int from, int n, const int* w, int r) {
  for (int i = from; i < n; ++i) {
    int acc = w[0] * c[i];
    for (int k = 1; k <= r; ++k) acc += w[k] * (c[i - 4 * k] + c[i + 4 * k]);
    out[i] = uint16_t((acc + kHRound) >> kHShift);
  }
}

// One output row of the vertical pass: rows[-r..r] are the clamped input rows around it.
void VerticalScalar(const uint16_t* const* rows, uint8_t* out, int from, int n, const int* w, int r) {
  for (int i = from; i < n; ++i) {
    uint32_t acc = uint32_t(w[0]) * rows[0][i];
    for (int k = 1; k <= r; ++k) acc += uint32_t(w[k]) * uint32_t(rows[-k][i] + rows[k][i]);
    out[i] = uint8_t((acc + kVRound) >> kVShift);
  }
}

#ifdef __wasm_simd128__
// 16 bytes per step; the weights times pair sums (<= 510) fit i32, so signed extmul is exact.
int HorizontalSimd(const uint8_t* c, uint16_t* out, int n, const int* w, int r) {
  const v128_t w0 = wasm_i16x8_splat(int16_t(w[0]));
  const v128_t round = wasm_i32x4_splat(kHRound);
  int i = 0;
  for (; i + 16 <= n; i += 16) {
    const v128_t v = wasm_v128_load(c + i);
    const v128_t lo = wasm_u16x8_extend_low_u8x16(v), hi = wasm_u16x8_extend_high_u8x16(v);
    v128_t a0 = wasm_i32x4_extmul_low_i16x8(lo, w0), a1 = wasm_i32x4_extmul_high_i16x8(lo, w0);
    v128_t a2 = wasm_i32x4_extmul_low_i16x8(hi, w0), a3 = wasm_i32x4_extmul_high_i16x8(hi, w0);
    for (int k = 1; k <= r; ++k) {
      const v128_t wk = wasm_i16x8_splat(int16_t(w[k]));
      const v128_t p = wasm_v128_load(c + i - 4 * k), q = wasm_v128_load(c + i + 4 * k);
      const v128_t sl = wasm_i16x8_add(wasm_u16x8_extend_low_u8x16(p), wasm_u16x8_extend_low_u8x16(q));
      const v128_t sh = wasm_i16x8_add(wasm_u16x8_extend_high_u8x16(p), wasm_u16x8_extend_high_u8x16(q));
      a0 = wasm_i32x4_add(a0, wasm_i32x4_extmul_low_i16x8(sl, wk));
      a1 = wasm_i32x4_add(a1, wasm_i32x4_extmul_high_i16x8(sl, wk));
      a2 = wasm_i32x4_add(a2, wasm_i32x4_extmul_low_i16x8(sh, wk));
      a3 = wasm_i32x4_add(a3, wasm_i32x4_extmul_high_i16x8(sh, wk));
    }
    a0 = wasm_i32x4_shr(wasm_i32x4_add(a0, round), kHShift);
    a1 = wasm_i32x4_shr(wasm_i32x4_add(a1, round), kHShift);
    a2 = wasm_i32x4_shr(wasm_i32x4_add(a2, round), kHShift);
    a3 = wasm_i32x4_shr(wasm_i32x4_add(a3, round), kHShift);
    wasm_v128_store(out + i, wasm_u16x8_narrow_i32x4(a0, a1));
    wasm_v128_store(out + i + 8, wasm_u16x8_narrow_i32x4(a2, a3));
  }
  return i;
}

// 16 bytes per step; pair sums of Q7 values (<= 65280) stay in u16, products in u32.
int VerticalSimd(const uint16_t* const* rows, uint8_t* out, int n, const int* w, int r) {
  const v128_t w0 = wasm_i16x8_splat(int16_t(w[0]));
  const v128_t round = wasm_i32x4_splat(kVRound);
  int i = 0;
  for (; i + 16 <= n; i += 16) {
    const v128_t lo = wasm_v128_load(rows[0] + i), hi = wasm_v128_load(rows[0] + i + 8);
    v128_t a0 = wasm_u32x4_extmul_low_u16x8(lo, w0), a1 = wasm_u32x4_extmul_high_u16x8(lo, w0);
    v128_t a2 = wasm_u32x4_extmul_low_u16x8(hi, w0), a3 = wasm_u32x4_extmul_high_u16x8(hi, w0);
    for (int k = 1; k <= r; ++k) {
      const v128_t wk = wasm_i16x8_splat(int16_t(w[k]));
      const uint16_t* p = rows[-k] + i;
      const uint16_t* q = rows[k] + i;
      const v128_t sl = wasm_i16x8_add(wasm_v128_load(p), wasm_v128_load(q));
      const v128_t sh = wasm_i16x8_add(wasm_v128_load(p + 8), wasm_v128_load(q + 8));
      a0 = wasm_i32x4_add(a0, wasm_u32x4_extmul_low_u16x8(sl, wk));
      a1 = wasm_i32x4_add(a1, wasm_u32x4_extmul_high_u16x8(sl, wk));
      a2 = wasm_i32x4_add(a2, wasm_u32x4_extmul_low_u16x8(sh, wk));
      a3 = wasm_i32x4_add(a3, wasm_u32x4_extmul_high_u16x8(sh, wk));
    }
    a0 = wasm_u32x4_shr(wasm_i32x4_add(a0, round), kVShift);
    a1 = wasm_u32x4_shr(wasm_i32x4_add(a1, round), kVShift);
    a2 = wasm_u32x4_shr(wasm_i32x4_add(a2, round), kVShift);
    a3 = wasm_u32x4_shr(wasm_i32x4_add(a3, round), kVShift);
    wasm_v128_store(out + i, wasm_u8x16_narrow_i16x8(wasm_u16x8_narrow_i32x4(a0, a1), wasm_u16x8_narrow_i32x4(a2, a3)));
  }
  return i;
}
#endif

}  // namespace

std::vector<int> GaussianKernel(int radius) {
  std::vector<int> w(size_t(radius) + 1, 0);
  if (radius <= 0) {
    w[0] = 1 << kBlurWeightBits;
    return w;
  }
  const double sigma = radius / 2.0;
  std::vector<double> g(w.size());
  double sum = 0;
  for (int k = 0; k <= radius; ++k) {
    g[k] = std::exp(-double(k) * k / (2 * sigma * sigma));
    sum += k == 0 ? g[k] : 2 * g[k];
  }
  // Largest remainder: every tap starts at floor(target); the units still missing go to the taps
  // with the largest fractions (a side tap costs 2, it appears twice), any odd unit to the centre.
  // This keeps the kernel symmetric, summing to exactly 2^14 and non-increasing away from the centre.
  std::vector<double> frac(w.size());
  int missing = 1 << kBlurWeightBits;
  for (int k = 0; k <= radius; ++k) {
    const double t = g[k] * (1 << kBlurWeightBits) / sum;
    w[k] = int(std::floor(t));
    frac[k] = t - w[k];
    missing -= k == 0 ? w[k] : 2 * w[k];
  }
  std::vector<int> order(w.size());
  for (int k = 0; k <= radius; ++k) order[k] = k;
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return frac[a] > frac[b]; });
  for (int k : order) {
    const int cost = k == 0 ? 1 : 2;
    if (missing >= cost) {
      ++w[k];
      missing -= cost;
    }
  }
  w[0] += missing;
  return w;
}

Status GaussianBlur(const Image& im, const BlurOptions& options) {
  Status s = CheckImage(im, "blur: image");
  if (!s.ok()) return s;
  const int r = options.radius;
  if (r < 0 || r > kMaxBlurRadius)
    return Status::OutOfRange("blur: radius must be between 0 and " + std::to_string(kMaxBlurRadius) + ", got " +
                              std::to_string(r));
  if (r == 0) return Status::Ok();

  const std::vector<int> kernel = GaussianKernel(r);
  const int* w = kernel.data();
  const int width = im.width, height = im.height, n = width * 4;
  Scratch mid(size_t(n) * size_t(height) * sizeof(uint16_t));
  Scratch pad(size_t(width + 2 * r) * 4);
  Scratch rows(size_t(height + 2 * r) * sizeof(const uint16_t*));
  if (!mid.p || !pad.p || !rows.p)
    return Status::ResourceExhausted("blur: out of memory for the " + std::to_string(width) + "x" +
                                     std::to_string(height) + " scratch image");
  uint16_t* m = static_cast<uint16_t*>(mid.p);
  uint8_t* p = static_cast<uint8_t*>(pad.p);

  // Horizontal: each row copied once into the padded buffer (edge pixels repeated), then filtered.
  for (int y = 0; y < height; ++y) {
    const uint8_t* src = im.row(y);
    for (int k = 0; k < r; ++k) {
      std::memcpy(p + 4 * k, src, 4);
      std::memcpy(p + 4 * (r + width + k), src + n - 4, 4);
    }
    std::memcpy(p + 4 * r, src, size_t(n));
    uint16_t* out = m + size_t(y) * n;
    int done = 0;
#ifdef __wasm_simd128__
    done = HorizontalSimd(p + 4 * r, out, n, w, r);
#endif
    HorizontalScalar(p + 4 * r, out, done, n, w, r);
  }

  // Vertical: rows[j] is scratch row clamp(j - r); output row y reads rows[y .. y + 2r].
  const uint16_t** rp = static_cast<const uint16_t**>(rows.p);
  for (int j = 0; j < height + 2 * r; ++j) {
    const int yy = j - r < 0 ? 0 : (j - r >= height ? height - 1 : j - r);
    rp[j] = m + size_t(yy) * n;
  }
  for (int y = 0; y < height; ++y) {
    uint8_t* out = im.row(y);
    int done = 0;
#ifdef __wasm_simd128__
    done = VerticalSimd(rp + y + r, out, n, w, r);
#endif
    VerticalScalar(rp + y + r, out, done, n, w, r);
  }
  return Status::Ok();
}

}  // namespace ck
