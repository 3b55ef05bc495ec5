// Mp4BoxWriter: builds ISO BMFF boxes (ISO/IEC 14496-12) in memory, big-endian, the way the spec
// draws them: Begin("moov") ... End() writes a 32-bit size and a four-character type and fills in the
// size when the box ends; BeginFull("mvhd", version, flags) adds the FullBox header. Boxes nest.
//
//   Box      size:u32  type:4cc  payload             (size covers the whole box, header included)
//   FullBox  size:u32  type:4cc  version:u8  flags:u24  payload
//
// The muxer builds each small box tree (ftyp, moov, a fragment's moof, mfra) here and writes it to the
// ByteSink in one piece; Mark() remembers where a field is so a value known only later (a duration,
// a data offset) can be patched in place or, once the bytes are out, through a Seek on the sink.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace ck {

class Mp4BoxWriter {
 public:
  void Begin(const char type[4]);
  void BeginFull(const char type[4], uint8_t version, uint32_t flags);
  void End();  // closes the innermost open box

  void U8(uint8_t v) { bytes_.push_back(v); }
  void U16(uint16_t v);
  void U24(uint32_t v);
  void U32(uint32_t v);
  void U64(uint64_t v);
  void FourCC(const char type[4]);
  void Zeros(size_t n) { bytes_.insert(bytes_.end(), n, 0); }
  void Bytes(const uint8_t* data, size_t size) { bytes_.insert(bytes_.end(), data, data + size); }
  void Bytes(const std::vector<uint8_t>& b) { Bytes(b.data(), b.size()); }

  // The offset of the next byte (where a field about to be written will sit).
  size_t Mark() const { return bytes_.size(); }
  void PatchU32(size_t at, uint32_t v);
  void PatchU64(size_t at, uint64_t v);

  const std::vector<uint8_t>& bytes() const { return bytes_; }
  std::vector<uint8_t> Take() { return std::move(bytes_); }
  bool balanced() const { return open_.empty(); }

 private:
  std::vector<uint8_t> bytes_;
  std::vector<size_t> open_;  // start offsets of the boxes not yet ended
};

// Big-endian encodings of one value, for patches through a sink.
std::vector<uint8_t> Mp4U32(uint32_t v);
std::vector<uint8_t> Mp4U64(uint64_t v);

}  // namespace ck
