// libFuzzer target for the image decoders (stb_image PNG + JPEG behind our header/structure checks).
// Each input is decoded as given (the public path, PNG CRCs verified) and, for PNG, again with the
// CRC check off so mutated pixel data reaches the inflater and the unfilterer. A decoded image must
// have the size it claims; small ones are re-encoded as PNG and must come back bit-exact, and as
// JPEG must decode to the same size. Seeds: tests/fixtures/fuzz/image_decode_fuzz/.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "image/decode.h"
#include "image/jpeg_encode.h"
#include "image/png_encode.h"

namespace {

void Require(bool ok, const char* what) {
  if (!ok) {
    __builtin_trap();
  }
  (void)what;
}

void CheckDecoded(ck::DecodedImage& d) {
  Require(d.width() > 0 && d.height() > 0 && d.data() != nullptr, "decoded image is empty");
  Require(d.size() == size_t(d.width()) * d.height() * 4, "decoded size");
  // Touch every byte so ASan sees the whole buffer.
  unsigned sum = 0;
  for (size_t i = 0; i < d.size(); ++i) sum += d.data()[i];
  (void)sum;
  if (int64_t(d.width()) * d.height() > 64 * 64) return;

  std::vector<uint8_t> png;
  Require(ck::EncodePng(d.view(), ck::PngOptions(), &png).ok(), "re-encode PNG");
  ck::DecodedImage again;
  Require(ck::DecodeImage(png.data(), png.size(), ck::DecodeOptions(), &again).ok(), "decode our PNG");
  Require(again.width() == d.width() && again.height() == d.height(), "PNG round trip size");
  Require(std::memcmp(again.data(), d.data(), d.size()) == 0, "PNG round trip pixels");

  std::vector<uint8_t> jpg;
  Require(ck::EncodeJpeg(d.view(), ck::JpegOptions{75}, &jpg).ok(), "re-encode JPEG");
  ck::DecodedImage j;
  Require(ck::DecodeImage(jpg.data(), jpg.size(), ck::DecodeOptions(), &j).ok(), "decode our JPEG");
  Require(j.width() == d.width() && j.height() == d.height(), "JPEG round trip size");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ck::DecodeOptions options;
  // Keep single inputs fast and within the fuzzer's memory limit; the limit path is still exercised.
  options.max_pixels = 2048 * 2048;

  ck::ImageInfo info;
  const bool probed = ck::ProbeImage(data, size, options, &info).ok();

  ck::DecodedImage d;
  ck::Status s = ck::DecodeImage(data, size, options, &d);
  if (s.ok()) {
    Require(probed, "decoded what the probe refused");
    Require(d.width() == info.width && d.height() == info.height, "probe and decode disagree");
    CheckDecoded(d);
  } else {
    Require(!s.message().empty(), "failure without a message");
    Require(d.data() == nullptr, "failure left pixels");
  }

  if (size >= 8 && data[0] == 0x89 && data[1] == 'P') {
    options.verify_png_crc = false;
    ck::DecodedImage raw;
    if (ck::DecodeImage(data, size, options, &raw).ok()) CheckDecoded(raw);
  }
  return 0;
}
