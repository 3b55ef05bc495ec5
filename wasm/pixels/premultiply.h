// Alpha (un)premultiplication: WebGL readPixels of a premultipliedAlpha canvas returns rgb scaled by
// alpha; encoders and the other pixel operations expect straight alpha.
#pragma once
#include "common/image.h"

namespace ck {

// In place: rgb = min(255, (rgb * 255 + a/2) / a) (exact integer rounding); alpha 0 gives rgb 0.
Status UnpremultiplyAlpha(const Image& im);

// In place: rgb = (rgb * a + 127) / 255. (The inverse direction, for tests and uploads to GL.)
Status PremultiplyAlpha(const Image& im);

}  // namespace ck
