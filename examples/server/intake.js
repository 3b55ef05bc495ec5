// Turning received bytes into captures: single-request screenshot and video uploads (multipart), the
// thumbnail of a screenshot, and the public JSON view of a capture.
import { rm } from 'node:fs/promises';
import { httpError, sniff, CAPTURE_SESSION_RE } from './storage.js';
import { parseMetadataField, displayName } from './schema.js';
import { readUpload, fieldValue } from './multipart.js';
import { readVideoFacts, readMp4Facts } from './video-facts.js';
import { createThumbnailer, DEFAULT_MAX_IMAGE_PIXELS } from './thumbnails.js';

// A thumbnail that failed for the server's own reasons (the worker was busy or its wasm did not load)
// is tried again after this long; one that failed because of the file (corrupt, over the pixel budget,
// too slow) is never tried again: its record keeps thumbnailError.
const THUMBNAIL_RETRY_MS = 60 * 1000;

function captureSession(v) {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string' || !CAPTURE_SESSION_RE.test(v)) throw httpError(400, `session must match ${CAPTURE_SESSION_RE}`);
  return v;
}

/** PNG width/height from the IHDR chunk (bytes 16..23), or nulls. */
function pngSize(head) {
  if (head.length >= 24 && head.toString('latin1', 12, 16) === 'IHDR') return { width: head.readUInt32BE(16), height: head.readUInt32BE(20) };
  return { width: null, height: null };
}

export function makeIntake(ctx) {
  const { storage, options } = ctx;

  const thumbnailer = createThumbnailer({ maxPixels: options.maxImagePixels ?? DEFAULT_MAX_IMAGE_PIXELS, ...(options.thumbnailWorker || {}) });
  const inFlight = new Map(); // capture id -> Promise<boolean>: one attempt at a time per capture

  /**
   * Makes thumb.jpg for a screenshot record; returns true on success. Failures are recorded on the
   * record (thumbnailError) and not thrown; a failure caused by the file is remembered, so later calls
   * (every GET of the thumbnail, share links included) answer false at once without decoding again.
   */
  function ensureThumbnail(rec) {
    if (remembersFailure(rec)) return Promise.resolve(false);
    let p = inFlight.get(rec.id);
    if (!p) {
      p = makeThumbnailFile(rec).finally(() => inFlight.delete(rec.id));
      inFlight.set(rec.id, p);
    }
    return p;
  }

  // A failure recorded with its kind (records from before kinds were kept are tried again once).
  function remembersFailure(rec) {
    if (!rec.thumbnailError || !rec.thumbnailFailure) return false;
    return rec.thumbnailRetryAt === undefined || Date.now() < rec.thumbnailRetryAt;
  }

  async function makeThumbnailFile(rec) {
    try {
      const t = await storage.withLocalFile(rec, (path) => thumbnailer.make(path, options.thumbnail));
      await storage.putFile(rec, 'thumb.jpg', t.jpeg, 'image/jpeg');
      rec.thumbnail = { width: t.width, height: t.height, size: t.jpeg.length };
      if (!rec.width) { rec.width = t.sourceWidth; rec.height = t.sourceHeight; }
      delete rec.thumbnailError;
      delete rec.thumbnailFailure;
      delete rec.thumbnailRetryAt;
      return true;
    } catch (e) {
      rec.thumbnail = null;
      rec.thumbnailError = String(e && e.message ? e.message : e).slice(0, 300);
      if (e && e.permanent) {
        rec.thumbnailFailure = e.kind; // 'budget' | 'image': never tried again
        delete rec.thumbnailRetryAt;
      } else {
        rec.thumbnailFailure = (e && e.kind) || 'unavailable';
        rec.thumbnailRetryAt = Date.now() + THUMBNAIL_RETRY_MS;
      }
      if (!rec.width && e && e.sourceWidth) { rec.width = e.sourceWidth; rec.height = e.sourceHeight; }
      return false;
    } finally {
      await storage.updateCapture(rec).catch(() => {});
    }
  }

  async function acceptScreenshot(request) {
    const key = ctx.idempotency.keyOf(request); // a malformed key is refused before the body is read
    const up = await readUpload(request, {
      storage,
      fileFields: ['file', 'screenshot', 'image'],
      maxFileBytes: options.maxScreenshotBytes,
      maxFieldBytes: options.maxMetadataBytes,
    });
    try {
      if (!up.file) throw httpError(400, 'the image file part ("file") is missing');
      const metadata = parseMetadataField(up.fields.metadata, { maxBytes: options.maxMetadataBytes });
      const session = captureSession(fieldValue(up.fields, 'session', 'session_id', 'sessionId')) ?? metadata.session ?? 'default';
      const kind = sniff(up.file.head);
      if (!kind || (kind.kind !== 'png' && kind.kind !== 'jpeg')) throw httpError(415, 'a screenshot must be a PNG or JPEG (checked by its first bytes)');
      const size = kind.kind === 'png' ? pngSize(up.file.head) : { width: null, height: null };
      const { rec, replayed } = await ctx.idempotency.capture(request.user, key, 'screenshot', up.file, async (id, keyHash) => {
        const made = await storage.createCapture(request.user, up.file, {
          type: 'screenshot',
          mimeType: kind.mime,
          ext: kind.ext,
          filename: displayName(up.filename, `screenshot.${kind.ext}`),
          session,
          metadata,
          ...size,
          ...(keyHash ? { idempotencyKey: keyHash } : {}),
        }, { id });
        if (options.thumbnailsOnUpload) await ensureThumbnail(made);
        return made;
      });
      request.idempotentReplay = replayed;
      return rec;
    } catch (e) {
      if (up.file) await rm(up.file.path, { force: true }); // gone already when it became a capture
      throw e;
    }
  }

  async function acceptVideo(request) {
    const key = ctx.idempotency.keyOf(request);
    const up = await readUpload(request, {
      storage,
      fileFields: ['file', 'video'],
      maxFileBytes: options.maxVideoBytes,
      maxFieldBytes: options.maxMetadataBytes,
    });
    try {
      if (!up.file) throw httpError(400, 'the video file part ("file") is missing');
      const metadata = parseMetadataField(up.fields.metadata, { maxBytes: options.maxMetadataBytes });
      const session = captureSession(fieldValue(up.fields, 'session', 'session_id', 'sessionId')) ?? metadata.session ?? 'default';
      const kind = sniff(up.file.head);
      if (!kind || (kind.kind !== 'webm' && kind.kind !== 'matroska' && kind.kind !== 'mp4')) throw httpError(415, 'a video must be WebM/Matroska or MP4 (checked by its first bytes)');
      // An MP4 is read whole by capturekit's MP4 reader first: one that is cut off or inconsistent is refused.
      const mp4 = kind.kind === 'mp4' ? await readMp4Facts(up.file.path).catch((e) => { throw httpError(422, `the MP4 could not be read: ${e.message}`); }) : null;
      const { rec, replayed } = await ctx.idempotency.capture(request.user, key, 'video', up.file, async (id, keyHash) => {
        // The facts are read from the received file, before it becomes the capture (a file or an object).
        const video = mp4 || await readVideoFacts(up.file.path);
        return storage.createCapture(request.user, up.file, {
          type: 'video', mimeType: kind.mime, ext: kind.ext, filename: displayName(up.filename, `video.${kind.ext}`), session, metadata,
          video, ...(keyHash ? { idempotencyKey: keyHash } : {}),
        }, { id });
      });
      request.idempotentReplay = replayed;
      return rec;
    } catch (e) {
      if (up.file) await rm(up.file.path, { force: true }); // gone already when it became a capture
      throw e;
    }
  }

  /** The JSON a client sees for a capture (no owner paths, no raw token beyond the share URL). */
  function view(request, rec) {
    const base = ctx.baseUrl(request);
    const out = {
      id: rec.id,
      type: rec.type,
      session: rec.session ?? null,
      filename: rec.filename,
      mimeType: rec.mimeType,
      size: rec.size,
      sha256: rec.sha256,
      createdAt: rec.createdAt,
      metadata: rec.metadata || {},
      urls: {
        info: `${base}/api/captures/${rec.id}`,
        file: `${base}/api/captures/${rec.id}/file`,
        share: ctx.shareUrl(request, rec),
      },
    };
    if (rec.type === 'screenshot') {
      out.width = rec.width ?? null;
      out.height = rec.height ?? null;
      out.urls.thumbnail = `${base}/api/captures/${rec.id}/thumbnail`;
      out.thumbnail = rec.thumbnail || null;
      // Why there is none: over the pixel budget, or a file the decoder refused.
      if (!rec.thumbnail && rec.thumbnailError && rec.thumbnailFailure !== undefined) out.thumbnailError = rec.thumbnailError;
    } else {
      const v = rec.video || {};
      out.video = { duration: v.duration ?? null, width: v.width ?? null, height: v.height ?? null, resolution: v.resolution ?? null, codec: v.codec ?? null, source: v.source ?? null };
      if (rec.upload) out.upload = { sessionId: rec.upload.sessionId, chunks: rec.upload.chunks, clientDuration: rec.upload.clientDuration };
    }
    return out;
  }

  /**
   * The name of a screenshot's thumbnail file (for storage.send), made first when there is none yet. Throws 404 when the
   * capture has no thumbnail and never will (not a screenshot, over the pixel budget, an image the
   * decoder refused), 503 with Retry-After when making it failed for the server's own reasons (busy,
   * the wasm did not load): a later request tries again. `explain` puts the reason in the message (the
   * owner's view; a share link says less).
   */
  async function thumbnailFile(rec, { explain = true } = {}) {
    if (rec.type !== 'screenshot') throw httpError(404, 'only screenshots have thumbnails');
    if ((await storage.hasFile(rec, 'thumb.jpg')) || (await ensureThumbnail(rec))) return 'thumb.jpg';
    const why = explain && rec.thumbnailError ? `: ${rec.thumbnailError}` : '';
    if (rec.thumbnailFailure === 'budget' || rec.thumbnailFailure === 'image') throw httpError(404, `this screenshot has no thumbnail${why}`);
    throw httpError(503, `the thumbnail cannot be made right now${why}`, { retryAfter: Math.ceil(THUMBNAIL_RETRY_MS / 1000) });
  }

  return { acceptScreenshot, acceptVideo, ensureThumbnail, thumbnailFile, view, thumbnailer };
}
