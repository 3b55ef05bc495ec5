// Streaming SHA-256 (FIPS 180-4): the checksum each upload part carries, which the server verifies.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace ck {

class Sha256 {
 public:
  using Digest = std::array<uint8_t, 32>;

  Sha256() { Reset(); }
  void Reset();
  // Feeds n bytes (any split of the message gives the same digest).
  void Update(const uint8_t* data, size_t n);
  // Finishes the message and returns its digest; the object is then reset for a new message.
  Digest Final();
  // Final() as 64 lowercase hex characters.
  std::string FinalHex();

  static Digest Hash(const uint8_t* data, size_t n);
  static std::string HashHex(const uint8_t* data, size_t n);
  static std::string ToHex(const Digest& d);

 private:
  void Block(const uint8_t* p);
  uint32_t h_[8];
  uint8_t buf_[64];
  size_t buf_len_ = 0;
  uint64_t total_ = 0;  // bytes fed so far
};

// True when s is exactly 64 lowercase hex characters (the form parts carry).
bool IsSha256Hex(const std::string& s);

}  // namespace ck
