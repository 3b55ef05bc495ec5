// Which backend records a recording, and why (recorder.backendReason and the result's say it).
//
// Backends (options.backend):
//   wasm          frame-exact: each frame is read back (the screenshot path: readPixels right after the
//                 app drew, inside the render loop or XR frame callback), converted to I420 in wasm and
//                 encoded by libvpx in a Worker. Nothing is dropped: frames wait in a queue of at most
//                 maxQueuedFrames; when it is full the recorder reports backpressure (an event, and an
//                 Error from addFrame/captureFrame) instead of losing frames silently.
//                 A stream's frames are read back through a <video> and a 2D canvas (no WebCodecs
//                 needed; a frame of another size is scaled to the first's), its sound through Web Audio.
//   webcodecs     the browser's VideoEncoder (and AudioEncoder for Opus) encodes, capturekit muxes (same
//                 file layout, same metadata). Streams: each frame with the browser's own timestamp.
//   mediarecorder canvas.captureStream() or the stream + MediaRecorder (the browser decides timing, may
//                 drop frames); the file is repaired (made seekable) when it stops.
//   auto          canvases / XR: webcodecs where VideoEncoder supports the codec and size, else wasm
//                 (the same for container 'mp4'; AV1 in MP4 without VideoEncoder is an Error);
//                 streams: webcodecs where MediaStreamTrackProcessor (and AudioEncoder for sound) exist,
//                 else mediarecorder. recorder.backendReason (and the result's) says why.
//
//                 Canvases and XR sessions with sound where WebCodecs is missing: wasm, the sound
//                 captured by Web Audio (an AudioWorklet); streams: mediarecorder.
import { OpusEncoder } from './audio-encoder.js';
import { WebCodecsBackend } from './backends/webcodecs.js';
import { canCapturePcm } from './sources/pcm-capture.js';

const W = 'createRecorder';

// 'wasm' as auto's fallback, unless the recording is AV1 in MP4 (the wasm backend has no AV1 encoder).
function noAv1OnWasm(o) {
  if (o.container === 'mp4' && o.codec === 'av1') throw new Error(`${W}: VideoEncoder here does not take AV1 and backend "wasm" has no AV1 encoder; use codec "h264" or "vp9" for MP4`);
  return 'wasm';
}

/** Which backend records: { backend, reason } ('auto' with no size yet: decided at the first frame). */
export async function chooseBackend(kind, o, size, audio) {
  const streams = kind === 'stream';
  if (o.backend !== 'auto') {
    if (o.backend === 'webcodecs') {
      if (typeof VideoEncoder !== 'function') throw new Error(`${W}: backend "webcodecs" needs VideoEncoder (WebCodecs), which this environment lacks (pages need a secure context)`);
      if (streams && typeof MediaStreamTrackProcessor !== 'function') throw new Error(`${W}: backend "webcodecs" records a stream through MediaStreamTrackProcessor, which this browser lacks; use backend "mediarecorder"`);
      if (audio && !(await OpusEncoder.isSupported({ channels: 1, bitrate: o.audioBitrate }))) throw new Error(`${W}: backend "webcodecs" encodes sound with AudioEncoder (Opus), which this browser lacks; use backend "mediarecorder"`);
      if (audio && !WebCodecsBackend.muxesAudio) throw new Error(`${W}: backend "webcodecs" cannot write sound yet (this build's WebmMuxer has no Opus track); use backend "mediarecorder"`);
      if (size && !(await WebCodecsBackend.isSupported({ codec: o.codec, ...size, fps: o.fps, bitrate: o.bitrate }))) {
        throw new Error(`${W}: this browser's VideoEncoder cannot encode ${o.codec} at ${size.width}x${size.height}; use backend "${streams ? 'mediarecorder' : 'wasm'}"`);
      }
    }
    if (o.backend === 'mediarecorder' && typeof MediaRecorder !== 'function') throw new Error(`${W}: MediaRecorder is not available here`);
    if (o.backend === 'wasm' && audio && !canCapturePcm()) throw new Error(`${W}: sound on backend "wasm" is captured with Web Audio (AudioContext and AudioWorklet), which this environment lacks`);
    return { backend: o.backend, reason: 'asked for' };
  }
  // auto with sound or a stream: the browser's encoders where they all exist, else MediaRecorder.
  if (streams || audio) {
    const missing = [];
    if (typeof VideoEncoder !== 'function') missing.push('VideoEncoder');
    if (typeof MediaStreamTrackProcessor !== 'function') missing.push('MediaStreamTrackProcessor');
    if (audio && !(await OpusEncoder.isSupported({ channels: 1, bitrate: o.audioBitrate }))) missing.push('AudioEncoder (Opus)');
    if (audio && !WebCodecsBackend.muxesAudio) missing.push('an Opus track in WebmMuxer');
    if (!missing.length && size && !(await WebCodecsBackend.isSupported({ codec: o.codec, ...size, fps: o.fps, bitrate: o.bitrate }))) {
      missing.push(`VideoEncoder for ${o.codec} at ${size.width}x${size.height}`);
    }
    if (!missing.length) {
      if (!size) return { backend: 'auto' };
      return { backend: 'webcodecs', reason: `WebCodecs: VideoEncoder takes ${o.codec} at ${size.width}x${size.height}${audio ? ', AudioEncoder takes Opus' : ''}${streams ? ', MediaStreamTrackProcessor reads the track' : ''}` };
    }
    // A canvas or an XR session with sound: frame-exact in wasm, the sound captured by Web Audio.
    if (!streams && canCapturePcm()) return { backend: noAv1OnWasm(o), reason: `wasm: this browser lacks ${missing.join(', ')}; Web Audio (AudioWorklet) captures the sound` };
    if (typeof MediaRecorder !== 'function') throw new Error(`${W}: neither WebCodecs (missing ${missing.join(', ')}) nor MediaRecorder is available here`);
    if (kind === 'xr') throw new Error(`${W}: sound with an XR session needs WebCodecs or Web Audio's AudioWorklet (missing here: ${missing.join(', ')})`);
    return { backend: 'mediarecorder', reason: `MediaRecorder: this browser lacks ${missing.join(', ')}` };
  }
  if (!size) return { backend: 'auto' }; // decided at the first frame (_openBackend)
  // auto: the browser's encoder when it takes this codec and size (WebCodecs), else libvpx in wasm.
  if (typeof VideoEncoder === 'function' && (size.width % 2 === 0 && size.height % 2 === 0) &&
      (await WebCodecsBackend.isSupported({ codec: o.codec, ...size, fps: o.fps, bitrate: o.bitrate }))) {
    return { backend: 'webcodecs', reason: `WebCodecs: VideoEncoder takes ${o.codec} at ${size.width}x${size.height}` };
  }
  return { backend: noAv1OnWasm(o), reason: typeof VideoEncoder !== 'function' ? 'wasm: no VideoEncoder here' : `wasm: VideoEncoder does not take ${o.codec} at ${size.width}x${size.height}` };
}
