// libFuzzer target: makeSeekable's second pass (webm_repair.cpp) when the input it reads again is not
// the input it planned from: a Blob or file that changed between the two reads, bytes lost or added.
// Byte 0: how pass 1 and pass 2 split their input (1..63 bytes per Feed, or all at once), allow_truncated
// and the cue interval. Bytes 1-3: how the second read differs (a flipped byte, a cut, extra bytes, or
// nothing). The rest is the file.
//   Pass 2 never reads or writes out of bounds (every piece lies inside its source), its output is
//   exactly the plan's size when it finishes without an error, and an unchanged input always finishes.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "video/webm_repair.h"

namespace {

[[noreturn]] void Die(const char* why) {
  fprintf(stderr, "video_webm_repair_fuzz: %s\n", why);
  abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 4) return 0;
  const uint8_t mode = data[0];
  const uint8_t change = data[1];
  const size_t where = size_t(data[2]) | size_t(data[3]) << 8;
  data += 4;
  size -= 4;
  const size_t step = mode & 31;  // 0: all at once
  ck::RepairOptions options;
  options.allow_truncated = mode & 32;
  options.cue_interval_ms = (mode & 64) ? 0 : (mode & 128) ? 1 : 1000;

  ck::RepairPlanner planner(options);
  for (size_t pos = 0; pos < size;) {
    const size_t n = step ? std::min(step, size - pos) : size;
    if (!planner.Feed(data + pos, n).ok()) return 0;
    pos += n;
  }
  if (!planner.Finish().ok()) return 0;
  const ck::RepairPlan plan = planner.TakePlan();

  // The second read.
  std::vector<uint8_t> again(data, data + size);
  const size_t at = size ? where % size : 0;
  bool same = false;
  switch (change & 3) {
    case 0: same = true; break;
    case 1: if (size) again[at] ^= uint8_t(change | 1); else same = true; break;
    case 2: again.resize(at); same = at == size; break;
    case 3: again.insert(again.begin() + at, size_t(change >> 2) + 1, uint8_t(change)); break;
  }

  ck::RepairWriter writer(plan);
  std::vector<ck::RepairPiece> pieces;
  uint64_t out = 0;
  bool ok = true;
  const size_t step2 = step ? step * 5 + 3 : again.size();
  for (size_t pos = 0; pos < again.size() && ok;) {
    const size_t n = std::min(step2 ? step2 : size_t(1), again.size() - pos);
    ok = writer.Feed(again.data() + pos, n, &pieces).ok();
    if (ok) {
      for (const auto& p : pieces) {
        const uint64_t limit = p.source == ck::RepairPiece::kInput     ? n
                               : p.source == ck::RepairPiece::kLiteral ? writer.literal().size()
                                                                       : writer.prelude().size();
        if (p.offset > limit || p.size > limit - p.offset) Die("a piece reaches outside its source");
        out += p.size;
      }
    }
    pos += n;
  }
  if (ok) ok = writer.Finish().ok();
  if (same && !ok) Die("pass 2 failed on the input pass 1 planned from");
  if (ok && out != plan.info.output_size) Die("pass 2 finished with another size than planned");
  if (ok && writer.written() != out) Die("written() is not the sum of the pieces");
  return 0;
}
