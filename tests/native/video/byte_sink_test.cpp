#include "video/byte_sink.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ck {
namespace {

struct Range {
  int64_t offset;
  std::vector<uint8_t> bytes;
};

std::vector<uint8_t> Bytes(const std::string& s) { return std::vector<uint8_t>(s.begin(), s.end()); }

// Applies ranges the way the header documents: append at the end, overwrite before it.
std::vector<uint8_t> Apply(const std::vector<Range>& ranges) {
  std::vector<uint8_t> file;
  for (const Range& r : ranges) {
    EXPECT_LE(r.offset, int64_t(file.size())) << "a range starts beyond the end";
    if (size_t(r.offset) + r.bytes.size() > file.size()) file.resize(size_t(r.offset) + r.bytes.size());
    std::copy(r.bytes.begin(), r.bytes.end(), file.begin() + r.offset);
  }
  return file;
}

// The same script of writes, seeks and commits against any sink.
void Script(ByteSink& sink) {
  auto w = [&](const std::string& s) { ASSERT_TRUE(sink.Write(reinterpret_cast<const uint8_t*>(s.data()), s.size()).ok()); };
  w("HEADER__");          // 0..8
  w("cluster1");          // 8..16
  sink.Commit(8);
  ASSERT_TRUE(sink.Seek(8).ok());
  w("CLUS");              // patch inside the uncommitted tail
  ASSERT_TRUE(sink.Seek(16).ok());
  sink.Commit(16);
  w("cluster2");          // 16..24
  ASSERT_TRUE(sink.Seek(2).ok());
  w("ad");                // patch in the header, already emitted
  ASSERT_TRUE(sink.Seek(6).ok());
  w("xxYYYY");            // entirely before the committed point (16): one patch
  ASSERT_TRUE(sink.Seek(14).ok());
  w("zzzz");              // 14..16 before the commit point, 16..18 in the tail
  ASSERT_TRUE(sink.Seek(sink.Size()).ok());
  w("cues");
  ASSERT_TRUE(sink.Close().ok());
}

TEST(MemoryByteSink, WritesSeeksAndOverwrites) {
  MemoryByteSink m;
  Script(m);
  const std::string got(m.bytes().begin(), m.bytes().end());
  EXPECT_EQ(got, "HEadERxxYYYYtezzzzuster2cues");
  EXPECT_EQ(m.Size(), 28);
}

TEST(MemoryByteSink, RejectsSeekBeyondTheEnd) {
  MemoryByteSink m;
  EXPECT_TRUE(m.Seek(0).ok());
  EXPECT_EQ(m.Seek(1).code(), Code::kOutOfRange);
  EXPECT_EQ(m.Seek(-1).code(), Code::kOutOfRange);
}

TEST(StreamingByteSink, RangesAppliedInOrderGiveTheMemoryBytes) {
  std::vector<Range> ranges;
  StreamingByteSink s([&](int64_t off, const uint8_t* d, size_t n) {
    ranges.push_back({off, std::vector<uint8_t>(d, d + n)});
    return true;
  });
  Script(s);
  MemoryByteSink m;
  Script(m);
  EXPECT_EQ(Apply(ranges), m.bytes());
  EXPECT_EQ(s.buffered(), 0u);
  // The first ranges are appends of the committed parts, in order.
  ASSERT_GE(ranges.size(), 2u);
  EXPECT_EQ(ranges[0].offset, 0);
  EXPECT_EQ(ranges[0].bytes, Bytes("HEADER__"));
  EXPECT_EQ(ranges[1].offset, 8);
  EXPECT_EQ(ranges[1].bytes, Bytes("CLUSter1"));
}

TEST(StreamingByteSink, HoldsOnlyTheUncommittedTail) {
  size_t emitted = 0;
  StreamingByteSink s([&](int64_t, const uint8_t*, size_t n) {
    emitted += n;
    return true;
  });
  std::vector<uint8_t> chunk(1000, 7);
  for (int i = 0; i < 100; ++i) {
    s.Commit(s.Position());
    ASSERT_TRUE(s.Write(chunk.data(), chunk.size()).ok());
    EXPECT_LE(s.buffered(), chunk.size());
  }
  ASSERT_TRUE(s.Close().ok());
  EXPECT_EQ(emitted, 100000u);
}

TEST(StreamingByteSink, AFailingCallbackStopsEveryLaterWrite) {
  StreamingByteSink s([&](int64_t, const uint8_t*, size_t) { return false; });
  const uint8_t b[4] = {1, 2, 3, 4};
  ASSERT_TRUE(s.Write(b, 4).ok());  // only buffered so far
  s.Commit(4);                      // emitting fails here
  EXPECT_EQ(s.Write(b, 4).code(), Code::kFailedPrecondition);
  EXPECT_EQ(s.Close().code(), Code::kFailedPrecondition);
}

}  // namespace
}  // namespace ck
