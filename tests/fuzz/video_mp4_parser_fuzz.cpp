// libFuzzer target: the streaming MP4 reader (wasm/video/mp4_reader.h) and MP4 repair (mp4_repair.h).
// Byte 0 chooses how the rest is split into Feed() calls (1..127 bytes, or all at once). Whatever the
// input, the reader must not crash, read out of bounds or hold more than its limits; and when it
// accepts a file, what it reported must be consistent: every sample of a complete fragment lies
// inside the input, every mdat byte it handed over lies inside the input, and reading the same bytes
// split another way gives the same answer. Repair (both passes, truncated input allowed when byte 0's
// top bit is set) either refuses with a message or writes exactly the planned bytes, which the reader
// accepts as a progressive file holding the same number of samples, and which repair leaves unchanged.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "video/mp4_reader.h"
#include "video/mp4_repair.h"
#include <vector>

namespace {

[[noreturn]] void Die(const char* why) {
  fprintf(stderr, "video_mp4_parser_fuzz: %s\n", why);
  abort();
}

struct Check : ck::Mp4Listener {
  uint64_t input_size = 0;
  uint64_t media_bytes = 0;
  uint64_t samples = 0;
  uint64_t next_media = 0;
  ck::Status OnMovie(const ck::Mp4Movie& m) override {
    if (m.tracks.empty()) Die("a movie without tracks was reported");
    for (const ck::Mp4Track& t : m.tracks) {
      if (t.timescale == 0) Die("a track with timescale 0 was reported");
      if (t.codec().empty()) Die("a track with an unknown codec was reported");
      samples += t.samples.size();
    }
    return ck::Status::Ok();
  }
  ck::Status OnFragment(const ck::Mp4Fragment& f) override {
    for (const ck::Mp4TrackRun& r : f.runs) samples += r.samples.size();
    return ck::Status::Ok();
  }
  ck::Status OnMediaData(uint64_t offset, const uint8_t* data, size_t size) override {
    if (size == 0) Die("an empty piece of media data");
    if (offset < next_media) Die("media data went backwards");
    if (offset + size > input_size) Die("media data past the end of the input");
    next_media = offset + size;
    media_bytes += size;
    return ck::Status::Ok();
  }
};

struct Outcome {
  bool ok;
  std::string message;
  uint64_t media_bytes, samples, fragments;
};

Outcome Read(const uint8_t* data, size_t size, size_t step) {
  Check check;
  check.input_size = size;
  ck::Mp4StreamReader reader(&check);
  ck::Status s;
  for (size_t pos = 0; pos < size && s.ok();) {
    const size_t n = step ? std::min(step, size - pos) : size;
    s = reader.Feed(data + pos, n);
    pos += n;
  }
  if (s.ok()) s = reader.Finish();
  if (s.ok()) {
    if (reader.complete_fragments() != reader.fragments()) Die("accepted with incomplete fragments");
    if (reader.truncated()) Die("accepted a truncated input");
    if (reader.position() != size) Die("accepted without reading every byte");
  } else if (s.message().empty()) {
    Die("a failure without a message");
  }
  return {s.ok(), s.message(), check.media_bytes, check.samples, reader.fragments()};
}

bool Repair(const uint8_t* data, size_t size, size_t step, bool allow_truncated, std::vector<uint8_t>* out,
            ck::Mp4RepairInfo* info) {
  ck::Mp4RepairPlanner planner(allow_truncated);
  for (size_t pos = 0; pos < size;) {
    const size_t n = step ? std::min(step, size - pos) : size;
    if (!planner.Feed(data + pos, n).ok()) return false;
    pos += n;
  }
  const ck::Status s = planner.Finish();
  if (!s.ok()) {
    if (s.message().empty()) Die("a repair failure without a message");
    return false;
  }
  ck::Mp4RepairWriter writer(planner.TakePlan());
  out->clear();
  const size_t step2 = step ? step * 3 + 1 : size;
  for (size_t pos = 0; pos < size;) {
    const size_t n = std::min(step2, size - pos);
    if (!writer.FeedTo(data + pos, n, [&](const uint8_t* p, size_t k) { out->insert(out->end(), p, p + k); }).ok()) {
      Die("pass 2 failed on the input pass 1 accepted");
    }
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
  const size_t step = data[0] & 127;
  const bool step_byte_allows_truncated = data[0] & 128;
  ++data;
  --size;
  const Outcome a = Read(data, size, step);
  const Outcome b = Read(data, size, 0);
  if (a.ok != b.ok || a.message != b.message) Die("the answer depends on how the input was split");
  if (a.ok && (a.media_bytes != b.media_bytes || a.samples != b.samples || a.fragments != b.fragments)) {
    Die("the events depend on how the input was split");
  }
  std::vector<uint8_t> once, twice;
  ck::Mp4RepairInfo info1, info2;
  if (!Repair(data, size, step, step_byte_allows_truncated, &once, &info1)) return 0;
  const Outcome c = Read(once.data(), once.size(), 0);
  if (!c.ok) Die("the repaired file does not read");
  if (c.samples != info1.samples || c.fragments != 0) Die("the repaired file holds other samples");
  if (!Repair(once.data(), once.size(), 0, false, &twice, &info2)) Die("the repaired file does not repair");
  if (twice != once) Die("repairing a repaired file changed it");
  return 0;
}
