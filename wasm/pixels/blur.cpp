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

constexpr int kMidBits = 6;                                // fractional bits kept between the passes
constexpr int kHShift = kBlurWeightBits - kMidBits;        // horizontal: u8 * 2^14 -> Q6 (<= 16320)
constexpr int kVShift = kBlurWeightBits + kMidBits;        // vertical: Q6 * 2^14 -> u8
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
// r clamped pixels on each side; bytes [from, n) of the row (n = width * 4) get Q6 values. Tap by tap
// over the whole row into `acc` (n ints), so each inner loop is a plain streaming multiply-add.
void HorizontalScalar(const uint8_t* c, uint16_t* out, int from, int n, const int* w, int r, int32_t* acc) {
  const int w0 = w[0];
  for (int i = from; i < n; ++i) acc[i] = w0 * c[i];
  for (int k = 1; k <= r; ++k) {
    const int wk = w[k];
    const uint8_t* p = c - 4 * k;
    const uint8_t* q = c + 4 * k;
    for (int i = from; i < n; ++i) acc[i] += wk * (p[i] + q[i]);
  }
  for (int i = from; i < n; ++i) out[i] = uint16_t((acc[i] + kHRound) >> kHShift);
}

// One output row of the vertical pass: rows[-r..r] are the clamped input rows around it.
void VerticalScalar(const uint16_t* const* rows, uint8_t* out, int from, int n, const int* w, int r, uint32_t* acc) {
  const uint32_t w0 = uint32_t(w[0]);
  for (int i = from; i < n; ++i) acc[i] = w0 * rows[0][i];
  for (int k = 1; k <= r; ++k) {
    const uint32_t wk = uint32_t(w[k]);
    const uint16_t* p = rows[-k];
    const uint16_t* q = rows[k];
    for (int i = from; i < n; ++i) acc[i] += wk * uint32_t(p[i] + q[i]);
  }
  for (int i = from; i < n; ++i) out[i] = uint8_t((acc[i] + kVRound) >> kVShift);
}

#ifdef __wasm_simd128__
// The SIMD passes see the kernel as columns: column 0 is the centre value (weight w[0]), column k the
// sum of the two values k taps away (weight w[k]). Columns go two at a time through i32x4.dot_i16x8_s
// (one pmaddwd on x86: eight 16-bit products, summed in pairs), so both values of a pair must fit i16:
// u8 pair sums (<= 510) in the horizontal pass, Q6 pair sums (<= 32640) in the vertical one. All sums
// are exact, so the result equals the scalar path's bit for bit.
struct WeightPairs {
  v128_t v[kMaxBlurRadius / 2 + 1];  // (w[2j], w[2j+1]) in each i32 lane; w[r+1] = 0
  int count;
  WeightPairs(const int* w, int r) : count((r + 2) / 2) {
    for (int j = 0; j < count; ++j) {
      const int a = w[2 * j], b = 2 * j + 1 <= r ? w[2 * j + 1] : 0;
      v[j] = wasm_i32x4_splat(int32_t(uint32_t(a) | (uint32_t(b) << 16)));
    }
  }
};

// acc[0..3] += dot of the interleaved columns x and y (8 values each, lo and hi halves of 16 outputs).
inline void DotPair(v128_t xl, v128_t xh, v128_t yl, v128_t yh, v128_t wv, v128_t acc[4]) {
  acc[0] = wasm_i32x4_add(acc[0], wasm_i32x4_dot_i16x8(wasm_i16x8_shuffle(xl, yl, 0, 8, 1, 9, 2, 10, 3, 11), wv));
  acc[1] = wasm_i32x4_add(acc[1], wasm_i32x4_dot_i16x8(wasm_i16x8_shuffle(xl, yl, 4, 12, 5, 13, 6, 14, 7, 15), wv));
  acc[2] = wasm_i32x4_add(acc[2], wasm_i32x4_dot_i16x8(wasm_i16x8_shuffle(xh, yh, 0, 8, 1, 9, 2, 10, 3, 11), wv));
  acc[3] = wasm_i32x4_add(acc[3], wasm_i32x4_dot_i16x8(wasm_i16x8_shuffle(xh, yh, 4, 12, 5, 13, 6, 14, 7, 15), wv));
}

// Column k of the horizontal pass at bytes i..i+15, as two u16 halves.
inline void HColumn(const uint8_t* c, int i, int k, v128_t& lo, v128_t& hi) {
  const v128_t p = wasm_v128_load(c + i - 4 * k);
  if (k == 0) {
    lo = wasm_u16x8_extend_low_u8x16(p);
    hi = wasm_u16x8_extend_high_u8x16(p);
    return;
  }
  const v128_t q = wasm_v128_load(c + i + 4 * k);
  lo = wasm_i16x8_add(wasm_u16x8_extend_low_u8x16(p), wasm_u16x8_extend_low_u8x16(q));
  hi = wasm_i16x8_add(wasm_u16x8_extend_high_u8x16(p), wasm_u16x8_extend_high_u8x16(q));
}

// Column k of the vertical pass at values i..i+15.
inline void VColumn(const uint16_t* const* rows, int i, int k, v128_t& lo, v128_t& hi) {
  if (k == 0) {
    lo = wasm_v128_load(rows[0] + i);
    hi = wasm_v128_load(rows[0] + i + 8);
    return;
  }
  lo = wasm_i16x8_add(wasm_v128_load(rows[-k] + i), wasm_v128_load(rows[k] + i));
  hi = wasm_i16x8_add(wasm_v128_load(rows[-k] + i + 8), wasm_v128_load(rows[k] + i + 8));
}

// Returns how many bytes of the row it did (a multiple of 16); the scalar path does the rest.
int HorizontalSimd(const uint8_t* c, uint16_t* out, int n, const int* w, int r) {
  const WeightPairs wp(w, r);
  const v128_t round = wasm_i32x4_splat(kHRound), zero = wasm_i16x8_splat(0);
  int i = 0;
  for (; i + 16 <= n; i += 16) {
    v128_t acc[4] = {round, round, round, round};
    for (int j = 0; j < wp.count; ++j) {
      v128_t xl, xh, yl = zero, yh = zero;
      HColumn(c, i, 2 * j, xl, xh);
      if (2 * j + 1 <= r) HColumn(c, i, 2 * j + 1, yl, yh);
      DotPair(xl, xh, yl, yh, wp.v[j], acc);
    }
    for (auto& a : acc) a = wasm_i32x4_shr(a, kHShift);
    wasm_v128_store(out + i, wasm_u16x8_narrow_i32x4(acc[0], acc[1]));
    wasm_v128_store(out + i + 8, wasm_u16x8_narrow_i32x4(acc[2], acc[3]));
  }
  return i;
}

int VerticalSimd(const uint16_t* const* rows, uint8_t* out, int n, const int* w, int r) {
  const WeightPairs wp(w, r);
  const v128_t round = wasm_i32x4_splat(kVRound), zero = wasm_i16x8_splat(0);
  int i = 0;
  for (; i + 16 <= n; i += 16) {
    v128_t acc[4] = {round, round, round, round};
    for (int j = 0; j < wp.count; ++j) {
      v128_t xl, xh, yl = zero, yh = zero;
      VColumn(rows, i, 2 * j, xl, xh);
      if (2 * j + 1 <= r) VColumn(rows, i, 2 * j + 1, yl, yh);
      DotPair(xl, xh, yl, yh, wp.v[j], acc);
    }
    for (auto& a : acc) a = wasm_i32x4_shr(a, kVShift);
    wasm_v128_store(out + i, wasm_u8x16_narrow_i16x8(wasm_u16x8_narrow_i32x4(acc[0], acc[1]),
                                                      wasm_u16x8_narrow_i32x4(acc[2], acc[3])));
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
  // The horizontal results live in a ring of 2r+1 rows (fewer if the image is shorter): output row y
  // needs source rows y-r..y+r (clamped), and by the time it is written every source row up to y+r has
  // been read, so the pass works in place and the scratch stays cache-sized instead of image-sized.
  const int ring = height < 2 * r + 1 ? height : 2 * r + 1;
  Scratch mid(size_t(n) * size_t(ring) * sizeof(uint16_t));
  Scratch pad(size_t(width + 2 * r) * 4);
  Scratch rows(size_t(2 * r + 1) * sizeof(const uint16_t*));
  Scratch accs(size_t(n) * sizeof(int32_t));
  if (!mid.p || !pad.p || !rows.p || !accs.p)
    return Status::ResourceExhausted("blur: out of memory for the scratch rows of a " + std::to_string(width) + "x" +
                                     std::to_string(height) + " image");
  uint16_t* m = static_cast<uint16_t*>(mid.p);
  uint8_t* p = static_cast<uint8_t*>(pad.p);
  const uint16_t** rp = static_cast<const uint16_t**>(rows.p);
  auto slot = [&](int y) { return m + size_t(y % ring) * n; };

  int next = 0;  // the next source row for the horizontal pass
  for (int y = 0; y < height; ++y) {
    const int last = y + r < height ? y + r : height - 1;
    for (; next <= last; ++next) {
      // Horizontal: the row copied once into the padded buffer (edge pixels repeated), then filtered.
      const uint8_t* src = im.row(next);
      for (int k = 0; k < r; ++k) {
        std::memcpy(p + 4 * k, src, 4);
        std::memcpy(p + 4 * (r + width + k), src + n - 4, 4);
      }
      std::memcpy(p + 4 * r, src, size_t(n));
      uint16_t* out = slot(next);
      int done = 0;
#ifdef __wasm_simd128__
      done = HorizontalSimd(p + 4 * r, out, n, w, r);
#endif
      HorizontalScalar(p + 4 * r, out, done, n, w, r, static_cast<int32_t*>(accs.p));
    }
    // Vertical: rp[r + k] is the horizontal row clamp(y + k).
    for (int k = -r; k <= r; ++k) {
      const int yy = y + k < 0 ? 0 : (y + k >= height ? height - 1 : y + k);
      rp[r + k] = slot(yy);
    }
    uint8_t* out = im.row(y);
    int done = 0;
#ifdef __wasm_simd128__
    done = VerticalSimd(rp + r, out, n, w, r);
#endif
    VerticalScalar(rp + r, out, done, n, w, r, static_cast<uint32_t*>(accs.p));
  }
  return Status::Ok();
}

}  // namespace ck
