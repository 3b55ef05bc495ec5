// WebmMuxer on its own, natively: frames encoded elsewhere (ffmpeg's libvpx, read from an IVF file, as
// the browser's VideoEncoder would hand them over) muxed into WebM; judged by ffprobe and mkvinfo.
// Plus the checks the muxer makes itself (sizes, fps, timestamps going back, empty frames, order).
#include "video/webm_muxer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <tuple>
#include <vector>

#include "webm_test_util.h"

namespace ck {
namespace {

using webmtest::Shell;  // tests/native/video/webm_test_util.h

std::string TempPath(const std::string& name) {
  return ::testing::TempDir() + "ck_mux_" + std::to_string(getpid()) + "_" + name;
}

struct IvfFrame {
  std::vector<uint8_t> data;
  bool keyframe;
};

uint32_t Le32(const std::vector<uint8_t>& b, size_t at) {
  return uint32_t(b[at]) | uint32_t(b[at + 1]) << 8 | uint32_t(b[at + 2]) << 16 | uint32_t(b[at + 3]) << 24;
}

// 30 frames of ffmpeg's test pattern, 160x120, keyframe every 10 frames, as an IVF file.
std::vector<IvfFrame> EncodeIvf(const std::string& codec) {
  const std::string path = TempPath(codec + ".ivf");
  Shell("ffmpeg -v error -y -f lavfi -i testsrc=size=160x120:rate=30 -t 1 -c:v " +
        std::string(codec == "vp8" ? "libvpx" : "libvpx-vp9") + " -g 10 -f ivf '" + path + "'");
  std::ifstream f(path, std::ios::binary);
  std::vector<uint8_t> b((std::istreambuf_iterator<char>(f)), {});
  std::remove(path.c_str());
  std::vector<IvfFrame> frames;
  if (b.size() < 32) return frames;
  for (size_t p = 32; p + 12 <= b.size();) {
    const size_t n = Le32(b, p);
    if (p + 12 + n > b.size()) break;
    IvfFrame fr{std::vector<uint8_t>(b.begin() + p + 12, b.begin() + p + 12 + n), false};
    // VP8: bit 0 of the first byte is 0 on keyframes. VP9 (profile 0): frame_type bit after the marker/profile/show_existing bits.
    fr.keyframe = codec == "vp8" ? (fr.data[0] & 1) == 0 : (fr.data[0] & 0x04) == 0;
    frames.push_back(std::move(fr));
    p += 12 + n;
  }
  return frames;
}

WebmMuxerOptions Options(VideoCodec codec) {
  WebmMuxerOptions o;
  o.codec = codec;
  o.width = 160;
  o.height = 120;
  o.fps = 30;
  return o;
}

class MuxCodecTest : public ::testing::TestWithParam<VideoCodec> {};

TEST_P(MuxCodecTest, PreEncodedFramesGiveAPlayableSeekableFile) {
  const VideoCodec codec = GetParam();
  const std::string name = VideoCodecName(codec);
  const std::vector<IvfFrame> frames = EncodeIvf(name);
  ASSERT_EQ(frames.size(), 30u);
  MemoryByteSink sink;
  WebmMuxer m;
  ASSERT_TRUE(m.Open(&sink, Options(codec)).ok());
  int keyframes = 0;
  for (size_t i = 0; i < frames.size(); ++i) {
    const std::string meta = "{\"i\":" + std::to_string(i) + "}";
    Status s = m.AddFrame(frames[i].data.data(), frames[i].data.size(), frames[i].keyframe,
                          uint64_t(i) * 1'000'000'000 / 30, reinterpret_cast<const uint8_t*>(meta.data()),
                          i % 2 ? meta.size() : 0);
    ASSERT_TRUE(s.ok()) << s.message();
    keyframes += frames[i].keyframe;
  }
  EXPECT_EQ(keyframes, 3);
  ASSERT_TRUE(m.Finish(1e9).ok());  // 30 frames at 30 fps (without it mkvmuxer estimates 0.9999999993 s)
  EXPECT_EQ(m.frames(), 30);
  EXPECT_DOUBLE_EQ(m.duration_seconds(), 1.0);
  const std::string path = TempPath(name + ".webm");
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(sink.bytes().data()), sink.bytes().size());
  const std::string probe = Shell("ffprobe -v error -count_frames -select_streams v:0 -show_entries "
                                  "stream=codec_name,nb_read_frames:format=duration -of default=noprint_wrappers=1 '" + path + "'");
  EXPECT_NE(probe.find("codec_name=" + name), std::string::npos) << probe;
  EXPECT_NE(probe.find("nb_read_frames=30"), std::string::npos) << probe;
  EXPECT_NE(probe.find("duration=1.000000"), std::string::npos) << probe;
  const std::string info = Shell("mkvinfo -a '" + path + "'");
  size_t cues = 0;
  for (size_t at = info.find("Cue point"); at != std::string::npos; at = info.find("Cue point", at + 1)) ++cues;
  EXPECT_EQ(cues, 3u) << info;
  EXPECT_NE(info.find("Block additional ID: 2"), std::string::npos) << info;
  if (!HasFailure()) std::remove(path.c_str());
}

INSTANTIATE_TEST_SUITE_P(Mux, MuxCodecTest, ::testing::Values(VideoCodec::kVp8, VideoCodec::kVp9),
                         [](const auto& info) { return std::string(VideoCodecName(info.param)); });

TEST(WebmMuxer, RefusesBadSizesAndFps) {
  MemoryByteSink sink;
  const std::tuple<int, int, double> bad[] = {{0, 120, 30.0},      {160, 1, 30.0},   {100000, 120, 30.0},
                                              {160, 8193, 30.0},   {160, 120, 0.0},  {160, 120, 1000.0}};
  for (auto [w, h, fps] : bad) {
    WebmMuxer m;
    WebmMuxerOptions o = Options(VideoCodec::kVp8);
    o.width = w;
    o.height = h;
    o.fps = fps;
    Status s = m.Open(&sink, o);
    EXPECT_EQ(s.code(), Code::kOutOfRange) << w << "x" << h << "@" << fps;
  }
}

TEST(WebmMuxer, RefusesTimeGoingBackEmptyFramesAndUseAfterFinish) {
  MemoryByteSink sink;
  WebmMuxer m;
  ASSERT_TRUE(m.Open(&sink, Options(VideoCodec::kVp8)).ok());
  const uint8_t frame[4] = {1, 2, 3, 4};
  EXPECT_EQ(m.AddFrame(frame, 4, false, 0).code(), Code::kInvalidArgument);  // first must be a keyframe
  EXPECT_EQ(m.AddFrame(frame, 0, true, 0).code(), Code::kInvalidArgument);   // empty
  ASSERT_TRUE(m.AddFrame(frame, 4, true, 100'000'000).ok());
  Status back = m.AddFrame(frame, 4, false, 50'000'000);
  EXPECT_EQ(back.code(), Code::kInvalidArgument);
  EXPECT_NE(back.message().find("must not go back"), std::string::npos) << back.message();
  ASSERT_TRUE(m.AddFrame(frame, 4, false, 100'000'000).ok());  // equal is fine (non-decreasing)
  EXPECT_EQ(m.frames(), 2);
  ASSERT_TRUE(m.Finish().ok());
  EXPECT_EQ(m.AddFrame(frame, 4, true, 200'000'000).code(), Code::kFailedPrecondition);
  EXPECT_EQ(m.Finish().code(), Code::kFailedPrecondition);
}

}  // namespace
}  // namespace ck
