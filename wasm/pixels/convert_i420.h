// RGBA8 -> I420 (planar YUV 4:2:0), BT.601 limited range: what libvpx's VP8/VP9 encoder takes.
//
// Per pixel (alpha ignored), the libyuv/BT.601 studio-swing integers:
//   Y = ((66 R + 129 G + 25 B + 128) >> 8) + 16                      16..235
// Per 2x2 block, on the rounded block average R, G, B = (p0 + p1 + p2 + p3 + 2) >> 2:
//   U = (-38 R - 74 G + 112 B + 0x8080) >> 8                          16..240 (128 for grey)
//   V = (112 R - 94 G - 18 B + 0x8080) >> 8
// (0x8080 = 128 * 256 + 128: the +128 offset and the rounding, so the shift never sees a negative.)
// Odd width or height: the last column / row is repeated to complete its block.
// Plane sizes: Y width x height, U and V ceil(width/2) x ceil(height/2).
#pragma once
#include <cstdint>

#include "common/image.h"

namespace ck {

// Converts `src` into the three planes (rows y_stride / u_stride / v_stride bytes apart;
// y_stride >= width, u_stride and v_stride >= (width + 1) / 2). The planes must not overlap src.
Status RgbaToI420(const Image& src, uint8_t* y, int y_stride, uint8_t* u, int u_stride, uint8_t* v, int v_stride);

}  // namespace ck
