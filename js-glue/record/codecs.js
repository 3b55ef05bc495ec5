// Codec choice for the three recording backends.
//
// MediaRecorder: the container/codec string is found by asking MediaRecorder.isTypeSupported() in the
// order of preference (VP9+Opus, VP8+Opus, H.264 in WebM, H.264 in MP4, plain WebM),
// narrowed to the codec that was asked for; without audio the ",opus" part is left out so the file does
// not announce an audio codec it will never carry.
//
// WebCodecs: the codec strings VideoEncoder wants ("vp8", "vp09.PP.LL.DD") and the Matroska CodecID the
// muxer writes.

/** The preference order: the best-compressing codec the browser records, most portable last. */
export const MEDIARECORDER_PREFERENCE = Object.freeze([
  'video/webm;codecs=vp9,opus',
  'video/webm;codecs=vp8,opus',
  'video/webm;codecs=h264',
  'video/mp4;codecs=h264',
  'video/webm',
]);

/**
 * In MP4 (container 'mp4'): H.264 first (what plays everywhere), then VP9 and AV1. Codec names as
 * Chromium's MediaRecorder takes them ("avc1", not "h264"; a plain "video/mp4" is VP9 + Opus there).
 */
export const MEDIARECORDER_MP4_PREFERENCE = Object.freeze([
  'video/mp4;codecs=avc1,opus',
  'video/mp4;codecs=vp9,opus',
  'video/mp4;codecs=av01,opus',
]);

const CODEC_OF = (type) => {
  const m = /codecs=([^,;]+)/.exec(type);
  return m ? m[1].toLowerCase() : null; // null: the browser's default codec
};

/**
 * MediaRecorder mime types to try, best first, for `codec` ('auto', 'vp9', 'vp8', 'h264' or, in MP4,
 * 'av1') with or without audio, in `container` 'webm' (default) or 'mp4'.
 */
export function mediaRecorderCandidates(codec = 'auto', { audio = false, container = 'webm' } = {}) {
  const prefs = container === 'mp4' ? MEDIARECORDER_MP4_PREFERENCE : MEDIARECORDER_PREFERENCE;
  let list = prefs.filter((t) => codec === 'auto' || codecOfMimeType(t) === codec);
  if (!audio) list = list.map((t) => t.replace(',opus', ''));
  // The generic "video/webm" (browser's choice of codec) only when any codec will do.
  return [...new Set(list)];
}

/**
 * The first supported MediaRecorder mime type for `codec`, or null. `isTypeSupported` defaults to
 * MediaRecorder.isTypeSupported (a parameter so the choice can be tested without a browser).
 */
export function pickMediaRecorderType(codec = 'auto', { audio = false, container = 'webm', isTypeSupported } = {}) {
  const probe = isTypeSupported || (typeof MediaRecorder === 'function' && MediaRecorder.isTypeSupported
    ? (t) => MediaRecorder.isTypeSupported(t) : null);
  if (!probe) return null;
  for (const t of mediaRecorderCandidates(codec, { audio, container })) {
    try {
      if (probe(t)) return t;
    } catch {
      // an odd type string some browser refuses to parse: try the next
    }
  }
  return null;
}

/** The codec a MediaRecorder mime type records ('vp9', 'vp8', 'h264', or null when unknown). */
export function codecOfMimeType(type) {
  const c = CODEC_OF(type || '');
  if (!c) return null;
  if (c.startsWith('vp09') || c === 'vp9') return 'vp9';
  if (c.startsWith('vp8')) return 'vp8';
  if (c.startsWith('avc1') || c.startsWith('avc3') || c === 'h264') return 'h264';
  if (c.startsWith('av01')) return 'av1';
  return c;
}

/** WebCodecs codec string: VP9 profile 0, level from the frame size and rate, 8-bit. */
export function webCodecsCodecString(codec, width, height, fps) {
  if (codec === 'vp8') return 'vp8';
  const pixels = width * height;
  // H.264 (MP4 only): Constrained Baseline 3.1 up to 720p30, High 4.0 up to 1080p30, High 5.1 above.
  if (codec === 'h264') return pixels <= 921600 && pixels * fps <= 27_648_000 ? 'avc1.42001f' : pixels <= 2_097_152 && pixels * fps <= 62_914_560 ? 'avc1.640028' : 'avc1.640033';
  if (codec === 'av1') { // Main profile, 8-bit; seq_level_idx by picture size (AV1 spec, Annex A.3)
    const idx = [[147456, 0], [278784, 1], [665856, 4], [1065024, 5], [2359296, 8], [8912896, 12]].find(([n]) => pixels <= n)?.[1] ?? 16;
    return `av01.0.${String(idx).padStart(2, '0')}M.08`;
  }
  // VP9 levels (max luma picture size, max luma sample rate) from the VP9 spec, Annex A.
  const levels = [
    [10, 36864, 829440], [11, 73728, 2764800], [20, 122880, 4608000], [21, 245760, 9216000],
    [30, 552960, 20736000], [31, 983040, 36864000], [40, 2228224, 83558400], [41, 2228224, 160432128],
    [50, 8912896, 311951360], [51, 8912896, 588251136], [52, 8912896, 1176502272],
    [60, 35651584, 1176502272], [61, 35651584, 2353004544], [62, 35651584, 4706009088],
  ];
  const size = width * height;
  const rate = size * fps;
  const level = (levels.find(([, s, r]) => size <= s && rate <= r) || levels[levels.length - 1])[0];
  return `vp09.00.${String(level).padStart(2, '0')}.08`;
}

/** The Matroska CodecID of a codec. */
export function matroskaCodecId(codec) {
  return codec === 'vp9' ? 'V_VP9' : codec === 'vp8' ? 'V_VP8' : null;
}
