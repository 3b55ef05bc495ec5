#include "pixels/color_adjust.h"

#include <cmath>
#include <cstdio>
#include <string>

#ifdef __wasm_simd128__
#include "pixels/simd_rgba.h"
#endif

namespace ck {
namespace {

inline int Clamp255(int v) { return v < 0 ? 0 : (v > 255 ? 255 : v); }

// floor(x / 256) for any int: an arithmetic shift (what g++ and clang do for negative ints, and what
// C++20 requires).
inline int FloorDiv256(int x) { return x >> 8; }
static_assert((-1 >> 8) == -1 && (-257 >> 8) == -2, "arithmetic right shift expected");

Status CheckUnit(double v, const char* name) {
  if (!(v >= -1.0 && v <= 1.0)) {  // also false for NaN
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v);
    return Status::OutOfRange(std::string("adjust: ") + name + " must be between -1 and 1, got " + buf);
  }
  return Status::Ok();
}

inline uint8_t Tone(int v, const AdjustParams& p) {
  return uint8_t(Clamp255(128 + FloorDiv256((v + p.brightness - 128) * p.contrast_q8 + 128)));
}

// Scalar path for one row: LUT on R, G, B (when the tone is not identity), then saturation.
void AdjustRowScalar(uint8_t* px, int n, const uint8_t* lut, int sat) {
  for (int i = 0; i < n; ++i, px += 4) {
    int r = px[0], g = px[1], b = px[2];
    if (lut) {
      r = lut[r];
      g = lut[g];
      b = lut[b];
    }
    if (sat != 256) {
      const int y = (77 * r + 150 * g + 29 * b + 128) >> 8;
      r = Clamp255(y + FloorDiv256((r - y) * sat + 128));
      g = Clamp255(y + FloorDiv256((g - y) * sat + 128));
      b = Clamp255(y + FloorDiv256((b - y) * sat + 128));
    }
    px[0] = uint8_t(r);
    px[1] = uint8_t(g);
    px[2] = uint8_t(b);
  }
}

#ifdef __wasm_simd128__

// The tone curve computed instead of looked up (no gather in wasm SIMD), same integers as the LUT:
// q15mulr(x << 6, C << 1) = floor((x*64 * C*2 + 2^14) / 2^15) = floor((x*C + 128) / 256), exactly,
// for |x| <= 383 and C <= 512 (no saturation possible). Result clamped to [0, 255].
struct ToneSimd {
  v128_t offset;  // B - 128
  v128_t c2;      // C << 1
  v128_t mid = wasm_i16x8_splat(128);
  v128_t zero = wasm_i16x8_splat(0);
  v128_t max = wasm_i16x8_splat(255);
  inline v128_t operator()(v128_t v) const {
    const v128_t x = wasm_i16x8_shl(wasm_i16x8_add(v, offset), 6);
    const v128_t t = wasm_i16x8_add(wasm_i16x8_q15mulr_sat(x, c2), mid);
    return wasm_i16x8_min(wasm_i16x8_max(t, zero), max);
  }
};

// Saturation on 8 pixels in i16 lanes: q15mulr((c - Y) << 7, S) = floor(((c - Y)*S + 128) / 256).
inline void Saturate(v128_t& r, v128_t& g, v128_t& b, v128_t s) {
  const v128_t y = wasm_u16x8_shr(wasm_i16x8_add(wasm_i16x8_add(wasm_i16x8_mul(r, wasm_i16x8_splat(77)),
                                                                wasm_i16x8_mul(g, wasm_i16x8_splat(150))),
                                                 wasm_i16x8_add(wasm_i16x8_mul(b, wasm_i16x8_splat(29)),
                                                                wasm_i16x8_splat(128))),
                                  8);  // < 2^16: the u16 wrap-around arithmetic is exact
  r = wasm_i16x8_add(y, wasm_i16x8_q15mulr_sat(wasm_i16x8_shl(wasm_i16x8_sub(r, y), 7), s));
  g = wasm_i16x8_add(y, wasm_i16x8_q15mulr_sat(wasm_i16x8_shl(wasm_i16x8_sub(g, y), 7), s));
  b = wasm_i16x8_add(y, wasm_i16x8_q15mulr_sat(wasm_i16x8_shl(wasm_i16x8_sub(b, y), 7), s));
  // (clamped to [0, 255] by the caller's u8 narrowing)
}

// Returns how many pixels of the row it did (a multiple of 16); the scalar path does the rest.
int AdjustRowSimd(uint8_t* px, int n, const AdjustParams& p, bool tone, bool sat) {
  ToneSimd t;
  t.offset = wasm_i16x8_splat(int16_t(p.brightness - 128));
  t.c2 = wasm_i16x8_splat(int16_t(p.contrast_q8 << 1));
  const v128_t s = wasm_i16x8_splat(int16_t(p.saturation_q8));
  int i = 0;
  for (; i + 16 <= n; i += 16, px += 64) {
    v128_t v[4];
    for (int k = 0; k < 4; ++k) v[k] = wasm_v128_load(px + 16 * k);
    v128_t r8, g8, b8, a8;
    simd::DeinterleaveRgba(v, r8, g8, b8, a8);
    v128_t rl = wasm_u16x8_extend_low_u8x16(r8), rh = wasm_u16x8_extend_high_u8x16(r8);
    v128_t gl = wasm_u16x8_extend_low_u8x16(g8), gh = wasm_u16x8_extend_high_u8x16(g8);
    v128_t bl = wasm_u16x8_extend_low_u8x16(b8), bh = wasm_u16x8_extend_high_u8x16(b8);
    if (tone) {
      rl = t(rl), rh = t(rh), gl = t(gl), gh = t(gh), bl = t(bl), bh = t(bh);
    }
    if (sat) {
      Saturate(rl, gl, bl, s);
      Saturate(rh, gh, bh, s);
    }
    r8 = wasm_u8x16_narrow_i16x8(rl, rh);
    g8 = wasm_u8x16_narrow_i16x8(gl, gh);
    b8 = wasm_u8x16_narrow_i16x8(bl, bh);
    simd::InterleaveRgba(r8, g8, b8, a8, v);
    for (int k = 0; k < 4; ++k) wasm_v128_store(px + 16 * k, v[k]);
  }
  return i;
}
#endif

}  // namespace

Status MakeAdjustParams(const AdjustOptions& o, AdjustParams* p) {
  Status s = CheckUnit(o.brightness, "brightness");
  if (s.ok()) s = CheckUnit(o.contrast, "contrast");
  if (s.ok()) s = CheckUnit(o.saturation, "saturation");
  if (!s.ok()) return s;
  p->brightness = int(std::lround(o.brightness * 255.0));
  p->contrast_q8 = int(std::lround((1.0 + o.contrast) * 256.0));
  p->saturation_q8 = int(std::lround((1.0 + o.saturation) * 256.0));
  return Status::Ok();
}

void BuildToneLut(const AdjustParams& p, uint8_t lut[256]) {
  for (int v = 0; v < 256; ++v) lut[v] = Tone(v, p);
}

Status AdjustColor(const Image& im, const AdjustOptions& options) {
  Status s = CheckImage(im, "adjust: image");
  if (!s.ok()) return s;
  AdjustParams p;
  s = MakeAdjustParams(options, &p);
  if (!s.ok()) return s;
  const bool tone = p.brightness != 0 || p.contrast_q8 != 256;
  const bool sat = p.saturation_q8 != 256;
  if (!tone && !sat) return Status::Ok();
  uint8_t lut[256];
  BuildToneLut(p, lut);
  for (int y = 0; y < im.height; ++y) {
    uint8_t* row = im.row(y);
    int done = 0;
#ifdef __wasm_simd128__
    done = AdjustRowSimd(row, im.width, p, tone, sat);
#endif
    AdjustRowScalar(row + size_t(done) * 4, im.width - done, tone ? lut : nullptr, p.saturation_q8);
  }
  return Status::Ok();
}

}  // namespace ck
