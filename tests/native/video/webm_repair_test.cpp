#include "video/webm_repair.h"

#include <gtest/gtest.h>
#include <sys/statvfs.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "webm_test_util.h"

namespace ck {
namespace {

using Bytes = std::vector<uint8_t>;
using namespace webm_id;
using namespace webmtest;
using namespace webmtest::build;

// ---- streaming repair of files, the way the JS glue drives it ----

struct FileRepair {
  Status status;
  RepairInfo info;
};

// Reads `in` twice in pieces of `chunk` bytes (the very first piece is 1 byte and an empty piece
// follows it, as MediaRecorder's first and last chunks can be) and writes the repaired file to `out`.
FileRepair RepairFile(const std::string& in, const std::string& out, size_t chunk = 1 << 20,
                      const RepairOptions& options = RepairOptions()) {
  FileRepair r;
  std::vector<uint8_t> buf(chunk);
  auto pass = [&](const std::function<Status(const uint8_t*, size_t)>& feed) -> Status {
    FILE* f = fopen(in.c_str(), "rb");
    if (!f) return Status::InvalidArgument("cannot open " + in);
    size_t n = fread(buf.data(), 1, 1, f);
    Status s = feed(buf.data(), n);
    if (s.ok()) s = feed(buf.data(), 0);
    while (s.ok() && (n = fread(buf.data(), 1, buf.size(), f)) > 0) s = feed(buf.data(), n);
    fclose(f);
    return s;
  };
  RepairPlanner planner(options);
  r.status = pass([&](const uint8_t* d, size_t n) { return planner.Feed(d, n); });
  if (r.status.ok()) r.status = planner.Finish();
  r.info = planner.info();
  if (!r.status.ok()) return r;
  RepairWriter writer(planner.TakePlan());
  FILE* o = fopen(out.c_str(), "wb");
  r.status = pass([&](const uint8_t* d, size_t n) {
    return writer.FeedTo(d, n, [&](const uint8_t* p, size_t k) { fwrite(p, 1, k, o); });
  });
  if (r.status.ok()) r.status = writer.Finish();
  fclose(o);
  return r;
}

// ---- an independent look at a repaired file: every size known, SeekHead and Cues pointing at the
// elements they name ----

struct Seekable {
  std::string error;  // empty when the file is fine
  double duration_ticks = -1;
  uint64_t timecode_scale = 1000000;
  uint64_t cues = 0, clusters = 0, blocks = 0;
};

// With full = false only the head of the file is parsed (up to the first Cluster); cue points are then
// checked by reading the bytes they point at.
Seekable CheckSeekable(const std::string& path, bool full = true) {
  Seekable out;
  struct L : WebmListener {
    Seekable* out;
    uint64_t segment_data = 0, file_size = 0;
    EbmlElement seek_head, cues;
    std::set<uint64_t> clusters;
    bool first_top = true, full = true, stop = false;
    Status OnElementStart(const EbmlElement& e) override {
      if (e.id == kCluster && !full) stop = true;
      if (e.unknown_size()) return Status::CorruptData(WebmElementName(e.id) + " has an unknown size");
      if (e.id == kSegment) segment_data = e.data_offset();
      if (e.depth == 1 && first_top) {
        first_top = false;
        if (e.id != kSeekHead) return Status::CorruptData("the Segment does not start with a SeekHead");
      }
      if (e.id == kSeekHead) seek_head = e;
      if (e.id == kCues) {
        cues = e;
        if (!clusters.empty()) return Status::CorruptData("the Cues come after Clusters");
      }
      if (e.id == kCluster) clusters.insert(e.offset - segment_data);
      if (e.id == kSimpleBlock || e.id == kBlockGroup) ++out->blocks;
      return Status::Ok();
    }
    Status OnElementData(const EbmlElement& e, const uint8_t* d, size_t n) override {
      if (e.id != kInfo) return Status::Ok();
      WebmInfo info;
      Status s = ParseInfo(d, n, &info);
      out->duration_ticks = info.duration;
      out->timecode_scale = info.timecode_scale;
      return s;
    }
  } l;
  l.out = &out;
  l.full = full;
  WebmStreamParser parser(&l);
  FILE* f = fopen(path.c_str(), "rb");
  if (!f) return out.error = "cannot open " + path, out;
  std::vector<uint8_t> buf(1 << 20);
  size_t n;
  Status s;
  while (s.ok() && !l.stop && (n = fread(buf.data(), 1, buf.size(), f)) > 0) s = parser.Feed(buf.data(), n);
  if (s.ok() && !l.stop) s = parser.Finish();
  out.clusters = l.clusters.size();
  auto read_at = [&](uint64_t pos, size_t len) {
    Bytes b(len);
    fseeko(f, off_t(pos), SEEK_SET);
    b.resize(fread(b.data(), 1, len, f));
    return b;
  };
  auto id_at = [&](uint64_t pos) {
    Bytes b = read_at(pos, 4);
    uint32_t id = 0;
    return ReadEbmlId(b.data(), b.size(), &id) > 0 ? id : 0u;
  };
  if (s.ok() && !l.seek_head.size) s = Status::CorruptData("no SeekHead");
  if (s.ok() && !l.cues.size) s = Status::CorruptData("no Cues");
  if (s.ok()) {  // every SeekHead entry points at the element it names
    Bytes sh = read_at(l.seek_head.data_offset(), size_t(l.seek_head.size));
    std::set<uint32_t> named;
    s = ForEachChild(sh.data(), sh.size(), 0, [&](uint32_t id, const uint8_t* d, size_t n) -> Status {
      uint64_t want = 0, pos = 0;
      Status c = ForEachChild(d, n, 0, [&](uint32_t cid, const uint8_t* cd, size_t cn) -> Status {
        if (cid == kSeekId) ReadEbmlUint(cd, cn, &want);
        if (cid == kSeekPosition) ReadEbmlUint(cd, cn, &pos);
        return Status::Ok();
      });
      if (c.ok() && id_at(l.segment_data + pos) != want) c = Status::CorruptData("SeekHead entry points at the wrong element");
      named.insert(uint32_t(want));
      return c;
    });
    if (s.ok() && (!named.count(kInfo) || !named.count(kTracks) || !named.count(kCues))) {
      s = Status::CorruptData("SeekHead lacks Info, Tracks or Cues");
    }
  }
  if (s.ok()) {  // every cue point names a Cluster, and a block inside it, at increasing times
    Bytes cues = read_at(l.cues.data_offset(), size_t(l.cues.size));
    int64_t last = -1;
    s = ForEachChild(cues.data(), cues.size(), 0, [&](uint32_t id, const uint8_t* d, size_t n) -> Status {
      if (id != kCuePoint) return Status::Ok();
      ++out.cues;
      uint64_t time = 0, cluster = 0, rel = UINT64_MAX;
      Status c = ForEachChild(d, n, 0, [&](uint32_t cid, const uint8_t* cd, size_t cn) -> Status {
        if (cid == kCueTime) ReadEbmlUint(cd, cn, &time);
        if (cid != kCueTrackPositions) return Status::Ok();
        return ForEachChild(cd, cn, 0, [&](uint32_t pid, const uint8_t* pd, size_t pn) -> Status {
          if (pid == kCueClusterPosition) ReadEbmlUint(pd, pn, &cluster);
          if (pid == kCueRelativePosition) ReadEbmlUint(pd, pn, &rel);
          return Status::Ok();
        });
      });
      if (!c.ok()) return c;
      if (int64_t(time) <= last) return Status::CorruptData("cue times do not increase");
      last = int64_t(time);
      if (full && !l.clusters.count(cluster)) return Status::CorruptData("a cue point names no Cluster");
      if (!full && id_at(l.segment_data + cluster) != kCluster) return Status::CorruptData("a cue point names no Cluster");
      Bytes h = read_at(l.segment_data + cluster + 4, 8);
      uint64_t size = 0;
      int hl = ReadEbmlSize(h.data(), h.size(), &size);
      uint32_t block = id_at(l.segment_data + cluster + 4 + uint64_t(hl) + rel);
      if (block != kSimpleBlock && block != kBlockGroup) return Status::CorruptData("a cue point names no block");
      return Status::Ok();
    });
  }
  fclose(f);
  if (!s.ok()) out.error = s.message();
  return out;
}

// The md5 of the first video frame shown at or after `t` seconds: by decoding from the start, or by
// letting ffmpeg seek there (-ss before -i: it seeks with the index, then decodes up to t).
std::string FrameShownAt(const std::string& path, double t, bool seek = false) {
  const std::string ss = seek ? "-ss " + std::to_string(t) + " " : "";
  const std::string s = Shell("ffmpeg -v error " + ss + "-i '" + path + "' -map 0:v:0 " + (seek ? "-frames:v 1 " : "") +
                              "-f framemd5 - 2>/dev/null");
  long num = 1, den = 1;
  size_t p = 0;
  while (p < s.size()) {
    size_t e = s.find('\n', p);
    if (e == std::string::npos) e = s.size();
    const std::string line = s.substr(p, e - p);
    p = e + 1;
    if (sscanf(line.c_str(), "#tb 0: %ld/%ld", &num, &den) == 2) continue;
    long pts = 0;
    if (line.empty() || line[0] == '#' || sscanf(line.c_str(), "%*d, %*d, %ld", &pts) != 1) continue;
    if (seek || double(pts) * double(num) / double(den) >= t - 1e-6) return line.substr(line.rfind(' ') + 1);
  }
  return "";
}

// ---- fixtures: made once per run with ffmpeg ----

class Fixtures {
 public:
  static Fixtures& Get() {
    static Fixtures f;
    return f;
  }
  // The MediaRecorder-style file for a spec ("" if ffmpeg could not make it).
  std::string MediaRecorder(const FixtureSpec& spec) {
    auto it = mr_.find(spec.name);
    if (it != mr_.end()) return it->second;
    std::string live = MakeLiveFixture(dir_, spec);
    std::string path;
    if (!live.empty()) {
      Bytes mr = MediaRecorderStyle(ReadFile(live));
      if (!mr.empty()) {
        path = dir_.file(std::string(spec.name) + "_mr" + (std::string(spec.format) == "webm" ? ".webm" : ".mkv"));
        WriteFile(path, mr);
      }
    }
    return mr_[spec.name] = path;
  }
  const TempDir& dir() const { return dir_; }

 private:
  TempDir dir_;
  std::map<std::string, std::string> mr_;
};

const FixtureSpec& Spec(const std::string& name) {
  for (const FixtureSpec& s : FixtureSpecs()) {
    if (name == s.name) return s;
  }
  abort();
}

// ---- in-memory tests on hand-made files ----

TEST(WebmRepair, HandMadeLiveFileBecomesSeekable) {
  const Bytes in = LiveFile();
  Bytes out;
  RepairInfo info;
  ASSERT_TRUE(MakeSeekable(in.data(), in.size(), &out, RepairOptions(), &info).ok());
  EXPECT_EQ(info.clusters, 4u);
  EXPECT_EQ(info.frames, 7u);
  EXPECT_EQ(info.cues, 3u);  // the third Cluster has no video keyframe
  EXPECT_EQ(info.cue_track, 1u);
  EXPECT_EQ(info.codecs, "V_VP8,A_OPUS");
  // Last video frame at 3000, lasting the median gap between the video timestamps 0, 33, 1000, 2000, 3000.
  EXPECT_EQ(info.duration_ticks, 3000 + 1000);
  EXPECT_EQ(info.output_size, out.size());
  TempDir dir;
  WriteFile(dir.file("out.webm"), out);
  Seekable check = CheckSeekable(dir.file("out.webm"));
  EXPECT_EQ(check.error, "");
  EXPECT_EQ(check.cues, 3u);
  EXPECT_EQ(check.clusters, 4u);
  EXPECT_EQ(check.blocks, 7u);
  EXPECT_EQ(check.duration_ticks, 4000);
}

TEST(WebmRepair, OutputDoesNotDependOnHowTheInputIsSplit) {
  const Bytes in = LiveFile();
  Bytes whole;
  ASSERT_TRUE(MakeSeekable(in.data(), in.size(), &whole).ok());
  std::mt19937 rng(3);
  for (int round = 0; round < 30; ++round) {
    std::vector<size_t> cuts;
    for (size_t pos = 0; pos < in.size();) {
      size_t n = round == 0 ? 1 : rng() % 40;
      cuts.push_back(std::min(n, in.size() - pos));
      pos += cuts.back();
    }
    RepairPlanner planner;
    size_t pos = 0;
    for (size_t n : cuts) {
      ASSERT_TRUE(planner.Feed(in.data() + pos, n).ok());
      pos += n;
    }
    ASSERT_TRUE(planner.Finish().ok());
    RepairWriter writer(planner.TakePlan());
    Bytes out;
    pos = 0;
    std::shuffle(cuts.begin(), cuts.end(), rng);  // pass 2 may be split differently from pass 1
    for (size_t n : cuts) {
      ASSERT_TRUE(writer.FeedTo(in.data() + pos, n, [&](const uint8_t* p, size_t k) { out.insert(out.end(), p, p + k); }).ok());
      pos += n;
    }
    ASSERT_TRUE(writer.Finish().ok());
    ASSERT_EQ(out, whole) << "round " << round;
  }
}

TEST(WebmRepair, RepairingARepairedFileChangesNothing) {
  const Bytes in = LiveFile();
  Bytes once, twice;
  RepairInfo info;
  ASSERT_TRUE(MakeSeekable(in.data(), in.size(), &once).ok());
  ASSERT_TRUE(MakeSeekable(once.data(), once.size(), &twice, RepairOptions(), &info).ok());
  EXPECT_EQ(once, twice);
  EXPECT_TRUE(info.had_cues);
  EXPECT_TRUE(info.had_duration);
}

TEST(WebmRepair, KeepsTagsBlockGroupsAndStripsStalePositions) {
  const Bytes tags = El(kTags, El(0x7373, Str(0x45A3, "TITLE")));
  const Bytes in = Cat({Header("matroska"), Unknown(kSegment), El(kSeekHead, {}), El(kVoid, Bytes(20)),
                        El(kInfo, Cat({Uint(kTimecodeScale, 1000000), Str(kMuxingApp, "test"), El(kDuration, {0, 0, 0, 0})})),
                        El(kTracks, Track(1, 1, "V_MPEG4/ISO/AVC")), tags,
                        Unknown(kCluster), Uint(kTimecode, 0), Uint(kPosition, 999), El(kCrc32, {1, 2, 3, 4}),
                        El(kBlockGroup, Cat({El(kBlock, {0x81, 0, 0, 0, 5, 5, 5}), Uint(kBlockDuration, 40)})),
                        El(kBlockGroup, Cat({El(kBlock, {0x81, 0, 40, 0, 6}), El(kReferenceBlock, {0xD8})})),
                        El(kCues, Bytes(10)),
                        El(kCluster, Cat({Uint(kTimecode, 80), Uint(kPrevSize, 5),
                                          El(kBlockGroup, Cat({El(kBlock, {0x81, 0, 0, 0, 7}), Uint(kBlockDuration, 60)}))}))});
  Bytes out;
  RepairInfo info;
  Status s = MakeSeekable(in.data(), in.size(), &out, RepairOptions(), &info);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(info.frames, 3u);
  EXPECT_EQ(info.cues, 2u);
  EXPECT_EQ(info.duration_ticks, 80 + 60);  // the last BlockDuration
  EXPECT_TRUE(info.had_cues);
  EXPECT_TRUE(info.had_duration);
  TempDir dir;
  WriteFile(dir.file("out.mkv"), out);
  Seekable check = CheckSeekable(dir.file("out.mkv"));
  EXPECT_EQ(check.error, "");
  EXPECT_EQ(check.duration_ticks, 140);
  // Tags are kept byte for byte; Position, PrevSize and CRC-32 (stale after the rewrite) are gone.
  EXPECT_NE(std::search(out.begin(), out.end(), tags.begin(), tags.end()), out.end());
  const Bytes position = Uint(kPosition, 999), prev = Uint(kPrevSize, 5);
  EXPECT_EQ(std::search(out.begin(), out.end(), position.begin(), position.end()), out.end());
  EXPECT_EQ(std::search(out.begin(), out.end(), prev.begin(), prev.end()), out.end());
}

TEST(WebmRepair, Vp8AndVp9KeyframesComeFromTheBitstream) {
  // A muxer that flags every frame as a keyframe (or leaves out ReferenceBlock) must not make a cue point
  // of an inter frame: for VP8/VP9 the frame header decides.
  auto group = [](int16_t tc, const Bytes& payload) {
    return El(kBlockGroup, El(kBlock, Cat({Bytes{0x81, uint8_t(uint16_t(tc) >> 8), uint8_t(tc), 0x00}, payload})));
  };
  auto simple = [](int16_t tc, bool flag, const Bytes& payload) {
    return El(kSimpleBlock, Cat({Bytes{0x81, uint8_t(uint16_t(tc) >> 8), uint8_t(tc), uint8_t(flag ? 0x80 : 0)}, payload}));
  };
  for (const char* codec : {"V_VP8", "V_VP9"}) {
    const bool vp8 = std::string(codec) == "V_VP8";
    const Bytes key = vp8 ? Vp8Payload(true, 20) : Bytes{0x82, 0x49, 0x83, 0x42, 0x00};
    const Bytes inter = vp8 ? Vp8Payload(false, 20) : Bytes{0x86, 0x00, 0x40, 0x92, 0x00};
    const Bytes in = Cat({Header(), Unknown(kSegment), El(kInfo, {}), El(kTracks, Track(1, 1, codec)),
                          Unknown(kCluster), Uint(kTimecode, 0), group(0, key), group(500, inter),
                          Unknown(kCluster), Uint(kTimecode, 1000), group(0, inter), simple(500, true, inter),
                          Unknown(kCluster), Uint(kTimecode, 2000), simple(0, false, key), group(40, inter)});
    Bytes out;
    RepairInfo info;
    ASSERT_TRUE(MakeSeekable(in.data(), in.size(), &out, RepairOptions(), &info).ok()) << codec;
    EXPECT_EQ(info.cues, 2u) << codec;  // at 0 and 2000, not at the inter frames 1000 and 1500
    TempDir dir;
    WriteFile(dir.file("out.webm"), out);
    EXPECT_EQ(CheckSeekable(dir.file("out.webm")).error, "");
    const std::string cues = Shell("mkvinfo -v -v '" + dir.file("out.webm") + "' 2>&1 | grep 'Cue time'");
    EXPECT_NE(cues.find("00:00:02.000"), std::string::npos) << cues;
    EXPECT_EQ(cues.find("00:00:01."), std::string::npos) << cues;
  }
}

TEST(WebmRepair, OneFrameGetsAPositiveDuration) {
  const Bytes in = Cat({Header(), Unknown(kSegment), El(kInfo, {}), El(kTracks, Track(1, 1, "V_VP8")),
                        Unknown(kCluster), Uint(kTimecode, 0), Simple(1, 0, true, 50)});
  Bytes out;
  RepairInfo info;
  ASSERT_TRUE(MakeSeekable(in.data(), in.size(), &out, RepairOptions(), &info).ok());
  EXPECT_EQ(info.frames, 1u);
  EXPECT_EQ(info.cues, 1u);
  EXPECT_GT(info.duration_ticks, 0);
}

TEST(WebmRepair, BadInputGivesClearErrors) {
  struct Case {
    const char* name;
    Bytes in;
    const char* message;
  };
  Bytes truncated = LiveFile();
  truncated.resize(truncated.size() - 100);  // inside the last block
  const std::vector<Case> cases = {
      {"empty", {}, "the input is empty (0 bytes)"},
      {"random", Bytes{0x37, 0x99, 0x12, 0xF0, 0x00, 0x42, 0x42, 0x42, 0x42}, "not a WebM/Matroska file"},
      {"png", Bytes{0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R'}, "(it looks like a PNG image)"},
      {"truncated", truncated, "the input is truncated: it ends at byte"},
      {"unknown codec", Cat({Header("matroska"), Unknown(kSegment), El(kInfo, {}), El(kTracks, Track(1, 1, "V_MPEG4/ISO/ASP")),
                             Unknown(kCluster), Uint(kTimecode, 0), Simple(1, 0, true, 10)}),
       "unsupported codec \"V_MPEG4/ISO/ASP\" (track 1); makeSeekable handles V_VP8"},
      {"headers only", Cat({Header(), Unknown(kSegment), El(kInfo, {}), El(kTracks, Track(1, 1, "V_VP8"))}),
       "the recording holds no frames (only headers)"},
      {"no segment", Header(), "the input has an EBML header but no Segment"},
      {"no tracks", Cat({Header(), Unknown(kSegment), El(kInfo, {}), Unknown(kCluster)}), "comes before the Tracks element"},
      {"undeclared track", Cat({Header(), Unknown(kSegment), El(kInfo, {}), El(kTracks, Track(1, 1, "V_VP8")),
                                Unknown(kCluster), Uint(kTimecode, 0), Simple(2, 0, true, 10)}),
       "belongs to track 2, which the Tracks element does not declare"},
      {"block before timecode", Cat({Header(), Unknown(kSegment), El(kInfo, {}), El(kTracks, Track(1, 1, "V_VP8")),
                                     Unknown(kCluster), Simple(1, 0, true, 10)}),
       "comes before its Cluster's Timecode"},
      {"two recordings", Cat({LiveFile(), LiveFile()}), "concatenated recordings are not supported"},
      {"webp", Cat({El(kEbml, Str(kDocType, "webp"))}), "its DocType is \"webp\""},
  };
  for (const Case& c : cases) {
    Bytes out;
    Status s = MakeSeekable(c.in.data(), c.in.size(), &out);
    ASSERT_FALSE(s.ok()) << c.name;
    EXPECT_NE(s.message().find(c.message), std::string::npos) << c.name << ": " << s.message();
    EXPECT_NE(s.js_error_name(), std::string("TypeError")) << c.name;
  }
}

TEST(WebmRepair, TruncatedInputIsRefusedOrSalvagedOnRequest) {
  const Bytes full = LiveFile();
  Bytes full_out;
  RepairInfo full_info;
  ASSERT_TRUE(MakeSeekable(full.data(), full.size(), &full_out, RepairOptions(), &full_info).ok());
  RepairOptions salvage;
  salvage.allow_truncated = true;
  int refused = 0, clean = 0;
  for (size_t cut = 100; cut < full.size(); ++cut) {
    const Bytes in(full.begin(), full.begin() + long(cut));
    Bytes out;
    RepairInfo info;
    Status strict = MakeSeekable(in.data(), in.size(), &out, RepairOptions(), &info);
    Status lenient = MakeSeekable(in.data(), in.size(), &out, salvage, &info);
    if (strict.ok()) {
      // Only a cut between two elements of an unknown-size Cluster looks complete: nothing is lost.
      ++clean;
      EXPECT_TRUE(lenient.ok());
      EXPECT_FALSE(info.truncated);
      continue;
    }
    ++refused;
    EXPECT_NE(strict.message().find("truncated"), std::string::npos) << cut << ": " << strict.message();
    if (info.frames == 0 && !lenient.ok()) continue;  // cut before the first complete frame
    ASSERT_TRUE(lenient.ok()) << cut << ": " << lenient.message();
    EXPECT_TRUE(info.truncated);
    EXPECT_LT(info.dropped_bytes, cut);  // 0 when the cut falls between two blocks of a known-size Cluster
    EXPECT_LT(info.frames, full_info.frames);
    EXPECT_EQ(out.size(), info.output_size);
    TempDir dir;
    WriteFile(dir.file("salvaged.webm"), out);
    Seekable check = CheckSeekable(dir.file("salvaged.webm"));
    EXPECT_EQ(check.error, "") << cut;
    EXPECT_EQ(check.blocks, info.frames);
  }
  EXPECT_GT(refused, 100);
  EXPECT_GT(clean, 3);
}

TEST(WebmRepair, InputThatChangesBetweenPassesIsCaught) {
  Bytes in = LiveFile();
  RepairPlanner planner;
  ASSERT_TRUE(planner.Feed(in.data(), in.size()).ok());
  ASSERT_TRUE(planner.Finish().ok());
  {
    RepairWriter writer(planner.TakePlan());
    Bytes shorter(in.begin(), in.end() - 1);
    ASSERT_TRUE(writer.FeedTo(shorter.data(), shorter.size(), [](const uint8_t*, size_t) {}).ok());
    Status s = writer.Finish();
    EXPECT_NE(s.message().find("the input changed between the two passes"), std::string::npos) << s.message();
  }
  RepairPlanner p2;
  ASSERT_TRUE(p2.Feed(in.data(), in.size()).ok());
  ASSERT_TRUE(p2.Finish().ok());
  RepairWriter writer(p2.TakePlan());
  Bytes shifted = in;
  shifted.insert(shifted.begin() + 100, 0xEC);
  shifted.pop_back();
  Status s = writer.FeedTo(shifted.data(), shifted.size(), [](const uint8_t*, size_t) {});
  EXPECT_NE(s.message().find("the input changed between the two passes: no Cluster at byte"), std::string::npos) << s.message();
}

// ---- real encoders: ffmpeg makes the recordings, ffprobe/mkvinfo/ffmpeg judge the repair ----

class WebmRepairCodec : public ::testing::TestWithParam<std::string> {};

TEST_P(WebmRepairCodec, RepairedFileIsSeekableAndFrameExact) {
  if (!HaveTool("ffmpeg") || !HaveTool("ffprobe") || !HaveTool("mkvinfo")) GTEST_SKIP() << "ffmpeg/ffprobe/mkvinfo missing";
  const FixtureSpec& spec = Spec(GetParam());
  const std::string mr = Fixtures::Get().MediaRecorder(spec);
  ASSERT_FALSE(mr.empty()) << "ffmpeg could not make the " << spec.name << " fixture";
  const TempDir& dir = Fixtures::Get().dir();
  const std::string ext = std::string(spec.format) == "webm" ? ".webm" : ".mkv";

  // The input really is MediaRecorder-like: no duration, unknown sizes, no cues.
  const std::string before = Shell("mkvinfo -v '" + mr + "' 2>&1");
  EXPECT_NE(before.find("Segment: size unknown"), std::string::npos);
  EXPECT_EQ(before.find("Cues"), std::string::npos);
  EXPECT_LT(ProbeDuration(mr), 0);

  const std::string out = dir.file(std::string(spec.name) + "_repaired" + ext);
  FileRepair r = RepairFile(mr, out, 64 * 1024);
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_GT(r.info.cues, 2u);
  EXPECT_GE(r.info.clusters, 3u);

  // ffmpeg's own idea of the true duration: remux with its muxer, which writes Duration = last end.
  const std::string ref = dir.file(std::string(spec.name) + "_ffmpeg_ref" + ext);
  int rc = 0;
  Shell("ffmpeg -v error -y -i '" + mr + "' -c copy -f " + spec.format + " '" + ref + "' </dev/null", &rc);
  ASSERT_EQ(rc, 0);
  const double frame = spec.has_video ? 1.0 / 30 : 0.02;
  EXPECT_NEAR(ProbeDuration(out), ProbeDuration(ref), frame + 1e-3);
  EXPECT_NEAR(ProbeDuration(out), 3.0, frame + 1e-3);
  EXPECT_NEAR(r.info.duration_ms, ProbeDuration(out) * 1000, 1);
  EXPECT_EQ(ProbePacketCounts(out), ProbePacketCounts(mr));

  const std::string after = Shell("mkvinfo -v -v '" + out + "' 2>&1");
  EXPECT_EQ(after.find("size unknown"), std::string::npos) << after.substr(0, 2000);
  EXPECT_NE(after.find("|+ Cues"), std::string::npos);
  EXPECT_NE(after.find("|+ Seek head"), std::string::npos);
  EXPECT_NE(after.find("| + Cue point"), std::string::npos);
  EXPECT_NE(after.find("+ Duration: 00:00:0"), std::string::npos);
  EXPECT_LT(after.find("|+ Cues"), after.find("|+ Cluster"));  // cues first, where players look
  Seekable check = CheckSeekable(out);
  EXPECT_EQ(check.error, "");
  EXPECT_EQ(check.cues, r.info.cues);

  // Every decoded frame (video and audio) is bit-identical to decoding the original.
  const std::string md5_in = FrameMd5(mr), md5_out = FrameMd5(out);
  EXPECT_GT(md5_in.size(), 1000u);
  EXPECT_EQ(md5_in, md5_out);

  // Seeking to the middle with ffmpeg -ss decodes the frame shown at 1.5 s.
  if (spec.has_video) {
    const std::string want = FrameShownAt(mr, 1.5);
    const std::string got = FrameShownAt(out, 1.5, /*seek=*/true);
    ASSERT_FALSE(want.empty());
    EXPECT_EQ(got, want);
  }
}

INSTANTIATE_TEST_SUITE_P(Ffmpeg, WebmRepairCodec,
                         ::testing::Values("vp8", "vp8_opus", "vp9_opus", "av1", "h264_opus", "opus"),
                         [](const ::testing::TestParamInfo<std::string>& i) { return i.param; });

// Real MediaRecorder output (Chromium 156, tests/fixtures/video/record-chrome-fixtures.mjs), fed in the
// chunks MediaRecorder delivered.
class WebmRepairChrome : public ::testing::TestWithParam<std::string> {};

TEST_P(WebmRepairChrome, RealRecordingBecomesSeekable) {
  if (!HaveTool("ffmpeg") || !HaveTool("ffprobe") || !HaveTool("mkvinfo")) GTEST_SKIP() << "ffmpeg/ffprobe/mkvinfo missing";
  const fs::path fixtures = fs::path(__FILE__).parent_path() / ".." / ".." / "fixtures" / "video";
  const std::string in = (fixtures / ("chrome_" + GetParam())).string();
  const std::string stem = GetParam().substr(0, GetParam().find('.'));
  const Bytes file = ReadFile(in);
  ASSERT_GT(file.size(), 1000u) << in;
  std::vector<size_t> chunks;
  {
    const Bytes json = ReadFile((fixtures / ("chrome_" + stem + ".chunks.json")).string());
    size_t v = 0;
    bool digits = false;
    for (uint8_t c : json) {
      if (c >= '0' && c <= '9') v = v * 10 + (c - '0'), digits = true;
      else if (digits) chunks.push_back(v), v = 0, digits = false;
    }
  }
  size_t total = 0;
  for (size_t c : chunks) total += c;
  ASSERT_EQ(total, file.size());

  RepairPlanner planner;
  size_t pos = 0;
  for (size_t c : chunks) {
    ASSERT_TRUE(planner.Feed(file.data() + pos, c).ok());
    pos += c;
  }
  ASSERT_TRUE(planner.Feed(file.data(), 0).ok());  // MediaRecorder's empty last chunk
  Status s = planner.Finish();
  ASSERT_TRUE(s.ok()) << s.message();
  const RepairInfo info = planner.info();
  EXPECT_EQ(info.cue_track, 1u);
  RepairWriter writer(planner.TakePlan());
  Bytes out;
  pos = 0;
  for (size_t c : chunks) {
    ASSERT_TRUE(writer.FeedTo(file.data() + pos, c, [&](const uint8_t* p, size_t n) { out.insert(out.end(), p, p + n); }).ok());
    pos += c;
  }
  ASSERT_TRUE(writer.Finish().ok());
  TempDir dir;
  const std::string ext = GetParam().substr(GetParam().find('.'));
  const std::string repaired = dir.file("repaired" + ext), ref = dir.file("ref" + ext);
  WriteFile(repaired, out);
  int rc = 0;
  Shell("ffmpeg -v error -y -i '" + in + "' -c copy '" + ref + "' </dev/null", &rc);
  ASSERT_EQ(rc, 0);
  EXPECT_NEAR(ProbeDuration(repaired), ProbeDuration(ref), 1.0 / 30);
  EXPECT_GT(ProbeDuration(repaired), 1.8);
  EXPECT_EQ(ProbePacketCounts(repaired), ProbePacketCounts(in));
  EXPECT_EQ(FrameMd5(repaired), FrameMd5(in));
  const std::string mkv = Shell("mkvinfo -v -v '" + repaired + "' 2>&1");
  EXPECT_EQ(mkv.find("size unknown"), std::string::npos);
  EXPECT_NE(mkv.find("| + Cue point"), std::string::npos);
  EXPECT_NE(mkv.find("Multiplexing application: Chrome"), std::string::npos);  // Info kept
  Seekable check = CheckSeekable(repaired);
  EXPECT_EQ(check.error, "");
  EXPECT_EQ(check.cues, info.cues);
  EXPECT_EQ(FrameShownAt(repaired, 1.0, /*seek=*/true), FrameShownAt(in, 1.0));
}

INSTANTIATE_TEST_SUITE_P(Chromium, WebmRepairChrome,
                         ::testing::Values("vp8_opus.webm", "vp9_opus.webm", "av1_opus.webm", "h264_opus.mkv"),
                         [](const ::testing::TestParamInfo<std::string>& i) { return i.param.substr(0, i.param.find('.')); });

TEST(WebmRepairFiles, RefusesOtherFilesWithClearErrors) {
  if (!HaveTool("ffmpeg")) GTEST_SKIP() << "ffmpeg missing";
  const TempDir& dir = Fixtures::Get().dir();
  struct Case {
    std::string name, cmd, message;
  };
  const std::vector<Case> cases = {
      {"image.png", "ffmpeg -v error -y -f lavfi -i testsrc=size=32x32 -frames:v 1", "(it looks like a PNG image)"},
      {"clip.mp4", "ffmpeg -v error -y -f lavfi -i testsrc=size=32x32:rate=10 -t 1 -c:v libx264", "(it looks like an MP4/QuickTime file)"},
      {"mpeg4.mkv", "ffmpeg -v error -y -f lavfi -i testsrc=size=32x32:rate=10 -t 1 -c:v mpeg4 -live 1",
       "unsupported codec \"V_MPEG4/ISO/ASP\""},
      {"aac.mkv", "ffmpeg -v error -y -f lavfi -i sine -t 1 -c:a aac", "unsupported codec \"A_AAC\""},
  };
  for (const Case& c : cases) {
    const std::string path = dir.file(c.name);
    int rc = 0;
    Shell(c.cmd + " '" + path + "' </dev/null", &rc);
    ASSERT_EQ(rc, 0) << c.cmd;
    FileRepair r = RepairFile(path, dir.file("never.webm"));
    ASSERT_FALSE(r.status.ok()) << c.name;
    EXPECT_NE(r.status.message().find(c.message), std::string::npos) << c.name << ": " << r.status.message();
  }
  // A recording cut inside a frame: refused (never reported complete), or salvaged on request.
  const std::string mr = Fixtures::Get().MediaRecorder(Spec("vp8_opus"));
  ASSERT_FALSE(mr.empty());
  Bytes cut = ReadFile(mr);
  cut.resize(cut.size() * 2 / 3);
  WriteFile(dir.file("cut.webm"), cut);
  FileRepair strict = RepairFile(dir.file("cut.webm"), dir.file("cut_out.webm"));
  EXPECT_NE(strict.status.message().find("the input is truncated: it ends at byte " + std::to_string(cut.size())),
            std::string::npos) << "status: " << strict.status.message();
  RepairOptions salvage;
  salvage.allow_truncated = true;
  FileRepair lenient = RepairFile(dir.file("cut.webm"), dir.file("cut_out.webm"), 1 << 20, salvage);
  ASSERT_TRUE(lenient.status.ok()) << lenient.status.message();
  EXPECT_TRUE(lenient.info.truncated);
  const double d = ProbeDuration(dir.file("cut_out.webm"));
  EXPECT_GT(d, 1.0);
  EXPECT_LT(d, 2.9);
  EXPECT_EQ(CheckSeekable(dir.file("cut_out.webm")).error, "");
  EXPECT_EQ(Shell("ffmpeg -v error -i '" + dir.file("cut_out.webm") + "' -f null - 2>&1"), "");  // decodes cleanly
}

// ---- a recording larger than 4 GiB ----

uint64_t PeakRssKiB() {
  FILE* f = fopen("/proc/self/status", "r");
  char line[256];
  uint64_t kib = 0;
  while (f && fgets(line, sizeof line, f)) {
    if (!strncmp(line, "VmHWM:", 6)) kib = strtoull(line + 6, nullptr, 10);
  }
  if (f) fclose(f);
  return kib;
}
void ResetPeakRss() {
  FILE* f = fopen("/proc/self/clear_refs", "w");
  if (f) {
    fputs("5", f);
    fclose(f);
  }
}

// 20-90 s here (the disk writes 2 x 4.5 GB). It runs when CK_LARGE_TESTS=1, which scripts/test.sh
// (npm test) sets unless told CK_LARGE_TESTS=0; `npm run bench` (bench/repair.bench.js) reports its numbers.
TEST(WebmRepairLarge, Large4GB) {
  const char* large = getenv("CK_LARGE_TESTS");
  if (!large || std::string(large) != "1") {
    std::cerr << "\n*** Large4GB SKIPPED: set CK_LARGE_TESTS=1 to run it (npm test and npm run bench do) ***\n\n";
    GTEST_SKIP() << "set CK_LARGE_TESTS=1";
  }
  if (!HaveTool("ffmpeg") || !HaveTool("ffprobe")) GTEST_SKIP() << "ffmpeg/ffprobe missing";
  const auto start = std::chrono::steady_clock::now();
  auto since = [](std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
  };
  TempDir dir;
  struct statvfs vfs;
  if (statvfs(dir.path().c_str(), &vfs) == 0) {
    const double free_gb = double(vfs.f_bavail) * double(vfs.f_frsize) / 1e9;
    if (free_gb < 12) {
      std::cerr << "\n*** Large4GB SKIPPED: only " << free_gb << " GB free in " << dir.path() << " (needs 12) ***\n\n";
      GTEST_SKIP() << "only " << free_gb << " GB free";
    }
  }
  // Source: 4 s of 640x360 at a high bitrate (noise on top of testsrc), keyframe every second.
  const std::string src_path = dir.file("src.webm");
  int rc = 0;
  Shell("ffmpeg -v error -y -f lavfi -i testsrc=size=640x360:rate=30 -f lavfi -i sine=sample_rate=48000 -t 4 "
      "-vf noise=alls=60:allf=t -c:v libvpx -b:v 20M -minrate 20M -maxrate 20M -g 30 -deadline realtime -cpu-used 8 "
      "-c:a libopus -f webm -live 1 -cluster_time_limit 1000 -cluster_size_limit 10M '" + src_path + "' </dev/null", &rc);
  ASSERT_EQ(rc, 0);
  SourceWebm src;
  ASSERT_TRUE(LoadSource(ReadFile(src_path), &src));
  uint64_t src_bytes = 0;
  for (const auto& c : src.clusters) src_bytes += c.body.size();
  const uint64_t target = (uint64_t(4) << 30) + (200u << 20);  // 4.2 GiB
  const uint64_t repeats = target / src_bytes + 1;
  const uint64_t period = 4000;  // ms: the source is 4 s long

  const std::string big = dir.file("big.webm");
  {
    FILE* f = fopen(big.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    WriteMediaRecorderStyle(src, [&](const uint8_t* d, size_t n) { fwrite(d, 1, n, f); }, repeats, period);
    ASSERT_EQ(fclose(f), 0);
  }
  const uint64_t in_size = fs::file_size(big);
  const double synth_s = since(start);
  ASSERT_GT(in_size, uint64_t(4) << 30);

  ResetPeakRss();
  const uint64_t rss_before = PeakRssKiB();
  const auto t0 = std::chrono::steady_clock::now();
  const std::string out = dir.file("big_repaired.webm");
  FileRepair r = RepairFile(big, out);
  const double secs = since(t0);
  const uint64_t rss_peak = PeakRssKiB();
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  fs::remove(big);

  std::cout << "[ Large4GB ] input " << in_size << " bytes (" << repeats << " x " << src_bytes << "), " << r.info.clusters
            << " clusters, " << r.info.cues << " cues, " << r.info.frames << " frames; repair (2 reads + 1 write) "
            << secs << " s = " << double(in_size) / 1e6 / secs << " MB/s of input; peak RSS " << rss_peak / 1024
            << " MiB (" << rss_before / 1024 << " MiB before; ASan build); making the input took " << synth_s << " s\n";
  RecordProperty("repair_seconds", std::to_string(secs));
  RecordProperty("peak_rss_kib", std::to_string(rss_peak));

  EXPECT_EQ(fs::file_size(out), r.info.output_size);
  EXPECT_LT(rss_peak - rss_before, uint64_t(64) << 10) << "memory grew with the input";
  const double expect_s = double(repeats * period) / 1000;
  EXPECT_NEAR(ProbeDuration(out), expect_s, 0.05);
  EXPECT_GE(r.info.cues, repeats * 4);  // a keyframe each second
  EXPECT_LE(r.info.clusters, repeats * 6);

  // ffmpeg seeks to the middle (past the 4 GiB mark of nothing: the middle of the file is at ~2.1 GB;
  // also seek past 4 GiB) and decodes the frame that the source shows at the same point of its period.
  for (double at : {expect_s / 2, expect_s - 2.5}) {
    const std::string got = FrameShownAt(out, at, /*seek=*/true);
    EXPECT_FALSE(got.empty());
    EXPECT_EQ(got, FrameShownAt(src_path, std::fmod(at, 4.0))) << "at " << at << " s";
  }
  Seekable check = CheckSeekable(out, /*full=*/false);
  EXPECT_EQ(check.error, "");
  EXPECT_EQ(check.cues, r.info.cues);
  EXPECT_NEAR(check.duration_ticks, expect_s * 1000, 50);
  std::cout << "[ Large4GB ] whole test " << since(start) << " s\n";
}

}  // namespace
}  // namespace ck
