#include "video/mp4_sample_entry.h"

#include <cmath>
#include <cstdlib>
#include <cstring>

namespace ck {
namespace {

std::vector<std::string> SplitDots(const std::string& s) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t dot = s.find('.', start);
    parts.push_back(s.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) return parts;
    start = dot + 1;
  }
}

// A decimal field of a codec string: `digits` digits exactly, within [lo, hi].
bool DecimalField(const std::string& s, size_t digits, int lo, int hi, int* out) {
  if (s.size() != digits) return false;
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  if (v < lo || v > hi) return false;
  *out = v;
  return true;
}

std::string Hex2(int v) {
  static const char kHex[] = "0123456789abcdef";
  return std::string{kHex[(v >> 4) & 15], kHex[v & 15]};
}

std::string Dec2(int v) { return std::string{char('0' + (v / 10) % 10), char('0' + v % 10)}; }

// VP9 levels (VP9 bitstream spec, Annex A): the smallest whose picture size and sample rate fit.
int Vp9Level(int width, int height, double fps) {
  struct L { int level; double samples, rate; };
  static const L kLevels[] = {{10, 36864, 829440},        {11, 73728, 2764800},      {20, 122880, 4608000},
                              {21, 245760, 9216000},      {30, 552960, 20736000},    {31, 983040, 36864000},
                              {40, 2228224, 83558400},    {41, 2228224, 160432128},  {50, 8912896, 311951360},
                              {51, 8912896, 588251136},   {52, 8912896, 1176502272}, {60, 35651584, 1176502272},
                              {61, 35651584, 2353004544}, {62, 35651584, 4706009088}};
  const double samples = double(width) * height;
  for (const L& l : kLevels)
    if (samples <= l.samples && samples * fps <= l.rate) return l.level;
  return 62;
}

// AV1 seq_level_idx (AV1 spec, Annex A.3) by picture size: 2.0, 2.1, 3.0, 3.1, 4.0, 5.0, 6.0.
int Av1LevelIdx(int width, int height) {
  const double samples = double(width) * height;
  if (samples <= 147456) return 0;
  if (samples <= 278784) return 1;
  if (samples <= 665856) return 4;
  if (samples <= 1065024) return 5;
  if (samples <= 2359296) return 8;
  if (samples <= 8912896) return 12;
  return 16;
}

// Reads an AV1 OBU header at p (size bytes left): its type, header length and payload length.
bool ReadObu(const uint8_t* p, size_t size, int* type, size_t* header, size_t* payload) {
  if (size < 1 || (p[0] & 0x80)) return false;  // forbidden bit
  *type = (p[0] >> 3) & 15;
  const bool ext = p[0] & 4, has_size = p[0] & 2;
  size_t h = ext ? 2 : 1;
  if (h > size) return false;
  if (!has_size) {
    *header = h;
    *payload = size - h;
    return true;
  }
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) {
    if (h >= size) return false;
    const uint8_t b = p[h++];
    v |= uint64_t(b & 0x7f) << (7 * i);
    if (!(b & 0x80)) {
      if (v > size - h) return false;
      *header = h;
      *payload = size_t(v);
      return true;
    }
  }
  return false;
}

constexpr int kObuSequenceHeader = 1, kObuTemporalDelimiter = 2, kObuPadding = 15;

// Exp-Golomb reader over an H.264 RBSP (emulation prevention bytes removed first).
class BitReader {
 public:
  BitReader(const uint8_t* nal, size_t size) {
    for (size_t i = 0; i < size; ++i) {
      if (i >= 2 && nal[i] == 3 && nal[i - 1] == 0 && nal[i - 2] == 0) continue;
      rbsp_.push_back(nal[i]);
    }
  }
  bool Bit(uint32_t* b) {
    if (pos_ >= rbsp_.size() * 8) return false;
    *b = (rbsp_[pos_ / 8] >> (7 - pos_ % 8)) & 1;
    ++pos_;
    return true;
  }
  bool Skip(size_t n) {
    pos_ += n;
    return pos_ <= rbsp_.size() * 8;
  }
  bool Ue(uint32_t* v) {
    int zeros = 0;
    uint32_t b = 0;
    while (true) {
      if (!Bit(&b)) return false;
      if (b) break;
      if (++zeros > 31) return false;
    }
    uint32_t x = 0;
    for (int i = 0; i < zeros; ++i) {
      if (!Bit(&b)) return false;
      x = (x << 1) | b;
    }
    *v = (1u << zeros) - 1 + x;
    return true;
  }

 private:
  std::vector<uint8_t> rbsp_;
  size_t pos_ = 0;
};

bool IsHighProfile(int p) { return p == 100 || p == 110 || p == 122 || p == 144 || p == 244 || p == 44; }

const int kAacRates[] = {96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350};

void WriteDescriptor(Mp4BoxWriter* w, uint8_t tag, size_t length) {
  w->U8(tag);
  w->U8(uint8_t(length));  // every descriptor here is under 128 bytes (checked in InitAudio)
}

}  // namespace

std::vector<std::pair<const uint8_t*, size_t>> SplitAnnexB(const uint8_t* data, size_t size) {
  std::vector<std::pair<const uint8_t*, size_t>> nals;
  size_t i = 0, start = SIZE_MAX;
  while (i + 3 <= size) {
    if (data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1) {
      if (start != SIZE_MAX) {
        size_t end = i;
        while (end > start && data[end - 1] == 0) --end;  // trailing_zero_8bits / a 4-byte start code
        nals.emplace_back(data + start, end - start);
      }
      i += 3;
      start = i;
    } else {
      ++i;
    }
  }
  if (start != SIZE_MAX && start < size) nals.emplace_back(data + start, size - start);
  return nals;
}

Status Mp4SampleEntry::InitVideo(const std::string& codec, int width, int height, double fps,
                                 const std::vector<uint8_t>& description) {
  width_ = width;
  height_ = height;
  if (width < 1 || width > 65535 || height < 1 || height > 65535)
    return Status::OutOfRange("mp4: video size " + std::to_string(width) + "x" + std::to_string(height) +
                              " does not fit a sample entry");
  if (description.size() > kMaxMp4DescriptionBytes)
    return Status::OutOfRange("mp4: the codec description is " + std::to_string(description.size()) +
                              " bytes, at most " + std::to_string(kMaxMp4DescriptionBytes));
  const std::vector<std::string> f = SplitDots(codec);
  const std::string& fourcc = f[0];
  if (fourcc == "vp8" || fourcc == "vp08")
    return Status::InvalidArgument("mp4: VP8 cannot be stored in MP4 (use VP9, AV1 or H.264, or a WebM container)");
  if (fourcc == "h264" || fourcc == "avc1" || fourcc == "avc3") {
    codec_ = Mp4Codec::kH264;
    if (fourcc != "h264" && (f.size() != 2 || f[1].size() != 6 || f[1].find_first_not_of("0123456789abcdefABCDEF") != std::string::npos))
      return Status::InvalidArgument("mp4: H.264 codec string \"" + codec + "\" is not avc1.PPCCLL");
    if (description.empty()) {
      annexb_ = true;  // the avcC comes from the first key frame's SPS and PPS
      return Status::Ok();
    }
    const std::vector<uint8_t>& d = description;
    if (d.size() < 7 || d[0] != 1)
      return Status::InvalidArgument("mp4: the H.264 description is not an AVCDecoderConfigurationRecord (version 1)");
    nal_length_size_ = (d[4] & 3) + 1;
    if (nal_length_size_ == 3) return Status::InvalidArgument("mp4: the avcC's NAL length size 3 is not allowed");
    size_t at = 6;
    const int sps_count = d[5] & 31;
    for (int k = 0; k < 2; ++k) {
      int n = k == 0 ? sps_count : (at < d.size() ? d[at++] : -1);
      if (n < 0) return Status::InvalidArgument("mp4: the avcC ends before its PPS count");
      for (int i = 0; i < n; ++i) {
        if (at + 2 > d.size()) return Status::InvalidArgument("mp4: the avcC ends inside its parameter sets");
        const size_t len = size_t(d[at]) << 8 | d[at + 1];
        at += 2 + len;
        if (at > d.size()) return Status::InvalidArgument("mp4: a parameter set runs past the end of the avcC");
      }
    }
    if (sps_count == 0) return Status::InvalidArgument("mp4: the avcC has no SPS");
    avcc_ = description;
    return Status::Ok();
  }
  if (fourcc == "vp9" || fourcc == "vp09") {
    codec_ = Mp4Codec::kVp9;
    if (fourcc == "vp9") {
      vp9_level_ = Vp9Level(width, height, fps);
      return Status::Ok();
    }
    static const int kLevels[] = {10, 11, 20, 21, 30, 31, 40, 41, 50, 51, 52, 60, 61, 62};
    bool level_ok = false;
    if (f.size() < 4 || !DecimalField(f[1], 2, 0, 3, &vp9_profile_) || !DecimalField(f[2], 2, 10, 62, &vp9_level_) ||
        !DecimalField(f[3], 2, 8, 12, &bit_depth_) || (bit_depth_ != 8 && bit_depth_ != 10 && bit_depth_ != 12))
      return Status::InvalidArgument("mp4: VP9 codec string \"" + codec + "\" is not vp09.PP.LL.DD");
    for (int l : kLevels) level_ok |= l == vp9_level_;
    if (!level_ok) return Status::InvalidArgument("mp4: VP9 level " + f[2] + " in \"" + codec + "\" does not exist");
    return Status::Ok();
  }
  if (fourcc == "av1" || fourcc == "av01") {
    codec_ = Mp4Codec::kAv1;
    if (!description.empty()) {
      if (description.size() < 4 || description[0] != 0x81)
        return Status::InvalidArgument("mp4: the AV1 description is not an AV1CodecConfigurationRecord (marker 1, version 1)");
      av1c_ = description;
      return Status::Ok();
    }
    int profile = 0, level = Av1LevelIdx(width, height), depth = 8, mono = 0, ssx = 1, ssy = 1, csp = 0;
    bool high_tier = false;
    if (fourcc == "av01") {
      if (f.size() < 4 || !DecimalField(f[1], 1, 0, 2, &profile) || f[2].size() != 3 ||
          !DecimalField(f[2].substr(0, 2), 2, 0, 31, &level) || (f[2][2] != 'M' && f[2][2] != 'H') ||
          !DecimalField(f[3], 2, 8, 12, &depth) || (depth != 8 && depth != 10 && depth != 12))
        return Status::InvalidArgument("mp4: AV1 codec string \"" + codec + "\" is not av01.P.LLT.DD");
      high_tier = f[2][2] == 'H';
      if (f.size() > 4 && !DecimalField(f[4], 1, 0, 1, &mono))
        return Status::InvalidArgument("mp4: AV1 codec string \"" + codec + "\" has a bad monochrome field");
      if (f.size() > 5) {
        if (f[5].size() != 3 || !DecimalField(f[5].substr(0, 1), 1, 0, 1, &ssx) ||
            !DecimalField(f[5].substr(1, 1), 1, 0, 1, &ssy) || !DecimalField(f[5].substr(2, 1), 1, 0, 3, &csp))
          return Status::InvalidArgument("mp4: AV1 codec string \"" + codec + "\" has a bad chroma subsampling field");
      }
    }
    av1c_ = {0x81, uint8_t(profile << 5 | level),
             uint8_t((high_tier ? 0x80 : 0) | (depth > 8 ? 0x40 : 0) | (depth == 12 ? 0x20 : 0) | mono << 4 | ssx << 3 |
                     ssy << 2 | csp),
             0};
    av1_needs_obu_ = true;  // the sequence header OBU comes from the first key frame
    return Status::Ok();
  }
  return Status::InvalidArgument("mp4: unknown video codec \"" + codec +
                                 "\" (MP4 takes avc1.PPCCLL / h264, vp09.PP.LL.DD / vp9, av01.P.LLT.DD / av1)");
}

Status Mp4SampleEntry::InitAudio(const std::string& codec, int sample_rate, int channels, int pre_skip,
                                 const std::vector<uint8_t>& description) {
  sample_rate_ = sample_rate;
  channels_ = channels;
  if (codec == "opus") {
    codec_ = Mp4Codec::kOpus;
    if (!description.empty()) {
      if (description.size() > kMaxOpusHeadSize)
        return Status::InvalidArgument("mp4: the Opus description is " + std::to_string(description.size()) +
                                       " bytes, an OpusHead is at most " + std::to_string(kMaxOpusHeadSize));
      Status s = ParseOpusHead(description.data(), description.size(), &opus_);
      if (!s.ok()) return Status::InvalidArgument("mp4: the Opus description is not an OpusHead: " + s.message());
      if (opus_.channels != channels)
        return Status::InvalidArgument("mp4: the OpusHead has " + std::to_string(opus_.channels) +
                                       " channels but the audio track " + std::to_string(channels));
      opus_head_ = description;
      return Status::Ok();
    }
    if (channels != 1 && channels != 2)
      return Status::OutOfRange("mp4: Opus channels must be 1 or 2 without an OpusHead, got " + std::to_string(channels));
    if (pre_skip < 0 || pre_skip > 65535)
      return Status::OutOfRange("mp4: Opus pre-skip must be within 0..65535 samples, got " + std::to_string(pre_skip));
    opus_.channels = channels;
    opus_.pre_skip = pre_skip;
    opus_.input_sample_rate = sample_rate;
    opus_head_ = BuildOpusHead(opus_);
    return Status::Ok();
  }
  if (codec == "aac" || codec == "mp4a.40.2" || codec == "mp4a.40.5" || codec == "mp4a.40.29") {
    codec_ = Mp4Codec::kAac;
    if (channels < 1 || channels > 7)
      return Status::OutOfRange("mp4: AAC channels must be 1..7, got " + std::to_string(channels));
    int rate_index = -1;
    for (int i = 0; i < 13; ++i)
      if (kAacRates[i] == sample_rate) rate_index = i;
    if (rate_index < 0 || sample_rate > 65535)
      return Status::OutOfRange("mp4: AAC sample rate " + std::to_string(sample_rate) + " is not one MP4 can declare");
    if (!description.empty()) {
      if (description.size() < 2 || description.size() > 64)
        return Status::InvalidArgument("mp4: the AAC description (AudioSpecificConfig) must be 2..64 bytes, got " +
                                       std::to_string(description.size()));
      asc_ = description;
    } else {
      const uint16_t asc = uint16_t(2 << 11 | rate_index << 7 | channels << 3);  // AAC-LC
      asc_ = {uint8_t(asc >> 8), uint8_t(asc)};
    }
    return Status::Ok();
  }
  return Status::InvalidArgument("mp4: unknown audio codec \"" + codec + "\" (MP4 takes opus or aac / mp4a.40.2)");
}

bool Mp4SampleEntry::complete() const {
  if (codec_ == Mp4Codec::kH264) return !avcc_.empty();
  if (codec_ == Mp4Codec::kAv1) return !av1_needs_obu_;
  return true;
}

Status Mp4SampleEntry::BuildAvcC(const uint8_t* sps, size_t sps_size, const uint8_t* pps, size_t pps_size) {
  if (sps_size < 4 || sps_size > 65535 || pps_size < 1 || pps_size > 65535)
    return Status::CorruptData("mp4: the H.264 key frame's SPS or PPS has an impossible size");
  std::vector<uint8_t>& c = avcc_;
  c = {1, sps[1], sps[2], sps[3], 0xff, 0xe1, uint8_t(sps_size >> 8), uint8_t(sps_size)};
  c.insert(c.end(), sps, sps + sps_size);
  c.push_back(1);
  c.push_back(uint8_t(pps_size >> 8));
  c.push_back(uint8_t(pps_size));
  c.insert(c.end(), pps, pps + pps_size);
  if (IsHighProfile(sps[1])) {
    // chroma_format_idc and bit depths follow seq_parameter_set_id in the SPS (ISO/IEC 14496-15 5.3.3.1.2).
    BitReader r(sps + 4, sps_size - 4);
    uint32_t id = 0, chroma = 1, luma8 = 0, chroma8 = 0, sep = 0;
    if (!r.Ue(&id) || !r.Ue(&chroma) || chroma > 3 || (chroma == 3 && !r.Bit(&sep)) || !r.Ue(&luma8) ||
        !r.Ue(&chroma8) || luma8 > 6 || chroma8 > 6)
      return Status::CorruptData("mp4: the H.264 SPS (high profile) cannot be read");
    c.push_back(uint8_t(0xfc | chroma));
    c.push_back(uint8_t(0xf8 | luma8));
    c.push_back(uint8_t(0xf8 | chroma8));
    c.push_back(0);  // no SPS extensions
  }
  nal_length_size_ = 4;
  return Status::Ok();
}

Status Mp4SampleEntry::CompleteFromKeyframe(const uint8_t* data, size_t size) {
  if (complete()) return Status::Ok();
  if (codec_ == Mp4Codec::kH264) {
    const uint8_t *sps = nullptr, *pps = nullptr;
    size_t sps_size = 0, pps_size = 0;
    for (auto [p, n] : SplitAnnexB(data, size)) {
      if (n == 0) continue;
      const int type = p[0] & 31;
      if (type == 7 && !sps) sps = p, sps_size = n;
      if (type == 8 && !pps) pps = p, pps_size = n;
    }
    if (!sps || !pps)
      return Status::InvalidArgument(
          "mp4: the first H.264 key frame carries no SPS and PPS in Annex B (give the encoder's avcC description, "
          "or frames with 00 00 01 start codes and in-band parameter sets)");
    return BuildAvcC(sps, sps_size, pps, pps_size);
  }
  // AV1: the first sequence header OBU becomes the av1C's configOBUs.
  size_t at = 0;
  while (at < size) {
    int type = 0;
    size_t header = 0, payload = 0;
    if (!ReadObu(data + at, size - at, &type, &header, &payload))
      return Status::CorruptData("mp4: the first AV1 key frame is not a sequence of OBUs");
    if (type == kObuSequenceHeader) {
      const size_t n = header + payload;
      if (!(data[at] & 2)) {  // configOBUs need a size field: write one
        av1c_.push_back(uint8_t(data[at] | 2));
        if (header == 2) av1c_.push_back(data[at + 1]);
        size_t v = payload;
        do {
          uint8_t b = v & 0x7f;
          v >>= 7;
          av1c_.push_back(uint8_t(b | (v ? 0x80 : 0)));
        } while (v);
        av1c_.insert(av1c_.end(), data + at + header, data + at + n);
      } else {
        av1c_.insert(av1c_.end(), data + at, data + at + n);
      }
      av1_needs_obu_ = false;
      return Status::Ok();
    }
    at += header + payload;
  }
  return Status::InvalidArgument("mp4: the first AV1 key frame has no sequence header OBU");
}

Status Mp4SampleEntry::FrameSample(const uint8_t* data, size_t size, std::vector<uint8_t>* out) const {
  out->clear();
  if (codec_ == Mp4Codec::kH264 && annexb_) {
    for (auto [p, n] : SplitAnnexB(data, size)) {
      if (n == 0 || (p[0] & 31) == 9) continue;  // empty, or an access unit delimiter
      const uint32_t len = uint32_t(n);
      out->push_back(uint8_t(len >> 24));
      out->push_back(uint8_t(len >> 16));
      out->push_back(uint8_t(len >> 8));
      out->push_back(uint8_t(len));
      out->insert(out->end(), p, p + n);
    }
    if (out->empty()) return Status::CorruptData("mp4: an H.264 frame holds no NAL unit after a 00 00 01 start code");
    return Status::Ok();
  }
  if (codec_ == Mp4Codec::kH264) {
    size_t at = 0;
    while (at < size) {
      if (at + size_t(nal_length_size_) > size)
        return Status::CorruptData("mp4: an H.264 frame ends inside a NAL length (the avcC says " +
                                   std::to_string(nal_length_size_) + "-byte lengths)");
      size_t len = 0;
      for (int i = 0; i < nal_length_size_; ++i) len = len << 8 | data[at + size_t(i)];
      at += size_t(nal_length_size_);
      if (len == 0 || len > size - at)
        return Status::CorruptData(
            "mp4: an H.264 frame is not length-prefixed NAL units as its avcC description says (a NAL of " +
            std::to_string(len) + " bytes at byte " + std::to_string(at) + " of " + std::to_string(size) +
            "; Annex B frames come without a description)");
      at += len;
    }
    out->assign(data, data + size);
    return Status::Ok();
  }
  if (codec_ == Mp4Codec::kAv1) {
    size_t at = 0;
    while (at < size) {
      int type = 0;
      size_t header = 0, payload = 0;
      if (!ReadObu(data + at, size - at, &type, &header, &payload))
        return Status::CorruptData("mp4: an AV1 frame is not a sequence of OBUs (byte " + std::to_string(at) + ")");
      if (type != kObuTemporalDelimiter && type != kObuPadding)
        out->insert(out->end(), data + at, data + at + header + payload);
      at += header + payload;
    }
    if (out->empty()) return Status::CorruptData("mp4: an AV1 frame holds nothing but temporal delimiters");
    return Status::Ok();
  }
  if (codec_ == Mp4Codec::kAac && size >= 2 && data[0] == 0xff && (data[1] & 0xf0) == 0xf0)
    return Status::InvalidArgument("mp4: AAC packets must be raw frames, not ADTS (this one starts with a sync word)");
  out->assign(data, data + size);
  return Status::Ok();
}

uint32_t Mp4SampleEntry::timescale() const {
  if (is_video()) return kMp4VideoTimescale;
  if (codec_ == Mp4Codec::kOpus) return uint32_t(kOpusPlaybackRate);
  return uint32_t(sample_rate_);
}

Status Mp4SampleEntry::PacketDuration(const uint8_t* data, size_t size, uint32_t* ticks) const {
  *ticks = 0;
  if (codec_ == Mp4Codec::kOpus) {
    int samples = 0;
    Status s = OpusPacketSamples(data, size, &samples);
    if (!s.ok()) return s;
    *ticks = uint32_t(samples);
  } else if (codec_ == Mp4Codec::kAac) {
    *ticks = 1024;
  }
  return Status::Ok();
}

void Mp4SampleEntry::WriteVisualHeader(Mp4BoxWriter* w, const char type[4]) const {
  // VisualSampleEntry (ISO/IEC 14496-12 12.1.3)
  w->Begin(type);
  w->Zeros(6);
  w->U16(1);  // data_reference_index
  w->Zeros(16);  // pre_defined, reserved, pre_defined[3]
  w->U16(uint16_t(width_));
  w->U16(uint16_t(height_));
  w->U32(0x00480000);  // 72 dpi
  w->U32(0x00480000);
  w->U32(0);
  w->U16(1);  // frame_count
  w->Zeros(32);  // compressorname
  w->U16(0x0018);  // depth
  w->U16(0xffff);  // pre_defined = -1
}

void Mp4SampleEntry::Write(Mp4BoxWriter* w) const {
  switch (codec_) {
    case Mp4Codec::kH264:
      WriteVisualHeader(w, "avc1");
      w->Begin("avcC");
      w->Bytes(avcc_);
      w->End();
      w->End();
      return;
    case Mp4Codec::kVp9:
      WriteVisualHeader(w, "vp09");
      w->BeginFull("vpcC", 1, 0);
      w->U8(uint8_t(vp9_profile_));
      w->U8(uint8_t(vp9_level_));
      w->U8(uint8_t(bit_depth_ << 4 | 1 << 1 | 0));  // bitDepth, chromaSubsampling 1 (4:2:0 colocated), limited range
      w->U8(2);  // colour_primaries: unspecified
      w->U8(2);  // transfer_characteristics: unspecified
      w->U8(2);  // matrix_coefficients: unspecified
      w->U16(0);  // codecInitializationDataSize (must be 0 for VP9)
      w->End();
      w->End();
      return;
    case Mp4Codec::kAv1:
      WriteVisualHeader(w, "av01");
      w->Begin("av1C");
      w->Bytes(av1c_);
      w->End();
      w->End();
      return;
    case Mp4Codec::kOpus:
    case Mp4Codec::kAac: {
      // AudioSampleEntry (ISO/IEC 14496-12 12.2.3)
      const bool opus = codec_ == Mp4Codec::kOpus;
      w->Begin(opus ? "Opus" : "mp4a");
      w->Zeros(6);
      w->U16(1);  // data_reference_index
      w->Zeros(8);  // reserved
      w->U16(uint16_t(opus ? opus_.channels : channels_));
      w->U16(16);  // samplesize
      w->U32(0);  // pre_defined, reserved
      w->U32(uint32_t(opus ? kOpusPlaybackRate : sample_rate_) << 16);
      if (opus) {
        // dOps: the OpusHead's fields, big-endian, without the magic (Opus in ISO BMFF 4.3.2)
        const std::vector<uint8_t>& h = opus_head_;
        w->Begin("dOps");
        w->U8(0);  // Version
        w->U8(h[9]);  // OutputChannelCount
        w->U16(uint16_t(h[10] | h[11] << 8));  // PreSkip
        w->U32(uint32_t(h[12] | h[13] << 8 | h[14] << 16 | uint32_t(h[15]) << 24));  // InputSampleRate
        w->U16(uint16_t(h[16] | h[17] << 8));  // OutputGain
        w->U8(h[18]);  // ChannelMappingFamily
        if (h[18] != 0) w->Bytes(h.data() + 19, h.size() - 19);  // StreamCount, CoupledCount, ChannelMapping
        w->End();
      } else {
        const size_t dsi = 2 + asc_.size(), dcd = 2 + 13 + dsi, es = 2 + 3 + dcd + 3;
        w->BeginFull("esds", 0, 0);
        WriteDescriptor(w, 0x03, es - 2);  // ES_Descriptor
        w->U16(0);  // ES_ID
        w->U8(0);  // no dependency, URL or OCR stream
        WriteDescriptor(w, 0x04, dcd - 2);  // DecoderConfigDescriptor
        w->U8(0x40);  // Audio ISO/IEC 14496-3
        w->U8(0x15);  // streamType 5 (audio), upStream 0, reserved 1
        w->U24(0);  // bufferSizeDB
        w->U32(0);  // maxBitrate
        w->U32(0);  // avgBitrate
        WriteDescriptor(w, 0x05, asc_.size());  // DecoderSpecificInfo: the AudioSpecificConfig
        w->Bytes(asc_);
        WriteDescriptor(w, 0x06, 1);  // SLConfigDescriptor
        w->U8(2);  // predefined: MP4
        w->End();
      }
      w->End();
      return;
    }
  }
}

std::string Mp4SampleEntry::CodecString() const {
  switch (codec_) {
    case Mp4Codec::kH264:
      if (avcc_.size() < 4) return "avc1";
      return "avc1." + Hex2(avcc_[1]) + Hex2(avcc_[2]) + Hex2(avcc_[3]);
    case Mp4Codec::kVp9:
      return "vp09." + Dec2(vp9_profile_) + "." + Dec2(vp9_level_) + "." + Dec2(bit_depth_);
    case Mp4Codec::kAv1: {
      const int profile = av1c_[1] >> 5, level = av1c_[1] & 31;
      const bool tier = av1c_[2] & 0x80, high = av1c_[2] & 0x40, twelve = av1c_[2] & 0x20;
      return "av01." + std::to_string(profile) + "." + Dec2(level) + (tier ? "H" : "M") + "." +
             (twelve ? "12" : high ? "10" : "08");
    }
    case Mp4Codec::kOpus:
      return "opus";
    case Mp4Codec::kAac:
      return "mp4a.40." + std::to_string(asc_.empty() ? 2 : asc_[0] >> 3);
  }
  return "";
}

}  // namespace ck
