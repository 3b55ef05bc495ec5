// Test helpers for the MP4 muxer: a box walker (the tree of an MP4 file as "path size" lines, and any
// box's payload by path), and encoded fixtures made at run time (ffmpeg's libx264 / libaom / aac,
// libvpx and libopus through capturekit's own encoders) as timed samples.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "audio/opus_encoder.h"
#include "video/vpx_encoder.h"
#include "webm_test_util.h"

namespace ck::mp4test {

using webmtest::Shell;

struct Item {
  std::vector<uint8_t> data;
  uint64_t ts;  // ns
  bool key;
};

inline uint32_t Be32(const uint8_t* p) { return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3]; }
inline uint64_t Be64(const uint8_t* p) { return uint64_t(Be32(p)) << 32 | Be32(p + 4); }

struct Box {
  std::string path;  // "moov/trak/mdia", the n-th repeat of a type is still the same path
  size_t offset, size, header;
};

// Every box of the file, depth first. Containers are the usual ones (and stsd, whose entries follow
// an 8-byte FullBox header + count, and the sample entries, whose child boxes follow their fixed fields).
inline bool WalkBoxes(const uint8_t* d, size_t begin, size_t end, const std::string& parent, std::vector<Box>* out) {
  static const char* kContainers[] = {"moov", "trak", "mdia", "minf", "stbl", "mvex", "moof", "traf", "mfra", "edts", "dinf"};
  size_t at = begin;
  while (at < end) {
    if (end - at < 8) return false;
    uint64_t size = Be32(d + at);
    size_t header = 8;
    if (size == 1) {
      if (end - at < 16) return false;
      size = Be64(d + at + 8);
      header = 16;
    }
    if (size < header || size > end - at) return false;
    const std::string type(reinterpret_cast<const char*>(d + at + 4), 4);
    const std::string path = parent.empty() ? type : parent + "/" + type;
    out->push_back({path, at, size_t(size), header});
    bool container = false;
    for (const char* c : kContainers) container |= type == c;
    size_t child = 0;
    if (container) child = at + header;
    if (type == "stsd" || type == "dref") child = at + header + 8;
    if (type == "avc1" || type == "vp09" || type == "av01") child = at + header + 78;
    if (type == "Opus" || type == "mp4a") child = at + header + 28;
    if (child && !WalkBoxes(d, child, at + size_t(size), path, out)) return false;
    at += size_t(size);
  }
  return true;
}

inline std::vector<Box> Boxes(const std::vector<uint8_t>& f) {
  std::vector<Box> out;
  EXPECT_TRUE(WalkBoxes(f.data(), 0, f.size(), "", &out)) << "the file is not a well-formed box tree";
  return out;
}

// "path size" per box, one per line.
inline std::string Tree(const std::vector<uint8_t>& f) {
  std::string s;
  for (const Box& b : Boxes(f)) s += b.path + " " + std::to_string(b.size) + "\n";
  return s;
}

// The payload (after the box header) of the n-th box with this path.
inline std::vector<uint8_t> Payload(const std::vector<uint8_t>& f, const std::string& path, int n = 0) {
  for (const Box& b : Boxes(f))
    if (b.path == path && n-- == 0)
      return std::vector<uint8_t>(f.begin() + long(b.offset + b.header), f.begin() + long(b.offset + b.size));
  return {};
}

inline size_t Count(const std::vector<uint8_t>& f, const std::string& path) {
  size_t n = 0;
  for (const Box& b : Boxes(f)) n += b.path == path;
  return n;
}

// The frames of an IVF file (VP9 / AV1 from ffmpeg), timed by the IVF time base.
inline std::vector<Item> ReadIvf(const std::string& path, bool (*is_key)(const std::vector<uint8_t>&)) {
  std::vector<uint8_t> f = webmtest::ReadFile(path);
  std::vector<Item> out;
  if (f.size() < 32) return out;
  const uint32_t rate = f[16] | f[17] << 8 | f[18] << 16 | uint32_t(f[19]) << 24;
  const uint32_t scale = f[20] | f[21] << 8 | f[22] << 16 | uint32_t(f[23]) << 24;
  size_t at = f[6] | f[7] << 8;
  while (at + 12 <= f.size()) {
    const uint32_t n = f[at] | f[at + 1] << 8 | f[at + 2] << 16 | uint32_t(f[at + 3]) << 24;
    uint64_t pts = 0;
    for (int i = 7; i >= 0; --i) pts = pts << 8 | f[at + 4 + size_t(i)];
    at += 12;
    if (n > f.size() - at) break;
    Item it{std::vector<uint8_t>(f.begin() + long(at), f.begin() + long(at + n)), pts * 1'000'000'000ull * scale / rate, false};
    it.key = is_key(it.data);
    out.push_back(std::move(it));
    at += n;
  }
  return out;
}

// An AV1 temporal unit is a key frame here when it carries a sequence header OBU (libaom repeats it
// on every key frame).
inline bool Av1HasSequenceHeader(const std::vector<uint8_t>& d) {
  size_t at = 0;
  while (at < d.size()) {
    const int type = (d[at] >> 3) & 15;
    size_t h = (d[at] & 4) ? 2 : 1;
    uint64_t size = 0;
    for (int i = 0; i < 8 && at + h < d.size(); ++i) {
      const uint8_t b = d[at + h++];
      size |= uint64_t(b & 0x7f) << (7 * i);
      if (!(b & 0x80)) break;
    }
    if (type == 1) return true;
    at += h + size_t(size);
  }
  return false;
}

// The repository root: the first directory above this header (or above the working directory, when
// the compiler was given a relative path) that holds the mediabunny judge.
inline std::string RepoRoot() {
  const std::string judge = "/tests/node/video/mp4-probe.mjs";
  for (std::string start : {std::string(__FILE__), webmtest::fs::current_path().string() + "/x"}) {
    for (std::string d = start; d.find('/') != std::string::npos;) {
      d = d.substr(0, d.rfind('/'));
      if (webmtest::fs::exists(d + judge)) return d;
    }
  }
  return ".";
}

// mediabunny's reading of the file (tests/node/video/mp4-probe.mjs): its JSON, or its error.
inline std::string MediabunnyProbe(const std::string& path) {
  return Shell("node '" + RepoRoot() + "/tests/node/video/mp4-probe.mjs' '" + path + "' 2>&1");
}

// `frames` of ffmpeg's testsrc at 30 fps as AV1 (libaom, key frame every 10).
inline std::vector<Item> Av1Frames(const std::string& dir, int frames, int width = 160, int height = 120) {
  const std::string p = dir + "/av1.ivf";
  Shell("ffmpeg -v error -y -f lavfi -i testsrc=size=" + std::to_string(width) + "x" + std::to_string(height) +
        ":rate=30 -frames:v " + std::to_string(frames) +
        " -c:v libaom-av1 -cpu-used 8 -usage realtime -g 10 -keyint_min 10 -b:v 200k -f ivf '" + p + "'");
  return ReadIvf(p, Av1HasSequenceHeader);
}

// `frames` of testsrc at 30 fps as H.264 Annex B access units (libx264, an AUD before each, key frame
// every 10, no B-frames), each with its own start codes; key frames carry SPS and PPS in-band.
inline std::vector<Item> H264AnnexBFrames(const std::string& dir, int frames, const std::string& profile = "baseline") {
  const std::string p = dir + "/h264.264";
  Shell("ffmpeg -v error -y -f lavfi -i testsrc=size=160x120:rate=30 -frames:v " + std::to_string(frames) +
        " -c:v libx264 -profile:v " + profile + " -pix_fmt yuv420p -bf 0 -g 10 -keyint_min 10 -sc_threshold 0 " +
        "-x264-params repeat-headers=1 -bsf:v h264_metadata=aud=insert -f h264 '" + p + "'");
  std::vector<uint8_t> f = webmtest::ReadFile(p);
  std::vector<Item> out;
  // Access units start at an AUD (00 00 00 01 09).
  std::vector<size_t> starts;
  for (size_t i = 0; i + 4 < f.size(); ++i)
    if (f[i] == 0 && f[i + 1] == 0 && f[i + 2] == 1 && (f[i + 3] & 31) == 9) starts.push_back(i > 0 && f[i - 1] == 0 ? i - 1 : i);
  for (size_t k = 0; k < starts.size(); ++k) {
    const size_t end = k + 1 < starts.size() ? starts[k + 1] : f.size();
    Item it{std::vector<uint8_t>(f.begin() + long(starts[k]), f.begin() + long(end)),
            uint64_t(std::llround(double(k) * 1e9 / 30)), false};
    for (size_t i = 0; i + 3 < it.data.size(); ++i)
      if (it.data[i] == 0 && it.data[i + 1] == 0 && it.data[i + 2] == 1 && (it.data[i + 3] & 31) == 5) it.key = true;
    out.push_back(std::move(it));
  }
  return out;
}

// `frames` VP9 frames (capturekit's libvpx settings) of a moving gradient at 30 fps, key frame every `gop`.
inline std::vector<Item> Vp9Frames(int frames, int gop = 30, int width = 64, int height = 48) {
  VpxEncoder enc;
  VpxEncoderOptions o;
  o.codec = VideoCodec::kVp9;
  o.width = width;
  o.height = height;
  o.bitrate = 200'000;
  o.keyframe_interval = gop;
  o.speed = 8;
  EXPECT_TRUE(enc.Open(o).ok());
  const int cw = (width + 1) / 2, ch = (height + 1) / 2;
  std::vector<uint8_t> y(size_t(width * height)), u(size_t(cw * ch), 128), v(size_t(cw * ch), 128);
  std::vector<Item> out;
  for (int i = 0; i < frames; ++i) {
    for (int r = 0; r < height; ++r)
      for (int c = 0; c < width; ++c) y[size_t(r * width + c)] = uint8_t((c * 4 + r + i * 5) & 255);
    EXPECT_TRUE(enc.Encode(I420Planes{y.data(), u.data(), v.data(), width, cw}, int64_t(std::llround(i * 1e6 / 30)),
                           33333, i % gop == 0,
                           [&](const EncodedFrame& f) {
                             out.push_back(Item{std::vector<uint8_t>(f.data, f.data + f.size),
                                                uint64_t(std::llround(i * 1e9 / 30)), f.keyframe});
                             return Status::Ok();
                           })
                    .ok());
  }
  return out;
}

// `seconds` of a 440 Hz sine as 20 ms Opus packets (48 kHz mono, libopus); the last one padded
// (its padding in *padding_ns).
inline std::vector<Item> OpusPackets(double seconds, uint64_t* padding_ns = nullptr) {
  OpusEncoder enc;
  OpusEncoderOptions o;
  EXPECT_TRUE(enc.Open(o).ok());
  const int n = int(seconds * 48000);
  std::vector<float> pcm(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) pcm[size_t(i)] = float(0.3 * std::sin(2 * M_PI * 440 * i / 48000.0));
  std::vector<Item> out;
  auto on = [&](const OpusPacket& p) {
    out.push_back(Item{std::vector<uint8_t>(p.data, p.data + p.size), uint64_t(p.pts_ns), true});
    if (padding_ns) *padding_ns = uint64_t(p.padding) * 1'000'000'000ull / 48000;
    return Status::Ok();
  };
  EXPECT_TRUE(enc.Encode(pcm.data(), pcm.size(), on).ok());
  EXPECT_TRUE(enc.Flush(on).ok());
  return out;
}

// `seconds` of a sine as raw AAC-LC frames (ffmpeg's aac encoder, ADTS headers removed), 48 kHz stereo.
inline std::vector<Item> AacPackets(const std::string& dir, double seconds) {
  const std::string p = dir + "/a.aac";
  Shell("ffmpeg -v error -y -f lavfi -i sine=frequency=440:sample_rate=48000 -ac 2 -t " + std::to_string(seconds) +
        " -c:a aac -b:a 96k -f adts '" + p + "'");
  std::vector<uint8_t> f = webmtest::ReadFile(p);
  std::vector<Item> out;
  size_t at = 0;
  for (int k = 0; at + 7 <= f.size(); ++k) {
    const size_t len = size_t(f[at + 3] & 3) << 11 | size_t(f[at + 4]) << 3 | f[at + 5] >> 5;
    const size_t header = (f[at + 1] & 1) ? 7 : 9;
    if (len < header || at + len > f.size()) break;
    out.push_back(Item{std::vector<uint8_t>(f.begin() + long(at + header), f.begin() + long(at + len)),
                       uint64_t(k) * 1024 * 1'000'000'000ull / 48000, true});
    at += len;
  }
  return out;
}

}  // namespace ck::mp4test
