// Remuxer natively: a VP9 + Opus WebM (capturekit's own muxer, and one made by ffmpeg) becomes an MP4
// and back with every packet's bytes and count unchanged (ffprobe, ffmpeg -c copy framemd5, a full
// ffmpeg decode, mediabunny on the MP4); bad input is refused with a clear Status.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "mp4_test_util.h"
#include "video/byte_sink.h"
#include "video/mp4_muxer.h"
#include "video/remux.h"
#include "video/webm_muxer.h"
#include "webm_test_util.h"

namespace ck {
namespace {

using mp4test::Item;
using webmtest::Shell;
using webmtest::TempDir;

// Remuxes `in` fed in pieces of `piece` bytes; the Status of the first failing call.
Status Remux(const std::vector<uint8_t>& in, RemuxOptions o, std::vector<uint8_t>* out, size_t piece = 4093,
             RemuxInfo* info = nullptr) {
  MemoryByteSink sink;
  Remuxer r;
  Status s = r.Open(&sink, o);
  for (size_t at = 0; s.ok() && at < in.size(); at += piece) s = r.Feed(in.data() + at, std::min(piece, in.size() - at));
  if (s.ok()) s = r.Finish();
  if (info) *info = r.info();
  *out = sink.Take();
  return s;
}

RemuxOptions To(RemuxContainer c, Mp4Layout layout = Mp4Layout::kProgressive) {
  RemuxOptions o;
  o.container = c;
  o.layout = layout;
  return o;
}

// A VP9 + Opus WebM from capturekit's WebmMuxer: 90 frames (3 s) and 3 s of Opus.
std::vector<uint8_t> OurWebm(VideoCodec codec = VideoCodec::kVp9) {
  MemoryByteSink sink;
  WebmMuxer m;
  WebmMuxerOptions o;
  o.codec = codec;
  o.width = 64;
  o.height = 48;
  o.audio.enabled = true;
  EXPECT_TRUE(m.Open(&sink, o).ok());
  std::vector<Item> video;
  if (codec == VideoCodec::kVp9) {
    video = mp4test::Vp9Frames(90);
  } else {
    VpxEncoder enc;
    VpxEncoderOptions eo;
    eo.codec = VideoCodec::kVp8;
    eo.width = 64;
    eo.height = 48;
    EXPECT_TRUE(enc.Open(eo).ok());
    std::vector<uint8_t> y(64 * 48, 90), uv(32 * 24, 128);
    EXPECT_TRUE(enc.Encode(I420Planes{y.data(), uv.data(), uv.data(), 64, 32}, 0, 33333, true, [&](const EncodedFrame& f) {
                     video.push_back(Item{std::vector<uint8_t>(f.data, f.data + f.size), 0, f.keyframe});
                     return Status::Ok();
                   }).ok());
  }
  uint64_t padding = 0;
  std::vector<Item> audio = mp4test::OpusPackets(3, &padding);
  size_t a = 0;
  for (const Item& v : video) {
    while (a < audio.size() && audio[a].ts <= v.ts) {
      EXPECT_TRUE(m.AddAudio(audio[a].data.data(), audio[a].data.size(), audio[a].ts).ok());
      ++a;
    }
    EXPECT_TRUE(m.AddFrame(v.data.data(), v.data.size(), v.key, v.ts).ok());
  }
  for (; a < audio.size(); ++a) {
    EXPECT_TRUE(m.AddAudio(audio[a].data.data(), audio[a].data.size(), audio[a].ts,
                           a + 1 == audio.size() ? padding : 0).ok());
  }
  EXPECT_TRUE(m.Finish(3e9).ok());
  return sink.Take();
}

// Per stream, the size and MD5 of every packet as ffmpeg reads them (-c copy: no decoding), in order.
std::string PacketBytes(const std::string& path) {
  const std::string s = Shell("ffmpeg -v error -i '" + path + "' -map 0 -c copy -f framemd5 - 2>/dev/null");
  std::string out;
  size_t p = 0;
  while (p < s.size()) {
    size_t e = s.find('\n', p);
    if (e == std::string::npos) e = s.size();
    const std::string line = s.substr(p, e - p);
    p = e + 1;
    if (line.empty() || line[0] == '#') continue;
    // stream, dts, pts, duration, size, hash: keep stream, size, hash
    std::vector<std::string> f;
    size_t q = 0;
    while (q <= line.size()) {
      size_t c = line.find(',', q);
      if (c == std::string::npos) c = line.size();
      std::string v = line.substr(q, c - q);
      while (!v.empty() && v[0] == ' ') v.erase(0, 1);
      f.push_back(v);
      q = c + 1;
    }
    if (f.size() >= 6) out += f[0] + " " + f[4] + " " + f[5] + "\n";
  }
  return out;
}

std::string Codecs(const std::string& path) {
  return Shell("ffprobe -v error -show_entries stream=codec_name -of csv=p=0 '" + path + "'");
}

bool Decodes(const std::string& path) {
  int rc = 0;
  Shell("ffmpeg -v error -xerror -i '" + path + "' -f null - 2>&1", &rc);
  return rc == 0;
}

// The round trip WebM -> MP4 -> WebM judged at each step.
void RoundTrip(const std::vector<uint8_t>& webm, const TempDir& dir, Mp4Layout layout, double duration,
               const std::string& expected_counts) {
  const std::string w0 = dir.file("in.webm"), m1 = dir.file("out.mp4"), w2 = dir.file("back.webm");
  webmtest::WriteFile(w0, webm);
  std::vector<uint8_t> mp4, back;
  RemuxInfo info;
  Status s = Remux(webm, To(RemuxContainer::kMp4, layout), &mp4, 4093, &info);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(info.input_type, "webm");
  EXPECT_EQ(info.video_codec, "vp9");
  EXPECT_TRUE(info.has_audio);
  EXPECT_NE(info.mime_type.find("video/mp4"), std::string::npos) << info.mime_type;
  webmtest::WriteFile(m1, mp4);
  s = Remux(mp4, To(RemuxContainer::kWebm), &back, 777, &info);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(info.input_type, "mp4");
  webmtest::WriteFile(w2, back);

  if (layout == Mp4Layout::kProgressive) {
    const std::string tree = mp4test::Tree(mp4);
    EXPECT_LT(tree.find("moov"), tree.find("mdat")) << tree;
  }
  EXPECT_EQ(Codecs(w0), "vp9\nopus\n");
  EXPECT_EQ(Codecs(m1), "vp9\nopus\n");
  EXPECT_EQ(Codecs(w2), "vp9\nopus\n");
  const std::string counts = webmtest::ProbePacketCounts(w0);
  EXPECT_EQ(counts, expected_counts);
  EXPECT_EQ(webmtest::ProbePacketCounts(m1), counts);
  EXPECT_EQ(webmtest::ProbePacketCounts(w2), counts);
  const std::string bytes = PacketBytes(w0);
  EXPECT_GT(bytes.size(), 100u);
  EXPECT_EQ(PacketBytes(m1), bytes);
  EXPECT_EQ(PacketBytes(w2), bytes);
  if (duration < 0) duration = webmtest::ProbeDuration(m1);  // an input without a Duration
  EXPECT_GT(duration, 0.5);
  EXPECT_NEAR(webmtest::ProbeDuration(m1), duration, 0.1);
  EXPECT_NEAR(webmtest::ProbeDuration(w2), duration, 0.1);
  EXPECT_TRUE(Decodes(m1));
  EXPECT_TRUE(Decodes(w2));
  // The decoded pictures are the same in all three files.
  const std::string md5 = webmtest::FrameMd5(w0, "-map 0:v");
  EXPECT_FALSE(md5.empty());
  EXPECT_EQ(webmtest::FrameMd5(m1, "-map 0:v"), md5);
  const std::string mb = mp4test::MediabunnyProbe(m1);
  EXPECT_NE(mb.find("\"codec\":\"vp9\""), std::string::npos) << mb;
  EXPECT_NE(mb.find("\"codec\":\"opus\""), std::string::npos) << mb;
}

TEST(Remux, OurVp9OpusWebmToProgressiveMp4AndBackKeepsEveryPacket) {
  TempDir dir;
  RoundTrip(OurWebm(), dir, Mp4Layout::kProgressive, 3.0, "90,150");
}

TEST(Remux, FragmentedMp4AndBack) {
  TempDir dir;
  RoundTrip(OurWebm(), dir, Mp4Layout::kFragmented, 3.0, "90,150");
}

TEST(Remux, AnFfmpegVp9OpusWebm) {
  TempDir dir;
  const std::string p = dir.file("ff.webm");
  Shell("ffmpeg -v error -y -f lavfi -i testsrc=size=160x120:rate=25 -f lavfi -i sine=frequency=440:sample_rate=48000 "
        "-t 2 -c:v libvpx-vp9 -deadline realtime -cpu-used 8 -g 25 -b:v 200k -c:a libopus -b:a 64k '" + p + "'");
  const std::vector<uint8_t> webm = webmtest::ReadFile(p);
  ASSERT_GT(webm.size(), 1000u);
  RoundTrip(webm, dir, Mp4Layout::kProgressive, 2.0, "50,101");
}

TEST(Remux, AChromiumMediaRecorderVp9OpusWebm) {
  TempDir dir;
  const std::vector<uint8_t> webm = webmtest::ReadFile(mp4test::RepoRoot() + "/tests/fixtures/video/chrome_vp9_opus.webm");
  ASSERT_GT(webm.size(), 1000u);
  RoundTrip(webm, dir, Mp4Layout::kProgressive, -1, "60,33");
}

// AV1 (ffmpeg's libaom in WebM, av1C in CodecPrivate) and H.264 (Chromium's MediaRecorder Matroska,
// avcC in CodecPrivate, Annex B blocks) become MP4 with every packet; WebM cannot take them back (a
// clear refusal).
TEST(Remux, Av1AndH264IntoMp4) {
  TempDir dir;
  const std::string av1 = dir.file("av1.webm");
  Shell("ffmpeg -v error -y -f lavfi -i testsrc=size=160x120:rate=30 -f lavfi -i sine=frequency=440:sample_rate=48000 "
        "-t 1 -c:v libaom-av1 -cpu-used 8 -usage realtime -g 10 -b:v 200k -c:a libopus '" + av1 + "'");
  const std::string h264 = mp4test::RepoRoot() + "/tests/fixtures/video/chrome_h264_opus.mkv";
  for (const auto& [in, codec] : {std::pair{av1, std::string("av1")}, std::pair{h264, std::string("h264")}}) {
    SCOPED_TRACE(in);
    const std::vector<uint8_t> src = webmtest::ReadFile(in);
    ASSERT_GT(src.size(), 1000u);
    std::vector<uint8_t> mp4, back;
    RemuxInfo info;
    Status s = Remux(src, To(RemuxContainer::kMp4), &mp4, 4093, &info);
    ASSERT_TRUE(s.ok()) << s.message();
    EXPECT_EQ(info.video_codec, codec);
    const std::string out = dir.file(codec + ".mp4");
    webmtest::WriteFile(out, mp4);
    EXPECT_EQ(Codecs(out), codec + "\nopus\n");
    EXPECT_EQ(webmtest::ProbePacketCounts(out), webmtest::ProbePacketCounts(in));
    if (codec == "av1") {
      const std::string bytes = PacketBytes(in);
      EXPECT_GT(bytes.size(), 100u);
      EXPECT_EQ(PacketBytes(out), bytes);
    } else {
      // Chromium's Matroska H.264 blocks are Annex B (start codes); MP4 samples carry 4-byte NAL lengths
      // instead, so the packets differ in those 4 bytes per NAL unit: the decoded pictures are compared.
      const std::string md5 = webmtest::FrameMd5(in, "-map 0:v");
      EXPECT_FALSE(md5.empty());
      EXPECT_EQ(webmtest::FrameMd5(out, "-map 0:v"), md5);
    }
    EXPECT_TRUE(Decodes(out));
    const std::string mb = mp4test::MediabunnyProbe(out);
    EXPECT_NE(mb.find("\"codec\":\"" + std::string(codec == "h264" ? "avc" : "av1") + "\""), std::string::npos) << mb;
    s = Remux(mp4, To(RemuxContainer::kWebm), &back);
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << s.message();
  }
}

TEST(Remux, ByteByByteEqualsAtOnce) {
  const std::vector<uint8_t> webm = OurWebm();
  std::vector<uint8_t> a, b, c, d;
  ASSERT_TRUE(Remux(webm, To(RemuxContainer::kMp4), &a, webm.size()).ok());
  ASSERT_TRUE(Remux(webm, To(RemuxContainer::kMp4), &b, 1).ok());
  EXPECT_EQ(a, b);
  ASSERT_TRUE(Remux(a, To(RemuxContainer::kWebm), &c, a.size()).ok());
  ASSERT_TRUE(Remux(a, To(RemuxContainer::kWebm), &d, 1).ok());
  EXPECT_EQ(c, d);
}

TEST(Remux, Vp8CannotGoIntoMp4) {
  std::vector<uint8_t> out;
  Status s = Remux(OurWebm(VideoCodec::kVp8), To(RemuxContainer::kMp4), &out);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("VP8"), std::string::npos) << s.message();
}

TEST(Remux, H264CannotGoIntoWebm) {
  TempDir dir;
  const std::string p = dir.file("h.mp4");
  Shell("ffmpeg -v error -y -f lavfi -i testsrc=size=160x120:rate=30 -frames:v 10 -c:v libx264 '" + p + "'");
  const std::vector<uint8_t> mp4 = webmtest::ReadFile(p);
  ASSERT_GT(mp4.size(), 500u);
  std::vector<uint8_t> out;
  Status s = Remux(mp4, To(RemuxContainer::kWebm), &out);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("WebM has no H.264"), std::string::npos) << s.message();
}

TEST(Remux, TruncatedInputIsRefusedUnlessAllowed) {
  const std::vector<uint8_t> webm = OurWebm();
  std::vector<uint8_t> mp4, out;
  ASSERT_TRUE(Remux(webm, To(RemuxContainer::kMp4), &mp4).ok());
  for (const auto& [in, target] : {std::pair{webm, RemuxContainer::kMp4}, std::pair{mp4, RemuxContainer::kWebm}}) {
    const std::vector<uint8_t> cut(in.begin(), in.begin() + long(in.size() * 7 / 10));
    Status s = Remux(cut, To(target), &out);
    EXPECT_EQ(s.code(), Code::kCorruptData) << s.message();
    EXPECT_NE(s.message().find("truncated"), std::string::npos) << s.message();
    RemuxOptions o = To(target);
    o.allow_truncated = true;
    RemuxInfo info;
    s = Remux(cut, o, &out, 4093, &info);
    ASSERT_TRUE(s.ok()) << s.message();
    EXPECT_TRUE(info.truncated);
    EXPECT_GT(info.frames, 30);
    EXPECT_LT(info.frames, 90);
  }
}

TEST(Remux, GarbageAndWrongDirectionsAreRefused) {
  std::vector<uint8_t> out;
  const std::vector<uint8_t> junk(5000, 0x42);
  Status s = Remux(junk, To(RemuxContainer::kMp4), &out);
  EXPECT_EQ(s.code(), Code::kCorruptData);
  EXPECT_NE(s.message().find("not a WebM or MP4"), std::string::npos) << s.message();
  s = Remux({}, To(RemuxContainer::kMp4), &out);
  EXPECT_EQ(s.code(), Code::kCorruptData);
  s = Remux(OurWebm(), To(RemuxContainer::kWebm), &out);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("already WebM"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace ck
