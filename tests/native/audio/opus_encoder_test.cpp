// OpusEncoder natively (system libopus, ASan/UBSan): framing, timing, padding, gaps, refusals, and the
// decoded sound against the input (libopus's own decoder as the judge).
#include "audio/opus_encoder.h"

#include <gtest/gtest.h>
#include <opus/opus.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace ck {
namespace {

struct Packet {
  std::vector<uint8_t> data;
  int64_t pts, pts_ns;
  int duration, padding;
};

OpusEncoder::OnPacket Collect(std::vector<Packet>* out) {
  return [out](const OpusPacket& p) {
    out->push_back(Packet{std::vector<uint8_t>(p.data, p.data + p.size), p.pts, p.pts_ns, p.duration, p.padding});
    return Status::Ok();
  };
}

// A 440 Hz sine at 0.5 (both channels the same but for a phase shift on the right).
std::vector<float> Sine(int rate, int channels, int frames, double hz = 440) {
  std::vector<float> v(size_t(frames) * channels);
  for (int i = 0; i < frames; ++i)
    for (int c = 0; c < channels; ++c)
      v[size_t(i) * channels + c] = float(0.5 * std::sin(2 * M_PI * hz * i / rate + c * 0.5));
  return v;
}

OpusEncoderOptions Opts(int rate = 48000, int channels = 1) {
  OpusEncoderOptions o;
  o.sample_rate = rate;
  o.channels = channels;
  return o;
}

// Decodes the packets at 48 kHz with libopus, drops the pre-skip, and returns interleaved floats.
std::vector<float> Decode(const std::vector<Packet>& packets, int channels, int pre_skip) {
  int err = 0;
  ::OpusDecoder* d = opus_decoder_create(48000, channels, &err);
  EXPECT_EQ(err, OPUS_OK);
  std::vector<float> out, buf(5760 * channels);
  for (const Packet& p : packets) {
    const int n = opus_decode_float(d, p.data.data(), opus_int32(p.data.size()), buf.data(), 5760, 0);
    EXPECT_GT(n, 0);
    out.insert(out.end(), buf.begin(), buf.begin() + size_t(n) * channels);
  }
  opus_decoder_destroy(d);
  out.erase(out.begin(), out.begin() + std::min(out.size(), size_t(pre_skip) * channels));
  return out;
}

// Signal-to-noise ratio in dB of `got` against `want` (same rate), over [from, to) sample frames.
double Snr(const std::vector<float>& want, const std::vector<float>& got, int channels, size_t from, size_t to) {
  double s = 0, n = 0;
  for (size_t i = from * channels; i < to * channels && i < want.size() && i < got.size(); ++i) {
    s += double(want[i]) * want[i];
    n += (double(want[i]) - got[i]) * (double(want[i]) - got[i]);
  }
  return 10 * std::log10(s / std::max(n, 1e-20));
}

TEST(OpusEncoder, RefusesBadOptions) {
  OpusEncoder e;
  OpusEncoderOptions o = Opts();
  o.sample_rate = 44100;
  EXPECT_EQ(e.Open(o).code(), Code::kOutOfRange);
  o = Opts();
  o.channels = 3;
  EXPECT_EQ(e.Open(o).code(), Code::kOutOfRange);
  o = Opts();
  o.bitrate = 5000;
  EXPECT_EQ(e.Open(o).code(), Code::kOutOfRange);
  o = Opts();
  o.frame_ms = 15;
  EXPECT_EQ(e.Open(o).code(), Code::kOutOfRange);
  o = Opts();
  o.complexity = 11;
  EXPECT_EQ(e.Open(o).code(), Code::kOutOfRange);
  EXPECT_FALSE(e.is_open());
  std::vector<Packet> out;
  const float x = 0;
  EXPECT_EQ(e.Encode(&x, 1, Collect(&out)).code(), Code::kFailedPrecondition);
  ASSERT_TRUE(e.Open(Opts()).ok());
  EXPECT_EQ(e.Open(Opts()).code(), Code::kFailedPrecondition);
}

TEST(OpusEncoder, OnePacketPerFrameTimedBySampleCount) {
  OpusEncoder e;
  ASSERT_TRUE(e.Open(Opts()).ok());
  EXPECT_EQ(e.frame_size(), 960);
  EXPECT_EQ(e.pre_skip(), 312);
  EXPECT_EQ(e.options().bitrate, 64000);
  std::vector<Packet> out;
  const std::vector<float> pcm = Sine(48000, 1, 48000);
  ASSERT_TRUE(e.Encode(pcm.data(), pcm.size(), Collect(&out)).ok());
  ASSERT_EQ(out.size(), 50u);
  for (size_t i = 0; i < out.size(); ++i) {
    EXPECT_EQ(out[i].pts, int64_t(i) * 960);
    EXPECT_EQ(out[i].pts_ns, int64_t(i) * 20'000'000);
    EXPECT_EQ(out[i].duration, 960);
    EXPECT_EQ(out[i].padding, 0);
    EXPECT_GT(out[i].data.size(), 10u);
  }
  ASSERT_TRUE(e.Flush(Collect(&out)).ok());  // nothing buffered: nothing more
  EXPECT_EQ(out.size(), 50u);
  EXPECT_EQ(e.packets(), 50);
  EXPECT_EQ(e.samples_in(), 48000);
}

TEST(OpusEncoder, AnyChunkingGivesTheSamePackets) {
  const std::vector<float> pcm = Sine(48000, 2, 30000);
  std::vector<Packet> whole, pieces;
  {
    OpusEncoder e;
    ASSERT_TRUE(e.Open(Opts(48000, 2)).ok());
    ASSERT_TRUE(e.Encode(pcm.data(), 30000, Collect(&whole)).ok());
    ASSERT_TRUE(e.Flush(Collect(&whole)).ok());
  }
  {
    OpusEncoder e;
    ASSERT_TRUE(e.Open(Opts(48000, 2)).ok());
    size_t at = 0;
    for (size_t step : {1u, 127u, 0u, 960u, 1000u, 4093u}) {
      while (at < 30000) {
        const size_t n = std::min<size_t>(step == 0 ? 1 : step, 30000 - at);
        ASSERT_TRUE(e.Encode(pcm.data() + at * 2, n, Collect(&pieces)).ok());
        at += n;
        if (at % 7 == 0) break;  // change the step now and then
      }
    }
    ASSERT_TRUE(e.Flush(Collect(&pieces)).ok());
  }
  ASSERT_EQ(whole.size(), pieces.size());
  ASSERT_EQ(whole.size(), 32u);  // 31 whole frames + the padded last one
  for (size_t i = 0; i < whole.size(); ++i) {
    EXPECT_EQ(whole[i].data, pieces[i].data) << "packet " << i;
    EXPECT_EQ(whole[i].pts, pieces[i].pts);
  }
  EXPECT_EQ(whole.back().padding, 32 * 960 - 30000);
}

TEST(OpusEncoder, DecodedSoundMatchesTheInput) {
  for (int channels : {1, 2}) {
    OpusEncoder e;
    ASSERT_TRUE(e.Open(Opts(48000, channels)).ok());
    const std::vector<float> pcm = Sine(48000, channels, 96000);
    std::vector<Packet> out;
    ASSERT_TRUE(e.Encode(pcm.data(), 96000, Collect(&out)).ok());
    ASSERT_TRUE(e.Flush(Collect(&out)).ok());
    const std::vector<float> got = Decode(out, channels, e.pre_skip());
    // Skip the first 100 ms (the encoder settles); the pre-skip alignment is exact.
    const double snr = Snr(pcm, got, channels, 4800, 96000);
    EXPECT_GT(snr, 20) << channels << " channels";
  }
}

TEST(OpusEncoder, LowerInputRatesAndInt16) {
  OpusEncoder e;
  ASSERT_TRUE(e.Open(Opts(16000, 1)).ok());
  EXPECT_EQ(e.frame_size(), 320);
  EXPECT_EQ(e.pre_skip(), 312);  // always at 48 kHz
  std::vector<int16_t> pcm(16000);
  for (size_t i = 0; i < pcm.size(); ++i) pcm[i] = int16_t(12000 * std::sin(2 * M_PI * 440 * double(i) / 16000));
  std::vector<Packet> out;
  ASSERT_TRUE(e.Encode(pcm.data(), pcm.size(), Collect(&out)).ok());
  ASSERT_EQ(out.size(), 50u);
  EXPECT_EQ(out[1].pts, 320);
  EXPECT_EQ(out[1].pts_ns, 20'000'000);
  // Decoded at 48 kHz: compare against the same sine at 48 kHz.
  const std::vector<float> got = Decode(out, 1, e.pre_skip());
  std::vector<float> want(48000);
  for (size_t i = 0; i < want.size(); ++i) want[i] = float(12000.0 / 32768 * std::sin(2 * M_PI * 440 * double(i) / 48000));
  EXPECT_GT(Snr(want, got, 1, 4800, 47000), 15);
}

TEST(OpusEncoder, NonFiniteSamplesAreRefusedAndNothingIsKept) {
  OpusEncoder e;
  ASSERT_TRUE(e.Open(Opts()).ok());
  std::vector<Packet> out;
  std::vector<float> pcm = Sine(48000, 1, 2000);
  ASSERT_TRUE(e.Encode(pcm.data(), 500, Collect(&out)).ok());
  pcm[700] = std::numeric_limits<float>::quiet_NaN();
  Status s = e.Encode(pcm.data() + 500, 1000, Collect(&out));
  EXPECT_EQ(s.code(), Code::kOutOfRange);
  EXPECT_NE(s.message().find("NaN"), std::string::npos) << s.message();
  pcm[700] = std::numeric_limits<float>::infinity();
  EXPECT_EQ(e.Encode(pcm.data() + 500, 1000, Collect(&out)).code(), Code::kOutOfRange);
  EXPECT_EQ(e.next_sample(), 500);
  EXPECT_TRUE(out.empty());
  pcm[700] = 0;
  ASSERT_TRUE(e.Encode(pcm.data() + 500, 1000, Collect(&out)).ok());
  EXPECT_EQ(out.size(), 1u);
}

TEST(OpusEncoder, PlacementJitterGapsAndOverlaps) {
  OpusEncoder e;
  ASSERT_TRUE(e.Open(Opts()).ok());
  std::vector<Packet> out;
  const std::vector<float> pcm = Sine(48000, 1, 4800);
  // The first call places the stream: its first packet starts there.
  ASSERT_TRUE(e.Encode(pcm.data(), 4800, Collect(&out), 48000).ok());
  ASSERT_EQ(out.size(), 5u);
  EXPECT_EQ(out[0].pts, 48000);
  EXPECT_EQ(out[0].pts_ns, 1'000'000'000);
  // Within a frame of where the audio ends: the sample count wins.
  ASSERT_TRUE(e.Encode(pcm.data(), 960, Collect(&out), 48000 + 4800 + 500).ok());
  EXPECT_EQ(out.back().pts, 48000 + 4800);
  ASSERT_TRUE(e.Encode(pcm.data(), 960, Collect(&out), 48000 + 5760 - 900).ok());
  EXPECT_EQ(out.back().pts, 48000 + 5760);
  // Earlier than that: the audio would overlap itself.
  const size_t before = out.size();
  Status s = e.Encode(pcm.data(), 960, Collect(&out), 48000);
  EXPECT_EQ(s.code(), Code::kOutOfRange);
  EXPECT_NE(s.message().find("overlap"), std::string::npos) << s.message();
  EXPECT_EQ(out.size(), before);
  // Later: silence fills the gap (here 1 s), so what follows starts at its time.
  ASSERT_TRUE(e.Encode(pcm.data(), 960, Collect(&out), 48000 + 6720 + 48000).ok());
  EXPECT_EQ(out.back().pts, 48000 + 6720 + 48000);
  EXPECT_EQ(out.size(), before + 51);
  // A gap beyond kMaxGapSeconds is refused.
  EXPECT_EQ(e.Encode(pcm.data(), 960, Collect(&out), 48000 * (kMaxGapSeconds + 10)).code(), Code::kOutOfRange);
}

TEST(OpusEncoder, FlushPadsTheLastFrame) {
  OpusEncoder e;
  OpusEncoderOptions o = Opts(24000, 2);
  o.application = OpusApplication::kVoip;
  o.bitrate = 32000;
  ASSERT_TRUE(e.Open(o).ok());
  std::vector<Packet> out;
  const std::vector<float> pcm = Sine(24000, 2, 1000);
  ASSERT_TRUE(e.Encode(pcm.data(), 1000, Collect(&out)).ok());
  ASSERT_EQ(out.size(), 2u);  // 480 samples a frame at 24 kHz
  ASSERT_TRUE(e.Flush(Collect(&out)).ok());
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[2].pts, 960);
  EXPECT_EQ(out[2].padding, 480 - 40);
  EXPECT_EQ(e.next_sample(), 1440);
}

}  // namespace
}  // namespace ck
