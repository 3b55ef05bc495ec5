#include "video/mp4_box_writer.h"

namespace ck {

void Mp4BoxWriter::Begin(const char type[4]) {
  open_.push_back(bytes_.size());
  U32(0);  // the size, filled in by End()
  FourCC(type);
}

void Mp4BoxWriter::BeginFull(const char type[4], uint8_t version, uint32_t flags) {
  Begin(type);
  U8(version);
  U24(flags);
}

void Mp4BoxWriter::End() {
  if (open_.empty()) return;
  const size_t start = open_.back();
  open_.pop_back();
  PatchU32(start, uint32_t(bytes_.size() - start));
}

void Mp4BoxWriter::U16(uint16_t v) {
  U8(uint8_t(v >> 8));
  U8(uint8_t(v));
}

void Mp4BoxWriter::U24(uint32_t v) {
  U8(uint8_t(v >> 16));
  U8(uint8_t(v >> 8));
  U8(uint8_t(v));
}

void Mp4BoxWriter::U32(uint32_t v) {
  U16(uint16_t(v >> 16));
  U16(uint16_t(v));
}

void Mp4BoxWriter::U64(uint64_t v) {
  U32(uint32_t(v >> 32));
  U32(uint32_t(v));
}

void Mp4BoxWriter::FourCC(const char type[4]) { Bytes(reinterpret_cast<const uint8_t*>(type), 4); }

void Mp4BoxWriter::PatchU32(size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) bytes_[at + size_t(i)] = uint8_t(v >> (24 - 8 * i));
}

void Mp4BoxWriter::PatchU64(size_t at, uint64_t v) {
  PatchU32(at, uint32_t(v >> 32));
  PatchU32(at + 4, uint32_t(v));
}

std::vector<uint8_t> Mp4U32(uint32_t v) {
  return {uint8_t(v >> 24), uint8_t(v >> 16), uint8_t(v >> 8), uint8_t(v)};
}

std::vector<uint8_t> Mp4U64(uint64_t v) {
  std::vector<uint8_t> b = Mp4U32(uint32_t(v >> 32));
  std::vector<uint8_t> lo = Mp4U32(uint32_t(v));
  b.insert(b.end(), lo.begin(), lo.end());
  return b;
}

}  // namespace ck
