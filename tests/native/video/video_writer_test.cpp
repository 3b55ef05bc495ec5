// VideoWriter end to end, natively (system libvpx, ASan/UBSan): files judged by ffprobe and mkvinfo.
#include "video/video_writer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "file_byte_sink.h"
#include "webm_test_util.h"

namespace ck {
namespace {

// A moving pattern: a gradient scrolling right and a white square moving down-right.
std::vector<uint8_t> Pattern(int w, int h, int frame) {
  std::vector<uint8_t> v(size_t(w) * h * 4);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      uint8_t* p = &v[(size_t(y) * w + x) * 4];
      p[0] = uint8_t((x + frame * 3) * 255 / (w + 90));
      p[1] = uint8_t(y * 255 / h);
      p[2] = uint8_t(128 + 100 * ((x / 8 + y / 8 + frame) % 2));
      p[3] = 255;
      const int sx = (frame * 2) % (w - 16), sy = frame % (h - 16);
      if (x >= sx && x < sx + 16 && y >= sy && y < sy + 16) p[0] = p[1] = p[2] = 250;
    }
  return v;
}

using webmtest::Shell;  // tests/native/video/webm_test_util.h

std::string TempPath(const std::string& name) {
  return ::testing::TempDir() + "ck_video_" + std::to_string(getpid()) + "_" + name;
}

std::vector<uint8_t> ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), {});
}

// `key=value` lines from ffprobe -of default=noprint_wrappers=1.
std::string Field(const std::string& probe, const std::string& key) {
  const std::string k = key + "=";
  size_t at = probe.find(k);
  if (at == std::string::npos) return "";
  size_t end = probe.find('\n', at);
  return probe.substr(at + k.size(), end - at - k.size());
}

std::string Probe(const std::string& path) {
  return Shell("ffprobe -v error -count_frames -select_streams v:0 -show_entries "
             "stream=codec_name,width,height,nb_read_frames:format=duration -of default=noprint_wrappers=1 '" +
             path + "'");
}

VideoWriterOptions Options(VideoCodec codec, int w = 160, int h = 120) {
  VideoWriterOptions o;
  o.codec = codec;
  o.width = w;
  o.height = h;
  o.fps = 30;
  o.bitrate = 500'000;
  return o;
}

struct Encoded {
  VideoStats stats;
  std::string path;
};

Encoded EncodeToFile(const VideoWriterOptions& o, int frames, const std::string& name, bool with_metadata = false) {
  Encoded e;
  e.path = TempPath(name);
  FileByteSink sink(e.path);
  EXPECT_TRUE(sink.ok());
  VideoWriter w;
  Status s = w.Open(o, &sink);
  EXPECT_TRUE(s.ok()) << s.message();
  for (int i = 0; i < frames; ++i) {
    auto px = Pattern(o.width, o.height, i);
    std::string meta = "{\"frame\":" + std::to_string(i) + "}";
    s = w.AddFrame(Image{px.data(), o.width, o.height, o.width * 4}, kAutoTimestamp,
                   with_metadata ? reinterpret_cast<const uint8_t*>(meta.data()) : nullptr,
                   with_metadata ? meta.size() : 0);
    EXPECT_TRUE(s.ok()) << s.message();
  }
  s = w.Finish(&e.stats);
  EXPECT_TRUE(s.ok()) << s.message();
  return e;
}

class CodecTest : public ::testing::TestWithParam<VideoCodec> {};

TEST_P(CodecTest, ThirtyFramesInThirtyFramesOutOneSecond) {
  const VideoCodec codec = GetParam();
  Encoded e = EncodeToFile(Options(codec), 30, std::string(VideoCodecName(codec)) + ".webm");
  EXPECT_EQ(e.stats.frames, 30);
  EXPECT_EQ(e.stats.duration_s, 1.0);
  EXPECT_GT(e.stats.bytes, 1000);
  const std::string probe = Probe(e.path);
  EXPECT_EQ(Field(probe, "codec_name"), VideoCodecName(codec)) << probe;
  EXPECT_EQ(Field(probe, "width"), "160");
  EXPECT_EQ(Field(probe, "height"), "120");
  EXPECT_EQ(Field(probe, "nb_read_frames"), "30") << probe;
  EXPECT_EQ(Field(probe, "duration"), "1.000000") << probe;
  const std::string info = Shell("mkvinfo -a '" + e.path + "'");
  EXPECT_NE(info.find("Cues"), std::string::npos) << info;
  EXPECT_NE(info.find("Cue point"), std::string::npos) << info;
  if (!HasFailure()) std::remove(e.path.c_str());
}

INSTANTIATE_TEST_SUITE_P(Video, CodecTest, ::testing::Values(VideoCodec::kVp8, VideoCodec::kVp9),
                         [](const auto& info) { return std::string(VideoCodecName(info.param)); });

TEST(VideoWriter, KeyframesAndCuesAtTheInterval) {
  VideoWriterOptions o = Options(VideoCodec::kVp8);
  o.keyframe_interval = 10;
  Encoded e = EncodeToFile(o, 30, "kf.webm");
  EXPECT_EQ(e.stats.keyframes, 3);
  const std::string info = Shell("mkvinfo -a '" + e.path + "'");
  size_t cues = 0;
  for (size_t at = info.find("Cue point"); at != std::string::npos; at = info.find("Cue point", at + 1)) ++cues;
  EXPECT_EQ(cues, 3u) << info;
  if (!HasFailure()) std::remove(e.path.c_str());
}

TEST(VideoWriter, OddSizesAreEncodedAsIs) {
  Encoded e = EncodeToFile(Options(VideoCodec::kVp8, 161, 91), 5, "odd.webm");
  const std::string probe = Probe(e.path);
  EXPECT_EQ(Field(probe, "width"), "161") << probe;
  EXPECT_EQ(Field(probe, "height"), "91");
  EXPECT_EQ(Field(probe, "nb_read_frames"), "5");
  if (!HasFailure()) std::remove(e.path.c_str());
}

TEST(VideoWriter, OneFrameLastsOneFrame) {
  Encoded e = EncodeToFile(Options(VideoCodec::kVp8), 1, "one.webm");
  EXPECT_EQ(Field(Probe(e.path), "duration"), "0.033333");
  if (!HasFailure()) std::remove(e.path.c_str());
}

TEST(VideoWriter, MetadataTravelsAsBlockAdditions) {
  Encoded e = EncodeToFile(Options(VideoCodec::kVp8), 3, "meta.webm", true);
  const std::string info = Shell("mkvinfo -a '" + e.path + "'");
  size_t n = 0;
  for (size_t at = info.find("Block additional ID: 2"); at != std::string::npos;
       at = info.find("Block additional ID: 2", at + 1))
    ++n;
  EXPECT_EQ(n, 3u) << info;
  EXPECT_EQ(Field(Probe(e.path), "nb_read_frames"), "3");
  if (!HasFailure()) std::remove(e.path.c_str());
}

TEST(VideoWriter, GivenTimestampsAreRelativeToTheFirstFrame) {
  const std::string path = TempPath("ts.webm");
  FileByteSink sink(path);
  VideoWriter w;
  ASSERT_TRUE(w.Open(Options(VideoCodec::kVp8), &sink).ok());
  auto px = Pattern(160, 120, 0);
  const Image im{px.data(), 160, 120, 640};
  // Starts at 5 s on some clock; 10 frames 100 ms apart.
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(w.AddFrame(im, 5'000'000 + i * 100'000).ok());
  VideoStats st;
  ASSERT_TRUE(w.Finish(&st).ok());
  EXPECT_NEAR(st.duration_s, 1.0, 1e-6);
  const std::string pts = Shell("ffprobe -v error -select_streams v:0 -show_entries packet=pts_time -of csv=p=0 '" + path + "'");
  EXPECT_EQ(pts.substr(0, 9), "0.000000\n") << pts;
  EXPECT_NE(pts.find("0.900000"), std::string::npos) << pts;
  std::remove(path.c_str());
}

TEST(VideoWriter, FlipYEqualsEncodingTheFlippedImage) {
  auto encode = [](bool flip_option) {
    MemoryByteSink sink;
    VideoWriterOptions o = Options(VideoCodec::kVp8, 64, 48);
    o.flip_y = flip_option;
    VideoWriter w;
    EXPECT_TRUE(w.Open(o, &sink).ok());
    for (int i = 0; i < 3; ++i) {
      auto px = Pattern(64, 48, i);
      if (!flip_option) {  // flip rows by hand
        std::vector<uint8_t> f(px.size());
        for (int y = 0; y < 48; ++y) std::memcpy(&f[size_t(y) * 256], &px[size_t(47 - y) * 256], 256);
        px = f;
      }
      EXPECT_TRUE(w.AddFrame(Image{px.data(), 64, 48, 256}).ok());
    }
    EXPECT_TRUE(w.Finish().ok());
    return sink.Take();
  };
  const auto a = encode(true), b = encode(false);
  EXPECT_GT(a.size(), 100u);
  EXPECT_EQ(a, b);
}

TEST(VideoWriter, StreamingOutputEqualsMemoryOutput) {
  auto run = [](ByteSink* sink) {
    VideoWriterOptions o = Options(VideoCodec::kVp8, 96, 64);
    o.keyframe_interval = 5;
    VideoWriter w;
    EXPECT_TRUE(w.Open(o, sink).ok());
    for (int i = 0; i < 20; ++i) {
      auto px = Pattern(96, 64, i);
      const std::string meta = "{\"i\":" + std::to_string(i) + "}";
      EXPECT_TRUE(w.AddFrame(Image{px.data(), 96, 64, 384}, kAutoTimestamp,
                             reinterpret_cast<const uint8_t*>(meta.data()), meta.size())
                      .ok());
    }
    EXPECT_TRUE(w.Finish().ok());
  };
  MemoryByteSink mem;
  run(&mem);
  std::vector<uint8_t> file;
  size_t max_buffered = 0, patches = 0;
  StreamingByteSink* self = nullptr;
  StreamingByteSink stream([&](int64_t off, const uint8_t* d, size_t n) {
    if (size_t(off) < file.size()) ++patches;
    EXPECT_LE(size_t(off), file.size());
    if (size_t(off) + n > file.size()) file.resize(size_t(off) + n);
    std::memcpy(file.data() + off, d, n);
    max_buffered = std::max(max_buffered, self->buffered());
    return true;
  });
  self = &stream;
  run(&stream);
  EXPECT_EQ(file, mem.bytes());
  EXPECT_GT(patches, 0u);                       // the header was patched at the end
  EXPECT_LT(max_buffered, mem.bytes().size() / 2);  // never held the whole file
}

TEST(VideoWriter, SameFramesGiveTheSameBytes) {
  auto run = [] {
    MemoryByteSink sink;
    VideoWriter w;
    EXPECT_TRUE(w.Open(Options(VideoCodec::kVp9, 64, 48), &sink).ok());
    for (int i = 0; i < 4; ++i) {
      auto px = Pattern(64, 48, i);
      EXPECT_TRUE(w.AddFrame(Image{px.data(), 64, 48, 256}).ok());
    }
    EXPECT_TRUE(w.Finish().ok());
    return sink.Take();
  };
  EXPECT_EQ(run(), run());
}

// ---- bad input ----

TEST(VideoWriter, RejectsBadOptions) {
  struct Case {
    void (*edit)(VideoWriterOptions&);
    Code code;
    const char* text;
  };
  const Case cases[] = {
      {[](VideoWriterOptions& o) { o.width = 1; }, Code::kOutOfRange, "width and height must be between 2 and 8192"},
      {[](VideoWriterOptions& o) { o.height = 9000; }, Code::kOutOfRange, "got 160x9000"},
      {[](VideoWriterOptions& o) { o.fps = 0; }, Code::kOutOfRange, "fps must be between"},
      {[](VideoWriterOptions& o) { o.fps = std::nan(""); }, Code::kOutOfRange, "fps must be between"},
      {[](VideoWriterOptions& o) { o.fps = 1000; }, Code::kOutOfRange, "got 1000"},
      {[](VideoWriterOptions& o) { o.bitrate = 5; }, Code::kOutOfRange, "bitrate must be between"},
      {[](VideoWriterOptions& o) { o.bitrate = int64_t(1) << 40; }, Code::kOutOfRange, "bits per second"},
      {[](VideoWriterOptions& o) { o.keyframe_interval = -3; }, Code::kOutOfRange, "keyframeInterval"},
      {[](VideoWriterOptions& o) { o.speed = -20; }, Code::kOutOfRange, "speed for vp8 must be between -16 and 16"},
      {[](VideoWriterOptions& o) { o.codec = VideoCodec::kVp9; o.speed = -6; }, Code::kOutOfRange,
       "speed for vp9 must be between 5 and 9"},
  };
  for (const Case& c : cases) {
    VideoWriterOptions o = Options(VideoCodec::kVp8);
    c.edit(o);
    MemoryByteSink sink;
    VideoWriter w;
    Status s = w.Open(o, &sink);
    EXPECT_EQ(s.code(), c.code) << c.text;
    EXPECT_NE(s.message().find(c.text), std::string::npos) << s.message();
  }
}

TEST(VideoWriter, RejectsWrongFramesAndMisuseClearly) {
  MemoryByteSink sink;
  VideoWriter w;
  auto px = Pattern(160, 120, 0);
  const Image im{px.data(), 160, 120, 640};
  EXPECT_EQ(w.AddFrame(im).code(), Code::kFailedPrecondition);  // not open
  EXPECT_EQ(w.Finish().code(), Code::kFailedPrecondition);
  ASSERT_TRUE(w.Open(Options(VideoCodec::kVp8), &sink).ok());
  EXPECT_EQ(w.Open(Options(VideoCodec::kVp8), &sink).code(), Code::kFailedPrecondition);
  EXPECT_EQ(w.Finish().message(), "video writer: no frames were added");

  Status s = w.AddFrame(Image{px.data(), 120, 160, 480});
  EXPECT_EQ(s.code(), Code::kOutOfRange);
  EXPECT_EQ(s.message(), "video writer: frame is 120x160 but the video is 160x120");
  EXPECT_EQ(w.AddFrame(Image{nullptr, 160, 120, 640}).code(), Code::kInvalidArgument);
  EXPECT_EQ(w.AddFrame(Image{px.data(), 160, 120, 100}).code(), Code::kOutOfRange);  // stride

  std::vector<uint8_t> big(kMaxFrameMetadataBytes + 1, 'x');
  EXPECT_EQ(w.AddFrame(im, kAutoTimestamp, big.data(), big.size()).code(), Code::kOutOfRange);

  // The writer is still usable after rejected frames.
  ASSERT_TRUE(w.AddFrame(im, 1000).ok());
  s = w.AddFrame(im, 1000);
  EXPECT_EQ(s.code(), Code::kOutOfRange);
  EXPECT_NE(s.message().find("timestamps must increase"), std::string::npos) << s.message();
  EXPECT_EQ(w.AddFrame(im, 500).code(), Code::kOutOfRange);
  EXPECT_EQ(w.AddFrame(im, int64_t(1) << 60).code(), Code::kOutOfRange);
  ASSERT_TRUE(w.AddFrame(im, 40000).ok());
  ASSERT_TRUE(w.AddFrame(im).ok());  // auto: 1/fps after the last given one

  VideoStats st;
  ASSERT_TRUE(w.Finish(&st).ok());
  EXPECT_EQ(st.frames, 3);
  s = w.AddFrame(im);
  EXPECT_EQ(s.code(), Code::kFailedPrecondition);
  EXPECT_EQ(s.message(), "video writer: already finished");
  EXPECT_EQ(w.Finish().message(), "video writer: already finished");
}

TEST(VideoWriter, AFailingOutputStopsTheRecording) {
  StreamingByteSink sink([](int64_t, const uint8_t*, size_t) { return false; });
  VideoWriterOptions o = Options(VideoCodec::kVp8, 32, 32);
  o.keyframe_interval = 1;  // a new cluster (and so an emit) on every frame
  VideoWriter w;
  ASSERT_TRUE(w.Open(o, &sink).ok());
  auto px = Pattern(32, 32, 0);
  const Image im{px.data(), 32, 32, 128};
  Status s;
  for (int i = 0; i < 4 && s.ok(); ++i) s = w.AddFrame(im);
  EXPECT_EQ(s.code(), Code::kFailedPrecondition);
  s = w.AddFrame(im);
  EXPECT_NE(s.message().find("stopped by an earlier error"), std::string::npos) << s.message();
  EXPECT_EQ(w.Finish().code(), Code::kFailedPrecondition);
}

}  // namespace
}  // namespace ck
