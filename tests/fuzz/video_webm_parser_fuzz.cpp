// libFuzzer target: the streaming WebM parser as makeSeekable drives it.
// Byte 0 chooses how the rest is split into Feed() calls (1..64 bytes, or all at once) and whether a
// truncated input may be salvaged. When pass 1 accepts the input, pass 2 must write exactly the planned
// bytes, and repairing that output again must succeed and change nothing.
#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "video/webm_parser.h"
#include "video/webm_repair.h"

namespace {

struct Null : ck::WebmListener {};

[[noreturn]] void Die(const char* why) {
  fprintf(stderr, "video_webm_parser_fuzz: %s\n", why);
  abort();
}

bool Repair(const uint8_t* data, size_t size, size_t step, const ck::RepairOptions& options, std::vector<uint8_t>* out,
            ck::RepairInfo* info) {
  ck::RepairPlanner planner(options);
  for (size_t pos = 0; pos < size;) {
    const size_t n = step ? std::min(step, size - pos) : size;
    if (!planner.Feed(data + pos, n).ok()) return false;
    pos += n;
  }
  if (!planner.Finish().ok()) return false;
  ck::RepairWriter writer(planner.TakePlan());
  out->clear();
  const size_t step2 = step ? step * 3 + 1 : size;
  for (size_t pos = 0; pos < size;) {
    const size_t n = std::min(step2, size - pos);
    ck::Status s = writer.FeedTo(data + pos, n, [&](const uint8_t* p, size_t k) { out->insert(out->end(), p, p + k); });
    if (!s.ok()) Die("pass 2 failed on the input pass 1 accepted");
    pos += n;
  }
  if (!writer.Finish().ok()) Die("pass 2 did not finish");
  if (out->size() != writer.info().output_size) Die("output size differs from the plan");
  *info = writer.info();
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t mode = data[0];
  ++data;
  --size;
  const size_t step = (mode & 63) == 0 ? 0 : (mode & 63);

  // The bare parser, with every event.
  Null null;
  ck::WebmStreamParser parser(&null);
  for (size_t pos = 0; pos < size;) {
    const size_t n = step ? std::min(step, size - pos) : size;
    if (!parser.Feed(data + pos, n).ok()) break;
    pos += n;
  }
  (void)parser.Finish();

  ck::RepairOptions options;
  options.allow_truncated = mode & 64;
  std::vector<uint8_t> once, twice;
  ck::RepairInfo info1, info2;
  if (!Repair(data, size, step, options, &once, &info1)) return 0;
  if (!Repair(once.data(), once.size(), 0, ck::RepairOptions(), &twice, &info2)) Die("the repaired file does not repair");
  if (twice != once) Die("repairing a repaired file changed it");
  if (info2.frames != info1.frames || info2.cues != info1.cues) Die("frame or cue count changed");
  return 0;
}
