// createRecorder's options: checked and filled in before anything starts (a TypeError or RangeError that
// says what was wrong). `kind` is the source's: 'canvas', 'xr', 'stream' or 'frames' (null source).
import { checkEnum, checkNumber, describe } from '../validate.js';
import { VIDEO_LIMITS } from '../video/video-writer.js';

const W = 'createRecorder';
const BACKENDS = ['auto', 'wasm', 'webcodecs', 'mediarecorder'];
const OPTION_KEYS = new Set(['backend', 'codec', 'fps', 'bitrate', 'keyframeInterval', 'speed', 'size', 'frames', 'timing',
  'maxQueuedFrames', 'ondata', 'onbackpressure', 'onerror', 'worker', 'readback', 'metadata', 'frameMetadata',
  'gl', 'referenceSpace', 'view', 'binding', 'context', 'timeslice', 'audio', 'audioBitrate', 'stopTracks', 'repair', 'sessionMode', 'container']);
export const RECORDER_LIMITS = Object.freeze({ maxQueuedFrames: 1024, minTimeslice: 10, maxTimeslice: 3_600_000, minAudioBitrate: 6000, maxAudioBitrate: 510_000 });

export { describe }; // one describe() for every message (validate.js); frame-intake, user-media and recorder import it from here

function checkAudio(audio) {
  if (audio === undefined || audio === false || audio === true) return;
  if (typeof MediaStreamTrack === 'function' && audio instanceof MediaStreamTrack) {
    if (audio.kind !== 'audio') throw new TypeError(`${W}: options.audio is a ${audio.kind} track; it must be an audio track`);
    if (audio.readyState === 'ended') throw new Error(`${W}: options.audio is a track that has already ended`);
    return;
  }
  if (typeof MediaStream === 'function' && audio instanceof MediaStream) {
    if (!audio.getAudioTracks().length) throw new TypeError(`${W}: options.audio is a MediaStream without an audio track`);
    return;
  }
  if (Array.isArray(audio) || audio === null || typeof audio !== 'object') {
    throw new TypeError(`${W}: options.audio must be true (the microphone), MediaTrackConstraints, a MediaStream or an audio MediaStreamTrack, got ${describe(audio)}`);
  }
}

/** Validates and fills in the options (throws TypeError/RangeError before anything starts). */
export function normalizeRecorderOptions(options, kind) {
  if (options === undefined) options = {};
  if (options === null || typeof options !== 'object') throw new TypeError(`${W}: options must be an object, got ${describe(options)}`);
  for (const k of Object.keys(options)) {
    if (!OPTION_KEYS.has(k)) throw new TypeError(`${W}: unknown option "${k}" (known: ${[...OPTION_KEYS].join(', ')})`);
  }
  const L = VIDEO_LIMITS;
  const o = { ...options };
  o.backend = o.backend === undefined ? 'auto' : checkEnum(o.backend, `${W}: options.backend`, BACKENDS);
  // MP4: H.264 / VP9 / AV1 from VideoEncoder (+ Opus) in capturekit's MP4 muxer (js-glue/video/mp4-muxer.js).
  o.container = o.container === undefined ? 'webm' : checkEnum(o.container, `${W}: options.container`, ['webm', 'mp4']);
  const mp4 = o.container === 'mp4';
  if (mp4) {
    // wasm: H.264 (OpenH264 in the capturekit-h264 module) or VP9 through VideoWriter's MP4.
    // mediarecorder: the browser's MP4 (fragmented), made progressive by makeSeekable at stop.
    // auto: webcodecs where VideoEncoder takes the codec, else wasm (or mediarecorder for a stream).
    if (o.backend === 'wasm' && o.codec === 'av1') throw new TypeError(`${W}: backend "wasm" has no AV1 encoder; use codec "h264" or "vp9"`);
    if (o.codec === 'vp8') throw new TypeError(`${W}: VP8 cannot be stored in MP4; use codec "h264", "vp9" or "av1", or container "webm"`);
    if (o.frameMetadata === true) throw new TypeError(`${W}: MP4 carries no per-frame metadata; use container "webm" for options.frameMetadata`);
    o.frameMetadata = false;
  }
  const codecs = o.backend === 'mediarecorder' ? (mp4 ? ['h264', 'vp9', 'av1', 'auto'] : ['vp8', 'vp9', 'h264', 'auto']) : mp4 ? ['h264', 'vp9', 'av1'] : ['vp8', 'vp9'];
  o.codec = o.codec === undefined ? (o.backend === 'mediarecorder' ? 'auto' : mp4 ? 'h264' : 'vp8') : checkEnum(o.codec, `${W}: options.codec${o.backend === 'mediarecorder' ? '' : ' (h264 needs backend "mediarecorder")'}`, codecs);
  o.fps = o.fps === undefined ? 30 : checkNumber(o.fps, `${W}: options.fps`, { min: L.minFps, max: L.maxFps });
  o.bitrate = o.bitrate === undefined ? 2_500_000 : Math.round(checkNumber(o.bitrate, `${W}: options.bitrate (bits per second)`, { min: L.minBitrate, max: L.maxBitrate }));
  if (o.keyframeInterval !== undefined) checkNumber(o.keyframeInterval, `${W}: options.keyframeInterval (frames)`, { integer: true, min: 1, max: L.maxKeyframeInterval });
  if (o.speed !== undefined) {
    if (o.backend !== 'wasm') throw new TypeError(`${W}: options.speed (libvpx cpu_used) only applies to backend "wasm"`);
    if (o.codec === 'h264') throw new TypeError(`${W}: options.speed is libvpx's (VP8/VP9); H.264 (OpenH264) has none`);
    const [lo, hi] = L.speed[o.codec];
    checkNumber(o.speed, `${W}: options.speed for ${o.codec}`, { integer: true, min: lo, max: hi });
    if (o.speed === 0) throw new RangeError(`${W}: options.speed 0 is not allowed (use a negative value for a fixed VP8 speed)`);
  }
  if (o.size !== undefined) {
    if (o.size === null || typeof o.size !== 'object') throw new TypeError(`${W}: options.size must be { width, height }, got ${describe(o.size)}`);
    checkNumber(o.size.width, `${W}: options.size.width`, { integer: true, min: L.minSide, max: L.maxSide });
    checkNumber(o.size.height, `${W}: options.size.height`, { integer: true, min: L.minSide, max: L.maxSide });
    o.size = { width: o.size.width, height: o.size.height };
  }
  if (kind === 'stream') {
    if (o.frames === 'manual') throw new TypeError(`${W}: a stream delivers its own frames; options.frames must be "auto" for a MediaStream source`);
    if (o.timing === 'fps') throw new TypeError(`${W}: a stream's frames keep their own timestamps; options.timing must be "realtime" for a MediaStream source`);
    if (o.size !== undefined) throw new TypeError(`${W}: options.size does not apply to a MediaStream source (ask the track for a size with applyConstraints)`);
    for (const k of ['readback', 'context', 'gl', 'referenceSpace', 'view', 'binding', 'sessionMode']) {
      if (o[k] !== undefined) throw new TypeError(`${W}: options.${k} does not apply to a MediaStream source`);
    }
  } else if (o.stopTracks !== undefined) {
    throw new TypeError(`${W}: options.stopTracks applies to a MediaStream source`);
  }
  if (o.stopTracks !== undefined && typeof o.stopTracks !== 'boolean') throw new TypeError(`${W}: options.stopTracks must be a boolean`);
  checkAudio(o.audio);
  o.streamAudio = o.audio !== false; // audio: false leaves a stream's own audio tracks out too
  if (o.audio === false) delete o.audio;
  if (o.audio !== undefined && kind === 'frames') throw new TypeError(`${W}: options.audio needs a canvas, an XR session or a MediaStream source (not given frames)`);
  if (o.audio !== undefined && o.timing === 'fps') throw new TypeError(`${W}: options.audio needs timing "realtime" (sound runs on the clock; frames at n / fps would drift from it)`);
  if (o.audioBitrate !== undefined) {
    o.audioBitrate = Math.round(checkNumber(o.audioBitrate, `${W}: options.audioBitrate (bits per second)`, { min: RECORDER_LIMITS.minAudioBitrate, max: RECORDER_LIMITS.maxAudioBitrate }));
  }
  o.frames = o.frames === undefined ? (kind === 'frames' ? 'manual' : 'auto') : checkEnum(o.frames, `${W}: options.frames`, ['auto', 'manual']);
  if (kind === 'frames' && o.frames === 'auto') throw new TypeError(`${W}: frames "auto" needs a canvas or an XR session to take frames from`);
  o.timing = o.timing === undefined ? ((o.frames === 'auto' && kind === 'canvas') || kind === 'stream' || o.audio !== undefined ? 'realtime' : 'fps')
    : checkEnum(o.timing, `${W}: options.timing`, ['fps', 'realtime']);
  o.maxQueuedFrames = o.maxQueuedFrames === undefined ? 8 : checkNumber(o.maxQueuedFrames, `${W}: options.maxQueuedFrames`, { integer: true, min: 1, max: RECORDER_LIMITS.maxQueuedFrames });
  for (const f of ['ondata', 'onbackpressure', 'onerror']) {
    if (o[f] !== undefined && typeof o[f] !== 'function') throw new TypeError(`${W}: options.${f} must be a function, got ${describe(o[f])}`);
  }
  if (o.worker !== undefined && typeof o.worker !== 'boolean') throw new TypeError(`${W}: options.worker must be a boolean`);
  o.readback = o.readback === undefined ? 'auto' : checkEnum(o.readback, `${W}: options.readback`, ['auto', 'sync']);
  if (o.metadata !== undefined && (o.metadata === null || typeof o.metadata !== 'object')) throw new TypeError(`${W}: options.metadata must be a plain object`);
  o.frameMetadata = o.frameMetadata === undefined ? kind === 'xr' : o.frameMetadata;
  if (typeof o.frameMetadata !== 'boolean') throw new TypeError(`${W}: options.frameMetadata must be a boolean`);
  o.timeslice = o.timeslice === undefined ? 1000 : checkNumber(o.timeslice, `${W}: options.timeslice (ms)`, { integer: true, min: RECORDER_LIMITS.minTimeslice, max: RECORDER_LIMITS.maxTimeslice });
  o.repair = o.repair === undefined ? true : o.repair;
  if (typeof o.repair !== 'boolean') throw new TypeError(`${W}: options.repair must be a boolean`);
  if (kind === 'xr') {
    if (!o.referenceSpace || typeof o.referenceSpace !== 'object') throw new TypeError(`${W}: options.referenceSpace must be the XRReferenceSpace you render with (for the poses)`);
    o.view = o.view === undefined ? 0 : o.view;
    if (!(o.view === 'both' || o.view === 'left' || o.view === 'right' || (Number.isInteger(o.view) && o.view >= 0 && o.view < 16))) {
      throw new RangeError(`${W}: options.view must be a view index, "left", "right" or "both", got ${describe(o.view)}`);
    }
    if (o.backend === 'mediarecorder') throw new TypeError(`${W}: backend "mediarecorder" records a canvas; an XR session needs backend "wasm", "webcodecs" or "auto"`);
  }
  if (kind === 'frames' && o.backend === 'mediarecorder') throw new TypeError(`${W}: backend "mediarecorder" needs a canvas source`);
  return o;
}
