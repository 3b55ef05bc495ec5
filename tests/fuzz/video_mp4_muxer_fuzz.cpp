// libFuzzer target: the MP4 muxer and the parsers inside it (avcC records, Annex B splitting and SPS
// exp-Golomb reading, AV1 OBU headers and leb128 sizes, OpusHead, Opus TOC bytes) on arbitrary input.
// Byte 0 picks the video codec (H.264 with or without an avcC description, VP9, AV1 with or without
// an av1C) and the layout, byte 1 the audio track; then a description (length byte + bytes), then
// samples as [track/keyframe byte][length: 2 bytes][time step: 2 bytes][bytes]. Refused calls must leave
// the muxer usable; a finished file must be a well-formed box tree whose top-level boxes tile it exactly,
// with ftyp and moov first, and (progressive) stsz holding one size per accepted frame.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "video/byte_sink.h"
#include "video/mp4_muxer.h"

namespace {

[[noreturn]] void Die(const char* why) {
  fprintf(stderr, "video_mp4_muxer_fuzz: %s\n", why);
  abort();
}

uint32_t Be32(const uint8_t* p) { return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3]; }

// Walks boxes in [begin, end): every size must fit exactly; containers are walked too. Returns false on
// a malformed tree. Counts stsz entries of the first video trak in *stsz (or -1).
bool Walk(const std::vector<uint8_t>& f, size_t begin, size_t end, int depth, std::vector<std::string>* top, int64_t* stsz) {
  static const char* kContainers[] = {"moov", "trak", "mdia", "minf", "stbl", "mvex", "moof", "traf", "mfra", "edts", "dinf"};
  size_t at = begin;
  while (at < end) {
    if (end - at < 8) return false;
    uint64_t size = Be32(&f[at]);
    size_t header = 8;
    if (size == 1) {
      if (end - at < 16) return false;
      size = uint64_t(Be32(&f[at + 8])) << 32 | Be32(&f[at + 12]);
      header = 16;
    }
    if (size < header || size > end - at) return false;
    const std::string type(reinterpret_cast<const char*>(&f[at + 4]), 4);
    if (depth == 0) top->push_back(type);
    if (type == "stsz" && *stsz < 0 && size >= 20) *stsz = Be32(&f[at + 16]);
    for (const char* c : kContainers)
      if (type == c && !Walk(f, at + header, at + size_t(size), depth + 1, top, stsz)) return false;
    at += size_t(size);
  }
  return at == end;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3) return 0;
  static const char* kCodecs[] = {"h264", "avc1.42c01e", "vp9", "vp09.00.10.08", "av1", "av01.0.04M.08"};
  ck::Mp4MuxerOptions o;
  o.codec = kCodecs[data[0] % 6];
  o.layout = (data[0] & 0x80) ? ck::Mp4Layout::kProgressive : ck::Mp4Layout::kFragmented;
  o.width = 64;
  o.height = 48;
  o.fps = 30;
  o.audio.enabled = data[1] & 1;
  o.audio.codec = (data[1] & 2) ? "aac" : "opus";
  o.audio.channels = 2;
  size_t at = 2;
  const size_t desc = data[at++];
  if (desc > size - at) return 0;
  if ((data[0] & 0x40) && desc) o.description.assign(data + at, data + at + desc);
  at += desc;

  ck::MemoryByteSink sink;
  ck::Mp4Muxer m;
  if (!m.Open(&sink, o).ok()) return 0;
  uint64_t video_ns = 0, audio_ns = 0;
  int64_t frames = 0, packets = 0;
  while (size - at >= 5) {
    const uint8_t flags = data[at];
    const size_t n = size_t(data[at + 1]) << 8 | data[at + 2];
    const uint64_t step = (uint64_t(data[at + 3]) << 8 | data[at + 4]) * 100'000;  // up to 6.5 s
    at += 5;
    if (n > size - at) break;
    const bool audio = flags & 1, key = flags & 2;
    ck::Status s;
    if (audio) {
      audio_ns += step;
      s = m.AddAudio(data + at, n, audio_ns, 0);
      if (s.ok()) ++packets;
    } else {
      video_ns += step;
      s = m.AddFrame(data + at, n, key, video_ns);
      if (s.ok()) ++frames;
    }
    if (!s.ok() && m.failed()) Die("a refused sample stopped the muxer (a memory sink never fails)");
    at += n;
  }
  if (m.frames() != frames || m.audio_packets() != packets) Die("the muxer's counts differ from the accepted calls");
  ck::Status s = m.Finish();
  if (frames == 0) {
    if (s.ok()) Die("finished a file without frames");
    return 0;
  }
  if (!s.ok()) Die(("Finish failed after frames were accepted: " + s.message()).c_str());
  std::vector<std::string> top;
  int64_t stsz = -1;
  const std::vector<uint8_t>& f = sink.bytes();
  if (!Walk(f, 0, f.size(), 0, &top, &stsz)) Die("the file is not a well-formed box tree");
  if (top.size() < 3 || top[0] != "ftyp" || top[1] != "moov") Die("ftyp and moov do not come first");
  if (o.layout == ck::Mp4Layout::kProgressive && stsz != frames) Die("stsz does not hold one size per frame");
  return 0;
}
