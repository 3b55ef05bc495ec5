// Video facts (duration, resolution, codec) of a stored video, read by capturekit's own streaming
// WebM reader (js-glue/record/frame-metadata.js: inspectWebm), which never holds a frame in memory.
import { createReadStream } from 'node:fs';
import { inspectWebm } from '../../js-glue/record/frame-metadata.js';

// Matroska codec ids → the short names players and ffprobe use.
const CODEC_NAMES = { V_VP8: 'vp8', V_VP9: 'vp9', V_AV1: 'av1', 'V_MPEG4/ISO/AVC': 'h264', 'V_MPEGH/ISO/HEVC': 'hevc' };

/**
 * @param {string} path a stored video file
 * @returns {Promise<{duration: number|null, width: number|null, height: number|null,
 *   resolution: string|null, codec: string|null, container: string|null, source: string}|null>}
 *   null when the file is not a readable WebM/Matroska.
 */
export async function readVideoFacts(path) {
  let info;
  try {
    info = await inspectWebm(createReadStream(path), { frames: false });
  } catch {
    return null;
  }
  const video = info.tracks.find((t) => t.type === 1) || {};
  // MediaRecorder files carry no Duration element: fall back to the frame times.
  const duration = info.duration ?? info.estimatedDuration ?? null;
  const width = video.width ?? null;
  const height = video.height ?? null;
  return {
    duration,
    width,
    height,
    resolution: width && height ? `${width}x${height}` : null,
    codec: video.codecId ? CODEC_NAMES[video.codecId] || video.codecId : null,
    container: info.docType === 'matroska' ? 'matroska' : 'webm',
    source: 'capturekit',
  };
}
