// Video facts (duration, resolution, codec) of a stored video.
//
// TODO(capturekit WebM parser): readVideoFacts() is a stand-in that asks ffprobe when it is on PATH.
// Replace its body with capturekit's own WebM parser (js-glue, wasm) once that exists; the shape of
// the result below is the contract the routes and tests rely on.
import { execFile } from 'node:child_process';

let ffprobeMissing = false;

/**
 * @param {string} path a stored video file
 * @returns {Promise<{duration: number|null, width: number|null, height: number|null,
 *   resolution: string|null, codec: string|null, container: string|null, source: string}|null>}
 *   null when nothing could read the file.
 */
export function readVideoFacts(path) {
  if (ffprobeMissing) return Promise.resolve(null);
  return new Promise((resolve) => {
    execFile(
      'ffprobe',
      ['-v', 'quiet', '-print_format', 'json', '-show_format', '-show_streams', '-count_packets', '--', path],
      { timeout: 20000, maxBuffer: 4 << 20 },
      (err, stdout) => {
        if (err) {
          if (err.code === 'ENOENT') ffprobeMissing = true;
          resolve(null);
          return;
        }
        try {
          const data = JSON.parse(stdout);
          const video = (data.streams || []).find((s) => s.codec_type === 'video') || {};
          const num = (v) => (v === undefined || v === null || v === 'N/A' || !Number.isFinite(Number(v)) ? null : Number(v));
          let duration = num(data.format?.duration) ?? num(video.duration);
          // MediaRecorder WebM often has no Duration element: estimate from packets and frame rate.
          if (duration === null && num(video.nb_read_packets) && video.avg_frame_rate && video.avg_frame_rate !== '0/0') {
            const [a, b] = video.avg_frame_rate.split('/').map(Number);
            if (a > 0 && b > 0) duration = Number(video.nb_read_packets) / (a / b);
          }
          const width = num(video.width);
          const height = num(video.height);
          resolve({
            duration,
            width,
            height,
            resolution: width && height ? `${width}x${height}` : null,
            codec: video.codec_name || null,
            container: data.format?.format_name || null,
            source: 'ffprobe',
          });
        } catch {
          resolve(null);
        }
      },
    );
  });
}
