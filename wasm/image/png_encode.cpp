#include "image/png_encode.h"

#include <zlib.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "image/stb_hooks.h"
#include "image/stb_headers.h"  // declarations only; the implementation is in stb_impl.cpp

namespace ck {
namespace {

struct DeflateSettings {
  int level = 6;
  int strategy = Z_DEFAULT_STRATEGY;
  bool adaptive = false;  // PngStrategy::kAuto: choose per band (needs row_bytes)
  size_t row_bytes = 0;   // filtered row size including the filter byte
  int zlib_error = Z_OK;  // set by ZlibCompress when deflate fails
};

// The settings stb's compress hook reads: set for the duration of one EncodePng call on this thread.
thread_local DeflateSettings* g_deflate = nullptr;

constexpr int kAutoBandRows = 32;

// kAuto's choice for one band of filtered rows: LZ77 when at least half the bytes are zero.
int ChooseStrategy(const unsigned char* p, size_t n) {
  size_t zeros = 0;
  for (size_t i = 0; i < n; ++i) zeros += p[i] == 0;
  return zeros * 2 >= n ? Z_DEFAULT_STRATEGY : Z_RLE;
}

// A malloc()ed output buffer that grows when deflate fills it.
struct OutBuffer {
  unsigned char* data = nullptr;
  size_t capacity = 0;
  ~OutBuffer() { std::free(data); }
  bool Grow(z_stream* zs) {
    const size_t used = capacity - zs->avail_out;
    const size_t bigger = capacity + capacity / 2 + 4096;
    if (bigger > 0xFFFFFFFFu) return false;
    auto* p = static_cast<unsigned char*>(std::realloc(data, bigger));
    if (!p) return false;
    data = p;
    capacity = bigger;
    zs->next_out = data + used;
    zs->avail_out = uInt(capacity - used);
    return true;
  }
};

// Runs deflate until it has consumed its input (and, with Z_FINISH, ended the stream).
int Pump(z_stream* zs, int flush, OutBuffer* out) {
  for (;;) {
    int rc = deflate(zs, flush);
    if (rc == Z_STREAM_END) return Z_OK;
    if (rc != Z_OK && rc != Z_BUF_ERROR) return rc;
    if (zs->avail_out == 0) {
      if (!out->Grow(zs)) return Z_MEM_ERROR;
      continue;
    }
    if (flush != Z_FINISH && zs->avail_in == 0) return Z_OK;
    if (rc == Z_BUF_ERROR) return rc;  // no progress possible with output space left: a bug
  }
}

class ScopedPngDeflate {
 public:
  explicit ScopedPngDeflate(DeflateSettings* s) : previous_(g_deflate) { g_deflate = s; }
  ~ScopedPngDeflate() { g_deflate = previous_; }
  ScopedPngDeflate(const ScopedPngDeflate&) = delete;
  ScopedPngDeflate& operator=(const ScopedPngDeflate&) = delete;

 private:
  DeflateSettings* previous_;
};

int ZlibStrategy(PngStrategy s) {
  switch (s) {
    case PngStrategy::kFiltered: return Z_FILTERED;
    case PngStrategy::kHuffmanOnly: return Z_HUFFMAN_ONLY;
    case PngStrategy::kRle: return Z_RLE;
    case PngStrategy::kFixed: return Z_FIXED;
    default: return Z_DEFAULT_STRATEGY;
  }
}

bool IsOpaque(const Image& im) {
  for (int y = 0; y < im.height; ++y) {
    const uint8_t* p = im.row(y) + 3;
    uint8_t all = 0xFF;
    for (int x = 0; x < im.width; ++x) all &= p[size_t(x) * 4];
    if (all != 0xFF) return false;
  }
  return true;
}

// stb_image_write's callback: it hands over the whole file in one piece.
void AppendPngBytes(void* context, void* data, int size) {
  auto* out = static_cast<std::vector<uint8_t>*>(context);
  const auto* p = static_cast<const uint8_t*>(data);
  out->insert(out->end(), p, p + size);
}

}  // namespace

namespace stb_hooks {

unsigned char* ZlibCompress(unsigned char* data, int data_len, int* out_len, int /*stb_quality*/) {
  DeflateSettings fallback;
  DeflateSettings* s = g_deflate ? g_deflate : &fallback;
  const size_t len = size_t(data_len);
  const bool adaptive = s->adaptive && s->row_bytes > 0 && s->level > 0;
  const size_t band = adaptive ? s->row_bytes * kAutoBandRows : len;
  int strategy = adaptive ? ChooseStrategy(data, band < len ? band : len) : s->strategy;

  z_stream zs;
  std::memset(&zs, 0, sizeof(zs));
  int rc = deflateInit2(&zs, s->level, Z_DEFLATED, 15, 9, strategy);
  if (rc != Z_OK) {
    s->zlib_error = rc;
    return nullptr;
  }
  OutBuffer out;
  out.capacity = deflateBound(&zs, uLong(len)) + 1024;
  out.data = static_cast<unsigned char*>(std::malloc(out.capacity));
  if (!out.data) rc = Z_MEM_ERROR;
  zs.next_out = out.data;
  zs.avail_out = uInt(out.capacity);
  for (size_t off = 0; rc == Z_OK && off < len; off += band) {
    const size_t n = len - off < band ? len - off : band;
    if (adaptive && off > 0) {
      const int want = ChooseStrategy(data + off, n);
      if (want != strategy) {
        // deflateParams flushes what was fed with the old strategy; it needs output space for that.
        while ((rc = deflateParams(&zs, s->level, want)) == Z_BUF_ERROR && zs.avail_out == 0) {
          if (!out.Grow(&zs)) {
            rc = Z_MEM_ERROR;
            break;
          }
        }
        if (rc != Z_OK) break;
        strategy = want;
      }
    }
    zs.next_in = data + off;
    zs.avail_in = uInt(n);
    rc = Pump(&zs, off + n == len ? Z_FINISH : Z_NO_FLUSH, &out);
  }
  if (rc == Z_OK && len == 0) rc = Pump(&zs, Z_FINISH, &out);
  const uLong produced = zs.total_out;
  deflateEnd(&zs);
  if (rc != Z_OK) {
    s->zlib_error = rc;
    return nullptr;
  }
  *out_len = int(produced);
  unsigned char* result = out.data;
  out.data = nullptr;
  return result;
}

}  // namespace stb_hooks

const char* PngStrategyName(PngStrategy s) {
  switch (s) {
    case PngStrategy::kDefault: return "default";
    case PngStrategy::kFiltered: return "filtered";
    case PngStrategy::kHuffmanOnly: return "huffman-only";
    case PngStrategy::kRle: return "rle";
    case PngStrategy::kFixed: return "fixed";
    case PngStrategy::kAuto: return "auto";
  }
  return "?";
}

Status EncodePng(const Image& im, const PngOptions& options, std::vector<uint8_t>* out) {
  Status st = CheckImage(im, "encodePng: image");
  if (!st.ok()) return st;
  if (options.level < 0 || options.level > 9)
    return Status::OutOfRange("encodePng: level must be between 0 and 9, got " + std::to_string(options.level));
  const int strategy_index = int(options.strategy);
  if (strategy_index < 0 || strategy_index >= kPngStrategyCount)
    return Status::OutOfRange("encodePng: unknown strategy " + std::to_string(strategy_index));
  if (!out) return Status::InvalidArgument("encodePng: no output vector");

  // stb computes the filtered size as height * (width*channels + 1) in int: fine up to the core's
  // limits (16384 * (16384*4 + 1) < 2^31), checked here so a future limit change cannot overflow it.
  static_assert(int64_t(kMaxSide) * (int64_t(kMaxSide) * 4 + 1) < (int64_t(1) << 31), "stb PNG size overflows int");

  DeflateSettings settings;
  settings.level = options.level;
  settings.strategy = ZlibStrategy(options.strategy);
  settings.adaptive = options.strategy == PngStrategy::kAuto;

  const bool opaque = IsOpaque(im);
  std::vector<uint8_t> rgb;
  const unsigned char* pixels = im.data;
  int stride = im.stride;
  int channels = 4;
  if (opaque) {
    // Pack to RGB: a quarter less to filter and deflate, and smaller files.
    rgb.resize(size_t(im.width) * im.height * 3);
    uint8_t* d = rgb.data();
    for (int y = 0; y < im.height; ++y) {
      const uint8_t* s = im.row(y);
      for (int x = 0; x < im.width; ++x, s += 4, d += 3) {
        d[0] = s[0];
        d[1] = s[1];
        d[2] = s[2];
      }
    }
    pixels = rgb.data();
    stride = im.width * 3;
    channels = 3;
  }
  settings.row_bytes = size_t(im.width) * channels + 1;

  out->clear();
  int ok = 0;
  {
    ScopedPngDeflate scope(&settings);
    ok = stbi_write_png_to_func(AppendPngBytes, out, im.width, im.height, channels, pixels, stride);
  }
  if (!ok) {
    if (settings.zlib_error != Z_OK && settings.zlib_error != Z_MEM_ERROR)
      return Status::FailedPrecondition("encodePng: zlib deflate failed with code " + std::to_string(settings.zlib_error));
    return Status::ResourceExhausted("encodePng: out of memory encoding a " + std::to_string(im.width) + "x" +
                                     std::to_string(im.height) + " image");
  }
  return Status::Ok();
}

}  // namespace ck
