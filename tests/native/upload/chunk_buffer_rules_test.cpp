// ChunkBuffer and the part rules of stricter object stores: Cloudflare R2 (every part but the last of
// one size) and Google Cloud Storage resumable uploads (every part but the last a multiple of 256 KiB).
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "upload/chunk_buffer.h"

namespace ck {
namespace {

constexpr uint64_t KiB = 1024;
constexpr uint64_t MiB = 1024 * KiB;

std::vector<ChunkPart> StreamParts(const ChunkBufferOptions& o, uint64_t total, uint32_t seed) {
  EXPECT_TRUE(ChunkBuffer::Validate(o).ok());
  ChunkBuffer cb(o);
  std::vector<ChunkPart> parts;
  uint32_t x = seed * 2654435761u + 7;
  std::vector<uint8_t> chunk;
  uint64_t sent = 0;
  while (sent < total) {
    x ^= x << 13; x ^= x >> 17; x ^= x << 5;
    // MediaRecorder-like: mostly a few hundred KB, now and then 1 byte or 0
    uint64_t n = (x % 7 == 0) ? (x % 2) : 1 + x % (600 * KiB);
    n = std::min<uint64_t>(n, total - sent);
    chunk.assign(size_t(n), uint8_t(x));
    EXPECT_TRUE(cb.Append(chunk.data(), chunk.size(), &parts).ok());
    sent += n;
  }
  EXPECT_TRUE(cb.Flush(&parts).ok());
  return parts;
}

// Every part but the stream's last (by index order: the highest index) of one size, and the last no larger.
void ExpectEqualParts(std::vector<ChunkPart> parts, uint64_t total) {
  std::sort(parts.begin(), parts.end(), [](const ChunkPart& a, const ChunkPart& b) { return a.index < b.index; });
  uint64_t sum = 0;
  for (size_t i = 0; i < parts.size(); ++i) {
    EXPECT_EQ(parts[i].index, i);
    sum += parts[i].bytes.size();
    if (i + 1 < parts.size()) EXPECT_EQ(parts[i].bytes.size(), parts[0].bytes.size()) << "part " << i;
    else EXPECT_LE(parts[i].bytes.size(), parts[0].bytes.size());
  }
  EXPECT_EQ(sum, total);
}

TEST(ChunkBufferRules, R2AllPartsButTheLastOfOneSizeInEveryLayout) {
  for (bool hold : {false, true}) {
    // R2's 5 MiB once; the rule itself (one size) on smaller parts, many layouts, quickly under ASan
    ExpectEqualParts(StreamParts({5 * MiB, hold}, 11 * MiB + 12345, 1), 11 * MiB + 12345);
    for (uint32_t seed = 2; seed <= 6; ++seed) {
      const uint64_t total = 256 * KiB * (1 + seed % 4) + seed * 12345;
      ExpectEqualParts(StreamParts({256 * KiB, hold}, total, seed), total);
    }
    ExpectEqualParts(StreamParts({256 * KiB, hold}, 1 * MiB, 9), 1 * MiB);    // the last part exactly full
    ExpectEqualParts(StreamParts({256 * KiB, hold}, 100 * KiB, 9), 100 * KiB);  // one part only
  }
}

TEST(ChunkBufferRules, GcsPartsAreMultiplesOf256KiB) {
  for (bool hold : {false, true}) {
    for (uint64_t part : {256 * KiB, 1 * MiB + 256 * KiB, 8 * MiB}) {
      const ChunkBufferOptions o{part, hold, kGcsPartMultiple};
      const uint64_t total = 3 * part + 1000 + (hold ? 77 : 0);
      auto parts = StreamParts(o, total, uint32_t(part / KiB));
      ASSERT_GE(parts.size(), 4u);
      for (const auto& p : parts) {
        const bool last_of_stream = p.index == parts.size() - 1;
        if (!last_of_stream) EXPECT_EQ(p.bytes.size() % kGcsPartMultiple, 0u) << "part " << p.index;
      }
      ExpectEqualParts(parts, total);
    }
  }
}

TEST(ChunkBufferRules, GcsRefusesAPartSizeThatIsNotAMultiple) {
  Status s = ChunkBuffer::Validate({5 * MiB + 1, false, kGcsPartMultiple});
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("minPartSize (5242881 bytes) must be a multiple of partSizeMultiple (262144"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("e.g. 5242880 or 5505024"), std::string::npos) << s.message();
  s = ChunkBuffer::Validate({100 * KiB, false, kGcsPartMultiple});  // below one multiple
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("e.g. 262144"), std::string::npos) << s.message();
  EXPECT_TRUE(ChunkBuffer::Validate({8 * MiB, false, kGcsPartMultiple}).ok());
  EXPECT_TRUE(ChunkBuffer::Validate({5 * MiB, false, 1}).ok());  // S3, R2: no multiple
  EXPECT_EQ(ChunkBuffer::Validate({5 * MiB, false, 0}).code(), Code::kOutOfRange);
  EXPECT_EQ(ChunkBuffer::Validate({5 * MiB, false, kMaxPartSize + 1}).code(), Code::kOutOfRange);
}

}  // namespace
}  // namespace ck
