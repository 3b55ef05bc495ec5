// The points where our code plugs into stb (wasm/image/stb_impl.cpp compiles stb with these).
// Internal to the image area: nothing outside wasm/image/ includes this.
#pragma once
#include <cstddef>
#include <cstdint>

namespace ck::stb_hooks {

// STBIW_ZLIB_COMPRESS: stb_image_write hands us the filtered PNG rows and we deflate them with real
// zlib at the level and strategy of the current ScopedPngDeflate (png_encode.cpp). Returns malloc()ed
// memory (stb frees it with free()), or nullptr on failure. `stb_quality` is ignored.
unsigned char* ZlibCompress(unsigned char* data, int data_len, int* out_len, int stb_quality);

// STBI_MALLOC / STBI_REALLOC / STBI_FREE for stb_image: plain malloc, except that while a decode is
// running (ScopedDecodeBudget in decode.cpp) no single allocation may exceed the budget, so a small
// file whose zlib stream inflates far beyond its declared size fails instead of eating the heap.
void* DecodeMalloc(size_t size);
void* DecodeRealloc(void* p, size_t size);
void DecodeFree(void* p);

}  // namespace ck::stb_hooks
