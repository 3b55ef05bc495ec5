#include "h264/h264_encoder.h"

#include <cmath>
#include <cstdio>
#include <string>

#include <wels/codec_api.h>

namespace ck {

namespace {

bool IsStartCode(const uint8_t* p, size_t left, size_t* len) {
  if (left >= 4 && p[0] == 0 && p[1] == 0 && p[2] == 0 && p[3] == 1) { *len = 4; return true; }
  if (left >= 3 && p[0] == 0 && p[1] == 0 && p[2] == 1) { *len = 3; return true; }
  return false;
}

// Calls fn(nal, size) for each NAL unit of an Annex B buffer.
template <typename Fn>
void ForEachNal(const uint8_t* data, size_t size, Fn fn) {
  size_t i = 0, sc = 0;
  while (i < size && !IsStartCode(data + i, size - i, &sc)) i++;
  while (i < size) {
    size_t start = i + sc;
    size_t j = start;
    while (j < size && !IsStartCode(data + j, size - j, &sc)) j++;
    if (j > start) fn(data + start, j - start);
    i = j;
  }
}

void Put32(std::vector<uint8_t>* v, uint32_t x) {
  v->push_back(uint8_t(x >> 24)); v->push_back(uint8_t(x >> 16));
  v->push_back(uint8_t(x >> 8)); v->push_back(uint8_t(x));
}

}  // namespace

Status CheckH264Options(const H264EncoderOptions& o) {
  auto side = [](int v, const char* name) -> Status {
    if (v < kMinH264Side || v > kMaxH264Side) {
      return Status::OutOfRange(std::string("H.264 ") + name + " " + std::to_string(v) + " is outside " +
                                std::to_string(kMinH264Side) + ".." + std::to_string(kMaxH264Side));
    }
    if (v % 2) {
      return Status::InvalidArgument(std::string("H.264 ") + name + " " + std::to_string(v) +
                                     " is odd; 4:2:0 H.264 needs an even " + name);
    }
    return Status::Ok();
  };
  Status s = side(o.width, "width");
  if (!s.ok()) return s;
  s = side(o.height, "height");
  if (!s.ok()) return s;
  if (!(o.fps >= kMinH264Fps && o.fps <= kMaxH264Fps)) {
    return Status::OutOfRange("H.264 fps must be within 0.1..240");
  }
  if (o.bitrate < kMinH264Bitrate || o.bitrate > kMaxH264Bitrate) {
    return Status::OutOfRange("H.264 bitrate " + std::to_string(o.bitrate) + " is outside 10000..100000000 bits per second");
  }
  if (o.keyframe_interval < 1 || o.keyframe_interval > kMaxH264KeyframeInterval) {
    return Status::OutOfRange("H.264 keyframe interval " + std::to_string(o.keyframe_interval) + " is outside 1..100000 frames");
  }
  return Status::Ok();
}

struct H264Encoder::Impl {
  ISVCEncoder* encoder = nullptr;
  ~Impl() {
    if (encoder) {
      encoder->Uninitialize();
      WelsDestroySVCEncoder(encoder);
    }
  }
};

H264Encoder::H264Encoder() = default;
H264Encoder::~H264Encoder() = default;

void H264Encoder::Close() {
  impl_.reset();
  frames_ = 0;
}

Status H264Encoder::Open(const H264EncoderOptions& options) {
  if (impl_) return Status::FailedPrecondition("H264Encoder is already open");
  Status s = CheckH264Options(options);
  if (!s.ok()) return s;
  auto impl = std::make_unique<Impl>();
  if (WelsCreateSVCEncoder(&impl->encoder) != 0 || !impl->encoder) {
    impl->encoder = nullptr;
    return Status::ResourceExhausted("OpenH264 could not create an encoder");
  }
  int log = WELS_LOG_QUIET;
  impl->encoder->SetOption(ENCODER_OPTION_TRACE_LEVEL, &log);

  SEncParamExt p;
  impl->encoder->GetDefaultParams(&p);
  p.iUsageType = CAMERA_VIDEO_REAL_TIME;
  p.iPicWidth = options.width;
  p.iPicHeight = options.height;
  p.iTargetBitrate = int(options.bitrate);
  p.iMaxBitrate = UNSPECIFIED_BIT_RATE;
  p.iRCMode = options.rate_control == H264RateControl::kQuality ? RC_QUALITY_MODE : RC_BITRATE_MODE;
  p.fMaxFrameRate = float(options.fps);
  p.iTemporalLayerNum = 1;
  p.iSpatialLayerNum = 1;
  p.uiIntraPeriod = unsigned(options.keyframe_interval);
  p.iNumRefFrame = 1;
  p.eSpsPpsIdStrategy = CONSTANT_ID;
  p.bPrefixNalAddingCtrl = false;
  p.iEntropyCodingModeFlag = 0;  // CAVLC: Constrained Baseline
  p.bEnableFrameSkip = false;
  p.iMultipleThreadIdc = 1;
  p.bEnableDenoise = false;
  p.bEnableBackgroundDetection = false;
  p.bEnableAdaptiveQuant = true;
  p.bEnableSceneChangeDetect = false;
  p.bEnableLongTermReference = false;
  p.bEnableFrameCroppingFlag = true;
  SSpatialLayerConfig& l = p.sSpatialLayers[0];
  l.iVideoWidth = options.width;
  l.iVideoHeight = options.height;
  l.fFrameRate = float(options.fps);
  l.iSpatialBitrate = int(options.bitrate);
  l.iMaxSpatialBitrate = UNSPECIFIED_BIT_RATE;
  l.uiProfileIdc = PRO_BASELINE;
  l.uiLevelIdc = LEVEL_UNKNOWN;  // OpenH264 picks the level from size, rate and bitrate
  l.sSliceArgument.uiSliceMode = SM_SINGLE_SLICE;
  if (impl->encoder->InitializeExt(&p) != cmResultSuccess) {
    return Status::InvalidArgument("OpenH264 refused the settings (" + std::to_string(options.width) + "x" +
                                   std::to_string(options.height) + ")");
  }
  int format = videoFormatI420;
  impl->encoder->SetOption(ENCODER_OPTION_DATAFORMAT, &format);

  // SPS and PPS now, for the avcC (they are the same in front of every IDR: constant IDs).
  SFrameBSInfo info{};
  if (impl->encoder->EncodeParameterSets(&info) != cmResultSuccess) {
    return Status::ResourceExhausted("OpenH264 could not write the parameter sets");
  }
  sps_.clear();
  pps_.clear();
  for (int i = 0; i < info.iLayerNum; i++) {
    const SLayerBSInfo& layer = info.sLayerInfo[i];
    size_t len = 0;
    for (int n = 0; n < layer.iNalCount; n++) len += size_t(layer.pNalLengthInByte[n]);
    ForEachNal(layer.pBsBuf, len, [&](const uint8_t* nal, size_t size) {
      int type = nal[0] & 0x1f;
      if (type == 7 && sps_.empty()) sps_.assign(nal, nal + size);
      if (type == 8 && pps_.empty()) pps_.assign(nal, nal + size);
    });
  }
  if (sps_.size() < 4 || pps_.empty()) return Status::CorruptData("OpenH264 wrote no SPS/PPS");
  avcc_ = {1, sps_[1], sps_[2], sps_[3], 0xff, 0xe1, uint8_t(sps_.size() >> 8), uint8_t(sps_.size())};
  avcc_.insert(avcc_.end(), sps_.begin(), sps_.end());
  avcc_.push_back(1);
  avcc_.push_back(uint8_t(pps_.size() >> 8));
  avcc_.push_back(uint8_t(pps_.size()));
  avcc_.insert(avcc_.end(), pps_.begin(), pps_.end());

  options_ = options;
  frames_ = 0;
  impl_ = std::move(impl);
  return Status::Ok();
}

std::string H264Encoder::CodecString() const {
  if (sps_.size() < 4) return "avc1";
  char buf[16];
  std::snprintf(buf, sizeof buf, "avc1.%02x%02x%02x", sps_[1], sps_[2], sps_[3]);
  return buf;
}

Status H264Encoder::Encode(const H264Picture& picture, bool force_keyframe, const OnFrame& on_frame) {
  if (!impl_) return Status::FailedPrecondition("H264Encoder is not open");
  if (!picture.y || !picture.u || !picture.v) return Status::InvalidArgument("H.264 picture without planes");
  if (picture.y_stride < options_.width || picture.uv_stride < options_.width / 2) {
    return Status::InvalidArgument("H.264 picture strides are narrower than the picture");
  }
  if (force_keyframe && frames_ > 0) impl_->encoder->ForceIntraFrame(true);
  SSourcePicture pic{};
  pic.iColorFormat = videoFormatI420;
  pic.iPicWidth = options_.width;
  pic.iPicHeight = options_.height;
  pic.iStride[0] = picture.y_stride;
  pic.iStride[1] = picture.uv_stride;
  pic.iStride[2] = picture.uv_stride;
  pic.pData[0] = const_cast<uint8_t*>(picture.y);
  pic.pData[1] = const_cast<uint8_t*>(picture.u);
  pic.pData[2] = const_cast<uint8_t*>(picture.v);
  pic.uiTimeStamp = (long long)std::llround(double(frames_) * 1000.0 / options_.fps);
  SFrameBSInfo info{};
  if (impl_->encoder->EncodeFrame(&pic, &info) != cmResultSuccess) {
    return Status::ResourceExhausted("OpenH264 failed to encode frame " + std::to_string(frames_));
  }
  if (info.eFrameType == videoFrameTypeSkip || info.eFrameType == videoFrameTypeInvalid) {
    // Frame skipping is off, so this does not happen; say so rather than lose a frame silently.
    return Status::ResourceExhausted("OpenH264 skipped frame " + std::to_string(frames_));
  }
  const bool key = info.eFrameType == videoFrameTypeIDR;
  out_.clear();
  for (int i = 0; i < info.iLayerNum; i++) {
    const SLayerBSInfo& layer = info.sLayerInfo[i];
    size_t len = 0;
    for (int n = 0; n < layer.iNalCount; n++) len += size_t(layer.pNalLengthInByte[n]);
    if (options_.format == H264NalFormat::kAnnexB) {
      out_.insert(out_.end(), layer.pBsBuf, layer.pBsBuf + len);
    } else {
      ForEachNal(layer.pBsBuf, len, [&](const uint8_t* nal, size_t size) {
        int type = nal[0] & 0x1f;
        if (type == 7 || type == 8) return;  // in the avcC
        Put32(&out_, uint32_t(size));
        out_.insert(out_.end(), nal, nal + size);
      });
    }
  }
  H264Frame frame{out_.data(), out_.size(), key, frames_};
  frames_++;
  return on_frame(frame);
}

}  // namespace ck
