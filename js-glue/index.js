// capturekit: public entry point. Each wasm module loads when first used; `await init()` (or initImage(),
// initUpload()) before the synchronous pixel, codec and queue functions.
export { init, isSimd } from './core.js';
export { initImage, isImageLoaded } from './image.js';
export { initUpload, isUploadLoaded } from './upload.js';
export { simdSupported } from './loader.js';
export { MAX_SIDE, MAX_PIXELS } from './validate.js';
export { flipVertical } from './pixels/flip.js';
export { crop } from './pixels/crop.js';
export { resize, resizedSize, fitWithin, thumbnail } from './pixels/resize.js';
export { composite } from './pixels/composite.js';
export { unpremultiplyAlpha } from './pixels/premultiply.js';
export { renderTextMark, textWatermark } from './pixels/text-watermark.js';
export { adjust } from './pixels/adjust.js';
export { blur } from './pixels/blur.js';
export { toI420 } from './pixels/i420.js';
export { ChunkBuffer, sha256Hex, DEFAULT_MIN_PART_SIZE } from './upload/chunk-buffer.js';
export { QueueCore, FAILURE_KINDS, DEFAULT_QUEUE_OPTIONS } from './upload/upload-queue-core.js';
export { uploadLimits } from './upload/limits.js';
export { createUploader, Uploader, openIdbStore, RETAIN_MODES } from './upload/uploader.js';
export { RecordingUpload } from './upload/recording-upload.js';
export { createMemoryStore, MemoryLocks } from './upload/store-memory.js';
export {
  createRestTransport, createTusTransport, createMultipartTransport, createS3Transport, combineTransports, transportFromDescription, UploadError,
} from './upload/transports/index.js';
export { encode, encodeJpeg, encodePng, PNG_STRATEGIES } from './image/encode.js';
export { decodeImage, probeImage } from './image/decode.js';
export { toBlob } from './image/blob.js';
export { captureCanvas } from './capture/capture.js';
export { captureXRFrame, captureXRSession, trackXRSession } from './capture/xr-capture.js';
export { captureFilename, createDownloadLink, downloadCapture } from './capture/download.js';
export { getDeviceInfo } from './capture/metadata.js';
export { terminateCaptureWorker } from './capture/worker-client.js';
export { initVideo, isVideoLoaded } from './video.js';
export { VideoWriter, VIDEO_LIMITS } from './video/video-writer.js';
export { WebmMuxer } from './video/webm-muxer.js';
export { Mp4Muxer } from './video/mp4-muxer.js';
export { initAudio, isAudioLoaded } from './audio.js';
export { OpusEncoder, AUDIO_LIMITS } from './audio/opus-encoder.js';
export { H264Encoder, H264_LIMITS, initH264, isH264Loaded } from './h264.js';
export { makeSeekable, makeSeekableChunks } from './video/repair.js';
export { remux } from './video/remux.js';
export { createRecorder, recordScreen, recordCamera, Recorder, RECORDER_LIMITS } from './record/recorder.js';
export { composeStreams, ComposedStream } from './record/sources/compose.js';
export { readFrameMetadata, inspectWebm, METADATA_BLOCK_ADD_ID } from './record/frame-metadata.js';
export { pickMediaRecorderType, MEDIARECORDER_PREFERENCE } from './record/codecs.js';
export { RecordingJournal, createJournaledRecorder, createIdbJournalStore, createMemoryJournalStore } from './record/journal.js';
export { recoverRecordings } from './record/recovery.js';
