// Native peer and input maker for bench/repair.bench.js (built -O3 by scripts/build.sh bench).
//   video_repair_bench make <source.webm> <out.webm> <min-bytes> <period-ms>
//       writes a MediaRecorder-style file (unknown-size Segment and Clusters, no Cues, no Duration) by
//       repeating the source's Clusters with their timecodes shifted by period-ms per repeat.
//   video_repair_bench repair <in.webm> <out.webm> [chunk-bytes]
//       the same two streaming passes as makeSeekable, with fread/fwrite; prints JSON (time, peak RSS).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "../../tests/native/video/webm_test_util.h"
#include "video/webm_repair.h"

namespace {

uint64_t PeakRssKiB() {
  FILE* f = fopen("/proc/self/status", "r");
  char line[256];
  uint64_t kib = 0;
  while (f && fgets(line, sizeof line, f)) {
    if (!strncmp(line, "VmHWM:", 6)) kib = strtoull(line + 6, nullptr, 10);
  }
  if (f) fclose(f);
  return kib;
}

int Make(const char* src_path, const char* out_path, uint64_t min_bytes, uint64_t period) {
  ck::webmtest::SourceWebm src;
  if (!ck::webmtest::LoadSource(ck::webmtest::ReadFile(src_path), &src) || src.clusters.empty()) {
    fprintf(stderr, "cannot read %s\n", src_path);
    return 1;
  }
  uint64_t per = 0;
  for (const auto& c : src.clusters) per += c.body.size() + 22;
  const uint64_t repeats = min_bytes / per + 1;
  FILE* f = fopen(out_path, "wb");
  if (!f) return 1;
  ck::webmtest::WriteMediaRecorderStyle(src, [&](const uint8_t* d, size_t n) { fwrite(d, 1, n, f); }, repeats, period);
  if (fclose(f) != 0) return 1;
  printf("{\"repeats\": %llu, \"durationMs\": %llu}\n", (unsigned long long)repeats, (unsigned long long)(repeats * period));
  return 0;
}

int Repair(const char* in_path, const char* out_path, size_t chunk) {
  std::vector<uint8_t> buf(chunk);
  auto pass = [&](const auto& feed) -> ck::Status {
    FILE* f = fopen(in_path, "rb");
    if (!f) return ck::Status::InvalidArgument("cannot open input");
    size_t n;
    ck::Status s;
    while (s.ok() && (n = fread(buf.data(), 1, buf.size(), f)) > 0) s = feed(buf.data(), n);
    fclose(f);
    return s;
  };
  const auto t0 = std::chrono::steady_clock::now();
  ck::RepairPlanner planner;
  ck::Status s = pass([&](const uint8_t* d, size_t n) { return planner.Feed(d, n); });
  if (s.ok()) s = planner.Finish();
  const double scan_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!s.ok()) {
    fprintf(stderr, "%s\n", s.message().c_str());
    return 1;
  }
  ck::RepairWriter writer(planner.TakePlan());
  FILE* o = fopen(out_path, "wb");
  if (!o) return 1;
  s = pass([&](const uint8_t* d, size_t n) { return writer.FeedTo(d, n, [&](const uint8_t* p, size_t k) { fwrite(p, 1, k, o); }); });
  if (s.ok()) s = writer.Finish();
  if (fclose(o) != 0 && s.ok()) s = ck::Status::ResourceExhausted("write failed");
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!s.ok()) {
    fprintf(stderr, "%s\n", s.message().c_str());
    return 1;
  }
  const ck::RepairInfo& i = writer.info();
  printf("{\"seconds\": %.4f, \"scanSeconds\": %.4f, \"inputBytes\": %llu, \"outputBytes\": %llu, \"peakRssKiB\": %llu, "
         "\"clusters\": %llu, \"cues\": %llu, \"frames\": %llu, \"durationMs\": %.3f}\n",
         secs, scan_s, (unsigned long long)i.input_size, (unsigned long long)i.output_size, (unsigned long long)PeakRssKiB(),
         (unsigned long long)i.clusters, (unsigned long long)i.cues, (unsigned long long)i.frames, i.duration_ms);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 6 && !strcmp(argv[1], "make")) return Make(argv[2], argv[3], strtoull(argv[4], nullptr, 10), strtoull(argv[5], nullptr, 10));
  if ((argc == 4 || argc == 5) && !strcmp(argv[1], "repair")) {
    return Repair(argv[2], argv[3], argc == 5 ? size_t(strtoull(argv[4], nullptr, 10)) : size_t(1) << 20);
  }
  fprintf(stderr, "usage: %s make <source> <out> <min-bytes> <period-ms> | repair <in> <out> [chunk]\n", argv[0]);
  return 2;
}
