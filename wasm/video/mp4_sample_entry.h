// Mp4SampleEntry: what one MP4 track's sample description (stsd) holds, and how the track's samples
// must be framed in the file. One entry per track, decided from a WebCodecs-style codec string plus the
// optional description bytes a WebCodecs encoder hands out (decoderConfig.description), or, where the
// stream carries it, from the first key frame.
//
//   codec string            entry  configuration box (built from)
//   "avc1.PPCCLL" / "h264"  avc1   avcC  AVCDecoderConfigurationRecord (ISO/IEC 14496-15 5.3.3):
//                                        the description as given (samples then carry NAL units with a
//                                        1/2/4-byte length, checked), or, without one, built from the
//                                        SPS and PPS of the first key frame in Annex B (00 00 01 start
//                                        codes); samples are then rewritten with 4-byte lengths and
//                                        access unit delimiters dropped
//   "vp09.PP.LL.DD" / "vp9" vp09   vpcC  VPCodecConfigurationRecord v1 (VP9 in ISO BMFF, 2.2): profile,
//                                        level, bit depth from the string; "vp9" (libvpx output) is
//                                        profile 0, 8 bit, 4:2:0, the level from size and frame rate
//   "av01.P.LLT.DD" / "av1" av01   av1C  AV1CodecConfigurationRecord (AV1 in ISO BMFF, 2.3): the
//                                        description as given, or the string's fields plus the first
//                                        key frame's sequence header OBU; temporal delimiter OBUs are
//                                        dropped from samples (2.4)
//   "opus"                  Opus   dOps  OpusSpecificBox (Opus in ISO BMFF, 4.3.2): from an OpusHead
//                                        (the description, or built from channels, rate and pre-skip)
//   "mp4a.40.2" / "aac"     mp4a   esds  ES_Descriptor with an AudioSpecificConfig (ISO/IEC 14496-1/-3):
//                                        the description, or built for AAC-LC; raw AAC frames, no ADTS
//   "vp8", "vp08..."        refused: VP8 has no MP4 mapping (InvalidArgument)
//
// CodecString() is the RFC 6381 form for a MIME type's codecs= parameter, taken from the
// configuration actually written (the avcC's profile and level, not the caller's guess).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "video/mp4_box_writer.h"
#include "video/opus_head.h"

namespace ck {

enum class Mp4Codec { kH264, kVp9, kAv1, kOpus, kAac };

constexpr size_t kMaxMp4DescriptionBytes = 64 << 10;
constexpr uint32_t kMp4VideoTimescale = 90000;  // exact for 24, 25, 30, 50, 60 and 29.97 (3003) fps

class Mp4SampleEntry {
 public:
  // A video entry. `codec` as in the table above; `description` may be empty.
  Status InitVideo(const std::string& codec, int width, int height, double fps, const std::vector<uint8_t>& description);
  // An audio entry. For Opus a description must be an OpusHead; for AAC an AudioSpecificConfig.
  Status InitAudio(const std::string& codec, int sample_rate, int channels, int pre_skip,
                   const std::vector<uint8_t>& description);

  Mp4Codec codec() const { return codec_; }
  bool is_video() const { return codec_ == Mp4Codec::kH264 || codec_ == Mp4Codec::kVp9 || codec_ == Mp4Codec::kAv1; }
  // False until the configuration is known (H.264 in Annex B or AV1 without a description: the
  // first key frame completes it through CompleteFromKeyframe).
  bool complete() const;
  Status CompleteFromKeyframe(const uint8_t* data, size_t size);

  // The sample as it goes into the file (rewritten for Annex B H.264 and AV1; checked otherwise).
  // *out is cleared first. CorruptData says what was wrong with a malformed sample.
  Status FrameSample(const uint8_t* data, size_t size, std::vector<uint8_t>* out) const;

  // The track's media timescale: 90 kHz for video, 48 kHz for Opus, the sample rate for AAC.
  uint32_t timescale() const;
  // Samples at the timescale one packet decodes to, from the packet itself (Opus TOC) or the codec
  // (1024 for AAC); 0 for video.
  Status PacketDuration(const uint8_t* data, size_t size, uint32_t* ticks) const;
  // Ticks the decoder's output starts early by (Opus pre-skip), written as the edit list's media time.
  uint32_t pre_skip() const { return codec_ == Mp4Codec::kOpus ? uint32_t(opus_.pre_skip) : 0; }

  // Writes the entry (avc1/vp09/av01/Opus/mp4a with its configuration box) into an open stsd.
  void Write(Mp4BoxWriter* w) const;
  std::string CodecString() const;
  int channels() const { return channels_; }
  int sample_rate() const { return sample_rate_; }

 private:
  Status BuildAvcC(const uint8_t* sps, size_t sps_size, const uint8_t* pps, size_t pps_size);
  void WriteVisualHeader(Mp4BoxWriter* w, const char type[4]) const;

  Mp4Codec codec_ = Mp4Codec::kVp9;
  int width_ = 0, height_ = 0;
  // H.264
  std::vector<uint8_t> avcc_;
  bool annexb_ = false;
  int nal_length_size_ = 4;
  // VP9
  int vp9_profile_ = 0, vp9_level_ = 10, bit_depth_ = 8;
  // AV1: the av1C payload (4 bytes, then the config OBUs)
  std::vector<uint8_t> av1c_;
  bool av1_needs_obu_ = false;
  // Opus
  OpusHead opus_;
  std::vector<uint8_t> opus_head_;
  // AAC
  std::vector<uint8_t> asc_;
  int sample_rate_ = 48000, channels_ = 1;
};

// Splits an Annex B byte stream into NAL units (without their start codes), in order.
std::vector<std::pair<const uint8_t*, size_t>> SplitAnnexB(const uint8_t* data, size_t size);

}  // namespace ck
