#include "video/opus_head.h"

#include <cstring>
#include <string>

namespace ck {
namespace {

constexpr char kMagic[] = "OpusHead";

void Put16(std::vector<uint8_t>& b, size_t at, uint32_t v) {
  b[at] = uint8_t(v);
  b[at + 1] = uint8_t(v >> 8);
}
void Put32(std::vector<uint8_t>& b, size_t at, uint32_t v) {
  Put16(b, at, v & 0xffff);
  Put16(b, at + 2, v >> 16);
}
uint32_t Get16(const uint8_t* p) { return uint32_t(p[0]) | uint32_t(p[1]) << 8; }
uint32_t Get32(const uint8_t* p) { return Get16(p) | Get16(p + 2) << 16; }

}  // namespace

std::vector<uint8_t> BuildOpusHead(const OpusHead& h) {
  std::vector<uint8_t> b(kOpusHeadSize, 0);
  std::memcpy(b.data(), kMagic, 8);
  b[8] = 1;
  b[9] = uint8_t(h.channels);
  Put16(b, 10, uint32_t(h.pre_skip));
  Put32(b, 12, uint32_t(h.input_sample_rate));
  Put16(b, 16, uint32_t(h.output_gain) & 0xffff);
  b[18] = 0;
  return b;
}

Status ParseOpusHead(const uint8_t* data, size_t size, OpusHead* head) {
  if (!data || size < kOpusHeadSize)
    return Status::InvalidArgument("OpusHead: " + std::to_string(size) + " bytes, it needs at least " +
                                   std::to_string(kOpusHeadSize));
  if (std::memcmp(data, kMagic, 8) != 0) return Status::InvalidArgument("OpusHead: it does not start with \"OpusHead\"");
  if ((data[8] & 0xf0) != 0)
    return Status::InvalidArgument("OpusHead: version " + std::to_string(data[8]) + " is not readable (only 0x0N is)");
  OpusHead h;
  h.channels = data[9];
  h.pre_skip = int(Get16(data + 10));
  h.input_sample_rate = int(Get32(data + 12));
  h.output_gain = int(int16_t(Get16(data + 16)));
  h.mapping_family = data[18];
  if (h.channels < 1) return Status::InvalidArgument("OpusHead: channel count 0");
  if (h.mapping_family == 0) {
    if (h.channels > 2) return Status::InvalidArgument("OpusHead: mapping family 0 allows 1 or 2 channels, not " + std::to_string(h.channels));
    if (size != kOpusHeadSize)
      return Status::InvalidArgument("OpusHead: mapping family 0 is exactly 19 bytes, got " + std::to_string(size));
  } else {
    const size_t need = 21 + size_t(h.channels);
    if (size != need)
      return Status::InvalidArgument("OpusHead: mapping family " + std::to_string(h.mapping_family) + " with " +
                                     std::to_string(h.channels) + " channels is " + std::to_string(need) +
                                     " bytes, got " + std::to_string(size));
    if (data[19] == 0 || data[20] > data[19])
      return Status::InvalidArgument("OpusHead: bad stream counts in the channel mapping table");
  }
  *head = h;
  return Status::Ok();
}

Status OpusPacketSamples(const uint8_t* data, size_t size, int* samples_48k) {
  if (!data || size == 0) return Status::CorruptData("opus packet: empty");
  const int config = data[0] >> 3;
  int frame;  // samples at 48 kHz
  if (config < 12) {
    static const int kSilk[4] = {480, 960, 1920, 2880};  // 10, 20, 40, 60 ms
    frame = kSilk[config & 3];
  } else if (config < 16) {
    frame = (config & 1) ? 960 : 480;  // hybrid: 10, 20 ms
  } else {
    frame = 120 << (config & 3);  // CELT: 2.5, 5, 10, 20 ms
  }
  int count;
  switch (data[0] & 3) {
    case 0: count = 1; break;
    case 1:
    case 2: count = 2; break;
    default:
      if (size < 2) return Status::CorruptData("opus packet: code 3 without its frame count byte");
      count = data[1] & 0x3f;
      if (count == 0) return Status::CorruptData("opus packet: code 3 with zero frames");
  }
  const int total = frame * count;
  if (total > kMaxOpusPacketSamples)
    return Status::CorruptData("opus packet: " + std::to_string(total / 48) + " ms, more than the 120 ms a packet may hold");
  *samples_48k = total;
  return Status::Ok();
}

}  // namespace ck
