// The native peer of bench/h264.bench.js: H264Encoder (wasm/h264/h264_encoder.h, the same settings as
// the wasm module) over a raw I420 file, built by the bench itself (g++ -O3 -march=native) twice: against
// the OpenH264 scripts/build-openh264.sh builds natively (the same C++ as the wasm, no assembly) and
// against Debian's libopenh264.so.7 (the same 2.3.1 with its x86 SIMD assembly). Not a *_bench.cpp:
// CMake's CK_BENCH build does not need to build it.
//   h264_encode_peer <in.yuv> <width> <height> <frames> <fps> <bitrate> <out.h264>
// Prints "<cpu ms> <bytes>" for the encoding loop (reading the file is not timed).
#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <vector>

#include "h264/h264_encoder.h"

static double CpuMs() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return (u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e3 + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e3;
}

int main(int argc, char** argv) {
  if (argc != 8) {
    std::fprintf(stderr, "usage: %s in.yuv width height frames fps bitrate out.h264\n", argv[0]);
    return 2;
  }
  const int w = std::atoi(argv[2]), h = std::atoi(argv[3]), n = std::atoi(argv[4]);
  ck::H264EncoderOptions o;
  o.width = w;
  o.height = h;
  o.fps = std::atof(argv[5]);
  o.bitrate = std::atoll(argv[6]);
  o.keyframe_interval = 1000;
  const size_t frame = size_t(w) * h * 3 / 2;
  std::vector<uint8_t> raw(frame * size_t(n));
  FILE* f = std::fopen(argv[1], "rb");
  if (!f || std::fread(raw.data(), 1, raw.size(), f) != raw.size()) return 3;
  std::fclose(f);
  ck::H264Encoder enc;
  ck::Status s = enc.Open(o);
  if (!s.ok()) { std::fprintf(stderr, "%s\n", s.message().c_str()); return 4; }
  std::vector<uint8_t> out;
  const double t0 = CpuMs();
  for (int i = 0; i < n; i++) {
    const uint8_t* y = raw.data() + frame * size_t(i);
    ck::H264Picture p{y, y + size_t(w) * h, y + size_t(w) * h * 5 / 4, w, w / 2};
    s = enc.Encode(p, false, [&](const ck::H264Frame& fr) { out.insert(out.end(), fr.data, fr.data + fr.size); return ck::Status::Ok(); });
    if (!s.ok()) { std::fprintf(stderr, "%s\n", s.message().c_str()); return 5; }
  }
  const double ms = CpuMs() - t0;
  FILE* o2 = std::fopen(argv[7], "wb");
  std::fwrite(out.data(), 1, out.size(), o2);
  std::fclose(o2);
  std::printf("%.1f %zu\n", ms, out.size());
  return 0;
}
