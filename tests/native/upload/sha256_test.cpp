#include "upload/sha256.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ck {
namespace {

std::string HashOf(const std::string& s) {
  return Sha256::HashHex(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

std::vector<uint8_t> Pattern(size_t n) {
  std::vector<uint8_t> d(n);
  for (size_t i = 0; i < n; ++i) d[i] = uint8_t(i * 31 + 7);
  return d;
}

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(HashOf(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(HashOf("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(HashOf("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256, OneMillionAsStreamedInOddPieces) {
  Sha256 h;
  std::string chunk(997, 'a');
  size_t left = 1000000;
  while (left > 0) {
    size_t n = left < chunk.size() ? left : chunk.size();
    h.Update(reinterpret_cast<const uint8_t*>(chunk.data()), n);
    left -= n;
  }
  EXPECT_EQ(h.FinalHex(), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  EXPECT_EQ(HashOf(std::string(1000000, 'a')), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, PaddingBoundaries) {
  // Reference values from Python's hashlib for bytes (i*31+7)&255.
  const std::pair<size_t, const char*> cases[] = {
      {55, "8aa994584139d128848eeebc4e815639ba5ab6e6e39574195a63ac4f14f7c43b"},
      {56, "ad574708f75c044c9b85de64cb568ee7711ff4f36448c6242f053ba8f6cc2b63"},
      {63, "280ed3e8ff1df845b2e7dfe6ac6cee817bef20e783cc65abc41b818b4d2fe076"},
      {64, "c6ab9724ade5b6a7a1edfffb12f3aa9181351355af8fd08c919952ad211339dd"},
      {65, "788367c73c7ddf4c53f65e68cc0d943e6227ab55b0e78ba63ace822b1c6301c0"},
      {119, "3d610547d68216dedf7435a4fb6260353911f6b3fd3f18805ddb8be285d726fe"},
      {120, "1f80156a804cb7862ad113e8200e9d74499723e7c7854d5f48776d3148e09656"},
  };
  for (const auto& c : cases) {
    auto d = Pattern(c.first);
    EXPECT_EQ(Sha256::HashHex(d.data(), d.size()), c.second) << c.first;
  }
}

TEST(Sha256, EverySplitGivesTheSameDigest) {
  auto d = Pattern(200);
  const std::string whole = Sha256::HashHex(d.data(), d.size());
  Sha256 h;
  for (size_t a = 0; a <= d.size(); a += 7) {
    for (size_t b = a; b <= d.size(); b += 13) {
      h.Update(d.data(), a);
      h.Update(d.data() + a, 0);
      h.Update(d.data() + a, b - a);
      h.Update(d.data() + b, d.size() - b);
      ASSERT_EQ(h.FinalHex(), whole) << a << " " << b;  // Final resets for the next round
    }
  }
}

TEST(Sha256, HexCheck) {
  EXPECT_TRUE(IsSha256Hex(HashOf("x")));
  EXPECT_FALSE(IsSha256Hex(""));
  EXPECT_FALSE(IsSha256Hex(std::string(63, 'a')));
  EXPECT_FALSE(IsSha256Hex(std::string(64, 'A')));
  EXPECT_FALSE(IsSha256Hex(std::string(64, 'g')));
}

}  // namespace
}  // namespace ck
