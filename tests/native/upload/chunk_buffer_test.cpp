#include "upload/chunk_buffer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ck {
namespace {

std::vector<uint8_t> Bytes(size_t n, uint32_t seed) {
  std::vector<uint8_t> v(n);
  uint32_t x = seed * 2654435761u + 1;
  for (auto& b : v) {
    x ^= x << 13; x ^= x >> 17; x ^= x << 5;
    b = uint8_t(x);
  }
  return v;
}

// Appends the chunks, flushes, and checks the invariants every stream must satisfy.
std::vector<ChunkPart> Stream(uint64_t part_size, const std::vector<std::vector<uint8_t>>& chunks) {
  ChunkBuffer cb({part_size});
  std::vector<ChunkPart> parts;
  std::vector<uint8_t> all;
  for (const auto& c : chunks) {
    EXPECT_TRUE(cb.Append(c.data(), c.size(), &parts).ok());
    EXPECT_LE(cb.buffered_bytes(), part_size);
    all.insert(all.end(), c.begin(), c.end());
  }
  EXPECT_TRUE(cb.Flush(&parts).ok());
  std::vector<uint8_t> joined;
  for (size_t i = 0; i < parts.size(); ++i) {
    EXPECT_EQ(parts[i].index, i);
    EXPECT_EQ(parts[i].last, i + 1 == parts.size());
    if (i + 1 < parts.size()) EXPECT_EQ(parts[i].bytes.size(), part_size);
    else EXPECT_GE(parts[i].bytes.size(), 1u);
    EXPECT_LE(parts[i].bytes.size(), part_size);
    EXPECT_EQ(parts[i].sha256, Sha256::HashHex(parts[i].bytes.data(), parts[i].bytes.size()));
    joined.insert(joined.end(), parts[i].bytes.begin(), parts[i].bytes.end());
  }
  EXPECT_EQ(joined, all);
  EXPECT_EQ(cb.total_bytes(), all.size());
  return parts;
}

TEST(ChunkBuffer, MediaRecorderShapedStream) {
  // Chromium's MediaRecorder: a 1-byte first chunk, ~300 KB a second, a 0-byte last chunk.
  const uint64_t kPart = 5u * 1024 * 1024;
  std::vector<std::vector<uint8_t>> chunks = {Bytes(1, 1)};
  for (int i = 0; i < 40; ++i) chunks.push_back(Bytes(300000 + 977 * i, 10 + i));
  chunks.push_back({});
  uint64_t total = 0;
  for (auto& c : chunks) total += c.size();
  auto parts = Stream(kPart, chunks);
  ASSERT_EQ(parts.size(), (total + kPart - 1) / kPart);
  EXPECT_EQ(parts.back().bytes.size(), total - kPart * (parts.size() - 1));
}

TEST(ChunkBuffer, ExactPartSizes) {
  // 10-byte parts from chunks of 1, 3, 0, 25, 1 (30 bytes): parts 10, 10, 10 (the last held until flush).
  ChunkBuffer cb({10});
  std::vector<ChunkPart> out;
  auto d = Bytes(30, 3);
  ASSERT_TRUE(cb.Append(d.data(), 1, &out).ok());
  ASSERT_TRUE(cb.Append(d.data() + 1, 3, &out).ok());
  ASSERT_TRUE(cb.Append(d.data() + 4, 0, &out).ok());
  EXPECT_TRUE(out.empty());
  ASSERT_TRUE(cb.Append(d.data() + 4, 25, &out).ok());
  ASSERT_EQ(out.size(), 2u);  // 29 bytes: two full parts out, 9 buffered
  EXPECT_EQ(cb.buffered_bytes(), 9u);
  ASSERT_TRUE(cb.Append(d.data() + 29, 1, &out).ok());
  EXPECT_EQ(out.size(), 2u);  // exactly full: held back, it may be the last
  ASSERT_TRUE(cb.Flush(&out).ok());
  ASSERT_EQ(out.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(out[i].bytes, std::vector<uint8_t>(d.begin() + 10 * i, d.begin() + 10 * i + 10));
    EXPECT_EQ(out[i].index, uint32_t(i));
  }
  EXPECT_TRUE(out[2].last);
  EXPECT_EQ(cb.parts_emitted(), 3u);
}

TEST(ChunkBuffer, OneHugeAppendSplitsIntoManyParts) {
  auto parts = Stream(1000, {Bytes(10500, 9)});
  ASSERT_EQ(parts.size(), 11u);
  EXPECT_EQ(parts.back().bytes.size(), 500u);
}

TEST(ChunkBuffer, ManySplitsAgree) {
  for (uint64_t part : {1ull, 2ull, 7ull, 64ull}) {
    for (uint32_t seed = 1; seed < 20; ++seed) {
      std::vector<std::vector<uint8_t>> chunks;
      for (uint32_t i = 0; i < 12; ++i) chunks.push_back(Bytes((seed * 7 + i * 13) % 37, seed * 100 + i));
      Stream(part, chunks);
    }
  }
}

TEST(ChunkBuffer, NothingOrOnlyEmptyChunksEmitsNoPart) {
  EXPECT_TRUE(Stream(10, {}).empty());
  EXPECT_TRUE(Stream(10, {{}, {}, {}}).empty());
}

TEST(ChunkBuffer, SmallerThanOnePartIsOneLastPart) {
  auto parts = Stream(5u * 1024 * 1024, {Bytes(1, 1), Bytes(300, 2), {}});
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_EQ(parts[0].bytes.size(), 301u);
  EXPECT_TRUE(parts[0].last);
}

TEST(ChunkBuffer, AfterFlushEverythingFails) {
  ChunkBuffer cb({4});
  std::vector<ChunkPart> out;
  uint8_t b[3] = {1, 2, 3};
  ASSERT_TRUE(cb.Append(b, 3, &out).ok());
  ASSERT_TRUE(cb.Flush(&out).ok());
  Status s = cb.Append(b, 1, &out);
  EXPECT_EQ(s.code(), Code::kFailedPrecondition);
  EXPECT_NE(s.message().find("append after flush"), std::string::npos);
  EXPECT_EQ(cb.Append(b, 0, &out).code(), Code::kFailedPrecondition);
  EXPECT_EQ(cb.Flush(&out).code(), Code::kFailedPrecondition);
  EXPECT_EQ(out.size(), 1u);
}

TEST(ChunkBuffer, RejectsBadInput) {
  EXPECT_EQ(ChunkBuffer::Validate({0}).code(), Code::kOutOfRange);
  EXPECT_EQ(ChunkBuffer::Validate({kMaxPartSize + 1}).code(), Code::kOutOfRange);
  EXPECT_TRUE(ChunkBuffer::Validate({kMaxPartSize}).ok());
  ChunkBuffer cb({4});
  std::vector<ChunkPart> out;
  EXPECT_EQ(cb.Append(nullptr, 3, &out).code(), Code::kInvalidArgument);
  EXPECT_TRUE(cb.Append(nullptr, 0, &out).ok());
}

TEST(ChunkBuffer, MemoryStaysWithinOnePart) {
  // 2,000 appends of up to 3 parts each: the buffer never holds more than one part.
  ChunkBuffer cb({1000});
  std::vector<ChunkPart> out;
  auto d = Bytes(3000, 5);
  uint64_t total = 0;
  for (int i = 0; i < 2000; ++i) {
    size_t n = size_t(i * 7919) % 3000;
    ASSERT_TRUE(cb.Append(d.data(), n, &out).ok());
    total += n;
    ASSERT_LE(cb.buffered_bytes(), 1000u);
    out.clear();  // the caller takes the parts away
  }
  ASSERT_TRUE(cb.Flush(&out).ok());
  EXPECT_EQ(cb.total_bytes(), total);
  EXPECT_EQ(cb.parts_emitted(), (total + 999) / 1000);
}

}  // namespace
}  // namespace ck
