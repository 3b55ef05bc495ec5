// The streaming MP4 reader natively: files our muxer wrote (both layouts, VP9 + Opus) read back to
// the same samples whether fed at once or a byte at a time; files ffmpeg wrote (H.264 with B-frames,
// moov at the end or first, fragmented) read to ffprobe's packet list; a fragmented file past 4 GiB
// (64-bit box size, 64-bit offsets); and bad input refused with a message that says what and where.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "mp4_test_util.h"
#include "video/byte_sink.h"
#include "video/mp4_muxer.h"
#include "video/mp4_reader.h"

namespace ck {
namespace {

using mp4test::Item;
using Bytes = std::vector<uint8_t>;

// Collects every event.
struct Recorder : Mp4Listener {
  Mp4Movie movie;
  bool saw_movie = false;
  std::vector<Mp4Fragment> fragments;
  std::vector<Mp4IndexEntry> index;
  Bytes media;  // every mdat payload byte, in order
  uint64_t media_begin = UINT64_MAX;
  std::vector<std::pair<uint64_t, Bytes>> media_pieces;  // (offset, bytes) when keep_pieces
  bool keep_pieces = false;
  std::vector<std::string> boxes;
  Status OnBox(const Mp4Box& b) override {
    boxes.push_back(Mp4FourCC(b.type));
    return Status::Ok();
  }
  Status OnMovie(const Mp4Movie& m) override {
    movie = m;
    saw_movie = true;
    return Status::Ok();
  }
  Status OnFragment(const Mp4Fragment& f) override {
    fragments.push_back(f);
    return Status::Ok();
  }
  Status OnMediaData(uint64_t offset, const uint8_t* d, size_t n) override {
    if (keep_pieces) media_pieces.emplace_back(offset, Bytes(d, d + n));
    return Status::Ok();
  }
  Status OnIndex(const std::vector<Mp4IndexEntry>& e) override {
    index = e;
    return Status::Ok();
  }
};

// Feeds the whole file in pieces of `step` bytes (0: at once) and finishes.
Status ReadAll(const Bytes& f, size_t step, Mp4StreamReader* reader) {
  for (size_t p = 0; p < f.size();) {
    const size_t n = step ? std::min(step, f.size() - p) : f.size();
    Status s = reader->Feed(f.data() + p, n);
    if (!s.ok()) return s;
    p += n;
  }
  return reader->Finish();
}

Bytes Mux(Mp4Layout layout, const std::vector<Item>& video, const std::vector<Item>& audio) {
  MemoryByteSink sink;
  Mp4Muxer m;
  Mp4MuxerOptions o;
  o.layout = layout;
  o.codec = "vp9";
  o.width = 64;
  o.height = 48;
  o.fps = 30;
  o.audio.enabled = !audio.empty();
  EXPECT_TRUE(m.Open(&sink, o).ok());
  size_t a = 0;
  for (const Item& v : video) {
    while (a < audio.size() && audio[a].ts <= v.ts) {
      EXPECT_TRUE(m.AddAudio(audio[a].data.data(), audio[a].data.size(), audio[a].ts).ok());
      ++a;
    }
    EXPECT_TRUE(m.AddFrame(v.data.data(), v.data.size(), v.key, v.ts).ok());
  }
  for (; a < audio.size(); ++a) EXPECT_TRUE(m.AddAudio(audio[a].data.data(), audio[a].data.size(), audio[a].ts).ok());
  EXPECT_TRUE(m.Finish().ok());
  return sink.Take();
}

// The samples of one track, from the moov or the fragments, in decode order.
std::vector<Mp4Sample> SamplesOf(const Recorder& r, uint32_t track) {
  const Mp4Track* t = r.movie.Find(track);
  std::vector<Mp4Sample> out = t ? t->samples : std::vector<Mp4Sample>();
  for (const Mp4Fragment& f : r.fragments)
    for (const Mp4TrackRun& run : f.runs)
      if (run.track_id == track) out.insert(out.end(), run.samples.begin(), run.samples.end());
  return out;
}

void ExpectSamplesAre(const Bytes& file, const std::vector<Mp4Sample>& got, const std::vector<Item>& want,
                      const char* what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < want.size(); ++i) {
    ASSERT_LE(got[i].offset + got[i].size, file.size()) << what << " " << i;
    EXPECT_EQ(Bytes(file.begin() + long(got[i].offset), file.begin() + long(got[i].offset + got[i].size)), want[i].data)
        << what << " sample " << i;
    EXPECT_EQ(got[i].sync, want[i].key) << what << " sample " << i;
  }
}

TEST(Mp4Reader, ReadsBackWhatTheMuxerWroteInBothLayoutsFedAnyWay) {
  const std::vector<Item> video = mp4test::Vp9Frames(45, 15);
  const std::vector<Item> audio = mp4test::OpusPackets(1.5);
  for (Mp4Layout layout : {Mp4Layout::kProgressive, Mp4Layout::kFragmented}) {
    const char* name = layout == Mp4Layout::kProgressive ? "progressive" : "fragmented";
    const Bytes f = Mux(layout, video, audio);
    for (size_t step : {size_t(0), size_t(1), size_t(7), size_t(4096)}) {
      Recorder r;
      Mp4StreamReader reader_(&r);
      Mp4StreamReader* reader = &reader_;
      ASSERT_TRUE(ReadAll(f, step, reader).ok()) << name << " step " << step;
      ASSERT_TRUE(r.saw_movie) << name;
      EXPECT_EQ(r.movie.fragmented, layout == Mp4Layout::kFragmented) << name;
      ASSERT_EQ(r.movie.tracks.size(), 2u) << name;
      const Mp4Track& v = r.movie.tracks[0];
      const Mp4Track& a = r.movie.tracks[1];
      EXPECT_TRUE(v.video());
      EXPECT_TRUE(a.audio());
      EXPECT_EQ(v.codec(), "vp9");
      EXPECT_EQ(v.CodecString(), "vp09.00.10.08");
      EXPECT_EQ(v.width, 64);
      EXPECT_EQ(v.height, 48);
      EXPECT_EQ(v.timescale, 90000u);
      EXPECT_EQ(a.codec(), "opus");
      EXPECT_EQ(a.CodecString(), "opus");
      EXPECT_EQ(a.sample_rate, 48000u);
      EXPECT_EQ(a.config_type, Mp4Type("dOps"));
      ASSERT_EQ(a.edits.size(), 1u);
      EXPECT_EQ(a.edits[0].media_time, 312);  // Opus pre-skip
      EXPECT_EQ(std::string(v.sample_entry.begin() + 4, v.sample_entry.begin() + 8), "vp09");
      ExpectSamplesAre(f, SamplesOf(r, v.id), video, name);
      ExpectSamplesAre(f, SamplesOf(r, a.id), audio, name);
      // Decode times: each video frame where it was given (90 kHz).
      const std::vector<Mp4Sample> vs = SamplesOf(r, v.id);
      for (size_t i = 0; i < vs.size(); ++i) EXPECT_EQ(vs[i].decode_time, (video[i].ts * 9 + 50'000) / 100'000) << i;
      EXPECT_EQ(reader->samples(), video.size() + audio.size());
      if (layout == Mp4Layout::kFragmented) {
        EXPECT_EQ(r.fragments.size(), reader->fragments());
        EXPECT_GE(r.fragments.size(), 3u);  // a key frame every 15
        EXPECT_EQ(reader->complete_fragments(), reader->fragments());
        EXPECT_EQ(r.fragments[0].sequence, 1u);
        ASSERT_FALSE(r.index.empty());
        for (const Mp4IndexEntry& e : r.index) {
          EXPECT_EQ(std::string(f.begin() + long(e.moof_offset) + 4, f.begin() + long(e.moof_offset) + 8), "moof");
        }
        EXPECT_EQ(r.boxes.back(), "mfra");
      } else {
        EXPECT_TRUE(r.fragments.empty());
        EXPECT_EQ(r.boxes, std::vector<std::string>({"ftyp", "moov", "mdat"}));
      }
    }
  }
}

TEST(Mp4Reader, MediaDataComesThroughAsViewsAtTheirOffsets) {
  const std::vector<Item> video = mp4test::Vp9Frames(20, 10);
  const Bytes f = Mux(Mp4Layout::kFragmented, video, {});
  Recorder r;
  r.keep_pieces = true;
  Mp4StreamReader reader(&r);
  ASSERT_TRUE(ReadAll(f, 5, &reader).ok());
  uint64_t total = 0;
  for (const auto& [offset, bytes] : r.media_pieces) {
    ASSERT_LE(offset + bytes.size(), f.size());
    EXPECT_EQ(Bytes(f.begin() + long(offset), f.begin() + long(offset + bytes.size())), bytes);
    total += bytes.size();
  }
  uint64_t want = 0;
  for (const Item& v : video) want += v.data.size();
  EXPECT_EQ(total, want);
}

// ---- files ffmpeg wrote ----

struct ProbePacket {
  int stream;
  uint32_t size;
  bool key;
};

std::vector<ProbePacket> ProbePackets(const std::string& path) {
  const std::string out = webmtest::Shell("ffprobe -v error -show_entries packet=stream_index,size,flags -of csv=p=0 '" + path + "'");
  std::vector<ProbePacket> p;
  size_t at = 0;
  while (at < out.size()) {
    size_t end = out.find('\n', at);
    if (end == std::string::npos) end = out.size();
    const std::string line = out.substr(at, end - at);
    at = end + 1;
    int s = 0;
    unsigned n = 0;
    char flags[16] = {};
    if (sscanf(line.c_str(), "%d,%u,%15s", &s, &n, flags) == 3) p.push_back({s, n, flags[0] == 'K'});
  }
  return p;
}

TEST(Mp4Reader, ReadsFfmpegFilesToFfprobesPackets) {
  if (!webmtest::HaveTool("ffmpeg") || !webmtest::HaveTool("ffprobe")) GTEST_SKIP() << "ffmpeg missing";
  webmtest::TempDir dir;
  const std::string src = "-f lavfi -i testsrc=size=160x120:rate=30 -f lavfi -i sine=frequency=440:sample_rate=48000 -t 2 "
                          "-c:v libx264 -g 15 -pix_fmt yuv420p -c:a aac -b:a 64k ";
  struct Variant {
    const char* name;
    const char* flags;
    bool fragmented;
  };
  for (const Variant& v : {Variant{"moov-last", "", false}, Variant{"faststart", "-movflags +faststart", false},
                           Variant{"fragmented", "-movflags frag_keyframe+empty_moov+default_base_moof", true}}) {
    const std::string path = dir.path() + "/" + v.name + ".mp4";
    webmtest::Shell("ffmpeg -v error -y " + src + v.flags + " '" + path + "'");
    const Bytes f = webmtest::ReadFile(path);
    ASSERT_GT(f.size(), 1000u) << v.name;
    Recorder r;
    Mp4StreamReader reader(&r);
    ASSERT_TRUE(ReadAll(f, 333, &reader).ok()) << v.name;
    EXPECT_EQ(r.movie.fragmented, v.fragmented) << v.name;
    ASSERT_EQ(r.movie.tracks.size(), 2u) << v.name;
    EXPECT_EQ(r.movie.tracks[0].codec(), "h264");
    EXPECT_EQ(r.movie.tracks[0].CodecString().substr(0, 5), "avc1.");
    EXPECT_EQ(r.movie.tracks[1].CodecString(), "mp4a.40.2");
    const std::vector<ProbePacket> want = ProbePackets(path);
    ASSERT_FALSE(want.empty());
    for (int stream = 0; stream < 2; ++stream) {
      std::vector<Mp4Sample> got = SamplesOf(r, r.movie.tracks[size_t(stream)].id);
      std::vector<ProbePacket> w;
      for (const ProbePacket& p : want)
        if (p.stream == stream) w.push_back(p);
      ASSERT_EQ(got.size(), w.size()) << v.name << " stream " << stream;
      bool b_frames = false;
      for (size_t i = 0; i < w.size(); ++i) {
        EXPECT_EQ(got[i].size, w[i].size) << v.name << " " << stream << " " << i;
        EXPECT_EQ(got[i].sync, w[i].key) << v.name << " " << stream << " " << i;
        b_frames |= got[i].composition_offset != got[0].composition_offset;
      }
      if (stream == 0) EXPECT_TRUE(b_frames) << v.name << ": libx264's B-frames give composition offsets";
    }
  }
}

// ---- over 4 GiB ----

// A fragmented file whose fragments sit past 4 GiB: ftyp+moov, a 64-bit-size 'free' box of 4.3 GB
// (fed as zeros, never held), then the fragments (their data offsets are relative to their moof).
TEST(Mp4Reader, ReadsAFileOver4GiBWith64BitSizesAndOffsets) {
  const std::vector<Item> video = mp4test::Vp9Frames(30, 10);
  const Bytes f = Mux(Mp4Layout::kFragmented, video, {});
  const std::vector<mp4test::Box> boxes = mp4test::Boxes(f);
  size_t first_moof = 0, mfra = f.size();
  for (const mp4test::Box& b : boxes) {
    if (b.path == "moof" && !first_moof) first_moof = b.offset;
    if (b.path == "mfra") mfra = b.offset;
  }
  ASSERT_GT(first_moof, 0u);
  const uint64_t big = uint64_t(4'300'000'000);
  Bytes head(f.begin(), f.begin() + long(first_moof));
  Bytes free_header = {0, 0, 0, 1, 'f', 'r', 'e', 'e'};
  const Bytes size64 = Mp4U64(big);
  free_header.insert(free_header.end(), size64.begin(), size64.end());
  Recorder r;
  r.keep_pieces = true;
  Mp4StreamReader reader(&r);
  ASSERT_TRUE(reader.Feed(head.data(), head.size()).ok());
  ASSERT_TRUE(reader.Feed(free_header.data(), free_header.size()).ok());
  const Bytes zeros(8 << 20, 0);
  for (uint64_t left = big - 16; left > 0;) {
    const size_t n = size_t(std::min<uint64_t>(left, zeros.size()));
    ASSERT_TRUE(reader.Feed(zeros.data(), n).ok());
    left -= n;
  }
  const Bytes tail(f.begin() + long(first_moof), f.begin() + long(mfra));
  ASSERT_TRUE(reader.Feed(tail.data(), tail.size()).ok());
  ASSERT_TRUE(reader.Finish().ok());
  EXPECT_EQ(reader.position(), head.size() + big + tail.size());
  const uint64_t shift = big;  // where the muxer's moof bytes now sit, relative to their old offsets
  const std::vector<Mp4Sample> s = SamplesOf(r, 1);
  ASSERT_EQ(s.size(), video.size());
  for (size_t i = 0; i < s.size(); ++i) {
    ASSERT_GT(s[i].offset, uint64_t(4) << 30);
    const uint64_t old = s[i].offset - shift;
    EXPECT_EQ(Bytes(f.begin() + long(old), f.begin() + long(old + s[i].size)), video[i].data) << i;
  }
  EXPECT_GT(r.fragments[0].moof_offset, uint64_t(4) << 30);
  for (const auto& [offset, bytes] : r.media_pieces) {
    ASSERT_GT(offset, uint64_t(4) << 30);
    EXPECT_EQ(Bytes(f.begin() + long(offset - shift), f.begin() + long(offset - shift + bytes.size())), bytes);
  }
}

// ---- bad input ----

Status ReadStatus(const Bytes& f) {
  Recorder r;
  Mp4StreamReader reader(&r);
  return ReadAll(f, 0, &reader);
}

size_t OffsetOf(const Bytes& f, const std::string& path) {
  for (const mp4test::Box& b : mp4test::Boxes(f))
    if (b.path == path) return b.offset;
  ADD_FAILURE() << "no " << path;
  return 0;
}

void Put32(Bytes* f, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) (*f)[at + size_t(i)] = uint8_t(v >> (24 - 8 * i));
}

void ExpectError(const Status& s, Code code, const std::string& words, const char* what) {
  EXPECT_FALSE(s.ok()) << what;
  EXPECT_EQ(s.code(), code) << what << ": " << s.message();
  EXPECT_NE(s.message().find(words), std::string::npos) << what << ": " << s.message();
}

TEST(Mp4Reader, RefusesBadInputSayingWhatAndWhere) {
  const std::vector<Item> video = mp4test::Vp9Frames(30, 10);
  const Bytes prog = Mux(Mp4Layout::kProgressive, video, {});
  const Bytes frag = Mux(Mp4Layout::kFragmented, video, {});

  // Truncated: a fragmented file cut in the middle of its second mdat; a progressive one mid-moov.
  {
    const std::vector<mp4test::Box> boxes = mp4test::Boxes(frag);
    size_t mdat2 = 0;
    for (size_t i = 0, n = 0; i < boxes.size(); ++i)
      if (boxes[i].path == "mdat" && n++ == 1) mdat2 = boxes[i].offset;
    ASSERT_GT(mdat2, 0u);
    const Bytes cut(frag.begin(), frag.begin() + long(mdat2 + 20));
    Recorder rec;
    Mp4StreamReader reader_(&rec);
    Mp4StreamReader* reader = &reader_;
    const Status s = ReadAll(cut, 0, reader);
    ExpectError(s, Code::kCorruptData, "truncated: box 'mdat' at byte " + std::to_string(mdat2), "cut mdat");
    EXPECT_NE(s.message().find("(1 of 2 fragments complete)"), std::string::npos) << s.message();
    EXPECT_TRUE(reader->truncated());
    EXPECT_EQ(reader->partial_box_offset(), mdat2);
    EXPECT_EQ(reader->complete_fragments(), 1u);
    EXPECT_EQ(reader->Finish().message(), s.message());  // stays failed
    const size_t moov = OffsetOf(prog, "moov");
    ExpectError(ReadStatus(Bytes(prog.begin(), prog.begin() + long(moov + 100))), Code::kCorruptData,
                "truncated: box 'moov' at byte " + std::to_string(moov), "cut moov");
    ExpectError(ReadStatus(Bytes(prog.begin(), prog.begin() + long(moov + 3))), Code::kCorruptData,
                "truncated: a box header", "cut header");
  }
  // A box whose size runs past its parent: stsz inside stbl says it is 1000 bytes longer.
  {
    Bytes f = prog;
    const size_t at = OffsetOf(f, "moov/trak/mdia/minf/stbl/stsz");
    Put32(&f, at, mp4test::Be32(f.data() + at) + 1000);
    ExpectError(ReadStatus(f), Code::kCorruptData, "box 'stsz' at byte " + std::to_string(at) + " declares", "stsz size");
    EXPECT_NE(ReadStatus(f).message().find("past the end of its parent 'stbl'"), std::string::npos);
  }
  // A top-level box past the end of the file.
  {
    Bytes f = prog;
    const size_t at = OffsetOf(f, "mdat");
    Put32(&f, at, mp4test::Be32(f.data() + at) + 5);
    ExpectError(ReadStatus(f), Code::kCorruptData, "truncated: box 'mdat'", "mdat size");
  }
  // Sample tables that disagree: stsz says one sample more than stts.
  {
    Bytes f = prog;
    const size_t at = OffsetOf(f, "moov/trak/mdia/minf/stbl/stsz");
    // A per-sample stsz: shrink its count by one (the table then holds one more entry than declared:
    // still well-formed, but stts counts 30 samples and stsz 29).
    Put32(&f, at + 16, 29);
    ExpectError(ReadStatus(f), Code::kCorruptData, "sample tables of track 1 disagree: stts counts 30 samples, stsz 29",
                "stsz count");
  }
  // stco pointing outside every mdat.
  {
    Bytes f = prog;
    const size_t at = OffsetOf(f, "moov/trak/mdia/minf/stbl/stco");
    Put32(&f, at + 16, 40);  // the first chunk inside the moov
    ExpectError(ReadStatus(f), Code::kCorruptData, "is outside every mdat", "stco");
  }
  // An unknown codec.
  {
    Bytes f = prog;
    const size_t at = OffsetOf(f, "moov/trak/mdia/minf/stbl/stsd/vp09");
    f[at + 4] = 'x';
    f[at + 5] = 'y';
    ExpectError(ReadStatus(f), Code::kCorruptData, "unknown codec: sample entry 'xy09'", "codec");
  }
  // A missing configuration box.
  {
    Bytes f = prog;
    const size_t at = OffsetOf(f, "moov/trak/mdia/minf/stbl/stsd/vp09/vpcC");
    f[at + 4] = 'v';
    f[at + 7] = 'X';
    ExpectError(ReadStatus(f), Code::kCorruptData, "has no 'vpcC' box", "vpcC");
  }
  // A 64-bit size of 2^63.
  {
    Bytes f(prog.begin(), prog.begin() + long(OffsetOf(prog, "moov")));
    const Bytes huge = {0, 0, 0, 1, 'm', 'd', 'a', 't', 0x80, 0, 0, 0, 0, 0, 0, 0};
    f.insert(f.end(), huge.begin(), huge.end());
    ExpectError(ReadStatus(f), Code::kCorruptData, "box 'mdat' at byte 28 declares a 64-bit size of 9223372036854775808",
                "2^63");
  }
  // A box smaller than its header; not an MP4 at all; no moov.
  {
    Bytes f = prog;
    Put32(&f, OffsetOf(f, "moov"), 4);
    ExpectError(ReadStatus(f), Code::kCorruptData, "less than its own 8-byte header", "tiny box");
    ExpectError(ReadStatus(Bytes{0x1a, 0x45, 0xdf, 0xa3, 0, 0, 0, 0}), Code::kCorruptData, "not an MP4 file", "webm");
    ExpectError(ReadStatus(Bytes(prog.begin(), prog.begin() + long(OffsetOf(prog, "moov")))), Code::kCorruptData,
                "no moov box", "no moov");
  }
  // A trun for a track the moov does not have; a moof without its mdat.
  {
    Bytes f = frag;
    const size_t at = OffsetOf(f, "moof/traf/tfhd");
    Put32(&f, at + 12, 7);
    ExpectError(ReadStatus(f), Code::kCorruptData, "is for track 7, which the moov does not have", "tfhd");
    const std::vector<mp4test::Box> boxes = mp4test::Boxes(frag);
    size_t mdat1 = OffsetOf(frag, "mdat");
    size_t moof2 = 0;
    for (size_t i = 0, n = 0; i < boxes.size(); ++i)
      if (boxes[i].path == "moof" && n++ == 1) moof2 = boxes[i].offset;
    Bytes g(frag.begin(), frag.begin() + long(mdat1));
    g.insert(g.end(), frag.begin() + long(moof2), frag.end());
    ExpectError(ReadStatus(g), Code::kCorruptData, "has no mdat before the next moof", "no mdat");
  }
}

}  // namespace
}  // namespace ck
