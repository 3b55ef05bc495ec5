// The one translation unit that compiles stb_image (decode) and stb_image_write (encode).
// The headers are Debian's libstb-dev copies, placed in the build tree by CMake; they are never edited.
// Configuration: PNG and JPEG only, no stdio, the same per-side limit as the rest of the core,
// our allocator hooks for the decoder and real zlib deflate for the PNG writer (stb_hooks.h).
#include <cstdlib>

#include "common/image.h"
#include "image/stb_hooks.h"

#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#define STBI_NO_STDIO
#define STBI_NO_HDR
#define STBI_NO_LINEAR
#define STBI_MAX_DIMENSIONS 16384
#define STBI_MALLOC(sz) ck::stb_hooks::DecodeMalloc(sz)
#define STBI_REALLOC(p, newsz) ck::stb_hooks::DecodeRealloc(p, newsz)
#define STBI_FREE(p) ck::stb_hooks::DecodeFree(p)
#define STB_IMAGE_IMPLEMENTATION
#define CK_STB_IMAGE_WRITE_INCLUDED  // included below, with its own wrapping
#include "image/stb_headers.h"

static_assert(STBI_MAX_DIMENSIONS == ck::kMaxSide, "stb_image's limit must match ck::kMaxSide");

#define STBI_WRITE_NO_STDIO
#define STBIW_ZLIB_COMPRESS ck::stb_hooks::ZlibCompress
#define STB_IMAGE_WRITE_IMPLEMENTATION
// stb's JPEG bit writer shifts a negative int left (`bitBuf <<= 8` once bit 31 is set), which C++17
// calls undefined and UBSan (our native test build) stops on; every compiler we use does the two's
// complement thing. Exempt that one function from the shift check without touching stb's source:
// clang via a pragma, GCC via an attribute smuggled in through the function's name.
#if __has_include("stb_image_write.h")
#define CK_STB_IMAGE_WRITE_H "stb_image_write.h"
#else
#define CK_STB_IMAGE_WRITE_H <stb/stb_image_write.h>  // see stb_headers.h
#endif
#if defined(__clang__)
#pragma clang attribute push(__attribute__((no_sanitize("shift"))), apply_to = function)
#include CK_STB_IMAGE_WRITE_H
#pragma clang attribute pop
#elif defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wattributes"
#define stbiw__jpg_writeBits __attribute__((no_sanitize("shift"))) ck_stbiw_jpg_writeBits
#include CK_STB_IMAGE_WRITE_H
#undef stbiw__jpg_writeBits
#pragma GCC diagnostic pop
#else
#include CK_STB_IMAGE_WRITE_H
#endif
#undef CK_STB_IMAGE_WRITE_H
