// Video facts (duration, resolution, codec) of a stored video, read by capturekit's own streaming
// WebM reader (js-glue/record/frame-metadata.js: inspectWebm), which never holds a frame in memory.
// An MP4 ('ftyp' at byte 4) is read by capturekit's MP4 reader through makeSeekable's first pass, in a
// thread of its own (repair.js: readFactsOffThread): the whole file parsed and checked, its duration and
// codecs; its width and height are not among what that pass reports (null).
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { inspectWebm } from '../../js-glue/record/frame-metadata.js';
import { readFactsOffThread } from './repair.js';

// Matroska codec ids → the short names players and ffprobe use.
const CODEC_NAMES = { V_VP8: 'vp8', V_VP9: 'vp9', V_AV1: 'av1', 'V_MPEG4/ISO/AVC': 'h264', 'V_MPEGH/ISO/HEVC': 'hevc' };

/**
 * @param {string} path a stored video file
 * @returns {Promise<{duration: number|null, width: number|null, height: number|null,
 *   resolution: string|null, codec: string|null, container: string|null, source: string}|null>}
 *   null when the file is not a readable WebM/Matroska.
 */
export async function readVideoFacts(path) {
  if (await isMp4File(path)) return readMp4Facts(path).catch(() => null);
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

async function isMp4File(path) {
  const head = Buffer.alloc(8);
  let fh;
  try {
    fh = await open(path, 'r');
    const { bytesRead } = await fh.read(head, 0, 8, 0);
    return bytesRead === 8 && head.toString('latin1', 4, 8) === 'ftyp';
  } catch {
    return false;
  } finally {
    await fh?.close();
  }
}

// RFC 6381 codec strings (avc1.42c01f, vp09.00.10.08, av01.0.04M.08, hvc1..., opus, mp4a.40.2) → short names.
function mp4CodecName(c) {
  if (/^(avc1|avc3)/.test(c)) return 'h264';
  if (/^(hvc1|hev1)/.test(c)) return 'hevc';
  if (c.startsWith('vp09')) return 'vp9';
  if (c.startsWith('av01')) return 'av1';
  if (c.startsWith('mp4a')) return 'aac';
  return c;
}

/**
 * The facts of an MP4 by capturekit's MP4 reader. Rejects with the reader's message when it is not a
 * whole, readable MP4 (a truncated file, a box past the end, sample tables that disagree, a 2^63 size).
 */
export async function readMp4Facts(path) {
  const info = await readFactsOffThread(path);
  const codecs = info.codecs || [];
  const video = codecs.find((c) => !/^(opus|mp4a|fLaC|ac-3|ec-3)/.test(c));
  return {
    duration: info.duration ?? null,
    width: null,
    height: null,
    resolution: null,
    codec: video ? mp4CodecName(video) : null,
    codecs,
    container: 'mp4',
    source: 'capturekit',
  };
}
