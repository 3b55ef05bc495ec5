#include "video/vpx_encoder.h"

#include <cmath>
#include <cstdlib>
#include <string>

#include "vpx/vp8cx.h"
#include "vpx/vpx_encoder.h"

namespace ck {

const char* VideoCodecName(VideoCodec c) { return c == VideoCodec::kVp9 ? "vp9" : "vp8"; }

int DefaultSpeed(VideoCodec c) { return c == VideoCodec::kVp9 ? 8 : -6; }

namespace {

std::string Num(double v) {
  std::string s = std::to_string(v);
  s.erase(s.find_last_not_of('0') + 1);
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

Status VpxError(vpx_codec_ctx_t* ctx, const char* what) {
  std::string m = std::string("video encoder: ") + what + ": " + vpx_codec_error(ctx);
  if (const char* d = vpx_codec_error_detail(ctx)) m += std::string(" (") + d + ")";
  return Status::FailedPrecondition(m);
}

}  // namespace

Status CheckEncoderOptions(const VpxEncoderOptions& o) {
  const char* codec = VideoCodecName(o.codec);
  if (o.width < kMinVideoSide || o.height < kMinVideoSide || o.width > kMaxVideoSide || o.height > kMaxVideoSide)
    return Status::OutOfRange("video: width and height must be between " + std::to_string(kMinVideoSide) + " and " +
                              std::to_string(kMaxVideoSide) + ", got " + std::to_string(o.width) + "x" +
                              std::to_string(o.height));
  if (!(o.fps >= kMinFps && o.fps <= kMaxFps))
    return Status::OutOfRange("video: fps must be between " + Num(kMinFps) + " and " + Num(kMaxFps) + ", got " +
                              Num(o.fps));
  if (o.bitrate < kMinBitrate || o.bitrate > kMaxBitrate)
    return Status::OutOfRange("video: bitrate must be between " + std::to_string(kMinBitrate) + " and " +
                              std::to_string(kMaxBitrate) + " bits per second, got " + std::to_string(o.bitrate));
  if (o.keyframe_interval < 1 || o.keyframe_interval > kMaxKeyframeInterval)
    return Status::OutOfRange("video: keyframeInterval must be between 1 and " + std::to_string(kMaxKeyframeInterval) +
                              " frames, got " + std::to_string(o.keyframe_interval));
  const int lo = o.codec == VideoCodec::kVp9 ? 5 : -16;
  const int hi = o.codec == VideoCodec::kVp9 ? 9 : 16;
  if (o.speed < lo || o.speed > hi)
    return Status::OutOfRange(std::string("video: speed for ") + codec + " must be between " + std::to_string(lo) +
                              " and " + std::to_string(hi) + ", got " + std::to_string(o.speed));
  return Status::Ok();
}

struct VpxEncoder::Impl {
  vpx_codec_ctx_t ctx{};
  vpx_image_t image{};
  bool inited = false;
  ~Impl() {
    if (inited) vpx_codec_destroy(&ctx);
  }
};

VpxEncoder::VpxEncoder() = default;
VpxEncoder::~VpxEncoder() = default;

Status VpxEncoder::Open(const VpxEncoderOptions& o) {
  if (impl_) return Status::FailedPrecondition("video encoder: already open");
  Status s = CheckEncoderOptions(o);
  if (!s.ok()) return s;

  vpx_codec_iface_t* iface = o.codec == VideoCodec::kVp9 ? vpx_codec_vp9_cx() : vpx_codec_vp8_cx();
  vpx_codec_enc_cfg_t cfg;
  if (vpx_codec_enc_config_default(iface, &cfg, 0) != VPX_CODEC_OK)
    return Status::FailedPrecondition("video encoder: libvpx has no default configuration");
  cfg.g_w = unsigned(o.width);
  cfg.g_h = unsigned(o.height);
  cfg.g_timebase.num = 1;  // pts in microseconds
  cfg.g_timebase.den = 1000000;
  cfg.g_threads = 1;
  cfg.g_pass = VPX_RC_ONE_PASS;
  cfg.g_lag_in_frames = 0;
  cfg.g_error_resilient = 0;
  cfg.rc_end_usage = o.rate_control == RateControl::kCbr ? VPX_CBR : VPX_VBR;
  cfg.rc_target_bitrate = unsigned((o.bitrate + 500) / 1000);  // kbit/s
  cfg.rc_dropframe_thresh = 0;
  cfg.rc_resize_allowed = 0;
  cfg.kf_mode = VPX_KF_AUTO;
  cfg.kf_min_dist = 0;
  cfg.kf_max_dist = unsigned(o.keyframe_interval);

  auto impl = std::make_unique<Impl>();
  if (vpx_codec_enc_init(&impl->ctx, iface, &cfg, 0) != VPX_CODEC_OK) {
    Status e = VpxError(&impl->ctx, "cannot start");
    vpx_codec_destroy(&impl->ctx);
    return e;
  }
  impl->inited = true;
  if (vpx_codec_control(&impl->ctx, VP8E_SET_CPUUSED, o.speed) != VPX_CODEC_OK)
    return VpxError(&impl->ctx, "cannot set speed");
  if (o.codec == VideoCodec::kVp9) {
    // Single tile column and no row multithreading: one thread, identical output everywhere.
    if (vpx_codec_control(&impl->ctx, VP9E_SET_TILE_COLUMNS, 0) != VPX_CODEC_OK ||
        vpx_codec_control(&impl->ctx, VP9E_SET_ROW_MT, 0) != VPX_CODEC_OK)
      return VpxError(&impl->ctx, "cannot configure VP9");
  }
  // The picture descriptor; its planes point at the caller's memory for each Encode().
  vpx_img_wrap(&impl->image, VPX_IMG_FMT_I420, unsigned(o.width), unsigned(o.height), 1,
               reinterpret_cast<unsigned char*>(1));
  impl_ = std::move(impl);
  options_ = o;
  return Status::Ok();
}

Status VpxEncoder::Drain(const OnFrame& on_frame) {
  vpx_codec_iter_t iter = nullptr;
  while (const vpx_codec_cx_pkt_t* pkt = vpx_codec_get_cx_data(&impl_->ctx, &iter)) {
    if (pkt->kind != VPX_CODEC_CX_FRAME_PKT) continue;
    EncodedFrame f{static_cast<const uint8_t*>(pkt->data.frame.buf), pkt->data.frame.sz,
                   (pkt->data.frame.flags & VPX_FRAME_IS_KEY) != 0, int64_t(pkt->data.frame.pts)};
    Status s = on_frame(f);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

Status VpxEncoder::Encode(const I420Planes& p, int64_t pts_us, int64_t duration_us, bool force_keyframe,
                          const OnFrame& on_frame) {
  if (!impl_) return Status::FailedPrecondition("video encoder: not open");
  if (!p.y || !p.u || !p.v || std::abs(p.y_stride) < options_.width || std::abs(p.uv_stride) < (options_.width + 1) / 2)
    return Status::InvalidArgument("video encoder: bad I420 planes");
  vpx_image_t& img = impl_->image;
  img.planes[VPX_PLANE_Y] = const_cast<unsigned char*>(p.y);
  img.planes[VPX_PLANE_U] = const_cast<unsigned char*>(p.u);
  img.planes[VPX_PLANE_V] = const_cast<unsigned char*>(p.v);
  img.stride[VPX_PLANE_Y] = p.y_stride;
  img.stride[VPX_PLANE_U] = p.uv_stride;
  img.stride[VPX_PLANE_V] = p.uv_stride;
  const vpx_enc_frame_flags_t flags = force_keyframe ? VPX_EFLAG_FORCE_KF : 0;
  if (vpx_codec_encode(&impl_->ctx, &img, pts_us, (unsigned long)(duration_us > 0 ? duration_us : 1), flags,
                       VPX_DL_REALTIME) != VPX_CODEC_OK)
    return VpxError(&impl_->ctx, "encoding failed");
  return Drain(on_frame);
}

Status VpxEncoder::Flush(const OnFrame& on_frame) {
  if (!impl_) return Status::FailedPrecondition("video encoder: not open");
  if (vpx_codec_encode(&impl_->ctx, nullptr, 0, 1, 0, VPX_DL_REALTIME) != VPX_CODEC_OK)
    return VpxError(&impl_->ctx, "flush failed");
  return Drain(on_frame);
}

}  // namespace ck
