// PNG encoding: stb_image_write's row filters (per-row choice by minimum sum of absolute differences,
// as libpng does) with the filtered rows deflated by real zlib at a chosen level and strategy.
#pragma once
#include <cstdint>
#include <vector>

#include "common/image.h"

namespace ck {

// zlib's deflate strategies (Z_DEFAULT_STRATEGY, Z_FILTERED, Z_HUFFMAN_ONLY, Z_RLE, Z_FIXED), and
// kAuto: per band of 32 rows, Z_RLE where the filtered rows are noisy (photos: smaller and ~5x faster
// than LZ77) and Z_DEFAULT_STRATEGY where they are mostly zeros (flat UI: LZ77 matches win, RLE
// output is ~2x bigger). The measure is the share of zero bytes after filtering (>= 1/2 -> LZ77).
enum class PngStrategy { kDefault = 0, kFiltered = 1, kHuffmanOnly = 2, kRle = 3, kFixed = 4, kAuto = 5 };
constexpr int kPngStrategyCount = 6;

// "default", "filtered", "huffman-only", "rle", "fixed", "auto" (the names the JS API uses).
const char* PngStrategyName(PngStrategy s);

struct PngOptions {
  int level = 6;                              // zlib level 0 (stored) .. 9
  PngStrategy strategy = PngStrategy::kAuto;
};

// Encodes `im` (RGBA8, any stride >= width*4) as an 8-bit PNG into *out (replaced).
// An image whose alpha is 255 everywhere is written as RGB (colour type 2), otherwise as RGBA
// (colour type 6); decoders give back the same RGBA either way.
Status EncodePng(const Image& im, const PngOptions& options, std::vector<uint8_t>* out);

}  // namespace ck
