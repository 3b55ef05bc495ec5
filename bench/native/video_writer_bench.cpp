// Native peer for bench/video.bench.js: the same VideoWriter (wasm/video) built by g++ -O3 -march=native
// and linked to the system libvpx (which has x86 SIMD assembly and runtime CPU detection, unlike the wasm
// build). Encodes raw RGBA frames read from a file (reading is not timed) and prints one JSON object.
//   video_writer_bench <vp8|vp9> <width> <height> <frames> <bitrate> <speed> <frames.rgba> <out.webm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "video/byte_sink.h"
#include "video/video_writer.h"

int main(int argc, char** argv) {
  if (argc != 9 && argc != 10) {
    std::fprintf(stderr, "usage: %s vp8|vp9 width height frames bitrate speed frames.rgba out.webm [keyframe-interval]\n", argv[0]);
    return 2;
  }
  ck::VideoWriterOptions o;
  o.codec = std::strcmp(argv[1], "vp9") == 0 ? ck::VideoCodec::kVp9 : ck::VideoCodec::kVp8;
  o.width = std::atoi(argv[2]);
  o.height = std::atoi(argv[3]);
  const int frames = std::atoi(argv[4]);
  o.bitrate = std::atoll(argv[5]);
  o.speed = std::atoi(argv[6]);
  o.fps = 30;
  if (argc == 10) o.keyframe_interval = std::atoi(argv[9]);
  std::FILE* in = std::fopen(argv[7], "rb");
  if (!in) return 1;
  ck::MemoryByteSink sink;
  ck::VideoWriter w;
  ck::Status s = w.Open(o, &sink);
  if (!s.ok()) {
    std::fprintf(stderr, "%s\n", s.message().c_str());
    return 1;
  }
  std::vector<uint8_t> px(size_t(o.width) * o.height * 4);
  double seconds = 0;  // wall clock
  double cpu = 0;      // process CPU time (steadier on a shared machine)
  for (int i = 0; i < frames; ++i) {
    if (std::fread(px.data(), 1, px.size(), in) != px.size()) return 1;
    const auto t0 = std::chrono::steady_clock::now();
    const std::clock_t c0 = std::clock();
    s = w.AddFrame(ck::Image{px.data(), o.width, o.height, o.width * 4});
    cpu += double(std::clock() - c0) / CLOCKS_PER_SEC;
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!s.ok()) {
      std::fprintf(stderr, "%s\n", s.message().c_str());
      return 1;
    }
  }
  std::fclose(in);
  const auto t0 = std::chrono::steady_clock::now();
  const std::clock_t c0 = std::clock();
  s = w.Finish();
  cpu += double(std::clock() - c0) / CLOCKS_PER_SEC;
  seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!s.ok()) return 1;
  std::FILE* out = std::fopen(argv[8], "wb");
  if (!out || std::fwrite(sink.bytes().data(), 1, sink.bytes().size(), out) != sink.bytes().size()) return 1;
  std::fclose(out);
  std::printf("{\"seconds\":%.6f,\"cpu_seconds\":%.6f,\"bytes\":%zu}\n", seconds, cpu, sink.bytes().size());
  return 0;
}
