// VideoWriter with the MP4 container: RGBA frames + Opus through libvpx VP9 into fragmented and
// progressive MP4, judged by ffprobe, a full ffmpeg decode and mediabunny; what MP4 cannot hold (VP8,
// per-frame metadata) refused with a clear error.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "audio/opus_encoder.h"
#include "mp4_test_util.h"
#include "video/byte_sink.h"
#include "video/video_writer.h"

namespace ck {
namespace {

using webmtest::Shell;

VideoWriterOptions Mp4Options(Mp4Layout layout) {
  VideoWriterOptions o;
  o.codec = VideoCodec::kVp9;
  o.width = 64;
  o.height = 48;
  o.fps = 30;
  o.bitrate = 200'000;
  o.container = Container::kMp4;
  o.mp4_layout = layout;
  return o;
}

TEST(Mp4VideoWriter, WritesVp9AndOpusThatFfmpegAndMediabunnyRead) {
  webmtest::TempDir dir;
  for (Mp4Layout layout : {Mp4Layout::kFragmented, Mp4Layout::kProgressive}) {
    VideoWriterOptions o = Mp4Options(layout);
    o.audio.enabled = true;
    o.audio.channels = 2;
    OpusEncoder enc;
    OpusEncoderOptions eo;
    eo.channels = 2;
    ASSERT_TRUE(enc.Open(eo).ok());
    o.audio.pre_skip = enc.pre_skip();
    MemoryByteSink sink;
    VideoWriter w;
    ASSERT_TRUE(w.Open(o, &sink).ok());
    std::vector<uint8_t> rgba(64 * 48 * 4);
    std::vector<float> pcm(1600 * 2);
    auto on = [&](const OpusPacket& p) {
      return w.AddAudio(p.data, p.size, p.pts_ns, p.padding ? int64_t(std::llround(p.padding * 1e9 / 48000)) : 0);
    };
    for (int i = 0; i < 90; ++i) {
      for (size_t k = 0; k < rgba.size(); ++k) rgba[k] = uint8_t((k / 4 % 64) * 3 + i * 2);
      for (size_t k = 0; k < pcm.size(); ++k) pcm[k] = float(0.3 * std::sin(2 * M_PI * 440 * (i * 1600 + int(k / 2)) / 48000.0));
      ASSERT_TRUE(w.AddFrame(Image{rgba.data(), 64, 48, 64 * 4}).ok());
      ASSERT_TRUE(enc.Encode(pcm.data(), 1600, on).ok());
    }
    ASSERT_TRUE(enc.Flush(on).ok());
    VideoStats st;
    ASSERT_TRUE(w.Finish(&st).ok());
    EXPECT_EQ(st.frames, 90);
    EXPECT_EQ(st.audio_packets, 150);
    EXPECT_NEAR(st.duration_s, 3.0, 1e-3);
    EXPECT_EQ(w.MimeType(), "video/mp4; codecs=\"vp09.00.10.08, opus\"");
    const std::string path = dir.file("w.mp4");
    webmtest::WriteFile(path, sink.Take());
    EXPECT_EQ(webmtest::ProbePacketCounts(path), "90,150");
    EXPECT_NEAR(webmtest::ProbeDuration(path), 3.0, 0.01);
    int rc = 0;
    EXPECT_EQ(Shell("ffmpeg -v error -xerror -i '" + path + "' -f null - 2>&1", &rc), "");
    EXPECT_EQ(rc, 0);
    const std::string mb = mp4test::MediabunnyProbe(path);
    EXPECT_NE(mb.find("\"type\":\"video\",\"codec\":\"vp9\",\"packets\":90"), std::string::npos) << mb;
    EXPECT_NE(mb.find("\"type\":\"audio\",\"codec\":\"opus\",\"packets\":150"), std::string::npos) << mb;
  }
}

TEST(Mp4VideoWriter, RefusesWhatMp4CannotHold) {
  MemoryByteSink sink;
  VideoWriter w;
  VideoWriterOptions o = Mp4Options(Mp4Layout::kFragmented);
  o.codec = VideoCodec::kVp8;
  Status s = w.Open(o, &sink);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("VP8 cannot be stored in MP4"), std::string::npos) << s.message();
  ASSERT_TRUE(w.Open(Mp4Options(Mp4Layout::kFragmented), &sink).ok());
  std::vector<uint8_t> rgba(64 * 48 * 4, 90);
  const std::string meta = "{\"pose\":1}";
  s = w.AddFrame(Image{rgba.data(), 64, 48, 64 * 4}, kAutoTimestamp, reinterpret_cast<const uint8_t*>(meta.data()), meta.size());
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("no per-frame metadata"), std::string::npos) << s.message();
  ASSERT_TRUE(w.AddFrame(Image{rgba.data(), 64, 48, 64 * 4}).ok());  // still usable
  ASSERT_TRUE(w.Finish().ok());
  EXPECT_EQ(w.stats().frames, 1);
}

}  // namespace
}  // namespace ck
