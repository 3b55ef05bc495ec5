// Idempotent single-request uploads: POST /api/capture/screenshot, /api/capture/video and
// /screenshots/upload accept an `Idempotency-Key` header (draft-ietf-httpapi-idempotency-key-header:
// a Structured Fields string, `"..."`; a bare token is accepted too). A request whose key this user
// already used for a capture that still exists gets that capture back (same id, same answer, header
// `Idempotent-Replayed: true`) instead of a second one; the same key with other bytes (or on the other
// kind of upload) is 422. Keys are per user and kept as long as their capture: deleting the capture
// (or retention) frees its key. The record is written before the capture, under a per-key lock, so
// parallel retries and a crash between the two never make two captures of one key.
import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { httpError, newId } from './storage.js';

const BARE_RE = /^[\x21-\x7e]{1,255}$/;
const QUOTED_RE = /^"((?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\["\\]){1,255})"$/;

/** The request's Idempotency-Key (null without one); 400 when it is not 1..255 visible ASCII characters. */
export function idempotencyKeyOf(request) {
  const v = request.headers['idempotency-key'];
  if (v === undefined) return null;
  const q = typeof v === 'string' ? QUOTED_RE.exec(v) : null;
  const key = q ? q[1].replace(/\\(["\\])/g, '$1') : v;
  if (typeof key !== 'string' || !BARE_RE.test(key.trim() === key ? key : '')) {
    throw httpError(400, 'Idempotency-Key must be 1..255 visible ASCII characters (bare, or as a quoted string)');
  }
  return key;
}

export function makeIdempotency({ storage }) {
  return {
    keyOf: idempotencyKeyOf,

    /**
     * Makes the capture of `file` (a received temp file) with make(id, keyHash), or, when `key` was used
     * before by this user, returns that capture: { rec, replayed }. `kind`: 'screenshot' | 'video'.
     */
    async capture(user, key, kind, file, make) {
      if (key === null) return { rec: await make(newId(), null), replayed: false };
      const hash = createHash('sha256').update(key).digest('hex');
      return storage.withLock(`idempotency:${user}:${hash}`, async () => {
        const prior = await storage.getIdempotency(user, hash);
        const earlier = prior && (await storage.getCapture(user, prior.captureId));
        if (earlier) {
          await rm(file.path, { force: true });
          if (prior.kind !== kind || earlier.sha256 !== file.sha256) {
            throw httpError(422, 'this Idempotency-Key was used for another request (other bytes, or another kind of upload)', { captureId: earlier.id });
          }
          return { rec: earlier, replayed: true };
        }
        // A record without its capture: the capture was never made (a crash) or is being deleted.
        const id = prior && prior.kind === kind && prior.sha256 === file.sha256 ? prior.captureId : newId();
        await storage.putIdempotency(user, hash, { captureId: id, kind, sha256: file.sha256, createdAt: new Date().toISOString() });
        return { rec: await make(id, hash), replayed: false };
      });
    },
  };
}
