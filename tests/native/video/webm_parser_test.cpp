#include "video/webm_parser.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "webm_test_util.h"

namespace ck {
namespace {

using Bytes = std::vector<uint8_t>;
using namespace webm_id;

using namespace webmtest::build;

// Records every event as a line of text, so two runs can be compared.
struct Recorder : WebmListener {
  std::vector<std::string> log;
  uint64_t payload_sum = 0, payload_bytes = 0;
  Status OnElementStart(const EbmlElement& e) override {
    log.push_back("start " + WebmElementName(e.id) + " @" + std::to_string(e.offset) + " h" + std::to_string(e.header_size) +
                  " s" + (e.unknown_size() ? std::string("?") : std::to_string(e.size)) + " d" + std::to_string(e.depth));
    return Status::Ok();
  }
  Status OnElementEnd(const EbmlElement& e, uint64_t end) override {
    if (!payload_open) log.push_back("end " + WebmElementName(e.id) + " @" + std::to_string(end));
    else {
      log.push_back("end " + WebmElementName(e.id) + " @" + std::to_string(end) + " payload " + std::to_string(payload_bytes) +
                    "/" + std::to_string(payload_sum));
      payload_open = false;
    }
    return Status::Ok();
  }
  Status OnElementData(const EbmlElement& e, const uint8_t* d, size_t n) override {
    uint64_t sum = 0;
    for (size_t i = 0; i < n; ++i) sum = sum * 31 + d[i];
    log.push_back("data " + WebmElementName(e.id) + " " + std::to_string(n) + " " + std::to_string(sum));
    return Status::Ok();
  }
  Status OnBlock(const EbmlElement& e, const WebmBlockHeader& b) override {
    log.push_back("block t" + std::to_string(b.track) + " tc" + std::to_string(b.timecode) + (b.keyframe ? " key" : "") +
                  " n" + std::to_string(b.payload_size));
    payload_open = true;
    payload_sum = payload_bytes = 0;
    return Status::Ok();
  }
  Status OnBlockData(const uint8_t* d, size_t n) override {
    for (size_t i = 0; i < n; ++i) payload_sum = payload_sum * 31 + d[i];
    payload_bytes += n;
    return Status::Ok();
  }
  bool payload_open = false;
};

Status ParseWhole(const Bytes& in, Recorder* r) {
  WebmStreamParser p(r);
  Status s = p.Feed(in.data(), in.size());
  return s.ok() ? p.Finish() : s;
}

Status ParseSplit(const Bytes& in, Recorder* r, const std::vector<size_t>& sizes) {
  WebmStreamParser p(r);
  size_t pos = 0, k = 0;
  while (pos < in.size()) {
    size_t n = std::min(sizes[k++ % sizes.size()], in.size() - pos);
    Status s = p.Feed(in.data() + pos, n);
    if (!s.ok()) return s;
    pos += n;
  }
  return p.Finish();
}

TEST(WebmVint, ReadsIdsAndSizes) {
  uint32_t id = 0;
  const uint8_t cluster[] = {0x1F, 0x43, 0xB6, 0x75};
  EXPECT_EQ(ReadEbmlId(cluster, 4, &id), 4);
  EXPECT_EQ(id, kCluster);
  EXPECT_EQ(ReadEbmlId(cluster, 3, &id), 0);  // needs more bytes
  const uint8_t bad_id[] = {0xFF};            // all value bits set: reserved
  EXPECT_EQ(ReadEbmlId(bad_id, 1, &id), -1);
  const uint8_t too_long[] = {0x08, 1, 2, 3, 4};  // 5-byte IDs are not allowed
  EXPECT_EQ(ReadEbmlId(too_long, 5, &id), -1);

  uint64_t v = 0;
  const uint8_t one[] = {0x81};
  EXPECT_EQ(ReadEbmlSize(one, 1, &v), 1);
  EXPECT_EQ(v, 1u);
  const uint8_t unknown1[] = {0xFF};
  EXPECT_EQ(ReadEbmlSize(unknown1, 1, &v), 1);
  EXPECT_EQ(v, kEbmlUnknownSize);
  const uint8_t unknown8[] = {0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
  EXPECT_EQ(ReadEbmlSize(unknown8, 8, &v), 8);
  EXPECT_EQ(v, kEbmlUnknownSize);
  const uint8_t big[] = {0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x05};  // > 4 GiB
  EXPECT_EQ(ReadEbmlSize(big, 8, &v), 8);
  EXPECT_EQ(v, 0x100000005ull);
  const uint8_t zero[] = {0x00};
  EXPECT_EQ(ReadEbmlSize(zero, 1, &v), -1);

  int64_t i = 0;
  const uint8_t neg[] = {0xFF, 0xFE};
  EXPECT_TRUE(ReadEbmlInt(neg, 2, &i));
  EXPECT_EQ(i, -2);
  double d = 0;
  const uint8_t f32[] = {0x3F, 0xC0, 0x00, 0x00};
  EXPECT_TRUE(ReadEbmlFloat(f32, 4, &d));
  EXPECT_EQ(d, 1.5);
}

TEST(WebmParser, ReportsElementsOfALiveFile) {
  Recorder r;
  ASSERT_TRUE(ParseWhole(LiveFile(), &r).ok());
  std::string all;
  for (auto& l : r.log) all += l + "\n";
  // The unknown-size Segment holds everything; unknown-size Clusters end where the next one starts.
  EXPECT_NE(all.find("start Segment @"), std::string::npos);
  EXPECT_NE(all.find(" s? d0"), std::string::npos);
  int clusters = 0, ends = 0, blocks = 0;
  for (auto& l : r.log) {
    clusters += l.rfind("start Cluster", 0) == 0;
    ends += l.rfind("end Cluster", 0) == 0;
    blocks += l.rfind("block ", 0) == 0;
  }
  EXPECT_EQ(clusters, 4);
  EXPECT_EQ(ends, 4);
  EXPECT_EQ(blocks, 7);
  EXPECT_NE(all.find("block t1 tc0 key n300"), std::string::npos);
  EXPECT_NE(all.find("payload 300/"), std::string::npos);
  EXPECT_EQ(r.log.back().rfind("end Segment", 0), 0u);
}

TEST(WebmParser, AnySplitGivesTheSameEvents) {
  const Bytes in = LiveFile();
  Recorder whole;
  ASSERT_TRUE(ParseWhole(in, &whole).ok());
  for (std::vector<size_t> sizes : {std::vector<size_t>{1}, {2}, {3}, {7}, {1, 0, 4096}, {4096}}) {
    Recorder r;
    ASSERT_TRUE(ParseSplit(in, &r, sizes).ok());
    EXPECT_EQ(r.log, whole.log) << "split " << sizes[0];
  }
  std::mt19937 rng(42);
  for (int round = 0; round < 20; ++round) {
    std::vector<size_t> sizes;
    for (int k = 0; k < 50; ++k) sizes.push_back(rng() % 64);
    sizes.push_back(1);
    Recorder r;
    ASSERT_TRUE(ParseSplit(in, &r, sizes).ok());
    EXPECT_EQ(r.log, whole.log);
  }
}

TEST(WebmParser, UnknownSizeClusterEndsAtCuesTagsAndEndOfInput) {
  const Bytes in = Cat({Header(), Unknown(kSegment), El(kInfo, Uint(kTimecodeScale, 1000000)),
                        El(kTracks, Track(1, 1, "V_VP8")), Unknown(kCluster), Uint(kTimecode, 0), Simple(1, 0, true, 10),
                        El(kCues, {}), Unknown(kCluster), Uint(kTimecode, 5), Simple(1, 0, true, 10),
                        El(kTags, {}), Unknown(kCluster), Uint(kTimecode, 9), Simple(1, 0, true, 10)});
  Recorder r;
  ASSERT_TRUE(ParseWhole(in, &r).ok());
  std::vector<std::string> order;
  for (auto& l : r.log) {
    if (l.rfind("start Cluster", 0) == 0 || l.rfind("end Cluster", 0) == 0 || l.rfind("start Cues", 0) == 0 ||
        l.rfind("start Tags", 0) == 0 || l.rfind("end Segment", 0) == 0)
      order.push_back(l.substr(0, l.find(' ', 6)));
  }
  EXPECT_EQ(order, (std::vector<std::string>{"start Cluster", "end Cluster", "start Cues", "start Cluster", "end Cluster",
                                             "start Tags", "start Cluster", "end Cluster", "end Segment"}));
}

TEST(WebmParser, BlockGroupsAndLacing) {
  Bytes laced = {0x81, 0x00, 0x0A, 0x86 /* key, EBML lacing */, 0x02 /* 3 frames */, 1, 2, 3, 4, 5, 6};
  const Bytes in = Cat({Header("matroska"), Unknown(kSegment), El(kInfo, {}), El(kTracks, Track(1, 2, "A_VORBIS")),
                        Unknown(kCluster), Uint(kTimecode, 100),
                        El(kBlockGroup, Cat({El(kBlock, {0x81, 0xFF, 0xFF, 0x00, 9, 9}), Uint(kBlockDuration, 20),
                                             El(kReferenceBlock, {0xEC})})),
                        El(kSimpleBlock, laced)});
  Recorder r;
  ASSERT_TRUE(ParseWhole(in, &r).ok());
  std::string all;
  for (auto& l : r.log) all += l + "\n";
  EXPECT_NE(all.find("block t1 tc-1 n2"), std::string::npos) << all;
  EXPECT_NE(all.find("data BlockDuration 1"), std::string::npos);
  EXPECT_NE(all.find("data ReferenceBlock 1"), std::string::npos);
  EXPECT_NE(all.find("block t1 tc10 key n6"), std::string::npos) << all;
}

TEST(WebmParser, OffsetsAndSizesAbove4GiB) {
  // A Segment whose declared size is over 4 GiB and a Void that skips more than 4 GiB: the parser
  // never needs those bytes in memory, only counts them.
  Bytes seg = {0x18, 0x53, 0x80, 0x67, 0x01, 0x00, 0x00, 0x01, 0x40, 0x00, 0x00, 0x00};  // 5 GiB
  Bytes vd = {0xEC, 0x01, 0x00, 0x00, 0x01, 0x20, 0x00, 0x00, 0x00};                     // 4.5 GiB
  const Bytes head = Cat({Header(), seg, vd});
  Recorder r;
  WebmStreamParser p(&r);
  ASSERT_TRUE(p.Feed(head.data(), head.size()).ok());
  std::vector<uint8_t> zeros(1 << 20);
  const uint64_t skip = 0x120000000ull;
  for (uint64_t done = 0; done < skip; done += zeros.size()) ASSERT_TRUE(p.Feed(zeros.data(), zeros.size()).ok());
  EXPECT_EQ(p.position(), head.size() + skip);
  const Bytes tail = El(kInfo, {});
  ASSERT_TRUE(p.Feed(tail.data(), tail.size()).ok());
  EXPECT_EQ(r.log.back(), "end Info @" + std::to_string(head.size() + skip + 5));
  Status s = p.Finish();  // the Segment declared more than that
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(p.truncated());
  EXPECT_NE(s.message().find("declares 5368709120 bytes"), std::string::npos) << s.message();
}

TEST(WebmParser, ClearErrors) {
  struct Case {
    const char* name;
    Bytes in;
    const char* message;
  };
  const Bytes png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n', 0, 0, 0, 13};
  Bytes mp4 = {0, 0, 0, 0x18, 'f', 't', 'y', 'p', 'i', 's', 'o', 'm'};
  std::vector<Case> cases = {
      {"empty", {}, "the input is empty (0 bytes)"},
      {"png", png, "does not start with an EBML header (it looks like a PNG image)"},
      {"mp4", mp4, "(it looks like an MP4/QuickTime file)"},
      {"text", Bytes{'h', 'e', 'l', 'l', 'o'}, "not a WebM/Matroska file"},
      {"bad doctype", Cat({El(kEbml, Str(kDocType, "mkvfoo")), Unknown(kSegment)}), ""},
      {"truncated header", Bytes{0x1A, 0x45, 0xDF}, "the input is truncated: it ends at byte 3 in the header of the element at byte 0"},
      {"truncated block", Cat({Header(), Unknown(kSegment), Unknown(kCluster), Uint(kTimecode, 0), Bytes{0xA3, 0x88, 0x81, 0, 0}}),
       "inside SimpleBlock at byte"},
      {"child past parent", Cat({Header(), El(kSegment, Cat({Bytes{0x15, 0x49, 0xA9, 0x66, 0x85}, Bytes{0, 0, 0}}))}),
       "Info at byte"},
      {"unknown-size leaf", Cat({Header(), Unknown(kSegment), Unknown(kInfo)}), "Info at byte"},
      {"bad vint", Cat({Header(), Unknown(kSegment), Bytes{0x15, 0x49, 0xA9, 0x66, 0x00}}), "invalid size of Info"},
      {"bad id", Cat({Header(), Unknown(kSegment), Bytes{0x05}}), "invalid element ID at byte"},
      {"short block", Cat({Header(), Unknown(kSegment), Unknown(kCluster), El(kSimpleBlock, {0x81, 0})}), "is too short"},
      {"huge info", Cat({Header(), Unknown(kSegment), Bytes{0x15, 0x49, 0xA9, 0x66, 0x08, 0x02, 0, 0, 0}}),
       "more than the 16777216 allowed"},
  };
  for (const Case& c : cases) {
    for (size_t split : {size_t(1), size_t(4096)}) {
      Recorder r;
      Status s = ParseSplit(c.in, &r, {split});
      if (std::string(c.name) == "bad doctype") {
        EXPECT_TRUE(s.ok()) << c.name;  // the parser does not judge the DocType; ParseEbmlHeader does
        continue;
      }
      ASSERT_FALSE(s.ok()) << c.name;
      EXPECT_EQ(s.code(), Code::kCorruptData) << c.name;
      EXPECT_NE(s.message().find(c.message), std::string::npos) << c.name << ": " << s.message();
    }
  }
  WebmEbmlHeader h;
  Bytes payload = Str(kDocType, "mkvfoo");
  Status s = ParseEbmlHeader(payload.data(), payload.size(), &h);
  EXPECT_NE(s.message().find("its DocType is \"mkvfoo\""), std::string::npos) << s.message();
}

TEST(WebmParser, EveryPrefixIsCompleteOrTruncated) {
  // Cutting a live file anywhere gives either a clean end (at an element boundary inside an
  // unknown-size Cluster) or a truncation error, never anything else.
  const Bytes in = LiveFile();
  for (size_t n = 1; n < in.size(); ++n) {
    Bytes prefix(in.begin(), in.begin() + long(n));
    Recorder r;
    WebmStreamParser p(&r);
    Status s = p.Feed(prefix.data(), prefix.size());
    ASSERT_TRUE(s.ok()) << n << ": " << s.message();
    s = p.Finish();
    if (!s.ok()) {
      EXPECT_TRUE(p.truncated()) << n << ": " << s.message();
      EXPECT_NE(s.message().find("truncated"), std::string::npos);
      EXPECT_LE(p.partial_element_offset(), n);
    }
  }
}

TEST(WebmParser, RandomBytesNeverCrash) {
  std::mt19937 rng(7);
  for (int round = 0; round < 300; ++round) {
    Bytes in = LiveFile();
    const int flips = 1 + int(rng() % 8);
    for (int k = 0; k < flips; ++k) in[rng() % in.size()] = uint8_t(rng());
    Recorder r;
    (void)ParseSplit(in, &r, {1 + rng() % 100});
  }
  SUCCEED();
}

TEST(WebmParser, ParsesTracksAndInfo) {
  const Bytes tracks = Cat({Track(1, 1, "V_VP9"),
                            El(kTrackEntry, Cat({Uint(kTrackNumber, 2), Uint(kTrackType, 2), Str(kCodecId, "A_OPUS"),
                                                 El(kCodecPrivate, {'O', 'p', 'u', 's'}),
                                                 El(kAudio, Cat({Uint(kChannels, 2)}))}))});
  std::vector<WebmTrack> t;
  ASSERT_TRUE(ParseTracks(tracks.data(), tracks.size(), &t).ok());
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[0].codec_id, "V_VP9");
  EXPECT_EQ(t[0].type, 1u);
  EXPECT_EQ(t[1].channels, 2u);
  EXPECT_EQ(t[1].codec_private.size(), 4u);
  const Bytes dup = Cat({Track(1, 1, "V_VP9"), Track(1, 2, "A_OPUS")});
  EXPECT_FALSE(ParseTracks(dup.data(), dup.size(), &t).ok());

  const Bytes info = Cat({Uint(kTimecodeScale, 1000), El(kDuration, {0x40, 0x49, 0x0F, 0xDB}), Str(kMuxingApp, "Chrome")});
  WebmInfo i;
  ASSERT_TRUE(ParseInfo(info.data(), info.size(), &i).ok());
  EXPECT_EQ(i.timecode_scale, 1000u);
  EXPECT_NEAR(i.duration, 3.14159, 1e-5);
  EXPECT_EQ(i.muxing_app, "Chrome");
}

TEST(WebmParser, ReadsFfmpegFiles) {
  if (!webmtest::HaveTool("ffmpeg")) GTEST_SKIP() << "ffmpeg is not installed";
  webmtest::TempDir dir;
  const std::string path = webmtest::MakeLiveFixture(dir, webmtest::FixtureSpecs()[1]);
  ASSERT_FALSE(path.empty());
  const Bytes in = webmtest::ReadFile(path);
  Recorder whole, bytewise;
  ASSERT_TRUE(ParseWhole(in, &whole).ok());
  ASSERT_TRUE(ParseSplit(in, &bytewise, {1}).ok());
  EXPECT_EQ(whole.log, bytewise.log);
  int blocks = 0;
  for (auto& l : whole.log) blocks += l.rfind("block ", 0) == 0;
  EXPECT_GT(blocks, 90 + 100);  // 90 video frames and 150 Opus packets
}

}  // namespace
}  // namespace ck
