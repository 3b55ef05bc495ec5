#include "pixels/resize.h"

#include <algorithm>
#include <cstdint>
#include <vector>

#ifdef __wasm_simd128__
#include <wasm_simd128.h>
#endif

namespace ck {
namespace {

constexpr int kWeightBits = 15;
constexpr int kOne = 1 << kWeightBits;  // the weights of one output sum to this
// Vertical pass: sum(w * p) <= 255 * 2^15; >> 7 keeps 8 fractional bits (max 65280, fits uint16).
constexpr int kVerticalShift = kWeightBits - 8;
// Horizontal pass: sum(w * t) <= 65280 * 2^15 < 2^31; >> 23 gives the 8-bit value.
constexpr int kHorizontalShift = kWeightBits + 8;

// Per-axis resampling taps. Every output reads `n` consecutive source indices starting at first[i]
// (windows are padded with zero weights to a common n and kept inside [0, src)).
struct Taps {
  int n = 0;
  std::vector<int32_t> first;
  std::vector<uint16_t> weight;  // out * n
};

// Collects each output's (first, weights) then lays them out with a common tap count.
class TapBuilder {
 public:
  TapBuilder(int src, int dst) : src_(src), dst_(dst) {
    start_.reserve(size_t(dst) + 1);
    first_.reserve(size_t(dst));
  }
  void Begin(int first) {
    first_.push_back(first);
    start_.push_back(int32_t(w_.size()));
  }
  void Add(int64_t w) { w_.push_back(uint16_t(w)); }

  Taps Finish() {
    start_.push_back(int32_t(w_.size()));
    // Trim zero weights at both ends of every window (tiny edge coverage rounds to 0).
    int n = 1;
    for (int i = 0; i < dst_; ++i) {
      while (start_[i] < start_[i + 1] - 1 && w_[start_[i]] == 0) ++start_[i], ++first_[i];
      int end = start_[i + 1];
      while (end - 1 > start_[i] && w_[end - 1] == 0) --end;
      ends_.push_back(end);
      n = std::max(n, end - start_[i]);
    }
    Taps t;
    t.n = std::min(n, src_);
    t.first.resize(dst_);
    t.weight.assign(size_t(dst_) * t.n, 0);
    for (int i = 0; i < dst_; ++i) {
      const int count = ends_[i] - start_[i];
      const int first = std::min(first_[i], src_ - t.n);
      t.first[i] = first;
      uint16_t* w = &t.weight[size_t(i) * t.n + (first_[i] - first)];
      for (int k = 0; k < count; ++k) w[k] = w_[start_[i] + k];
    }
    return t;
  }

 private:
  int src_, dst_;
  std::vector<int32_t> first_, start_, ends_;
  std::vector<uint16_t> w_;
};

// Box filter. Output i covers source [i*S/D, (i+1)*S/D); in units of 1/D source pixel that is
// [i*S, (i+1)*S), and source pixel j covers [j*D, (j+1)*D). Weights come from the rounded
// cumulative coverage, so each window sums to exactly kOne and the rounding never accumulates.
Taps AreaTaps(int src, int dst) {
  TapBuilder b(src, dst);
  const int64_t S = src, D = dst;
  for (int64_t i = 0; i < D; ++i) {
    const int64_t start = i * S, end = (i + 1) * S;
    const int64_t j0 = start / D, j1 = (end - 1) / D;
    b.Begin(int(j0));
    int64_t prev = 0;
    for (int64_t j = j0; j <= j1; ++j) {
      const int64_t covered = std::min((j + 1) * D, end) - start;          // 1..S
      const int64_t cum = (2 * covered * kOne + S) / (2 * S);               // round(covered/S * kOne)
      b.Add(cum - prev);
      prev = cum;
    }
  }
  return b.Finish();
}

// Bilinear with pixel-centre alignment: output i samples source (i + 0.5) * S/D - 0.5, i.e.
// ((2i + 1) * S - D) / (2D), clamped to [0, S-1]; the fraction is rounded to 15 bits.
Taps BilinearTaps(int src, int dst) {
  TapBuilder b(src, dst);
  const int64_t S = src, D = dst;
  for (int64_t i = 0; i < D; ++i) {
    int64_t num = (2 * i + 1) * S - D;
    num = std::max<int64_t>(0, std::min(num, (S - 1) * 2 * D));
    int64_t j = num / (2 * D);
    int64_t f = ((num % (2 * D)) * kOne + D) / (2 * D);
    if (f == kOne) ++j, f = 0;
    b.Begin(int(j));
    b.Add(kOne - f);
    if (f) b.Add(f);
  }
  return b.Finish();
}

Taps AxisTaps(int src, int dst, ResizeMethod m) {
  if (m == ResizeMethod::kAuto) m = dst < src ? ResizeMethod::kArea : ResizeMethod::kBilinear;
  return m == ResizeMethod::kArea ? AreaTaps(src, dst) : BilinearTaps(src, dst);
}

// ---- vertical pass: tmp[k] = round(sum_t w[t] * rows[t][k] / 2^7), k < len ----

void VerticalScalar(const uint8_t* const* rows, const uint16_t* w, int n, int len, uint32_t* acc,
                    uint16_t* tmp, int from) {
  bool first = true;
  for (int t = 0; t < n; ++t) {
    if (!w[t]) continue;
    const uint32_t wt = w[t];
    const uint8_t* r = rows[t];
    if (first) {
      for (int k = from; k < len; ++k) acc[k] = wt * r[k];
      first = false;
    } else {
      for (int k = from; k < len; ++k) acc[k] += wt * r[k];
    }
  }
  for (int k = from; k < len; ++k) tmp[k] = uint16_t((acc[k] + (1u << (kVerticalShift - 1))) >> kVerticalShift);
}

// ---- horizontal pass: out[4x+c] = round(sum_t w[t] * tmp[4(first+t)+c] / 2^23) ----

void HorizontalScalar(const uint16_t* tmp, const Taps& h, int x_from, int dst_w, uint8_t* out) {
  const int n = h.n;
  for (int x = x_from; x < dst_w; ++x) {
    const uint16_t* p = tmp + size_t(h.first[x]) * 4;
    const uint16_t* w = &h.weight[size_t(x) * n];
    uint32_t s0 = 1u << (kHorizontalShift - 1), s1 = s0, s2 = s0, s3 = s0;
    for (int t = 0; t < n; ++t, p += 4) {
      const uint32_t wt = w[t];
      s0 += wt * p[0];
      s1 += wt * p[1];
      s2 += wt * p[2];
      s3 += wt * p[3];
    }
    uint8_t* o = out + size_t(x) * 4;
    o[0] = uint8_t(s0 >> kHorizontalShift);
    o[1] = uint8_t(s1 >> kHorizontalShift);
    o[2] = uint8_t(s2 >> kHorizontalShift);
    o[3] = uint8_t(s3 >> kHorizontalShift);
  }
}

#ifdef __wasm_simd128__

// 16 bytes per step: widen to u16, multiply-widen by the u16 weight into four u32x4 sums.
// kTaps > 0 fixes the number of non-zero taps at compile time (1 and 2 are the common cases).
template <int kTaps>
int VerticalSimd(const uint8_t* const* r, const v128_t* wv, int m, int len, uint16_t* tmp) {
  const int taps = kTaps > 0 ? kTaps : m;
  const v128_t round = wasm_i32x4_splat(1 << (kVerticalShift - 1));
  const int end = len & ~15;
  for (int k = 0; k < end; k += 16) {
    v128_t a0 = round, a1 = round, a2 = round, a3 = round;
    for (int t = 0; t < taps; ++t) {
      const v128_t v = wasm_v128_load(r[t] + k);
      const v128_t lo = wasm_u16x8_extend_low_u8x16(v), hi = wasm_u16x8_extend_high_u8x16(v);
      a0 = wasm_i32x4_add(a0, wasm_u32x4_extmul_low_u16x8(lo, wv[t]));
      a1 = wasm_i32x4_add(a1, wasm_u32x4_extmul_high_u16x8(lo, wv[t]));
      a2 = wasm_i32x4_add(a2, wasm_u32x4_extmul_low_u16x8(hi, wv[t]));
      a3 = wasm_i32x4_add(a3, wasm_u32x4_extmul_high_u16x8(hi, wv[t]));
    }
    a0 = wasm_u32x4_shr(a0, kVerticalShift);
    a1 = wasm_u32x4_shr(a1, kVerticalShift);
    a2 = wasm_u32x4_shr(a2, kVerticalShift);
    a3 = wasm_u32x4_shr(a3, kVerticalShift);
    wasm_v128_store(tmp + k, wasm_u16x8_narrow_i32x4(a0, a1));
    wasm_v128_store(tmp + k + 8, wasm_u16x8_narrow_i32x4(a2, a3));
  }
  return end;
}

// Returns how many bytes it handled (a multiple of 16); the scalar code does the rest.
int VerticalSimd(const uint8_t* const* rows, const uint16_t* w, int n, int len, uint16_t* tmp) {
  // The non-zero taps, with their weights splatted once.
  const uint8_t* r[64];
  v128_t wv[64];
  int m = 0;
  for (int t = 0; t < n; ++t)
    if (w[t]) r[m] = rows[t], wv[m++] = wasm_i16x8_splat(int16_t(w[t]));
  switch (m) {
    case 1: return VerticalSimd<1>(r, wv, m, len, tmp);
    case 2: return VerticalSimd<2>(r, wv, m, len, tmp);
    case 3: return VerticalSimd<3>(r, wv, m, len, tmp);
    default: return VerticalSimd<0>(r, wv, m, len, tmp);
  }
}

// Each output pixel is a u32x4 (RGBA) sum; taps go two at a time: one 16-byte load holds two
// pixels of tmp, and the weight vector [w0 x4, w1 x4] multiplies each half. Windows with an odd
// tap count carry a zero weight in the last pair (tmp has one pixel of zero padding for it).
// Four outputs per step so the final narrowing to bytes fills a whole vector. kPairs > 0 fixes the
// pair count at compile time (the common 1- and 2-pair cases); 0 reads it from the taps.
template <int kPairs>
int HorizontalSimd(const uint16_t* tmp, const Taps& h, const v128_t* hw, int dst_w, uint8_t* out) {
  const int pairs = kPairs > 0 ? kPairs : (h.n + 1) / 2;
  const v128_t round = wasm_i32x4_splat(1 << (kHorizontalShift - 1));
  const int32_t* first = h.first.data();
  auto pixel = [&](int x) {
    const uint16_t* p = tmp + size_t(first[x]) * 4;
    const v128_t* w = hw + size_t(x) * pairs;
    v128_t v = wasm_v128_load(p);
    v128_t s = wasm_i32x4_add(round, wasm_u32x4_extmul_low_u16x8(v, w[0]));
    s = wasm_i32x4_add(s, wasm_u32x4_extmul_high_u16x8(v, w[0]));
    for (int q = 1; q < pairs; ++q) {
      v = wasm_v128_load(p + 8 * q);
      s = wasm_i32x4_add(s, wasm_u32x4_extmul_low_u16x8(v, w[q]));
      s = wasm_i32x4_add(s, wasm_u32x4_extmul_high_u16x8(v, w[q]));
    }
    return wasm_u32x4_shr(s, kHorizontalShift);
  };
  int x = 0;
  for (; x + 4 <= dst_w; x += 4) {
    const v128_t a = wasm_u16x8_narrow_i32x4(pixel(x), pixel(x + 1));
    const v128_t b = wasm_u16x8_narrow_i32x4(pixel(x + 2), pixel(x + 3));
    wasm_v128_store(out + size_t(x) * 4, wasm_u8x16_narrow_i16x8(a, b));
  }
  return x;
}

int HorizontalSimd(const uint16_t* tmp, const Taps& h, const std::vector<v128_t>& hw, int dst_w, uint8_t* out) {
  switch ((h.n + 1) / 2) {
    case 1: return HorizontalSimd<1>(tmp, h, hw.data(), dst_w, out);
    case 2: return HorizontalSimd<2>(tmp, h, hw.data(), dst_w, out);
    default: return HorizontalSimd<0>(tmp, h, hw.data(), dst_w, out);
  }
}

// [w0 x4, w1 x4] per tap pair of every output.
std::vector<v128_t> PairWeights(const Taps& h, int dst_w) {
  const int pairs = (h.n + 1) / 2;
  std::vector<v128_t> hw(size_t(dst_w) * pairs);
  for (int x = 0; x < dst_w; ++x) {
    const uint16_t* w = &h.weight[size_t(x) * h.n];
    for (int q = 0; q < pairs; ++q) {
      const int16_t w0 = int16_t(w[2 * q]), w1 = 2 * q + 1 < h.n ? int16_t(w[2 * q + 1]) : int16_t(0);
      hw[size_t(x) * pairs + q] = wasm_i16x8_make(w0, w0, w0, w0, w1, w1, w1, w1);
    }
  }
  return hw;
}

#endif  // __wasm_simd128__

}  // namespace

Status ParseResizeMethod(const std::string& name, ResizeMethod* out) {
  if (name == "auto") *out = ResizeMethod::kAuto;
  else if (name == "bilinear") *out = ResizeMethod::kBilinear;
  else if (name == "area") *out = ResizeMethod::kArea;
  else return Status::OutOfRange("resize: method must be \"auto\", \"bilinear\" or \"area\", got \"" + name + "\"");
  return Status::Ok();
}

Status ParseResizeFit(const std::string& name, ResizeFit* out) {
  if (name == "exact") *out = ResizeFit::kExact;
  else if (name == "contain") *out = ResizeFit::kContain;
  else return Status::OutOfRange("resize: fit must be \"exact\" or \"contain\", got \"" + name + "\"");
  return Status::Ok();
}

namespace {
Status CheckSize(int w, int h, const char* what) {
  if (w <= 0 || h <= 0)
    return Status::OutOfRange(std::string(what) + ": width and height must be positive, got " + std::to_string(w) +
                              "x" + std::to_string(h));
  if (w > kMaxSide || h > kMaxSide)
    return Status::OutOfRange(std::string(what) + ": " + std::to_string(w) + "x" + std::to_string(h) +
                              " exceeds the limit of " + std::to_string(kMaxSide) + " per side");
  return Status::Ok();
}
}  // namespace

Status FitWithin(int src_w, int src_h, int box_w, int box_h, ImageSize* out) {
  Status s = CheckSize(src_w, src_h, "fitWithin: source");
  if (!s.ok()) return s;
  s = CheckSize(box_w, box_h, "fitWithin: box");
  if (!s.ok()) return s;
  const int64_t sw = src_w, sh = src_h, bw = box_w, bh = box_h;
  if (bw * sh <= bh * sw) {  // width is the limiting side
    out->width = box_w;
    out->height = int(std::max<int64_t>(1, (2 * sh * bw + sw) / (2 * sw)));
  } else {
    out->height = box_h;
    out->width = int(std::max<int64_t>(1, (2 * sw * bh + sh) / (2 * sh)));
  }
  return Status::Ok();
}

Status ThumbnailSize(int src_w, int src_h, int box_w, int box_h, ImageSize* out) {
  Status s = FitWithin(src_w, src_h, box_w, box_h, out);
  if (!s.ok()) return s;
  if (src_w <= box_w && src_h <= box_h) *out = ImageSize{src_w, src_h};
  return Status::Ok();
}

Status ResizeTargetSize(int src_w, int src_h, int width, int height, ResizeFit fit, ImageSize* out) {
  if (fit == ResizeFit::kContain) return FitWithin(src_w, src_h, width, height, out);
  Status s = CheckSize(src_w, src_h, "resize: source");
  if (!s.ok()) return s;
  s = CheckSize(width, height, "resize: target");
  if (!s.ok()) return s;
  *out = ImageSize{width, height};
  return Status::Ok();
}

Status Resize(const Image& src, const Image& dst, ResizeMethod method) {
  Status s = CheckImage(src, "resize: source");
  if (!s.ok()) return s;
  s = CheckImage(dst, "resize: destination");
  if (!s.ok()) return s;

  const Taps h = AxisTaps(src.width, dst.width, method);
  const Taps v = AxisTaps(src.height, dst.height, method);
  const int len = src.width * 4;
  // One row of the vertical result (+1 zero pixel read by the SIMD pairs), and its u32 sums.
  std::vector<uint16_t> tmp(size_t(len) + 8, 0);
  std::vector<uint32_t> acc(len);
  std::vector<const uint8_t*> rows(v.n);
#ifdef __wasm_simd128__
  const std::vector<v128_t> hw = PairWeights(h, dst.width);
#endif
  for (int y = 0; y < dst.height; ++y) {
    for (int t = 0; t < v.n; ++t) rows[t] = src.row(v.first[y] + t);
    const uint16_t* w = &v.weight[size_t(y) * v.n];
    int done = 0, x_done = 0;
#ifdef __wasm_simd128__
    if (v.n <= 64) done = VerticalSimd(rows.data(), w, v.n, len, tmp.data());
#endif
    VerticalScalar(rows.data(), w, v.n, len, acc.data(), tmp.data(), done);
#ifdef __wasm_simd128__
    x_done = HorizontalSimd(tmp.data(), h, hw, dst.width, dst.row(y));
#endif
    HorizontalScalar(tmp.data(), h, x_done, dst.width, dst.row(y));
  }
  return Status::Ok();
}

}  // namespace ck
