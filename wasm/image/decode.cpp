#include "image/decode.h"

#include <zlib.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "image/stb_hooks.h"
#include "image/stb_headers.h"  // declarations only; the implementation is in stb_impl.cpp

namespace ck {
namespace {

// ---- allocation budget for stb_image (see stb_hooks.h) ----
struct DecodeBudget {
  size_t max_allocation = 0;
  bool exceeded = false;
};
thread_local DecodeBudget* g_budget = nullptr;

class ScopedDecodeBudget {
 public:
  explicit ScopedDecodeBudget(DecodeBudget* b) : previous_(g_budget) { g_budget = b; }
  ~ScopedDecodeBudget() { g_budget = previous_; }
  ScopedDecodeBudget(const ScopedDecodeBudget&) = delete;
  ScopedDecodeBudget& operator=(const ScopedDecodeBudget&) = delete;

 private:
  DecodeBudget* previous_;
};

bool OverBudget(size_t size) {
  if (g_budget && size > g_budget->max_allocation) {
    g_budget->exceeded = true;
    return true;
  }
  return false;
}

// ---- small helpers ----
uint32_t Be32(const uint8_t* p) { return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3]; }
uint32_t Be16(const uint8_t* p) { return uint32_t(p[0]) << 8 | p[1]; }

std::string Hex(const uint8_t* p, size_t n) {
  std::string s;
  char buf[4];
  for (size_t i = 0; i < n; ++i) {
    std::snprintf(buf, sizeof(buf), i ? " %02x" : "%02x", p[i]);
    s += buf;
  }
  return s;
}

std::string Dims(int w, int h) { return std::to_string(w) + "x" + std::to_string(h); }

const uint8_t kPngSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};

Status Corrupt(const char* format, const std::string& what) {
  return Status::CorruptData(std::string("decodeImage: ") + format + " " + what);
}

// Walks the PNG chunks: lengths inside the data, IHDR first, CRCs of critical chunks, IEND present.
Status ProbePng(const uint8_t* data, size_t size, bool verify_crc, ImageInfo* info) {
  size_t pos = 8;
  bool first = true;
  for (;;) {
    if (size - pos < 8)
      return Corrupt("PNG", "is truncated: it ends at byte " + std::to_string(size) + " without an IEND chunk");
    const uint32_t len = Be32(data + pos);
    const uint8_t* type = data + pos + 4;
    const std::string name(reinterpret_cast<const char*>(type), 4);
    if (len > 0x7FFFFFFFu) return Corrupt("PNG", "chunk at offset " + std::to_string(pos) + " has an invalid length");
    if (size - pos - 8 < size_t(len) + 4)
      return Corrupt("PNG", "is truncated: chunk '" + name + "' at offset " + std::to_string(pos) + " needs " +
                                std::to_string(size_t(len) + 12) + " bytes but only " + std::to_string(size - pos) +
                                " remain");
    if (first) {
      if (name != "IHDR" || len != 13) return Corrupt("PNG", "does not start with a 13-byte IHDR chunk");
      const uint32_t w = Be32(data + pos + 8), h = Be32(data + pos + 12);
      if (w == 0 || h == 0 || w > 0x7FFFFFFFu || h > 0x7FFFFFFFu)
        return Corrupt("PNG", "header has invalid dimensions " + std::to_string(w) + "x" + std::to_string(h));
      info->width = int(w);
      info->height = int(h);
      first = false;
    }
    const bool critical = (type[0] & 0x20) == 0;
    if (verify_crc && critical) {
      const uint32_t want = Be32(data + pos + 8 + len);
      uLong crc = crc32(0L, type, 4);
      // crc32 takes uInt lengths: feed large chunks in pieces.
      const uint8_t* p = data + pos + 8;
      for (size_t left = len; left > 0;) {
        const uInt n = left > (1u << 30) ? (1u << 30) : uInt(left);
        crc = crc32(crc, p, n);
        p += n;
        left -= n;
      }
      if (uint32_t(crc) != want)
        return Corrupt("PNG", "chunk '" + name + "' at offset " + std::to_string(pos) + " fails its CRC check");
    }
    pos += size_t(len) + 12;
    if (name == "IEND") break;
  }
  return Status::Ok();
}

bool IsJpegSof(uint8_t m) {
  return m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC;
}

// A DHT segment's tables: class/id in range, at most 256 codes each, and everything inside the
// segment. (Debian's stb_image 2.27 trusts the code count and writes past its tables when the 16
// counts add up to more than 256; newer stb checks it, we check it for the one we have.)
// Marks each table it defines in defined[class][id].
Status CheckJpegHuffmanTables(const uint8_t* p, size_t len, size_t offset, bool defined[2][4]) {
  size_t i = 0;
  while (i < len) {
    if (len - i < 17) return Corrupt("JPEG", "Huffman table at offset " + std::to_string(offset + i) + " is truncated");
    const int tc = p[i] >> 4, th = p[i] & 15;
    if (tc > 1 || th > 3)
      return Corrupt("JPEG", "Huffman table at offset " + std::to_string(offset + i) + " has an invalid class/id");
    size_t codes = 0;
    for (int k = 1; k <= 16; ++k) codes += p[i + k];
    if (codes > 256)
      return Corrupt("JPEG", "Huffman table at offset " + std::to_string(offset + i) + " declares " +
                                 std::to_string(codes) + " codes (at most 256)");
    if (len - i - 17 < codes)
      return Corrupt("JPEG", "Huffman table at offset " + std::to_string(offset + i) + " is truncated");
    defined[tc][th] = true;
    i += 17 + codes;
  }
  return Status::Ok();
}

// A scan header (SOS payload) may only use Huffman tables defined before it: stb_image 2.27 does not
// clear its tables, so an undefined one is heap garbage it would index with.
Status CheckJpegScanTables(const uint8_t* p, size_t len, size_t offset, bool progressive, const bool defined[2][4]) {
  if (len < 1) return Corrupt("JPEG", "scan header at offset " + std::to_string(offset) + " is too short");
  const size_t n = p[0];
  if (n < 1 || n > 4 || len < 1 + 2 * n + 3)
    return Corrupt("JPEG", "scan header at offset " + std::to_string(offset) + " is malformed");
  const int ss = p[1 + 2 * n], se = p[2 + 2 * n], ah = p[3 + 2 * n] >> 4;
  const bool needs_dc = progressive ? (ss == 0 && ah == 0) : true;
  const bool needs_ac = progressive ? se > 0 : true;
  for (size_t c = 0; c < n; ++c) {
    const int td = p[2 + 2 * c] >> 4, ta = p[2 + 2 * c] & 15;
    if (td > 3 || ta > 3)
      return Corrupt("JPEG", "scan header at offset " + std::to_string(offset) + " names an invalid Huffman table");
    if ((needs_dc && !defined[0][td]) || (needs_ac && !defined[1][ta]))
      return Corrupt("JPEG", "scan at offset " + std::to_string(offset) + " uses Huffman table " +
                                 (needs_dc && !defined[0][td] ? "DC" + std::to_string(td) : "AC" + std::to_string(ta)) +
                                 ", which is not defined before it");
  }
  return Status::Ok();
}

// Walks every JPEG marker, through the scans up to the end-of-image marker: segment lengths inside
// the data, the frame size, Huffman tables (see above), a frame before the first scan. stb_image pads
// a truncated scan with zeros instead of failing, so truncation (no EOI) is caught here too.
Status ProbeJpeg(const uint8_t* data, size_t size, ImageInfo* info) {
  size_t pos = 2;
  bool have_frame = false, in_scan = false, seen_scan = false, progressive = false;
  bool tables[2][4] = {};
  for (;;) {
    uint8_t m;
    if (in_scan) {
      // Entropy-coded data: 0xFF is followed by 00 (a stuffed byte), a restart marker, fill bytes or
      // the next marker.
      for (;;) {
        const void* ff = pos < size ? std::memchr(data + pos, 0xFF, size - pos) : nullptr;
        if (!ff)
          return Corrupt("JPEG", "is truncated: no end-of-image marker after the image data (" + std::to_string(size) +
                                     " bytes)");
        pos = size_t(static_cast<const uint8_t*>(ff) - data) + 1;
        while (pos < size && data[pos] == 0xFF) ++pos;
        if (pos >= size)
          return Corrupt("JPEG", "is truncated: no end-of-image marker after the image data (" + std::to_string(size) +
                                     " bytes)");
        const uint8_t c = data[pos++];
        if (c == 0x00 || (c >= 0xD0 && c <= 0xD7)) continue;
        m = c;
        break;
      }
    } else {
      if (pos >= size) return Corrupt("JPEG", "is truncated before its image data (" + std::to_string(size) + " bytes)");
      if (data[pos] != 0xFF)
        return Corrupt("JPEG", "has no marker where one is expected (offset " + std::to_string(pos) + ")");
      while (pos < size && data[pos] == 0xFF) ++pos;
      if (pos >= size) return Corrupt("JPEG", "is truncated before its image data (" + std::to_string(size) + " bytes)");
      m = data[pos++];
    }
    in_scan = false;
    if (m == 0xD9) {
      if (!seen_scan) return Corrupt("JPEG", "ends (EOI marker) before any image data");
      return Status::Ok();
    }
    if (m == 0xD8 || m == 0x01 || (m >= 0xD0 && m <= 0xD7)) continue;  // markers without a segment
    const size_t at = pos - 2;
    if (size - pos < 2) return Corrupt("JPEG", "is truncated inside a marker segment at offset " + std::to_string(at));
    const size_t len = Be16(data + pos);
    if (len < 2) return Corrupt("JPEG", "has a marker segment with invalid length at offset " + std::to_string(at));
    if (size - pos < len)
      return Corrupt("JPEG", "is truncated: the marker segment 0xff" + Hex(&m, 1) + " at offset " + std::to_string(at) +
                                 " needs " + std::to_string(len) + " bytes but only " + std::to_string(size - pos) +
                                 " remain");
    if (IsJpegSof(m) && !have_frame) {
      if (len < 8) return Corrupt("JPEG", "frame header is too short");
      info->height = int(Be16(data + pos + 3));
      info->width = int(Be16(data + pos + 5));
      if (info->width == 0 || info->height == 0)
        return Corrupt("JPEG", "frame header has invalid dimensions " + Dims(info->width, info->height));
      have_frame = true;
      progressive = m == 0xC2 || m == 0xC6 || m == 0xCA || m == 0xCE;
    }
    if (m == 0xC4) {
      Status st = CheckJpegHuffmanTables(data + pos + 2, len - 2, pos + 2, tables);
      if (!st.ok()) return st;
    }
    if (m == 0xDA) {
      if (!have_frame) return Corrupt("JPEG", "has a scan before its frame header");
      Status st = CheckJpegScanTables(data + pos + 2, len - 2, at, progressive, tables);
      if (!st.ok()) return st;
      in_scan = seen_scan = true;
    }
    pos += len;
  }
}

Status CheckOptions(const DecodeOptions& o) {
  if (o.max_width < 1 || o.max_width > kMaxSide)
    return Status::OutOfRange("decodeImage: maxWidth must be between 1 and " + std::to_string(kMaxSide) + ", got " +
                              std::to_string(o.max_width));
  if (o.max_height < 1 || o.max_height > kMaxSide)
    return Status::OutOfRange("decodeImage: maxHeight must be between 1 and " + std::to_string(kMaxSide) + ", got " +
                              std::to_string(o.max_height));
  if (o.max_pixels < 1 || o.max_pixels > kMaxPixels)
    return Status::OutOfRange("decodeImage: maxPixels must be between 1 and 2^28, got " + std::to_string(o.max_pixels));
  if (o.max_bytes < 1 || o.max_bytes > kMaxDecodeInputBytes)
    return Status::OutOfRange("decodeImage: maxBytes must be between 1 and " + std::to_string(kMaxDecodeInputBytes) +
                              ", got " + std::to_string(o.max_bytes));
  return Status::Ok();
}

}  // namespace

namespace stb_hooks {
// Zeroed: stb_image 2.27 leaves parts of its decoder state uninitialised (e.g. Huffman tables a
// corrupt file never defines), and garbage there is an out-of-bounds index.
void* DecodeMalloc(size_t size) { return OverBudget(size) ? nullptr : std::calloc(1, size ? size : 1); }
void* DecodeRealloc(void* p, size_t size) { return OverBudget(size) ? nullptr : std::realloc(p, size); }
void DecodeFree(void* p) { std::free(p); }
}  // namespace stb_hooks

void DecodedImage::Free::operator()(uint8_t* p) const { stb_hooks::DecodeFree(p); }

const char* ImageFormatMime(ImageFormat f) {
  switch (f) {
    case ImageFormat::kPng: return "image/png";
    case ImageFormat::kJpeg: return "image/jpeg";
    default: return "";
  }
}

Status ProbeImage(const uint8_t* data, size_t size, const DecodeOptions& options, ImageInfo* info) {
  Status st = CheckOptions(options);
  if (!st.ok()) return st;
  if (!info) return Status::InvalidArgument("decodeImage: no info output");
  *info = ImageInfo();
  if (!data || size == 0) return Status::CorruptData("decodeImage: the input is empty (0 bytes)");
  if (size > options.max_bytes)
    return Status::OutOfRange("decodeImage: the input is " + std::to_string(size) + " bytes, more than maxBytes " +
                              std::to_string(options.max_bytes));
  ImageInfo found;
  if (size >= 8 && std::memcmp(data, kPngSignature, 8) == 0) {
    found.format = ImageFormat::kPng;
    st = ProbePng(data, size, options.verify_png_crc, &found);
  } else if (size >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF) {
    found.format = ImageFormat::kJpeg;
    st = ProbeJpeg(data, size, &found);
  } else {
    return Status::CorruptData("decodeImage: not a PNG or JPEG file (it starts with " +
                               Hex(data, size < 8 ? size : 8) + ")");
  }
  if (!st.ok()) return st;
  const int w = found.width, h = found.height;
  if (w > options.max_width || h > options.max_height || int64_t(w) * h > options.max_pixels) {
    std::string limit = std::to_string(options.max_width) + "x" + std::to_string(options.max_height) + " and " +
                        std::to_string(options.max_pixels) + " pixels";
    return Status::OutOfRange("decodeImage: the " + std::string(found.format == ImageFormat::kPng ? "PNG" : "JPEG") +
                              " is " + Dims(w, h) + ", over the limit of " + limit);
  }
  *info = found;
  return Status::Ok();
}

Status DecodeImage(const uint8_t* data, size_t size, const DecodeOptions& options, DecodedImage* out) {
  if (!out) return Status::InvalidArgument("decodeImage: no output image");
  ImageInfo info;
  Status st = ProbeImage(data, size, options, &info);
  if (!st.ok()) return st;
  const char* fmt = info.format == ImageFormat::kPng ? "PNG" : "JPEG";

  // stb's own header parse must agree with ours (it also rejects what it cannot decode).
  int w = 0, h = 0, comp = 0;
  if (!stbi_info_from_memory(data, int(size), &w, &h, &comp))
    return Status::CorruptData(std::string("decodeImage: ") + fmt + " header rejected by the decoder: " +
                               stbi_failure_reason());
  if (w != info.width || h != info.height)
    return Status::CorruptData(std::string("decodeImage: ") + fmt + " header is inconsistent (" +
                               Dims(info.width, info.height) + " vs " + Dims(w, h) + ")");

  // The largest single buffer a valid file needs: 16-bit RGBA rows (+ filter bytes) or JPEG
  // coefficient planes, padded to 16, and the concatenated compressed data (grown by doubling).
  DecodeBudget budget;
  budget.max_allocation = (size_t(w) + 16) * (size_t(h) + 16) * 8 + 2 * size + (size_t(1) << 16);
  uint8_t* pixels = nullptr;
  {
    ScopedDecodeBudget scope(&budget);
    pixels = stbi_load_from_memory(data, int(size), &w, &h, &comp, 4);
  }
  if (!pixels) {
    if (budget.exceeded)
      return Status::CorruptData(std::string("decodeImage: ") + fmt + " data expands beyond its declared " +
                                 Dims(info.width, info.height) + " (corrupt?)");
    const char* reason = stbi_failure_reason();
    if (reason && std::strcmp(reason, "outofmem") == 0)
      return Status::ResourceExhausted(std::string("decodeImage: out of memory decoding a ") +
                                       Dims(info.width, info.height) + " " + fmt);
    return Status::CorruptData(std::string("decodeImage: corrupt ") + fmt + ": " + (reason ? reason : "unknown error"));
  }
  out->pixels_.reset(pixels);
  out->width_ = w;
  out->height_ = h;
  out->format_ = info.format;
  return Status::Ok();
}

}  // namespace ck
