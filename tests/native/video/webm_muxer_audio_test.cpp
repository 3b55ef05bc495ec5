// The muxer's Opus track natively: OpusHead building and checking, packet framing, the track's
// header elements (mkvinfo), interleaving whatever the order of the calls (byte-identical files),
// the bounded interleave queue, long stretches of audio without video (no packet lost), and VideoWriter
// with audio from OpusEncoder judged by ffprobe / ffmpeg.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <string>
#include <vector>

#include "audio/opus_encoder.h"
#include "video/byte_sink.h"
#include "video/opus_head.h"
#include "video/video_writer.h"
#include "video/vpx_encoder.h"
#include "video/webm_muxer.h"
#include "webm_test_util.h"

namespace ck {
namespace {

using webmtest::Shell;

std::string TempPath(const std::string& name) {
  return ::testing::TempDir() + "ck_muxa_" + std::to_string(getpid()) + "_" + name;
}

struct Item {
  std::vector<uint8_t> data;
  uint64_t ts;
  bool key;
};

// `n` VP8 frames of a moving gradient at 30 fps, keyframe every 30 frames.
std::vector<Item> VideoFrames(int n) {
  VpxEncoder enc;
  VpxEncoderOptions o;
  o.width = 64;
  o.height = 48;
  o.bitrate = 200'000;
  o.keyframe_interval = 30;
  EXPECT_TRUE(enc.Open(o).ok());
  std::vector<uint8_t> y(64 * 48), u(32 * 24, 128), v(32 * 24, 128);
  std::vector<Item> out;
  for (int i = 0; i < n; ++i) {
    for (int r = 0; r < 48; ++r)
      for (int c = 0; c < 64; ++c) y[r * 64 + c] = uint8_t((c * 4 + i * 5) & 255);
    const int64_t pts = int64_t(std::llround(i * 1e6 / 30));
    EXPECT_TRUE(enc.Encode(I420Planes{y.data(), u.data(), v.data(), 64, 32}, pts, 33333, i % 30 == 0,
                           [&](const EncodedFrame& f) {
                             out.push_back(Item{std::vector<uint8_t>(f.data, f.data + f.size),
                                                uint64_t(std::llround(i * 1e9 / 30)), f.keyframe});
                             return Status::Ok();
                           })
                    .ok());
  }
  return out;
}

// `seconds` of a 440 Hz sine as 20 ms Opus packets (48 kHz mono); the last one padded.
std::vector<Item> AudioPackets(double seconds, uint64_t start_ns = 0) {
  OpusEncoder enc;
  OpusEncoderOptions o;
  EXPECT_TRUE(enc.Open(o).ok());
  const int n = int(seconds * 48000);
  std::vector<float> pcm(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) pcm[size_t(i)] = float(0.3 * std::sin(2 * M_PI * 440 * i / 48000.0));
  std::vector<Item> out;
  auto on = [&](const OpusPacket& p) {
    out.push_back(Item{std::vector<uint8_t>(p.data, p.data + p.size), start_ns + uint64_t(p.pts_ns), true});
    return Status::Ok();
  };
  EXPECT_TRUE(enc.Encode(pcm.data(), pcm.size(), on).ok());
  EXPECT_TRUE(enc.Flush(on).ok());
  return out;
}

WebmMuxerOptions WithAudio() {
  WebmMuxerOptions o;
  o.width = 64;
  o.height = 48;
  o.fps = 30;
  o.audio.enabled = true;
  return o;
}

// Muxes in the order `order` gives: 'v' takes the next video frame, 'a' the next audio packet.
std::vector<uint8_t> Mux(const std::vector<Item>& video, const std::vector<Item>& audio, const std::string& order) {
  MemoryByteSink sink;
  WebmMuxer m;
  EXPECT_TRUE(m.Open(&sink, WithAudio()).ok());
  size_t vi = 0, ai = 0;
  for (char c : order) {
    if (c == 'v' && vi < video.size()) {
      const Item& f = video[vi++];
      EXPECT_TRUE(m.AddFrame(f.data.data(), f.data.size(), f.key, f.ts).ok());
    } else if (c == 'a' && ai < audio.size()) {
      const Item& p = audio[ai++];
      EXPECT_TRUE(m.AddAudio(p.data.data(), p.data.size(), p.ts).ok());
    }
  }
  EXPECT_EQ(vi, video.size());
  EXPECT_EQ(ai, audio.size());
  EXPECT_TRUE(m.Finish().ok());
  return sink.Take();
}

std::string WriteTemp(const std::vector<uint8_t>& bytes, const std::string& name) {
  const std::string path = TempPath(name);
  webmtest::WriteFile(path, bytes);
  return path;
}

TEST(OpusHead, BuildAndParse) {
  OpusHead h;
  h.channels = 2;
  h.pre_skip = 312;
  h.input_sample_rate = 16000;
  const std::vector<uint8_t> b = BuildOpusHead(h);
  ASSERT_EQ(b.size(), 19u);
  EXPECT_EQ(std::string(b.begin(), b.begin() + 8), "OpusHead");
  EXPECT_EQ(b[8], 1);
  EXPECT_EQ(b[9], 2);
  EXPECT_EQ(b[10] | b[11] << 8, 312);
  EXPECT_EQ(b[12] | b[13] << 8 | b[14] << 16, 16000);
  OpusHead back;
  ASSERT_TRUE(ParseOpusHead(b.data(), b.size(), &back).ok());
  EXPECT_EQ(back.channels, 2);
  EXPECT_EQ(back.pre_skip, 312);
  EXPECT_EQ(back.input_sample_rate, 16000);

  std::vector<uint8_t> bad = b;
  bad[0] = 'o';
  EXPECT_EQ(ParseOpusHead(bad.data(), bad.size(), &back).code(), Code::kInvalidArgument);
  bad = b;
  bad[8] = 0x10;  // version 16: not readable
  EXPECT_EQ(ParseOpusHead(bad.data(), bad.size(), &back).code(), Code::kInvalidArgument);
  bad = b;
  bad.push_back(0);  // family 0 is exactly 19 bytes
  EXPECT_EQ(ParseOpusHead(bad.data(), bad.size(), &back).code(), Code::kInvalidArgument);
  EXPECT_EQ(ParseOpusHead(b.data(), 18, &back).code(), Code::kInvalidArgument);
  bad = b;
  bad[9] = 0;
  EXPECT_EQ(ParseOpusHead(bad.data(), bad.size(), &back).code(), Code::kInvalidArgument);
}

TEST(OpusHead, PacketDurationsFromTheToc) {
  int n = 0;
  const uint8_t celt20[] = {uint8_t(31 << 3 | 0), 0};  // CELT 20 ms, one frame
  ASSERT_TRUE(OpusPacketSamples(celt20, 2, &n).ok());
  EXPECT_EQ(n, 960);
  const uint8_t silk60x2[] = {uint8_t(3 << 3 | 1), 0, 0};  // SILK 60 ms, two frames
  ASSERT_TRUE(OpusPacketSamples(silk60x2, 3, &n).ok());
  EXPECT_EQ(n, 5760);
  const uint8_t code3[] = {uint8_t(16 << 3 | 3), 4};  // CELT 2.5 ms x 4
  ASSERT_TRUE(OpusPacketSamples(code3, 2, &n).ok());
  EXPECT_EQ(n, 480);
  const uint8_t too_long[] = {uint8_t(3 << 3 | 3), 3};  // 3 x 60 ms
  EXPECT_EQ(OpusPacketSamples(too_long, 2, &n).code(), Code::kCorruptData);
  const uint8_t no_count[] = {uint8_t(31 << 3 | 3)};
  EXPECT_EQ(OpusPacketSamples(no_count, 1, &n).code(), Code::kCorruptData);
  EXPECT_EQ(OpusPacketSamples(nullptr, 0, &n).code(), Code::kCorruptData);
}

TEST(WebmMuxerAudio, TrackHeaderHasOpusHeadCodecDelayAndSeekPreRoll) {
  const auto video = VideoFrames(30), audio = AudioPackets(1.0);
  const std::string path = WriteTemp(Mux(video, audio, std::string(200, 'v') + std::string(200, 'a')), "head.webm");
  const std::string info = Shell("mkvinfo -a '" + path + "' 2>&1");
  EXPECT_NE(info.find("Codec ID: A_OPUS"), std::string::npos) << info;
  EXPECT_NE(info.find("Codec's private data: size 19"), std::string::npos) << info;
  EXPECT_NE(info.find("Codec-inherent delay: 00:00:00.006500000"), std::string::npos) << info;
  EXPECT_NE(info.find("Seek pre-roll: 00:00:00.080000000"), std::string::npos) << info;
  EXPECT_NE(info.find("Sampling frequency: 48000"), std::string::npos) << info;
  const std::string probe = Shell("ffprobe -v error -show_entries stream=codec_type,codec_name,channels,sample_rate "
                                  "-of csv=p=0 '" + path + "'");
  EXPECT_NE(probe.find("vp8,video"), std::string::npos) << probe;
  EXPECT_NE(probe.find("opus,audio,48000,1"), std::string::npos) << probe;
  int rc = 0;
  const std::string errors = Shell("ffmpeg -v error -i '" + path + "' -f null - 2>&1", &rc);
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(errors, "");
  std::remove(path.c_str());
}

TEST(WebmMuxerAudio, TheOrderOfTheCallsDoesNotChangeTheFile) {
  const auto video = VideoFrames(90), audio = AudioPackets(3.0);
  // Interleaved as it happens, all video first, all audio first, and in bursts.
  std::string live;
  {
    size_t vi = 0, ai = 0;
    while (vi < video.size() || ai < audio.size()) {
      if (ai >= audio.size() || (vi < video.size() && video[vi].ts <= audio[ai].ts)) {
        live += 'v';
        ++vi;
      } else {
        live += 'a';
        ++ai;
      }
    }
  }
  std::string bursts;
  for (int i = 0; i < 20; ++i) bursts += std::string(7, 'v') + std::string(11, 'a');
  const std::vector<uint8_t> a = Mux(video, audio, live);
  EXPECT_EQ(a, Mux(video, audio, std::string(90, 'v') + std::string(151, 'a')));
  EXPECT_EQ(a, Mux(video, audio, std::string(151, 'a') + std::string(90, 'v')));
  EXPECT_EQ(a, Mux(video, audio, bursts + std::string(300, 'v') + std::string(300, 'a')));

  // And the file is in time order, both tracks in the clusters, every packet there.
  const std::string path = WriteTemp(a, "order.webm");
  const std::string packets =
      Shell("ffprobe -v error -show_entries packet=stream_index,pts_time -of csv=p=0 '" + path + "'");
  double last = -1;
  int counts[2] = {0, 0};
  size_t at = 0;
  bool ordered = true;
  while (at < packets.size()) {
    const size_t nl = packets.find('\n', at);
    const std::string line = packets.substr(at, nl - at);
    at = nl == std::string::npos ? packets.size() : nl + 1;
    if (line.empty()) continue;
    const int stream = std::stoi(line);
    const double t = std::stod(line.substr(line.find(',') + 1));
    // Opus packets show at their time minus the codec delay (6.5 ms).
    const double tt = stream == 1 ? t + 0.0065 : t;
    if (tt + 0.001 < last) ordered = false;  // ffprobe prints whole milliseconds
    last = std::max(last, tt);
    ++counts[stream];
  }
  EXPECT_TRUE(ordered) << packets;
  EXPECT_EQ(counts[0], 90);
  EXPECT_EQ(counts[1], 150);
  // Duration: the later end of the two (3 s of audio, 90 frames = 3 s of video).
  EXPECT_NEAR(webmtest::ProbeDuration(path), 3.0, 0.021);
  std::remove(path.c_str());
}

TEST(WebmMuxerAudio, RefusesBadAudio) {
  MemoryByteSink sink;
  WebmMuxer m;
  WebmMuxerOptions o = WithAudio();
  o.audio.channels = 3;
  EXPECT_EQ(m.Open(&sink, o).code(), Code::kOutOfRange);

  WebmMuxer bad_head;
  MemoryByteSink sink2;
  o = WithAudio();
  o.audio.codec_private = {'O', 'p', 'u', 's', 'T', 'a', 'g', 's', 1, 1, 0, 0, 0x80, 0xbb, 0, 0, 0, 0, 0};
  Status s = bad_head.Open(&sink2, o);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("not an OpusHead"), std::string::npos) << s.message();

  WebmMuxer mismatch;
  MemoryByteSink sink3;
  o = WithAudio();
  OpusHead h;
  h.channels = 2;
  o.audio.codec_private = BuildOpusHead(h);
  EXPECT_EQ(mismatch.Open(&sink3, o).code(), Code::kInvalidArgument);

  WebmMuxer ok;
  MemoryByteSink sink4;
  ASSERT_TRUE(ok.Open(&sink4, WithAudio()).ok());
  const auto audio = AudioPackets(0.1);
  ASSERT_TRUE(ok.AddAudio(audio[1].data.data(), audio[1].data.size(), 20'000'000).ok());
  // Not after the previous packet.
  EXPECT_EQ(ok.AddAudio(audio[2].data.data(), audio[2].data.size(), 20'000'000).code(), Code::kInvalidArgument);
  EXPECT_EQ(ok.AddAudio(audio[2].data.data(), audio[2].data.size(), 10'000'000).code(), Code::kInvalidArgument);
  const uint8_t not_opus[] = {uint8_t(31 << 3 | 3)};
  EXPECT_EQ(ok.AddAudio(not_opus, 1, 40'000'000).code(), Code::kInvalidArgument);
  EXPECT_EQ(ok.AddAudio(nullptr, 0, 40'000'000).code(), Code::kInvalidArgument);
  EXPECT_EQ(ok.AddAudio(audio[2].data.data(), audio[2].data.size(), 40'000'000, 30'000'000).code(), Code::kOutOfRange);
  EXPECT_TRUE(ok.AddAudio(audio[2].data.data(), audio[2].data.size(), 40'000'000).ok());

  WebmMuxer video_only;
  MemoryByteSink sink5;
  o = WithAudio();
  o.audio.enabled = false;
  ASSERT_TRUE(video_only.Open(&sink5, o).ok());
  EXPECT_EQ(video_only.AddAudio(audio[0].data.data(), audio[0].data.size(), 0).code(), Code::kFailedPrecondition);
}

TEST(WebmMuxerAudio, TheWaitIsBoundedAndLateFramesAreRefused) {
  const auto video = VideoFrames(3), audio = AudioPackets(12.0);
  MemoryByteSink sink;
  WebmMuxer m;
  ASSERT_TRUE(m.Open(&sink, WithAudio()).ok());
  // 12 s of audio and no video yet: the oldest 2 s are written anyway.
  for (const Item& p : audio) ASSERT_TRUE(m.AddAudio(p.data.data(), p.data.size(), p.ts).ok());
  const Status s = m.AddFrame(video[0].data.data(), video[0].data.size(), true, 0);
  EXPECT_EQ(s.code(), Code::kOutOfRange);
  EXPECT_NE(s.message().find("at most 10000 ms apart"), std::string::npos) << s.message();
  // A frame at a time not yet written is still taken.
  ASSERT_TRUE(m.AddFrame(video[0].data.data(), video[0].data.size(), true, 2'500'000'000).ok());
  ASSERT_TRUE(m.Finish().ok());
  const std::string path = WriteTemp(sink.Take(), "late.webm");
  EXPECT_EQ(webmtest::ProbePacketCounts(path), "1,600");
  std::remove(path.c_str());
}

TEST(WebmMuxerAudio, LongAudioWithoutVideoLosesNothing) {
  // One frame, 40 s of audio (a still screen sends no frames), one more frame: libwebm alone would hold
  // the 40 s and then drop what no longer fits its 16-bit cluster timecodes.
  const auto video = VideoFrames(2), audio = AudioPackets(40.0);
  MemoryByteSink sink;
  WebmMuxer m;
  ASSERT_TRUE(m.Open(&sink, WithAudio()).ok());
  ASSERT_TRUE(m.AddFrame(video[0].data.data(), video[0].data.size(), true, 0).ok());
  for (const Item& p : audio) ASSERT_TRUE(m.AddAudio(p.data.data(), p.data.size(), p.ts).ok());
  ASSERT_TRUE(m.AddFrame(video[1].data.data(), video[1].data.size(), false, 40'000'000'000).ok());
  ASSERT_TRUE(m.Finish(40'033'000'000).ok());
  const std::string path = WriteTemp(sink.Take(), "still.webm");
  EXPECT_EQ(webmtest::ProbePacketCounts(path), "2,2000");
  int rc = 0;
  EXPECT_EQ(Shell("ffmpeg -v error -i '" + path + "' -f null - 2>&1", &rc), "");
  // Clusters of at most ~5 s carry the audio; the Cues still point at the video keyframe only.
  const std::string info = Shell("mkvinfo -a '" + path + "' 2>&1");
  size_t clusters = 0, cues = 0;
  for (size_t at = 0; (at = info.find("+ Cluster", at)) != std::string::npos; ++at) ++clusters;
  for (size_t at = 0; (at = info.find("+ Cue point\n", at)) != std::string::npos; ++at) ++cues;
  EXPECT_GE(clusters, 8u);
  EXPECT_EQ(cues, 1u);
  EXPECT_NEAR(webmtest::ProbeDuration(path), 40.033, 0.0011);
  std::remove(path.c_str());
}

TEST(VideoWriterAudio, WritesVp8AndOpusThatFfmpegDecodes) {
  for (VideoCodec codec : {VideoCodec::kVp8, VideoCodec::kVp9}) {
    VideoWriterOptions o;
    o.codec = codec;
    o.width = 64;
    o.height = 48;
    o.fps = 30;
    o.bitrate = 200'000;
    o.audio.enabled = true;
    o.audio.channels = 2;
    OpusEncoder enc;
    OpusEncoderOptions eo;
    eo.channels = 2;
    ASSERT_TRUE(enc.Open(eo).ok());
    o.audio.pre_skip = enc.pre_skip();
    MemoryByteSink sink;
    VideoWriter w;
    ASSERT_TRUE(w.Open(o, &sink).ok());
    std::vector<uint8_t> rgba(64 * 48 * 4, 200);
    std::vector<float> pcm(1600 * 2);  // 1/30 s of stereo at 48 kHz
    auto on = [&](const OpusPacket& p) {
      return w.AddAudio(p.data, p.size, p.pts_ns,
                        p.padding ? int64_t(std::llround(p.padding * 1e9 / 48000)) : 0);
    };
    for (int i = 0; i < 60; ++i) {
      for (size_t k = 0; k < pcm.size(); ++k) pcm[k] = float(0.3 * std::sin(2 * M_PI * 440 * (i * 1600 + int(k / 2)) / 48000.0));
      ASSERT_TRUE(w.AddFrame(Image{rgba.data(), 64, 48, 64 * 4}).ok());
      ASSERT_TRUE(enc.Encode(pcm.data(), 1600, on).ok());
    }
    ASSERT_TRUE(enc.Flush(on).ok());
    VideoStats st;
    ASSERT_TRUE(w.Finish(&st).ok());
    EXPECT_EQ(st.frames, 60);
    EXPECT_EQ(st.audio_packets, 100);
    EXPECT_NEAR(st.audio_duration_s, 2.0, 1e-9);  // 100 packets, no padding (96000 samples exactly)
    EXPECT_NEAR(st.duration_s, 2.0, 1e-9);
    const std::string path = WriteTemp(sink.Take(), codec == VideoCodec::kVp8 ? "w8.webm" : "w9.webm");
    EXPECT_EQ(webmtest::ProbePacketCounts(path), "60,100");
    int rc = 0;
    EXPECT_EQ(Shell("ffmpeg -v error -i '" + path + "' -f null - 2>&1", &rc), "");
    EXPECT_EQ(rc, 0);
    std::remove(path.c_str());
  }
}

TEST(VideoWriterAudio, AudioTimeSharesTheFramesOrigin) {
  VideoWriterOptions o;
  o.width = 64;
  o.height = 48;
  o.audio.enabled = true;
  MemoryByteSink sink;
  VideoWriter w;
  ASSERT_TRUE(w.Open(o, &sink).ok());
  int64_t us = -1;
  ASSERT_TRUE(w.AudioTimeUs(5'000'000, &us).ok());  // the first timestamp given: zero
  EXPECT_EQ(us, 0);
  ASSERT_TRUE(w.AudioTimeUs(5'500'000, &us).ok());
  EXPECT_EQ(us, 500'000);
  EXPECT_EQ(w.AudioTimeUs(4'000'000, &us).code(), Code::kOutOfRange);
  std::vector<uint8_t> rgba(64 * 48 * 4, 100);
  EXPECT_EQ(w.AddFrame(Image{rgba.data(), 64, 48, 64 * 4}, 4'999'000).code(), Code::kOutOfRange);
  ASSERT_TRUE(w.AddFrame(Image{rgba.data(), 64, 48, 64 * 4}, 5'100'000).ok());
  EXPECT_FALSE(w.failed());

  VideoWriter silent;
  MemoryByteSink sink2;
  o.audio.enabled = false;
  ASSERT_TRUE(silent.Open(o, &sink2).ok());
  EXPECT_EQ(silent.AudioTimeUs(0, &us).code(), Code::kFailedPrecondition);
  const uint8_t packet[] = {uint8_t(31 << 3), 0};
  EXPECT_EQ(silent.AddAudio(packet, 2, 0).code(), Code::kFailedPrecondition);
  EXPECT_FALSE(silent.failed());
}

}  // namespace
}  // namespace ck
