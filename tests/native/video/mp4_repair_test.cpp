// makeSeekable for MP4 natively: fragmented files (our muxer's VP9 + Opus, ffmpeg's H.264 + AAC with
// B-frames) and a progressive file with its moov last become moov-first progressive files with the
// same samples (read back by our reader, ffprobe's packets, ffmpeg's decoded frames, mediabunny),
// through two streaming passes fed in any split; a crash-cut file is refused unless allowed, and then
// keeps every complete sample; a changed input is caught in pass 2; repairing twice changes nothing.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "mp4_test_util.h"
#include "video/byte_sink.h"
#include "video/mp4_box_writer.h"
#include "video/mp4_muxer.h"
#include "video/mp4_reader.h"
#include "video/mp4_repair.h"

namespace ck {
namespace {

using mp4test::Item;
using webmtest::Shell;
using Bytes = std::vector<uint8_t>;

Status Repair(const Bytes& in, size_t step, bool allow_truncated, Bytes* out, Mp4RepairInfo* info = nullptr) {
  Mp4RepairPlanner planner(allow_truncated);
  for (size_t p = 0; p < in.size();) {
    const size_t n = step ? std::min(step, in.size() - p) : in.size();
    Status s = planner.Feed(in.data() + p, n);
    if (!s.ok()) return s;
    p += n;
  }
  Status s = planner.Finish();
  if (!s.ok()) return s;
  Mp4RepairWriter writer(planner.TakePlan());
  out->clear();
  const size_t step2 = step ? step * 3 + 1 : in.size();
  for (size_t p = 0; p < in.size();) {
    const size_t n = std::min(step2, in.size() - p);
    s = writer.FeedTo(in.data() + p, n, [&](const uint8_t* d, size_t k) { out->insert(out->end(), d, d + k); });
    if (!s.ok()) return s;
    p += n;
  }
  s = writer.Finish();
  if (info) *info = writer.info();
  EXPECT_EQ(out->size(), writer.info().output_size);
  return s;
}

struct Read : Mp4Listener {
  Mp4Movie movie;
  std::vector<std::string> top;
  size_t fragments = 0;
  Status OnBox(const Mp4Box& b) override {
    top.push_back(Mp4FourCC(b.type));
    return Status::Ok();
  }
  Status OnMovie(const Mp4Movie& m) override {
    movie = m;
    return Status::Ok();
  }
  Status OnFragment(const Mp4Fragment&) override {
    ++fragments;
    return Status::Ok();
  }
};

Status ReadBack(const Bytes& f, Read* r) {
  Mp4StreamReader reader(r);
  Status s = reader.Feed(f.data(), f.size());
  return s.ok() ? reader.Finish() : s;
}

Bytes MuxFragmented(const std::vector<Item>& video, const std::vector<Item>& audio,
                    Mp4Layout layout = Mp4Layout::kFragmented) {
  MemoryByteSink sink;
  Mp4Muxer m;
  Mp4MuxerOptions o;
  o.layout = layout;
  o.codec = "vp9";
  o.width = 64;
  o.height = 48;
  o.audio.enabled = !audio.empty();
  EXPECT_TRUE(m.Open(&sink, o).ok());
  size_t a = 0;
  for (const Item& v : video) {
    for (; a < audio.size() && audio[a].ts <= v.ts; ++a) EXPECT_TRUE(m.AddAudio(audio[a].data.data(), audio[a].data.size(), audio[a].ts).ok());
    EXPECT_TRUE(m.AddFrame(v.data.data(), v.data.size(), v.key, v.ts).ok());
  }
  for (; a < audio.size(); ++a) EXPECT_TRUE(m.AddAudio(audio[a].data.data(), audio[a].data.size(), audio[a].ts).ok());
  EXPECT_TRUE(m.Finish().ok());
  return sink.Take();
}

void ExpectTrackSamples(const Bytes& f, const Mp4Track& t, const std::vector<Item>& want, const char* what) {
  ASSERT_EQ(t.samples.size(), want.size()) << what;
  for (size_t i = 0; i < want.size(); ++i) {
    const Mp4Sample& s = t.samples[i];
    ASSERT_LE(s.offset + s.size, f.size());
    EXPECT_EQ(Bytes(f.begin() + long(s.offset), f.begin() + long(s.offset + s.size)), want[i].data) << what << " " << i;
    EXPECT_EQ(s.sync, want[i].key) << what << " " << i;
  }
}

TEST(Mp4Repair, FragmentedBecomesProgressiveWithTheSameSamplesFedAnyWay) {
  const std::vector<Item> video = mp4test::Vp9Frames(60, 15);
  const std::vector<Item> audio = mp4test::OpusPackets(2.0);
  const Bytes in = MuxFragmented(video, audio);
  Bytes first;
  for (size_t step : {size_t(0), size_t(1), size_t(1000)}) {
    Bytes out;
    Mp4RepairInfo info;
    ASSERT_TRUE(Repair(in, step, false, &out, &info).ok()) << step;
    if (first.empty()) first = out;
    EXPECT_EQ(out, first) << "the output depends on how the input was split (step " << step << ")";
    EXPECT_TRUE(info.fragmented);
    EXPECT_TRUE(info.had_index);
    EXPECT_FALSE(info.truncated);
    EXPECT_EQ(info.samples, video.size() + audio.size());
    EXPECT_EQ(info.video_samples, video.size());
    EXPECT_EQ(info.sync_samples, 4u);
    EXPECT_EQ(info.fragments, 4u);
    EXPECT_EQ(info.codecs, "vp09.00.10.08,opus");
    EXPECT_NEAR(info.duration_ms, 2000, 25);
  }
  Read r;
  ASSERT_TRUE(ReadBack(first, &r).ok());
  EXPECT_EQ(r.top, std::vector<std::string>({"ftyp", "moov", "mdat"}));
  EXPECT_FALSE(r.movie.fragmented);
  ASSERT_EQ(r.movie.tracks.size(), 2u);
  ExpectTrackSamples(first, r.movie.tracks[0], video, "video");
  ExpectTrackSamples(first, r.movie.tracks[1], audio, "audio");
  for (size_t i = 0; i < video.size(); ++i) {
    EXPECT_EQ(r.movie.tracks[0].samples[i].decode_time, (video[i].ts * 9 + 50'000) / 100'000) << i;
  }
  ASSERT_EQ(r.movie.tracks[1].edits.size(), 1u);
  EXPECT_EQ(r.movie.tracks[1].edits[0].media_time, 312);  // Opus pre-skip kept
  // Repairing the repaired file changes nothing.
  Bytes again;
  ASSERT_TRUE(Repair(first, 0, false, &again).ok());
  EXPECT_EQ(again, first);

  if (!webmtest::HaveTool("ffprobe")) return;
  webmtest::TempDir dir;
  const std::string in_path = dir.file("in.mp4"), out_path = dir.file("out.mp4");
  webmtest::WriteFile(in_path, in);
  webmtest::WriteFile(out_path, first);
  EXPECT_EQ(webmtest::ProbePacketCounts(out_path), std::to_string(video.size()) + "," + std::to_string(audio.size()));
  EXPECT_NEAR(webmtest::ProbeDuration(out_path), 2.0, 0.05);
  // Decoded, the repaired file equals the muxer's own progressive file of the same samples (not the
  // fragmented input: ffmpeg ignores a fragmented file's edit list, so it would not trim the Opus
  // pre-skip there).
  const std::string prog_path = dir.file("prog.mp4");
  webmtest::WriteFile(prog_path, MuxFragmented(video, audio, Mp4Layout::kProgressive));
  EXPECT_EQ(webmtest::FrameMd5(out_path), webmtest::FrameMd5(prog_path));
  EXPECT_FALSE(webmtest::FrameMd5(out_path).empty());
  const std::string mb = mp4test::MediabunnyProbe(out_path);
  EXPECT_NE(mb.find("\"video\""), std::string::npos) << mb;
}

TEST(Mp4Repair, FfmpegFilesWithBFramesAndAacKeepEveryPacket) {
  if (!webmtest::HaveTool("ffmpeg")) GTEST_SKIP() << "ffmpeg missing";
  webmtest::TempDir dir;
  const std::string src = "-f lavfi -i testsrc=size=160x120:rate=30 -f lavfi -i sine=frequency=440:sample_rate=48000 -t 3 "
                          "-c:v libx264 -g 20 -pix_fmt yuv420p -c:a aac -b:a 64k ";
  for (const char* flags : {"-movflags frag_keyframe+empty_moov+default_base_moof", "-movflags frag_keyframe+empty_moov",
                            ""}) {
    const std::string in_path = dir.file("in.mp4"), out_path = dir.file("out.mp4");
    Shell("ffmpeg -v error -y " + src + flags + " '" + in_path + "'");
    const Bytes in = webmtest::ReadFile(in_path);
    Bytes out;
    ASSERT_TRUE(Repair(in, 65536, false, &out).ok()) << flags;
    webmtest::WriteFile(out_path, out);
    Read r;
    ASSERT_TRUE(ReadBack(out, &r).ok()) << flags;
    EXPECT_EQ(r.top, std::vector<std::string>({"ftyp", "moov", "mdat"})) << flags;
    // Every packet with its times, size and key flag. (ffmpeg's mov demuxer marks the last B-frames of
    // the moov-last input as discarded by its edit list, which covers them by the spec; it does not for
    // the output's: the decoded frames are compared with edit lists ignored.)
    const std::string packets = "ffprobe -v error -show_entries packet=stream_index,pts,dts,size,flags -of csv=p=0 '";
    const std::string strip = "' | sed 's/,\\(.\\)D$/,\\1_/'";
    EXPECT_EQ(Shell(packets + out_path + strip), Shell(packets + in_path + strip)) << flags;
    const std::string frames = "ffmpeg -v error -ignore_editlist 1 -i '";
    const std::string decoded = Shell(frames + out_path + "' -f framemd5 - | grep -v '^#'");
    EXPECT_EQ(decoded, Shell(frames + in_path + "' -f framemd5 - | grep -v '^#'")) << flags;
    EXPECT_GT(std::count(decoded.begin(), decoded.end(), '\n'), 200) << flags << ": 90 frames and 140 AAC frames";
    EXPECT_NEAR(webmtest::ProbeDuration(out_path), webmtest::ProbeDuration(in_path), 0.03) << flags;
  }
}

TEST(Mp4Repair, ACrashCutFileIsRefusedUnlessAllowedThenKeepsEveryCompleteSample) {
  const std::vector<Item> video = mp4test::Vp9Frames(60, 15);
  const Bytes whole = MuxFragmented(video, {});
  // Cut in the middle of the third fragment's mdat (no mfra, as after a crash).
  std::vector<size_t> mdats;
  for (const mp4test::Box& b : mp4test::Boxes(whole))
    if (b.path == "mdat") mdats.push_back(b.offset);
  ASSERT_EQ(mdats.size(), 4u);
  const Bytes cut(whole.begin(), whole.begin() + long(mdats[2] + 8 + 200));
  Bytes out;
  const Status refused = Repair(cut, 0, false, &out);
  EXPECT_EQ(refused.code(), Code::kCorruptData);
  EXPECT_NE(refused.message().find("truncated: box 'mdat'"), std::string::npos) << refused.message();
  EXPECT_NE(refused.message().find("allowTruncated"), std::string::npos) << refused.message();
  Mp4RepairInfo info;
  ASSERT_TRUE(Repair(cut, 333, true, &out, &info).ok());
  EXPECT_TRUE(info.truncated);
  EXPECT_GT(info.dropped_bytes, 0u);
  Read r;
  ASSERT_TRUE(ReadBack(out, &r).ok());
  const std::vector<Mp4Sample>& s = r.movie.tracks[0].samples;
  // Fragments 1 and 2 whole (30 frames), and the frames of fragment 3 that end in the first 200 bytes.
  size_t in_third = 0, bytes = 0;
  for (size_t i = 30; i < 45 && bytes + video[i].data.size() <= 200; ++i) bytes += video[i].data.size(), ++in_third;
  ASSERT_EQ(s.size(), 30 + in_third);
  ExpectTrackSamples(out, r.movie.tracks[0], std::vector<Item>(video.begin(), video.begin() + long(s.size())), "cut");
  if (webmtest::HaveTool("ffmpeg")) {
    webmtest::TempDir dir;
    webmtest::WriteFile(dir.file("cut.mp4"), out);
    EXPECT_EQ(webmtest::ProbePacketCounts(dir.file("cut.mp4")), std::to_string(s.size()));
    EXPECT_EQ(Shell("ffmpeg -v error -i '" + dir.file("cut.mp4") + "' -f null - 2>&1"), "");
  }
  // Cut inside the moov: nothing to keep.
  const Status no_moov = Repair(Bytes(whole.begin(), whole.begin() + 100), 0, true, &out);
  EXPECT_FALSE(no_moov.ok());
  EXPECT_NE(no_moov.message().find("truncated: box 'moov'"), std::string::npos) << no_moov.message();
}

TEST(Mp4Repair, Pass2CatchesAnInputThatChanged) {
  const Bytes in = MuxFragmented(mp4test::Vp9Frames(20, 10), {});
  Mp4RepairPlanner planner;
  ASSERT_TRUE(planner.Feed(in.data(), in.size()).ok());
  ASSERT_TRUE(planner.Finish().ok());
  Mp4RepairWriter shorter(planner.TakePlan());
  std::vector<RepairPiece> pieces;
  ASSERT_TRUE(shorter.Feed(in.data(), in.size() - 10, &pieces).ok());
  const Status s = shorter.Finish();
  EXPECT_EQ(s.code(), Code::kFailedPrecondition);
  EXPECT_NE(s.message().find("it changed"), std::string::npos) << s.message();
}

// A fragmented file of 4.7 GB: one moof whose trun places 70 samples of 64 MiB in an mdat with a
// 64-bit size (the bytes fed as zeros, never stored). The repaired file (streamed through a second
// reader, never stored either) has co64 chunk offsets past 4 GiB and a 64-bit mdat, and reads back
// with every sample where the tables say.
TEST(Mp4Repair, AFileOver4GiBGetsCo64AndA64BitMdat) {
  const Bytes small = MuxFragmented(mp4test::Vp9Frames(2, 2), {});
  size_t first_moof = 0;
  for (const mp4test::Box& b : mp4test::Boxes(small))
    if (b.path == "moof" && !first_moof) first_moof = b.offset;
  ASSERT_GT(first_moof, 0u);
  const Bytes init(small.begin(), small.begin() + long(first_moof));
  constexpr uint32_t kSamples = 70, kSize = 64u << 20;
  Mp4BoxWriter w;
  w.Begin("moof");
  w.BeginFull("mfhd", 0, 0);
  w.U32(1);
  w.End();
  w.Begin("traf");
  w.BeginFull("tfhd", 0, 0x020000);  // default-base-is-moof
  w.U32(1);
  w.End();
  w.BeginFull("tfdt", 1, 0);
  w.U64(0);
  w.End();
  w.BeginFull("trun", 0, 0x701);  // data offset; per sample duration, size, flags
  w.U32(kSamples);
  const size_t data_offset_at = w.Mark();
  w.U32(0);
  for (uint32_t i = 0; i < kSamples; ++i) {
    w.U32(3000);
    w.U32(kSize);
    w.U32(i % 10 == 0 ? 0x02000000 : 0x01010000);
  }
  w.End();
  w.End();
  w.End();
  const size_t moof_size = w.bytes().size();
  w.PatchU32(data_offset_at, uint32_t(moof_size + 16));
  w.U32(1);
  w.FourCC("mdat");
  w.U64(16 + uint64_t(kSamples) * kSize);
  const Bytes moof = w.Take();
  const Bytes zeros(8u << 20, 0);
  const uint64_t payload = uint64_t(kSamples) * kSize;
  auto feed = [&](auto&& fn) {
    fn(init.data(), init.size());
    fn(moof.data(), moof.size());
    for (uint64_t left = payload; left > 0;) {
      const size_t n = size_t(std::min<uint64_t>(left, zeros.size()));
      fn(zeros.data(), n);
      left -= n;
    }
  };
  Mp4RepairPlanner planner;
  feed([&](const uint8_t* d, size_t n) { ASSERT_TRUE(planner.Feed(d, n).ok()); });
  ASSERT_TRUE(planner.Finish().ok());
  Mp4RepairWriter writer(planner.TakePlan());
  EXPECT_EQ(writer.info().samples, kSamples);
  EXPECT_EQ(writer.info().sync_samples, 7u);
  EXPECT_GT(writer.info().output_size, uint64_t(4) << 30);
  // The output goes straight into a reader; the first bytes (ftyp, moov, mdat header) are kept to look at.
  Read r;
  Mp4StreamReader out(&r);
  uint64_t written = 0;
  Bytes head;
  feed([&](const uint8_t* d, size_t n) {
    ASSERT_TRUE(writer.FeedTo(d, n, [&](const uint8_t* p, size_t k) {
      if (head.size() < 4096) head.insert(head.end(), p, p + std::min<size_t>(k, 4096 - head.size()));
      written += k;
      ASSERT_TRUE(out.Feed(p, k).ok());
    }).ok());
  });
  ASSERT_TRUE(writer.Finish().ok());
  ASSERT_TRUE(out.Finish().ok());
  EXPECT_EQ(written, writer.info().output_size);
  EXPECT_EQ(r.top, std::vector<std::string>({"ftyp", "moov", "mdat"}));
  const std::string text(head.begin(), head.end());
  EXPECT_NE(text.find("co64"), std::string::npos);
  EXPECT_EQ(text.find("stco"), std::string::npos);
  const size_t mdat = text.find("mdat");
  ASSERT_NE(mdat, std::string::npos);
  EXPECT_EQ(mp4test::Be32(head.data() + mdat - 4), 1u);  // a 64-bit size follows
  EXPECT_EQ(mp4test::Be64(head.data() + mdat + 4), payload + 16);
  ASSERT_EQ(r.movie.tracks.size(), 1u);
  const std::vector<Mp4Sample>& s = r.movie.tracks[0].samples;
  ASSERT_EQ(s.size(), kSamples);
  for (size_t i = 0; i < s.size(); ++i) {
    EXPECT_EQ(s[i].offset, mdat + 12 + uint64_t(i) * kSize) << i;
    EXPECT_EQ(s[i].size, kSize);
    EXPECT_EQ(s[i].sync, i % 10 == 0) << i;
    EXPECT_EQ(s[i].decode_time, uint64_t(i) * 3000) << i;
  }
  EXPECT_GT(s.back().offset, uint64_t(4) << 30);
}

}  // namespace
}  // namespace ck
