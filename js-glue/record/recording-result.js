// What stop() resolves with: the backend's finished file (its frames, duration, sound) put together with
// what the recorder knows (backend and why, skipped and scaled frames, pauses, how it ended, the
// source's description, per-frame metadata), plus the metadata JSON stored beside the file, and the
// bytes themselves when the file was kept in memory. See RecordingResult in index.d.ts.

/**
 * @param {object} fin the backend's finish() result
 * @param {object} r what the recorder knows: { backend, backendReason, codec, mimeType, width, height,
 *   kind, options, started (ms since epoch), skipped, scaled, pausedSeconds, endedBy, source (sources/*.js
 *   or null), frameMeta, output }
 */
export async function assembleResult(fin, r) {
  const o = r.options;
  const ended = Date.now();
  const result = {
    complete: true,
    backend: r.backend,
    codec: fin.codec || r.codec,
    mimeType: fin.mimeType || r.mimeType,
    width: fin.width || r.width,
    height: fin.height || r.height,
    frames: fin.frames,
    keyframes: fin.keyframes,
    duration: fin.duration,
    averageFps: fin.duration > 0 ? fin.frames / fin.duration : 0,
    bytes: r.output.size,
    skippedFrames: r.skipped,
  };
  if (r.backendReason) result.backendReason = r.backendReason;
  if (fin.repair) result.repair = fin.repair;
  if (fin.requestedFrames !== undefined) result.requestedFrames = fin.requestedFrames;
  if (fin.audio) result.audio = fin.audio;
  if (r.scaled) result.scaledFrames = r.scaled;
  const paused = r.pausedSeconds;
  if (paused > 0) result.pausedDuration = paused;
  if (r.kind === 'stream') result.endedBy = r.endedBy;
  const metadata = {
    backend: result.backend, codec: result.codec, mimeType: result.mimeType, width: result.width, height: result.height,
    fps: o.fps, timing: o.timing,
    started: new Date(r.started).toISOString(), ended: new Date(ended).toISOString(),
    duration: result.duration, frameCount: result.frames, averageFps: result.averageFps, bytes: result.bytes,
    skippedFrames: r.skipped,
  };
  if (paused > 0) metadata.pausedDuration = paused;
  if (result.audio) metadata.audio = result.audio;
  if (r.source?.describe) Object.assign(metadata, r.source.describe());
  if (r.kind === 'stream') metadata.endedBy = r.endedBy;
  if (r.source?.device) metadata.device = await r.source.device.catch(() => null);
  if (o.metadata) metadata.extra = JSON.parse(JSON.stringify(o.metadata));
  if (r.frameMeta.length) metadata.frames = r.frameMeta;
  result.metadata = metadata;
  if (typeof Blob === 'function') result.metadataBlob = new Blob([JSON.stringify(metadata, null, 2)], { type: 'application/json' });
  if (!r.output.streaming) {
    result.data = r.output.bytes();
    if (typeof Blob === 'function') result.blob = new Blob([result.data], { type: result.mimeType });
  }
  return result;
}
