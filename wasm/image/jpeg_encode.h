// JPEG encoding through stb_image_write (baseline, Huffman tables from the standard, IJG-style
// quality scaling; 4:2:0 chroma subsampling at quality <= 90, 4:4:4 above).
#pragma once
#include <cstdint>
#include <vector>

#include "common/image.h"

namespace ck {

struct JpegOptions {
  int quality = 90;  // 1 .. 100
};

// Encodes the RGB of `im` (RGBA8, any stride >= width*4; alpha is ignored, as canvas.toBlob's JPEG
// ignores it) into *out (replaced).
Status EncodeJpeg(const Image& im, const JpegOptions& options, std::vector<uint8_t>* out);

}  // namespace ck
