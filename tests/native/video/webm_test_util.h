// Test helpers for the WebM parser and repair: temp dirs, running ffmpeg/ffprobe/mkvinfo, fixtures made
// with ffmpeg at run time, and a writer that turns an ffmpeg live WebM into the shape MediaRecorder
// (Chrome) writes: no SeekHead, no Cues, no Duration, no Tags, a Segment and Clusters of unknown size.
#pragma once
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "video/webm_parser.h"

namespace ck::webmtest {

namespace fs = std::filesystem;

inline std::vector<uint8_t> ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

inline void WriteFile(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
}

// Runs a shell command; returns its stdout, and the exit status in *status.
inline std::string Shell(const std::string& cmd, int* status = nullptr) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) {
    if (status) *status = -1;
    return out;
  }
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int rc = pclose(p);
  if (status) *status = rc;
  return out;
}

inline bool HaveTool(const std::string& name) {
  int rc = 0;
  Shell("command -v " + name + " >/dev/null 2>&1", &rc);
  return rc == 0;
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "ck-webm-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return (fs::path(path_) / name).string(); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// ffprobe's format duration in seconds (-1 if none).
inline double ProbeDuration(const std::string& path) {
  std::string s = Shell("ffprobe -v error -show_entries format=duration -of csv=p=0 '" + path + "'");
  return s.empty() || s[0] == 'N' ? -1 : atof(s.c_str());
}

// Number of packets ffprobe reads for each stream, e.g. "90,151".
inline std::string ProbePacketCounts(const std::string& path) {
  std::string s = Shell("ffprobe -v error -count_packets -show_entries stream=nb_read_packets -of csv=p=0 '" + path + "'");
  std::string out;
  for (char c : s) out += c == '\n' ? ',' : c;
  while (!out.empty() && out.back() == ',') out.pop_back();
  return out;
}

// framemd5 of every decoded frame (all streams), without the header comments.
inline std::string FrameMd5(const std::string& path, const std::string& output_options = "") {
  std::string s = Shell("ffmpeg -v error -i '" + path + "' " + output_options + " -f framemd5 - 2>/dev/null");
  std::string out;
  size_t p = 0;
  while (p < s.size()) {
    size_t e = s.find('\n', p);
    if (e == std::string::npos) e = s.size();
    if (s[p] != '#') out += s.substr(p, e - p) + "\n";
    p = e + 1;
  }
  return out;
}

// A WebM/Matroska read into memory: header elements and, per Cluster, its Timecode and the bytes of
// its other children (blocks).
struct SourceWebm {
  std::vector<uint8_t> ebml;    // whole EBML header element
  std::vector<uint8_t> info;    // Info payload
  std::vector<uint8_t> tracks;  // Tracks payload
  struct Cluster {
    uint64_t timecode = 0;
    std::vector<uint8_t> body;
  };
  std::vector<Cluster> clusters;
};

inline bool LoadSource(const std::vector<uint8_t>& file, SourceWebm* out) {
  struct L : WebmListener {
    const std::vector<uint8_t>* file;
    SourceWebm* out;
    Status OnElementData(const EbmlElement& e, const uint8_t* d, size_t n) override {
      if (e.id == webm_id::kEbml) out->ebml.assign(file->begin() + long(e.offset), file->begin() + long(e.end()));
      if (e.id == webm_id::kInfo) {  // without Duration, as MediaRecorder writes it
        out->info.clear();
        ForEachChild(d, n, 0, [&](uint32_t id, const uint8_t* cd, size_t cn) {
          if (id == webm_id::kDuration) return Status::Ok();
          for (int i = id > 0xFFFFFF ? 3 : id > 0xFFFF ? 2 : id > 0xFF ? 1 : 0; i >= 0; --i) out->info.push_back(uint8_t(id >> (8 * i)));
          out->info.push_back(0x01);
          for (int i = 6; i >= 0; --i) out->info.push_back(uint8_t(uint64_t(cn) >> (8 * i)));
          out->info.insert(out->info.end(), cd, cd + cn);
          return Status::Ok();
        });
      }
      if (e.id == webm_id::kTracks) out->tracks.assign(d, d + n);
      if (e.id == webm_id::kTimecode && e.depth == 2) ReadEbmlUint(d, n, &out->clusters.back().timecode);
      return Status::Ok();
    }
    Status OnElementStart(const EbmlElement& e) override {
      if (e.id == webm_id::kCluster) out->clusters.emplace_back();
      return Status::Ok();
    }
    Status OnElementEnd(const EbmlElement& e, uint64_t end) override {
      if (e.depth == 2 && e.id != webm_id::kTimecode && e.id != webm_id::kPosition && e.id != webm_id::kPrevSize &&
          e.id != webm_id::kCrc32) {
        auto& b = out->clusters.back().body;
        b.insert(b.end(), file->begin() + long(e.offset), file->begin() + long(end));
      }
      return Status::Ok();
    }
  } l;
  l.file = &file;
  l.out = out;
  WebmStreamParser p(&l);
  return p.Feed(file.data(), file.size()).ok() && p.Finish().ok();
}

using Sink = std::function<void(const uint8_t*, size_t)>;

// Writes `src` the way MediaRecorder does, `repeats` times in a row, each repeat's Cluster timecodes
// shifted by `period` ticks (so a short source becomes an arbitrarily long recording).
inline void WriteMediaRecorderStyle(const SourceWebm& src, const Sink& sink, uint64_t repeats = 1, uint64_t period = 0) {
  static const uint8_t kUnknown[8] = {0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
  auto put_master = [&](const std::vector<uint8_t>& id, const std::vector<uint8_t>& payload) {
    std::vector<uint8_t> h = id;
    h.push_back(0x01);  // 8-byte size
    for (int i = 6; i >= 0; --i) h.push_back(uint8_t(payload.size() >> (8 * i)));
    sink(h.data(), h.size());
    sink(payload.data(), payload.size());
  };
  sink(src.ebml.data(), src.ebml.size());
  const uint8_t seg[4] = {0x18, 0x53, 0x80, 0x67};
  sink(seg, 4);
  sink(kUnknown, 8);
  put_master({0x15, 0x49, 0xA9, 0x66}, src.info);
  put_master({0x16, 0x54, 0xAE, 0x6B}, src.tracks);
  for (uint64_t r = 0; r < repeats; ++r) {
    for (const auto& c : src.clusters) {
      uint8_t h[4 + 8 + 2 + 8] = {0x1F, 0x43, 0xB6, 0x75};
      memcpy(h + 4, kUnknown, 8);
      h[12] = 0xE7;
      h[13] = 0x88;
      const uint64_t tc = c.timecode + r * period;
      for (int i = 0; i < 8; ++i) h[14 + i] = uint8_t(tc >> (8 * (7 - i)));
      sink(h, sizeof h);
      sink(c.body.data(), c.body.size());
    }
  }
}

inline std::vector<uint8_t> MediaRecorderStyle(const std::vector<uint8_t>& file) {
  SourceWebm src;
  std::vector<uint8_t> out;
  if (!LoadSource(file, &src)) return out;
  WriteMediaRecorderStyle(src, [&](const uint8_t* d, size_t n) { out.insert(out.end(), d, d + n); });
  return out;
}

// ---- a tiny EBML writer for hand-made inputs ----
namespace build {
using Bytes = std::vector<uint8_t>;
using namespace webm_id;
inline Bytes Id(uint32_t id) {
  Bytes b;
  for (int i = id > 0xFFFFFF ? 3 : id > 0xFFFF ? 2 : id > 0xFF ? 1 : 0; i >= 0; --i) b.push_back(uint8_t(id >> (8 * i)));
  return b;
}
inline Bytes Cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}
inline Bytes El(uint32_t id, const Bytes& payload) {
  Bytes size;
  uint64_t n = payload.size();
  if (n < 127) size = {uint8_t(0x80 | n)};
  else size = {0x08, uint8_t(n >> 24), uint8_t(n >> 16), uint8_t(n >> 8), uint8_t(n)};
  return Cat({Id(id), size, payload});
}
inline Bytes Unknown(uint32_t id) { return Cat({Id(id), {0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}}); }
inline Bytes Uint(uint32_t id, uint64_t v) {
  Bytes p;
  do {
    p.insert(p.begin(), uint8_t(v));
    v >>= 8;
  } while (v);
  return El(id, p);
}
inline Bytes Str(uint32_t id, const std::string& s) { return El(id, Bytes(s.begin(), s.end())); }
// A payload that starts like a VP8 frame (key frames: tag bit 0 clear and the start code 9d 01 2a).
inline Bytes Vp8Payload(bool key, size_t size) {
  const uint8_t key_head[6] = {0x50, 0x06, 0x00, 0x9D, 0x01, 0x2A}, inter_head[6] = {0x51, 0x02, 0x00, 0x11, 0x22, 0x33};
  Bytes p;
  for (size_t i = 0; i < size; ++i) p.push_back(i < 6 ? (key ? key_head : inter_head)[i] : uint8_t(i * 7));
  return p;
}
inline Bytes Simple(uint8_t track, int16_t tc, bool key, size_t payload) {
  Bytes p = {uint8_t(0x80 | track), uint8_t(uint16_t(tc) >> 8), uint8_t(tc), uint8_t(key ? 0x80 : 0)};
  Bytes body = Vp8Payload(key, payload);
  p.insert(p.end(), body.begin(), body.end());
  return El(kSimpleBlock, p);
}
inline Bytes Header(const std::string& doctype = "webm") { return El(kEbml, Cat({Uint(kEbmlVersion, 1), Str(kDocType, doctype)})); }
inline Bytes Track(uint64_t number, uint64_t type, const std::string& codec) {
  return El(kTrackEntry, Cat({Uint(kTrackNumber, number), Uint(kTrackUid, number * 11), Uint(kTrackType, type), Str(kCodecId, codec)}));
}
inline Bytes LiveFile() {
  return Cat({Header(), Unknown(kSegment), El(kInfo, Uint(kTimecodeScale, 1000000)),
              El(kTracks, Cat({Track(1, 1, "V_VP8"), Track(2, 2, "A_OPUS")})),
              Unknown(kCluster), Uint(kTimecode, 0), Simple(1, 0, true, 300), Simple(2, 5, true, 40), Simple(1, 33, false, 200),
              Unknown(kCluster), Uint(kTimecode, 1000), Simple(1, 0, true, 250), Simple(2, 1, true, 40),
              El(kCluster, Cat({Uint(kTimecode, 2000), Simple(1, 0, false, 100)})),
              Unknown(kCluster), Uint(kTimecode, 3000), Simple(1, 0, true, 500)});
}
}  // namespace build

// ffmpeg input/codec arguments for the fixtures the tests use.
struct FixtureSpec {
  const char* name;
  const char* args;       // after the inputs
  const char* format;     // webm or matroska
  bool has_video;
  bool has_audio;
};

inline const std::vector<FixtureSpec>& FixtureSpecs() {
  static const std::vector<FixtureSpec> specs = {
      {"vp8", "-c:v libvpx -b:v 300k -g 30", "webm", true, false},
      {"vp8_opus", "-c:v libvpx -b:v 300k -g 30 -c:a libopus", "webm", true, true},
      {"vp9_opus", "-c:v libvpx-vp9 -b:v 300k -g 30 -deadline realtime -cpu-used 8 -c:a libopus", "webm", true, true},
      {"av1", "-c:v libaom-av1 -b:v 300k -g 30 -usage realtime -cpu-used 8 -row-mt 1", "webm", true, false},
      {"h264_opus", "-c:v libx264 -preset ultrafast -g 30 -bf 0 -c:a libopus", "matroska", true, true},
      {"opus", "-c:a libopus", "webm", false, true},
  };
  return specs;
}

// Makes a 3-second live (unknown sizes, no Cues, no Duration) file with ffmpeg; returns "" on failure.
inline std::string MakeLiveFixture(const TempDir& dir, const FixtureSpec& spec, double seconds = 3) {
  const std::string ext = std::string(spec.format) == "webm" ? ".webm" : ".mkv";
  const std::string path = dir.file(std::string(spec.name) + "_live" + ext);
  std::string inputs;
  if (spec.has_video) inputs += " -f lavfi -i testsrc=size=160x120:rate=30";
  if (spec.has_audio) inputs += " -f lavfi -i sine=frequency=440:sample_rate=48000";
  std::string cmd = "ffmpeg -v error -y" + inputs + " -t " + std::to_string(seconds) + " " + spec.args + " -f " +
                    spec.format + " -live 1 -cluster_time_limit 1000 '" + path + "' </dev/null";
  int rc = 0;
  Shell(cmd, &rc);
  if (rc != 0) {  // ffmpeg cannot write AV1 in live mode (it needs to go back for CodecPrivate)
    const size_t live = cmd.find(" -live 1");
    Shell(cmd.erase(live, 8), &rc);
  }
  return rc == 0 ? path : "";
}

}  // namespace ck::webmtest
