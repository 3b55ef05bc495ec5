// The MP4 muxer natively: box bytes checked by hand (sample entries, the two layouts of a tiny file),
// streaming output equal to the file in memory, clear refusals of bad input, and real H.264 / VP9 /
// AV1 + Opus / AAC files, fragmented and progressive, judged by ffprobe, a full ffmpeg decode and
// mediabunny's reader (tests/node/video/mp4-probe.mjs).
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "mp4_test_util.h"
#include "video/byte_sink.h"
#include "video/mp4_box_writer.h"
#include "video/mp4_muxer.h"
#include "video/mp4_sample_entry.h"

namespace ck {
namespace {

using mp4test::Item;
using webmtest::Shell;

using Bytes = std::vector<uint8_t>;

Bytes EntryBytes(const Mp4SampleEntry& e) {
  Mp4BoxWriter w;
  e.Write(&w);
  return w.Take();
}

// The configuration box inside a sample entry (its payload).
Bytes ConfigPayload(const Mp4SampleEntry& e, size_t entry_fields) {
  Bytes b = EntryBytes(e);
  return Bytes(b.begin() + long(8 + entry_fields + 8), b.end());
}

TEST(Mp4BoxWriter, NestsBoxesAndFillsInTheirSizes) {
  Mp4BoxWriter w;
  w.Begin("moov");
  w.BeginFull("mvhd", 1, 0x000003);
  w.U16(0xabcd);
  w.End();
  w.Begin("free");
  w.End();
  w.End();
  EXPECT_TRUE(w.balanced());
  const Bytes want = {0, 0, 0, 30, 'm', 'o', 'o', 'v',                  // moov, 30 bytes
                      0, 0, 0, 14, 'm', 'v', 'h', 'd', 1, 0, 0, 3, 0xab, 0xcd,  // FullBox v1 flags 3
                      0, 0, 0, 8,  'f', 'r', 'e', 'e'};
  EXPECT_EQ(w.bytes(), want);
  EXPECT_EQ(Mp4U64(0x0102030405060708ull), Bytes({1, 2, 3, 4, 5, 6, 7, 8}));
}

TEST(Mp4SampleEntry, OpusGetsADOpsBoxFromItsOpusHead) {
  Mp4SampleEntry e;
  OpusHead h;
  h.channels = 2;
  h.pre_skip = 312;
  h.input_sample_rate = 44100;
  ASSERT_TRUE(e.InitAudio("opus", 44100, 2, 0, BuildOpusHead(h)).ok());
  const Bytes b = EntryBytes(e);
  // AudioSampleEntry: 6 reserved, dref index 1, 8 reserved, 2 channels, 16 bits, 4 reserved, 48000 << 16.
  const Bytes head = {0, 0, 0, 55, 'O', 'p', 'u', 's', 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0,
                      0, 2, 0, 16, 0, 0, 0, 0, 0xbb, 0x80, 0, 0};
  EXPECT_EQ(Bytes(b.begin(), b.begin() + 36), head);
  // dOps: version 0, 2 channels, pre-skip 312 (0x0138), input rate 44100 (0xac44), gain 0, family 0 (big-endian).
  const Bytes dops = {0, 0, 0, 19, 'd', 'O', 'p', 's', 0, 2, 0x01, 0x38, 0, 0, 0xac, 0x44, 0, 0, 0};
  EXPECT_EQ(Bytes(b.begin() + 36, b.end()), dops);
  EXPECT_EQ(e.CodecString(), "opus");
  EXPECT_EQ(e.timescale(), 48000u);
  EXPECT_EQ(e.pre_skip(), 312u);
}

TEST(Mp4SampleEntry, Vp9GetsAVpcCBoxFromItsCodecString) {
  Mp4SampleEntry e;
  ASSERT_TRUE(e.InitVideo("vp09.00.10.08", 64, 48, 30, {}).ok());
  // vpcC v1: profile 0, level 10, bit depth 8 << 4 | 4:2:0 colocated (1) << 1 | limited, colour unspecified (2,2,2), no init data.
  EXPECT_EQ(ConfigPayload(e, 78), Bytes({1, 0, 0, 0, 0, 10, 0x82, 2, 2, 2, 0, 0}));
  EXPECT_EQ(e.CodecString(), "vp09.00.10.08");
  const Bytes b = EntryBytes(e);
  EXPECT_EQ(std::string(b.begin() + 4, b.begin() + 8), "vp09");
  EXPECT_EQ(b[32] << 8 | b[33], 64);  // width
  EXPECT_EQ(b[34] << 8 | b[35], 48);  // height
  // libvpx output ("vp9"): the level from size and rate.
  Mp4SampleEntry hd;
  ASSERT_TRUE(hd.InitVideo("vp9", 1280, 720, 30, {}).ok());
  EXPECT_EQ(hd.CodecString(), "vp09.00.31.08");
  ASSERT_TRUE(hd.InitVideo("vp9", 1920, 1080, 60, {}).ok());
  EXPECT_EQ(hd.CodecString(), "vp09.00.41.08");
}

TEST(Mp4SampleEntry, H264InAnnexBGetsAnAvcCBuiltFromItsSpsAndPps) {
  Mp4SampleEntry e;
  ASSERT_TRUE(e.InitVideo("avc1.42c01e", 160, 120, 30, {}).ok());
  EXPECT_FALSE(e.complete());
  const Bytes key = {0, 0, 0, 1, 0x09, 0xf0,                    // AUD (dropped from the sample)
                     0, 0, 0, 1, 0x67, 0x42, 0xc0, 0x1e, 0xda,  // SPS
                     0, 0, 1, 0x68, 0xce, 0x3c, 0x80,           // PPS
                     0, 0, 1, 0x65, 0x88, 0x84};                // IDR slice
  EXPECT_EQ(e.CompleteFromKeyframe(key.data(), 4).code(), Code::kInvalidArgument);  // no SPS/PPS in it
  ASSERT_TRUE(e.CompleteFromKeyframe(key.data(), key.size()).ok());
  EXPECT_TRUE(e.complete());
  // avcC: version 1, profile/compat/level from the SPS, 4-byte lengths, 1 SPS, 1 PPS.
  EXPECT_EQ(ConfigPayload(e, 78), Bytes({1, 0x42, 0xc0, 0x1e, 0xff, 0xe1, 0, 5, 0x67, 0x42, 0xc0, 0x1e, 0xda,
                                         1, 0, 4, 0x68, 0xce, 0x3c, 0x80}));
  EXPECT_EQ(e.CodecString(), "avc1.42c01e");
  Bytes sample;
  ASSERT_TRUE(e.FrameSample(key.data(), key.size(), &sample).ok());
  EXPECT_EQ(sample, Bytes({0, 0, 0, 5, 0x67, 0x42, 0xc0, 0x1e, 0xda, 0, 0, 0, 4, 0x68, 0xce, 0x3c, 0x80,
                           0, 0, 0, 3, 0x65, 0x88, 0x84}));
}

TEST(Mp4SampleEntry, H264HighProfileAvcCCarriesChromaFormatAndBitDepths) {
  webmtest::TempDir dir;
  const std::vector<Item> frames = mp4test::H264AnnexBFrames(dir.path(), 3, "high");
  ASSERT_FALSE(frames.empty());
  Mp4SampleEntry e;
  ASSERT_TRUE(e.InitVideo("h264", 160, 120, 30, {}).ok());
  ASSERT_TRUE(e.CompleteFromKeyframe(frames[0].data.data(), frames[0].data.size()).ok());
  const Bytes c = ConfigPayload(e, 78);
  EXPECT_EQ(c[1], 100);  // high profile
  // 4:2:0 (chroma_format_idc 1), 8-bit luma and chroma, no SPS extensions.
  EXPECT_EQ(Bytes(c.end() - 4, c.end()), Bytes({0xfd, 0xf8, 0xf8, 0}));
  EXPECT_EQ(e.CodecString().substr(0, 7), "avc1.64");
}

TEST(Mp4SampleEntry, Av1GetsAnAv1CFromItsCodecStringAndSequenceHeader) {
  Mp4SampleEntry e;
  ASSERT_TRUE(e.InitVideo("av01.0.04M.08", 160, 120, 30, {}).ok());
  EXPECT_FALSE(e.complete());
  // temporal delimiter, sequence header (payload 3 bytes, made up), frame OBU (payload 2 bytes)
  const Bytes tu = {0x12, 0x00, 0x0a, 0x03, 0xaa, 0xbb, 0xcc, 0x32, 0x02, 0x11, 0x22};
  ASSERT_TRUE(e.CompleteFromKeyframe(tu.data(), tu.size()).ok());
  // marker|version, profile 0 << 5 | level 4, main tier 8-bit 4:2:0 (ssx, ssy), no delay, then the OBU.
  EXPECT_EQ(ConfigPayload(e, 78), Bytes({0x81, 0x04, 0x0c, 0x00, 0x0a, 0x03, 0xaa, 0xbb, 0xcc}));
  EXPECT_EQ(e.CodecString(), "av01.0.04M.08");
  Bytes sample;
  ASSERT_TRUE(e.FrameSample(tu.data(), tu.size(), &sample).ok());
  EXPECT_EQ(sample, Bytes(tu.begin() + 2, tu.end()));  // without the temporal delimiter
  const Bytes truncated = {0x32, 0x05, 0x11};
  EXPECT_EQ(e.FrameSample(truncated.data(), truncated.size(), &sample).code(), Code::kCorruptData);
}

TEST(Mp4SampleEntry, AacGetsAnEsdsWithItsAudioSpecificConfig) {
  Mp4SampleEntry e;
  ASSERT_TRUE(e.InitAudio("mp4a.40.2", 48000, 2, 0, {}).ok());
  const Bytes b = EntryBytes(e);
  EXPECT_EQ(std::string(b.begin() + 4, b.begin() + 8), "mp4a");
  // esds v0: ES_Descriptor(3) len 25 {ES_ID 0, flags 0, DecoderConfigDescriptor(4) len 17 {0x40 audio,
  // 0x15 stream type 5, buffer 0, max 0, avg 0, DecoderSpecificInfo(5) len 2 {AAC-LC, 48 kHz (3), 2 ch}},
  // SLConfigDescriptor(6) len 1 {2}}
  const Bytes esds = {0, 0, 0, 39, 'e', 's', 'd', 's', 0, 0, 0, 0,
                      3, 25, 0, 0, 0,
                      4, 17, 0x40, 0x15, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                      5, 2, 0x11, 0x90,
                      6, 1, 2};
  EXPECT_EQ(Bytes(b.begin() + 36, b.end()), esds);
  EXPECT_EQ(e.CodecString(), "mp4a.40.2");
  const Bytes adts = {0xff, 0xf1, 0x50, 0x80};
  Bytes out;
  EXPECT_EQ(e.FrameSample(adts.data(), adts.size(), &out).code(), Code::kInvalidArgument);
}

TEST(Mp4SampleEntry, RefusesWhatMp4CannotHoldSayingWhy) {
  Mp4SampleEntry e;
  Status s = e.InitVideo("vp8", 64, 48, 30, {});
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("VP8 cannot be stored in MP4"), std::string::npos) << s.message();
  s = e.InitVideo("hevc", 64, 48, 30, {});
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("unknown video codec \"hevc\""), std::string::npos) << s.message();
  EXPECT_EQ(e.InitVideo("vp09.00.13.08", 64, 48, 30, {}).code(), Code::kInvalidArgument);  // no level 1.3
  EXPECT_EQ(e.InitVideo("vp09.0", 64, 48, 30, {}).code(), Code::kInvalidArgument);
  EXPECT_EQ(e.InitVideo("avc1.4200", 64, 48, 30, {}).code(), Code::kInvalidArgument);
  EXPECT_EQ(e.InitVideo("av01.0.04X.08", 64, 48, 30, {}).code(), Code::kInvalidArgument);
  EXPECT_EQ(e.InitVideo("avc1.42001f", 64, 48, 30, Bytes{0, 1, 2, 3, 4, 5, 6}).code(), Code::kInvalidArgument);
  s = e.InitVideo("avc1.42001f", 64, 48, 30, Bytes{1, 0x42, 0, 0x1f, 0xff, 0xe1, 0, 9, 0x67});
  EXPECT_NE(s.message().find("runs past the end of the avcC"), std::string::npos) << s.message();
  EXPECT_EQ(e.InitVideo("vp9", 70000, 48, 30, {}).code(), Code::kOutOfRange);
  s = e.InitAudio("flac", 48000, 2, 0, {});
  EXPECT_NE(s.message().find("unknown audio codec \"flac\""), std::string::npos) << s.message();
  EXPECT_EQ(e.InitAudio("opus", 48000, 2, 0, Bytes{1, 2, 3}).code(), Code::kInvalidArgument);
  EXPECT_EQ(e.InitAudio("aac", 44000, 2, 0, {}).code(), Code::kOutOfRange);
}

// ---- the muxer ----

Mp4MuxerOptions Vp9Options(Mp4Layout layout) {
  Mp4MuxerOptions o;
  o.layout = layout;
  o.codec = "vp09.00.10.08";
  o.width = 64;
  o.height = 48;
  o.fps = 30;
  return o;
}

Bytes MuxFake(Mp4Layout layout, const std::vector<std::pair<Bytes, bool>>& frames, uint64_t step_ns) {
  MemoryByteSink sink;
  Mp4Muxer m;
  EXPECT_TRUE(m.Open(&sink, Vp9Options(layout)).ok());
  uint64_t t = 0;
  for (const auto& [data, key] : frames) {
    EXPECT_TRUE(m.AddFrame(data.data(), data.size(), key, t).ok());
    t += step_ns;
  }
  EXPECT_TRUE(m.Finish().ok());
  return sink.Take();
}

// Checked by hand: ftyp 8 + major/minor 8 + isom iso2 mp41; mvhd v1 120; tkhd v1 104; mdhd v1 44;
// hdlr 32 + "VideoHandler\0"; vp09 = 8 + 78 bytes of VisualSampleEntry + vpcC 20; stts with one run;
// stss, stsc, stco with one entry each; stsz with three sizes; mdat = 8 + 3 + 2 + 4.
const char kProgressiveTree[] =
    "ftyp 28\n"
    "moov 655\n"
    "moov/mvhd 120\n"
    "moov/trak 527\n"
    "moov/trak/tkhd 104\n"
    "moov/trak/mdia 415\n"
    "moov/trak/mdia/mdhd 44\n"
    "moov/trak/mdia/hdlr 45\n"
    "moov/trak/mdia/minf 318\n"
    "moov/trak/mdia/minf/vmhd 20\n"
    "moov/trak/mdia/minf/dinf 36\n"
    "moov/trak/mdia/minf/dinf/dref 28\n"
    "moov/trak/mdia/minf/dinf/dref/url  12\n"
    "moov/trak/mdia/minf/stbl 254\n"
    "moov/trak/mdia/minf/stbl/stsd 122\n"
    "moov/trak/mdia/minf/stbl/stsd/vp09 106\n"
    "moov/trak/mdia/minf/stbl/stsd/vp09/vpcC 20\n"
    "moov/trak/mdia/minf/stbl/stts 24\n"
    "moov/trak/mdia/minf/stbl/stss 20\n"
    "moov/trak/mdia/minf/stbl/stsc 28\n"
    "moov/trak/mdia/minf/stbl/stsz 32\n"
    "moov/trak/mdia/minf/stbl/stco 20\n"
    "mdat 17\n";

TEST(Mp4Muxer, ProgressiveLayoutHasCompleteSampleTablesBeforeTheData) {
  // Three made-up VP9 frames (the muxer does not decode VP9): key, delta, delta at 30 fps.
  const Bytes f = MuxFake(Mp4Layout::kProgressive, {{{0x82, 1, 2}, true}, {{0x86, 3}, false}, {{0x86, 4, 5, 6}, false}},
                          33'333'333);
  const std::string tree = mp4test::Tree(f);
  // ftyp, moov (mvhd, one trak down to stbl with every table; no mvex, no edts: it starts at zero), mdat last.
  EXPECT_EQ(tree, kProgressiveTree);
  // stts: 3 samples of 3000 ticks (90 kHz; the last one the average spacing)
  EXPECT_EQ(mp4test::Payload(f, "moov/trak/mdia/minf/stbl/stts"), Bytes({0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 3, 0, 0, 0x0b, 0xb8}));
  // stss: sample 1 only
  EXPECT_EQ(mp4test::Payload(f, "moov/trak/mdia/minf/stbl/stss"), Bytes({0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1}));
  // stsc: chunk 1 holds 3 samples of description 1
  EXPECT_EQ(mp4test::Payload(f, "moov/trak/mdia/minf/stbl/stsc"), Bytes({0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 3, 0, 0, 0, 1}));
  // stsz: sizes 3, 2, 4
  EXPECT_EQ(mp4test::Payload(f, "moov/trak/mdia/minf/stbl/stsz"),
            Bytes({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 4}));
  // stco: one chunk, right after the mdat header, which is the last box
  const Bytes stco = mp4test::Payload(f, "moov/trak/mdia/minf/stbl/stco");
  ASSERT_EQ(stco.size(), 12u);
  const uint32_t offset = mp4test::Be32(stco.data() + 8);
  const std::vector<mp4test::Box> boxes = mp4test::Boxes(f);
  EXPECT_EQ(boxes.back().path, "mdat");
  EXPECT_EQ(offset, boxes.back().offset + 8);
  EXPECT_EQ(Bytes(f.begin() + offset, f.end()), Bytes({0x82, 1, 2, 0x86, 3, 0x86, 4, 5, 6}));
  // mvhd (v1): timescale 1000, duration 100 ms
  const Bytes mvhd = mp4test::Payload(f, "moov/mvhd");
  EXPECT_EQ(mvhd[0], 1);
  EXPECT_EQ(mp4test::Be32(mvhd.data() + 20), 1000u);
  EXPECT_EQ(mp4test::Be64(mvhd.data() + 24), 100u);
  // mdhd (v1): timescale 90000, duration 9000
  const Bytes mdhd = mp4test::Payload(f, "moov/trak/mdia/mdhd");
  EXPECT_EQ(mp4test::Be32(mdhd.data() + 20), 90000u);
  EXPECT_EQ(mp4test::Be64(mdhd.data() + 24), 9000u);
}

TEST(Mp4Muxer, FragmentedLayoutHasOneFragmentPerKeyFrameAndAnIndex) {
  const Bytes f = MuxFake(Mp4Layout::kFragmented,
                          {{{0x82, 1}, true}, {{0x86, 2}, false}, {{0x82, 3, 3}, true}, {{0x86, 4}, false}}, 33'333'333);
  const std::string tree = mp4test::Tree(f);
  std::string top;
  for (const mp4test::Box& b : mp4test::Boxes(f))
    if (b.path.find('/') == std::string::npos) top += b.path + " ";
  EXPECT_EQ(top, "ftyp moov moof mdat moof mdat mfra ") << tree;
  EXPECT_EQ(mp4test::Count(f, "moov/mvex/mehd"), 1u);
  EXPECT_EQ(mp4test::Count(f, "moov/mvex/trex"), 1u);
  // No samples in the moov.
  EXPECT_EQ(mp4test::Payload(f, "moov/trak/mdia/minf/stbl/stsz"), Bytes(12, 0));
  // Fragment 2: tfhd default-base-is-moof, tfdt = 6000 (frame 2 at 90 kHz), trun of two samples.
  EXPECT_EQ(mp4test::Payload(f, "moof/mfhd", 1), Bytes({0, 0, 0, 0, 0, 0, 0, 2}));
  EXPECT_EQ(mp4test::Payload(f, "moof/traf/tfhd", 1), Bytes({0, 2, 0, 0, 0, 0, 0, 1}));
  EXPECT_EQ(mp4test::Payload(f, "moof/traf/tfdt", 1), Bytes({1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x17, 0x70}));
  const std::vector<mp4test::Box> boxes = mp4test::Boxes(f);
  size_t moof2 = 0;
  for (size_t i = 0, n = 0; i < boxes.size(); ++i)
    if (boxes[i].path == "moof" && n++ == 1) moof2 = boxes[i].offset;
  const Bytes trun = mp4test::Payload(f, "moof/traf/trun", 1);
  const uint32_t moof_size = mp4test::Be32(f.data() + moof2);
  // flags 0x701; 2 samples; data offset = moof size + 8 (mdat header); (duration, size, flags) each:
  // the key frame 3000 ticks, 3 bytes, sync; the last 3000 (average spacing), 2 bytes, non-sync.
  EXPECT_EQ(trun, Bytes({0, 0, 7, 1, 0, 0, 0, 2, 0, 0, 0, uint8_t(moof_size + 8),
                         0, 0, 0x0b, 0xb8, 0, 0, 0, 3, 2, 0, 0, 0,
                         0, 0, 0x0b, 0xb8, 0, 0, 0, 2, 1, 1, 0, 0}));
  EXPECT_EQ(Bytes(f.begin() + long(moof2 + moof_size + 8), f.begin() + long(moof2 + moof_size + 13)), Bytes({0x82, 3, 3, 0x86, 4}));
  // mfra: tfra v1 for track 1 with two entries (time, moof offset, traf 1, trun 1, sample 1), then mfro.
  const Bytes tfra = mp4test::Payload(f, "mfra/tfra");
  ASSERT_EQ(tfra.size(), 4u + 12 + 2 * 22);
  EXPECT_EQ(mp4test::Be32(tfra.data() + 4), 1u);
  EXPECT_EQ(mp4test::Be32(tfra.data() + 12), 2u);
  EXPECT_EQ(mp4test::Be64(tfra.data() + 16 + 22), 6000u);
  EXPECT_EQ(mp4test::Be64(tfra.data() + 16 + 22 + 8), moof2);
  // mfro (last in the file) holds the mfra's size: a reader finds the index from the end.
  EXPECT_EQ(boxes.back().path, "mfra/mfro");
  const uint32_t mfra_size = mp4test::Be32(f.data() + f.size() - 4);
  EXPECT_EQ(std::string(f.end() - mfra_size + 4, f.end() - mfra_size + 8), "mfra");
  // Durations patched at Finish: mvhd, mehd, tkhd = 4 frames = 133 ms.
  EXPECT_EQ(mp4test::Be64(mp4test::Payload(f, "moov/mvhd").data() + 24), 133u);
  EXPECT_EQ(mp4test::Be64(mp4test::Payload(f, "moov/mvex/mehd").data() + 4), 133u);
  EXPECT_EQ(mp4test::Be64(mp4test::Payload(f, "moov/trak/tkhd").data() + 28), 133u);
}

TEST(Mp4Muxer, SameSamplesGiveTheSameBytesAndStreamingEqualsMemory) {
  const std::vector<Item> video = mp4test::Vp9Frames(45, 15);
  const std::vector<Item> audio = mp4test::OpusPackets(1.5);
  Mp4MuxerOptions o = Vp9Options(Mp4Layout::kFragmented);
  o.codec = "vp9";
  o.audio.enabled = true;
  auto mux = [&](ByteSink* sink, size_t* max_buffered, StreamingByteSink* streaming) {
    Mp4Muxer m;
    ASSERT_TRUE(m.Open(sink, o).ok());
    size_t ai = 0;
    for (const Item& v : video) {
      ASSERT_TRUE(m.AddFrame(v.data.data(), v.data.size(), v.key, v.ts).ok());
      while (ai < audio.size() && audio[ai].ts <= v.ts + 100'000'000) {  // sound runs 100 ms ahead
        ASSERT_TRUE(m.AddAudio(audio[ai].data.data(), audio[ai].data.size(), audio[ai].ts).ok());
        ++ai;
      }
      if (streaming) *max_buffered = std::max(*max_buffered, streaming->buffered());
    }
    for (; ai < audio.size(); ++ai) ASSERT_TRUE(m.AddAudio(audio[ai].data.data(), audio[ai].data.size(), audio[ai].ts).ok());
    ASSERT_TRUE(m.Finish().ok());
    EXPECT_EQ(m.fragments(), 3);
    EXPECT_EQ(m.MimeType(), "video/mp4; codecs=\"vp09.00.10.08, opus\"");
  };
  MemoryByteSink a, b;
  size_t unused = 0;
  mux(&a, &unused, nullptr);
  mux(&b, &unused, nullptr);
  EXPECT_EQ(a.bytes(), b.bytes());

  Bytes applied;
  int64_t appended_end = 0;
  int patches = 0;
  StreamingByteSink streaming([&](int64_t offset, const uint8_t* d, size_t n) {
    if (offset < int64_t(applied.size())) ++patches;
    if (size_t(offset) + n > applied.size()) applied.resize(size_t(offset) + n);
    std::copy(d, d + n, applied.begin() + offset);
    appended_end = std::max<int64_t>(appended_end, offset + int64_t(n));
    return true;
  });
  size_t max_buffered = 0;
  mux(&streaming, &max_buffered, &streaming);
  EXPECT_EQ(applied, a.bytes());
  EXPECT_EQ(patches, 4);  // the durations in mvhd, mehd and both tkhds, at Finish
  EXPECT_LT(max_buffered, 1u);  // every fragment goes out as soon as it is written
}

TEST(Mp4Muxer, RefusesBadInputSayingWhatWasWrongAndStaysUsable) {
  MemoryByteSink sink;
  Mp4Muxer m;
  Mp4MuxerOptions o = Vp9Options(Mp4Layout::kFragmented);
  o.codec = "vp8";
  Status s = m.Open(&sink, o);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("VP8"), std::string::npos);
  o = Vp9Options(Mp4Layout::kFragmented);
  o.width = 1;
  EXPECT_EQ(m.Open(&sink, o).code(), Code::kOutOfRange);
  o = Vp9Options(Mp4Layout::kFragmented);
  o.audio.enabled = true;
  o.audio.codec = "vorbis";
  EXPECT_EQ(m.Open(&sink, o).code(), Code::kInvalidArgument);
  o.audio.codec = "opus";
  ASSERT_TRUE(m.Open(&sink, o).ok());

  const Bytes frame = {0x82, 1, 2};
  s = m.AddFrame(frame.data(), frame.size(), false, 0);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("first video frame must be a key frame"), std::string::npos) << s.message();
  ASSERT_TRUE(m.AddFrame(frame.data(), frame.size(), true, 1'000'000).ok());
  s = m.AddFrame(frame.data(), frame.size(), false, 1'000'000);
  EXPECT_EQ(s.code(), Code::kOutOfRange);
  EXPECT_NE(s.message().find("video timestamps must increase"), std::string::npos) << s.message();
  EXPECT_EQ(m.AddFrame(frame.data(), frame.size(), false, 500'000).code(), Code::kOutOfRange);
  Bytes huge(kMaxMp4SampleBytes + 1, 0);
  s = m.AddFrame(huge.data(), huge.size(), false, 2'000'000);
  EXPECT_EQ(s.code(), Code::kOutOfRange);
  EXPECT_NE(s.message().find("over the"), std::string::npos) << s.message();
  EXPECT_EQ(m.AddFrame(nullptr, 0, false, 2'000'000).code(), Code::kInvalidArgument);
  s = m.AddFrame(frame.data(), frame.size(), false, 50'000'000'000'000);  // 13.9 h later: 2^32 ticks at 90 kHz
  EXPECT_EQ(s.code(), Code::kOutOfRange);
  EXPECT_NE(s.message().find("does not fit a sample duration"), std::string::npos) << s.message();
  // Opus packets: an empty one, a code-3 packet without its frame count.
  const Bytes no_count = {0x03};
  EXPECT_EQ(m.AddAudio(no_count.data(), no_count.size(), 0).code(), Code::kCorruptData);
  const Bytes opus = {0xfc, 0xff, 0xfe};  // CELT 20 ms
  ASSERT_TRUE(m.AddAudio(opus.data(), opus.size(), 0).ok());
  EXPECT_EQ(m.AddAudio(opus.data(), opus.size(), 0).code(), Code::kOutOfRange);
  s = m.Finish(1'000'000);
  EXPECT_EQ(s.code(), Code::kOutOfRange);
  EXPECT_NE(s.message().find("ends before the last frame"), std::string::npos) << s.message();
  // Still usable after all that.
  ASSERT_TRUE(m.AddFrame(frame.data(), frame.size(), false, 34'000'000).ok());
  ASSERT_TRUE(m.Finish().ok());
  EXPECT_EQ(m.frames(), 2);
  EXPECT_EQ(m.audio_packets(), 1);
  EXPECT_EQ(m.AddFrame(frame.data(), frame.size(), false, 90'000'000).code(), Code::kFailedPrecondition);
  EXPECT_EQ(m.Finish().code(), Code::kFailedPrecondition);

  // Audio without an audio track; Finish without frames.
  MemoryByteSink sink2;
  Mp4Muxer m2;
  ASSERT_TRUE(m2.Open(&sink2, Vp9Options(Mp4Layout::kProgressive)).ok());
  EXPECT_EQ(m2.AddAudio(opus.data(), opus.size(), 0).code(), Code::kFailedPrecondition);
  s = m2.Finish();
  EXPECT_EQ(s.code(), Code::kFailedPrecondition);
  EXPECT_NE(s.message().find("no video frame"), std::string::npos);

  // H.264 with an avcC: frames must be length-prefixed; without one: Annex B with SPS/PPS first.
  MemoryByteSink sink3;
  Mp4Muxer m3;
  Mp4MuxerOptions h = Vp9Options(Mp4Layout::kFragmented);
  h.codec = "avc1.42c01e";
  h.description = {1, 0x42, 0xc0, 0x1e, 0xff, 0xe1, 0, 2, 0x67, 0x42, 1, 0, 2, 0x68, 0xce};
  ASSERT_TRUE(m3.Open(&sink3, h).ok());
  const Bytes annexb = {0, 0, 0, 1, 0x65, 0x88, 0x84, 0x21, 0xa0};
  s = m3.AddFrame(annexb.data(), annexb.size(), true, 0);
  EXPECT_EQ(s.code(), Code::kCorruptData);
  EXPECT_NE(s.message().find("not length-prefixed"), std::string::npos) << s.message();
  MemoryByteSink sink4;
  Mp4Muxer m4;
  h.description.clear();
  ASSERT_TRUE(m4.Open(&sink4, h).ok());
  s = m4.AddFrame(annexb.data(), annexb.size(), true, 0);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("no SPS and PPS"), std::string::npos) << s.message();
  EXPECT_EQ(sink4.Size(), 0);  // nothing written before the configuration is known
}

// ---- real files, judged ----

struct Judged {
  std::string codecs;   // ffprobe codec_name per stream, "vp9,opus"
  std::string packets;  // ffprobe packets per stream, "45,76"
  double duration = -1;
  std::string decode_errors;
  int decode_status = -1;
  std::string mediabunny;
};

Judged Judge(const std::string& path) {
  Judged j;
  std::string s = Shell("ffprobe -v error -show_entries stream=codec_name -of csv=p=0 '" + path + "'");
  for (char c : s) j.codecs += c == '\n' ? ',' : c;
  while (!j.codecs.empty() && j.codecs.back() == ',') j.codecs.pop_back();
  j.packets = webmtest::ProbePacketCounts(path);
  j.duration = webmtest::ProbeDuration(path);
  j.decode_errors = Shell("ffmpeg -v error -xerror -i '" + path + "' -f null - 2>&1", &j.decode_status);
  j.mediabunny = mp4test::MediabunnyProbe(path);
  return j;
}

// "video 45 3 1.5" per track from mediabunny's JSON: type, packets, key packets, duration (rounded to 10 ms).
std::string MediabunnyTracks(const std::string& json) {
  std::string out;
  size_t at = 0;
  while ((at = json.find("{\"type\":\"", at)) != std::string::npos) {
    auto field = [&](const std::string& name) {
      size_t p = json.find("\"" + name + "\":", at) + name.size() + 3;
      return json.substr(p, json.find_first_of(",}", p) - p);
    };
    std::string type = field("type");
    type = type.substr(1, type.size() - 2);
    char d[32];
    snprintf(d, sizeof d, "%.2f", atof(field("duration").c_str()));
    out += type + " " + field("packets") + " " + field("keyPackets") + " " + d + ";";
    at += 8;
  }
  return out;
}

struct Case {
  std::string name;
  Mp4MuxerOptions options;
  std::vector<Item> video, audio;
  uint64_t audio_padding_ns = 0;
};

Bytes MuxCase(const Case& c, Mp4Muxer* m) {
  MemoryByteSink sink;
  EXPECT_TRUE(m->Open(&sink, c.options).ok());
  // Interleaved as a recorder delivers them: each in time order, the two tracks in arrival order.
  size_t vi = 0, ai = 0;
  while (vi < c.video.size() || ai < c.audio.size()) {
    if (ai >= c.audio.size() || (vi < c.video.size() && c.video[vi].ts <= c.audio[ai].ts)) {
      const Item& v = c.video[vi++];
      Status s = m->AddFrame(v.data.data(), v.data.size(), v.key, v.ts);
      EXPECT_TRUE(s.ok()) << s.message();
    } else {
      const Item& a = c.audio[ai++];
      Status s = m->AddAudio(a.data.data(), a.data.size(), a.ts, ai == c.audio.size() ? c.audio_padding_ns : 0);
      EXPECT_TRUE(s.ok()) << s.message();
    }
  }
  Status s = m->Finish();
  EXPECT_TRUE(s.ok()) << s.message();
  return sink.Take();
}

void ExpectJudged(const Case& c, const std::string& codecs, double duration) {
  webmtest::TempDir dir;
  for (Mp4Layout layout : {Mp4Layout::kFragmented, Mp4Layout::kProgressive}) {
    Case k = c;
    k.options.layout = layout;
    Mp4Muxer m;
    const Bytes f = MuxCase(k, &m);
    const std::string label = c.name + (layout == Mp4Layout::kFragmented ? " fragmented" : " progressive");
    const std::string path = dir.file("f.mp4");
    webmtest::WriteFile(path, f);
    const Judged j = Judge(path);
    EXPECT_EQ(j.codecs, codecs) << label;
    const std::string packets = std::to_string(c.video.size()) + (c.audio.empty() ? "" : "," + std::to_string(c.audio.size()));
    EXPECT_EQ(j.packets, packets) << label;
    EXPECT_NEAR(j.duration, duration, 0.03) << label;
    EXPECT_NEAR(m.duration_seconds(), duration, 0.03) << label;
    EXPECT_EQ(j.decode_status, 0) << label << ": " << j.decode_errors;
    EXPECT_EQ(j.decode_errors, "") << label;
    // mediabunny: the same packet counts, key frames and durations.
    size_t keys = 0;
    for (const Item& v : c.video) keys += v.key;
    const std::string tracks = MediabunnyTracks(j.mediabunny);
    char vd[32];
    snprintf(vd, sizeof vd, "%.2f", double(c.video.size()) / 30);
    EXPECT_EQ(tracks.substr(0, tracks.find(';') + 1),
              "video " + std::to_string(c.video.size()) + " " + std::to_string(keys) + " " + vd + ";")
        << label << ": " << j.mediabunny;
    if (!c.audio.empty()) {
      EXPECT_NE(tracks.find("audio " + std::to_string(c.audio.size()) + " " + std::to_string(c.audio.size()) + " "),
                std::string::npos)
          << label << ": " << j.mediabunny;
    }
    if (layout == Mp4Layout::kFragmented) {
      EXPECT_GE(mp4test::Count(f, "moof"), 2u) << label;
      EXPECT_EQ(mp4test::Count(f, "mfra/mfro"), 1u) << label;
    } else {
      EXPECT_EQ(mp4test::Count(f, "moof"), 0u) << label;
      EXPECT_EQ(mp4test::Boxes(f).back().path, "mdat") << label;
    }
  }
}

bool HaveJudges() {
  return webmtest::HaveTool("ffprobe") && webmtest::HaveTool("ffmpeg") && webmtest::HaveTool("node");
}

TEST(Mp4MuxerJudged, Vp9WithOpus) {
  if (!HaveJudges()) GTEST_SKIP() << "ffmpeg/ffprobe/node missing";
  Case c{"vp9+opus", Vp9Options(Mp4Layout::kFragmented), mp4test::Vp9Frames(60, 15), {}};
  c.options.codec = "vp9";
  c.options.audio.enabled = true;
  c.audio = mp4test::OpusPackets(2.0, &c.audio_padding_ns);
  ExpectJudged(c, "vp9,opus", 2.0);
  c.name = "vp9";
  c.audio.clear();
  c.options.audio.enabled = false;
  ExpectJudged(c, "vp9", 2.0);
}

TEST(Mp4MuxerJudged, H264FromAnnexBAndFromAnAvcCDescription) {
  if (!HaveJudges()) GTEST_SKIP() << "ffmpeg/ffprobe/node missing";
  webmtest::TempDir dir;
  Case c{"h264 annex b", Vp9Options(Mp4Layout::kFragmented), mp4test::H264AnnexBFrames(dir.path(), 45, "high"), {}};
  ASSERT_EQ(c.video.size(), 45u);
  c.options.codec = "h264";
  c.options.width = 160;
  c.options.height = 120;
  c.options.audio.enabled = true;
  c.audio = mp4test::OpusPackets(1.5, &c.audio_padding_ns);
  ExpectJudged(c, "h264,opus", 1.5);

  // The same frames as WebCodecs' VideoEncoder gives them with avc: { format: 'avc' }: 4-byte
  // length-prefixed NAL units, parameter sets only in the avcC description.
  Mp4SampleEntry e;
  ASSERT_TRUE(e.InitVideo("h264", 160, 120, 30, {}).ok());
  ASSERT_TRUE(e.CompleteFromKeyframe(c.video[0].data.data(), c.video[0].data.size()).ok());
  const Bytes entry = EntryBytes(e);
  Case d = c;
  d.name = "h264 avcC";
  d.options.codec = e.CodecString();
  d.options.description.assign(entry.begin() + 8 + 78 + 8, entry.end());
  for (Item& v : d.video) {
    Bytes out;
    for (auto [p, n] : SplitAnnexB(v.data.data(), v.data.size())) {
      const int type = p[0] & 31;
      if (type == 7 || type == 8 || type == 9) continue;
      for (int i = 3; i >= 0; --i) out.push_back(uint8_t(n >> (8 * i)));
      out.insert(out.end(), p, p + n);
    }
    v.data = out;
  }
  ExpectJudged(d, "h264,opus", 1.5);
  Mp4Muxer m;
  MuxCase(d, &m);
  EXPECT_EQ(m.MimeType(), "video/mp4; codecs=\"" + e.CodecString() + ", opus\"");
}

TEST(Mp4MuxerJudged, Av1) {
  if (!HaveJudges()) GTEST_SKIP() << "ffmpeg/ffprobe/node missing";
  webmtest::TempDir dir;
  Case c{"av1", Vp9Options(Mp4Layout::kFragmented), mp4test::Av1Frames(dir.path(), 30), {}};
  ASSERT_EQ(c.video.size(), 30u);
  ASSERT_TRUE(c.video[0].key);
  c.options.codec = "av01.0.00M.08";
  c.options.width = 160;
  c.options.height = 120;
  c.options.audio.enabled = true;
  c.audio = mp4test::OpusPackets(1.0, &c.audio_padding_ns);
  ExpectJudged(c, "av1,opus", 1.0);
}

TEST(Mp4MuxerJudged, Vp9WithAac) {
  if (!HaveJudges()) GTEST_SKIP() << "ffmpeg/ffprobe/node missing";
  webmtest::TempDir dir;
  Case c{"vp9+aac", Vp9Options(Mp4Layout::kFragmented), mp4test::Vp9Frames(45, 15), {}};
  c.options.codec = "vp9";
  c.options.audio.enabled = true;
  c.options.audio.codec = "aac";
  c.options.audio.channels = 2;
  c.audio = mp4test::AacPackets(dir.path(), 1.5);
  ASSERT_GT(c.audio.size(), 60u);
  // ffmpeg's AAC encoder adds a priming frame and pads the end: the audio is its packets' length.
  ExpectJudged(c, "vp9,aac", double(c.audio.size()) * 1024 / 48000);
}

}  // namespace
}  // namespace ck
