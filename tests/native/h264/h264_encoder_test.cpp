// H264Encoder against OpenH264 built natively from the same pinned source as the wasm module (no
// assembly in either): every stream is judged by ffmpeg/ffprobe (frame count, key frames, a full decode)
// and its pictures compared with the input (PSNR of the luma), plus the formats, the avcC and bad input.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "h264/h264_encoder.h"

namespace ck {
namespace {

namespace fs = std::filesystem;

std::string Shell(const std::string& cmd, int* status = nullptr) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int rc = pclose(p);
  if (status) *status = rc;
  return out;
}

std::vector<uint8_t> ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

struct TempDir {
  TempDir() {
    std::string t = (fs::temp_directory_path() / "ck-h264-XXXXXX").string();
    path = mkdtemp(t.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string file(const std::string& n) const { return (fs::path(path) / n).string(); }
  std::string path;
};

// A moving picture: a diagonal gradient scrolling by 2 pixels a frame, a box moving across, and chroma
// that changes slowly: motion for the encoder to predict, detail for the PSNR to see.
struct Yuv {
  int w, h;
  std::vector<uint8_t> y, u, v;
  Yuv(int w_, int h_, int n) : w(w_), h(h_), y(size_t(w) * h), u(size_t(w / 2) * (h / 2)), v(u.size()) {
    for (int r = 0; r < h; r++) {
      for (int c = 0; c < w; c++) {
        int val = 40 + ((r + c + 2 * n) % 160);
        bool box = c >= (n * 4) % w && c < (n * 4) % w + w / 6 && r >= h / 3 && r < h / 2;
        y[size_t(r) * w + c] = uint8_t(box ? 220 : val);
      }
    }
    for (int r = 0; r < h / 2; r++) {
      for (int c = 0; c < w / 2; c++) {
        u[size_t(r) * (w / 2) + c] = uint8_t(96 + (c + n) % 64);
        v[size_t(r) * (w / 2) + c] = uint8_t(160 - (r + n) % 64);
      }
    }
  }
  H264Picture picture() const { return H264Picture{y.data(), u.data(), v.data(), w, w / 2}; }
};

struct Encoded {
  std::vector<uint8_t> stream;
  std::vector<bool> keys;
  std::vector<size_t> sizes;
};

Encoded EncodeClip(const H264EncoderOptions& o, int frames, std::vector<int> force = {}) {
  H264Encoder enc;
  Status s = enc.Open(o);
  EXPECT_TRUE(s.ok()) << s.message();
  Encoded e;
  for (int n = 0; n < frames; n++) {
    Yuv pic(o.width, o.height, n);
    bool f = std::find(force.begin(), force.end(), n) != force.end();
    int calls = 0;
    s = enc.Encode(pic.picture(), f, [&](const H264Frame& fr) {
      calls++;
      EXPECT_EQ(fr.index, n);
      e.stream.insert(e.stream.end(), fr.data, fr.data + fr.size);
      e.keys.push_back(fr.keyframe);
      e.sizes.push_back(fr.size);
      return Status::Ok();
    });
    EXPECT_TRUE(s.ok()) << s.message();
    EXPECT_EQ(calls, 1) << "frame " << n;
  }
  return e;
}

double PsnrY(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
  double se = 0;
  for (size_t i = 0; i < a.size(); i++) se += double(a[i] - b[i]) * (a[i] - b[i]);
  if (se == 0) return 99;
  return 10 * std::log10(255.0 * 255.0 * double(a.size()) / se);
}

H264EncoderOptions Options(int w, int h) {
  H264EncoderOptions o;
  o.width = w;
  o.height = h;
  o.fps = 30;
  o.bitrate = 1'500'000;
  o.keyframe_interval = 30;
  return o;
}

TEST(H264Encoder, AnnexBDecodesByFfmpegFrameForFrameWithKeyframesAtTheInterval) {
  TempDir dir;
  H264EncoderOptions o = Options(320, 240);
  const int frames = 75;
  Encoded e = EncodeClip(o, frames);
  ASSERT_EQ(e.keys.size(), size_t(frames));
  for (int n = 0; n < frames; n++) EXPECT_EQ(e.keys[n], n % 30 == 0) << "frame " << n;
  std::string path = dir.file("clip.h264");
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(e.stream.data()), std::streamsize(e.stream.size()));

  std::string probe = Shell("ffprobe -v error -count_frames -select_streams v:0 -show_entries "
                            "stream=codec_name,profile,width,height,nb_read_frames -of csv=p=0 '" + path + "'");
  EXPECT_EQ(probe, "h264,Constrained Baseline,320,240,75\n");
  std::string keys = Shell("ffprobe -v error -select_streams v:0 -show_entries frame=key_frame -of csv=p=0 '" + path + "' | tr -d '\\n'");
  EXPECT_EQ(keys, std::string("1") + std::string(29, '0') + "1" + std::string(29, '0') + "1" + std::string(14, '0'));

  // A full decode; each picture against what went in.
  std::string raw = dir.file("clip.yuv");
  int rc = 0;
  Shell("ffmpeg -v error -xerror -i '" + path + "' -f rawvideo -pix_fmt yuv420p '" + raw + "' 2>&1", &rc);
  ASSERT_EQ(rc, 0);
  std::vector<uint8_t> decoded = ReadFile(raw);
  const size_t frame_bytes = 320 * 240 * 3 / 2;
  ASSERT_EQ(decoded.size(), frame_bytes * frames);
  double worst = 99;
  for (int n = 0; n < frames; n++) {
    Yuv in(320, 240, n);
    std::vector<uint8_t> y(decoded.begin() + long(n * frame_bytes), decoded.begin() + long(n * frame_bytes + 320 * 240));
    worst = std::min(worst, PsnrY(in.y, y));
  }
  EXPECT_GT(worst, 30.0) << "the worst luma PSNR of the decoded pictures";
}

TEST(H264Encoder, ForcedKeyframesAndTheSameBytesEveryRun) {
  H264EncoderOptions o = Options(176, 144);
  Encoded a = EncodeClip(o, 20, {7, 13});
  Encoded b = EncodeClip(o, 20, {7, 13});
  EXPECT_EQ(a.stream, b.stream);
  for (int n = 0; n < 20; n++) EXPECT_EQ(a.keys[n], n == 0 || n == 7 || n == 13) << "frame " << n;
}

TEST(H264Encoder, LengthPrefixedFramesAndTheAvcCCarryTheSameStream) {
  H264EncoderOptions o = Options(256, 144);
  o.format = H264NalFormat::kLengthPrefixed;
  H264Encoder enc;
  ASSERT_TRUE(enc.Open(o).ok());
  const auto& avcc = enc.AvcDecoderConfig();
  ASSERT_GE(avcc.size(), 11u);
  EXPECT_EQ(avcc[0], 1);      // configurationVersion
  EXPECT_EQ(avcc[1], 66);     // Baseline
  EXPECT_EQ(avcc[4], 0xff);   // 4-byte lengths
  EXPECT_EQ(avcc[5], 0xe1);   // one SPS
  EXPECT_EQ(enc.CodecString().substr(0, 7), "avc1.42");
  // Each frame is a run of <length><NAL>, none of them an SPS or PPS; the first has an IDR slice.
  for (int n = 0; n < 5; n++) {
    Yuv pic(256, 144, n);
    ASSERT_TRUE(enc.Encode(pic.picture(), false, [&](const H264Frame& f) {
      size_t i = 0;
      bool idr = false;
      while (i < f.size) {
        EXPECT_LE(i + 4, f.size);
        uint32_t len = uint32_t(f.data[i]) << 24 | uint32_t(f.data[i + 1]) << 16 | uint32_t(f.data[i + 2]) << 8 | f.data[i + 3];
        EXPECT_GT(len, 0u);
        EXPECT_LE(i + 4 + len, f.size);
        int type = f.data[i + 4] & 0x1f;
        EXPECT_NE(type, 7);
        EXPECT_NE(type, 8);
        idr |= type == 5;
        i += 4 + len;
      }
      EXPECT_EQ(i, f.size);
      EXPECT_EQ(idr, n == 0);
      EXPECT_EQ(f.keyframe, n == 0);
      return Status::Ok();
    }).ok());
  }
}

TEST(H264Encoder, TheBitrateIsHeldNearTheTarget) {
  H264EncoderOptions o = Options(320, 240);
  o.bitrate = 400'000;
  o.keyframe_interval = 300;
  Encoded e = EncodeClip(o, 90);
  double bits = 8.0 * double(e.stream.size());
  double rate = bits / (90 / 30.0);
  EXPECT_GT(rate, 400'000 * 0.5);
  EXPECT_LT(rate, 400'000 * 1.6);
}

TEST(H264Encoder, BadOptionsAndCallsAreRefusedClearly) {
  H264Encoder enc;
  H264EncoderOptions o = Options(321, 240);
  Status s = enc.Open(o);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("odd"), std::string::npos) << s.message();
  o = Options(8, 240);
  EXPECT_EQ(enc.Open(o).code(), Code::kOutOfRange);
  o = Options(320, 240);
  o.bitrate = 5;
  EXPECT_EQ(enc.Open(o).code(), Code::kOutOfRange);
  o = Options(320, 240);
  o.fps = 0;
  EXPECT_EQ(enc.Open(o).code(), Code::kOutOfRange);
  o = Options(320, 240);
  o.keyframe_interval = 0;
  EXPECT_EQ(enc.Open(o).code(), Code::kOutOfRange);
  EXPECT_FALSE(enc.is_open());

  Yuv pic(320, 240, 0);
  auto sink = [](const H264Frame&) { return Status::Ok(); };
  EXPECT_EQ(enc.Encode(pic.picture(), false, sink).code(), Code::kFailedPrecondition);
  ASSERT_TRUE(enc.Open(Options(320, 240)).ok());
  EXPECT_EQ(enc.Open(Options(320, 240)).code(), Code::kFailedPrecondition);
  H264Picture narrow = pic.picture();
  narrow.y_stride = 100;
  EXPECT_EQ(enc.Encode(narrow, false, sink).code(), Code::kInvalidArgument);
  EXPECT_TRUE(enc.Encode(pic.picture(), false, sink).ok());  // still usable
  enc.Close();
  EXPECT_FALSE(enc.is_open());
  EXPECT_TRUE(enc.Open(Options(320, 240)).ok());  // and open again
}

}  // namespace
}  // namespace ck
