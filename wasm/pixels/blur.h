// Gaussian blur of an RGBA8 image, in place: separable, integer weights, edges clamped.
//
// Kernel: radius r (0..64) taps each side, sigma = r / 2 (so the kernel spans +-2 sigma), weights
// w[k] = exp(-k^2 / (2 sigma^2)) * 2^14 / sum rounded by largest remainder (symmetric, non-increasing),
// so w[0] + 2 * (w[1] + ... + w[r]) == 2^14 exactly.
// Passes: horizontal (u8 -> u16 scratch holding 6 fractional bits: (acc + 2^7) >> 8), then vertical
// (u16 -> u8: (acc + 2^19) >> 20). Each pass rounds to nearest, a constant image stays exactly constant,
// and every channel (alpha too) is blurred independently. Radius 0 is the identity.
// The scratch (a ring of 2r+1 rows of 2 bytes per channel) is allocated and freed inside GaussianBlur,
// which works in place row by row.
#pragma once
#include <cstdint>
#include <vector>

#include "common/image.h"

namespace ck {

constexpr int kMaxBlurRadius = 64;
constexpr int kBlurWeightBits = 14;

struct BlurOptions {
  int radius = 0;  // 0..kMaxBlurRadius
};

// w[0..radius]: the centre weight then one side (the kernel is symmetric).
std::vector<int> GaussianKernel(int radius);

// Blurs `im` in place. ResourceExhausted when the scratch cannot be allocated.
Status GaussianBlur(const Image& im, const BlurOptions& options);

}  // namespace ck
