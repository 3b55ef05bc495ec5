// Per-user quotas: stored bytes (507 Insufficient Storage), open REST upload sessions and open tus
// uploads (429 Too Many Requests). Usage is counted from the data directory (Storage.usage) under a
// per-user lock, so parallel requests of one user cannot all pass the same check; a tus creation is
// counted from its check until its answer has been sent. A limit of 0 turns that quota off.
//
// Bytes: a request is refused when the user's stored bytes plus its declared Content-Length (tus:
// Upload-Length) pass the quota; a body without a length is refused when the quota is already full,
// so it can pass the quota by at most one body (itself bounded by the size limits).
import { httpError } from './storage.js';

export function makeQuota({ storage, options }) {
  const creating = new Map(); // user -> { count, bytes } of tus creations not yet answered
  const lock = (user, fn) => storage.withLock(`quota:${user}`, fn);

  const bytesError = (limit, used, incoming) => httpError(507,
    `storage quota exceeded: ${used} bytes stored${incoming ? ` and ${incoming} more sent` : ''}, the limit is ${limit} bytes`,
    { quota: 'bytes', limit, used });
  const countError = (what, limit) => httpError(429,
    `too many open ${what} (the limit is ${limit}); finish or delete some first`,
    { quota: what === 'upload sessions' ? 'sessions' : 'tusUploads', limit });

  const checkBytes = (usedBytes, incoming) => {
    const limit = options.quotaBytes;
    if (limit && (usedBytes >= limit || usedBytes + incoming > limit)) throw bytesError(limit, usedBytes, incoming);
  };

  return {
    /** Throws 507 when `incoming` more bytes (0: unknown) would pass the user's byte quota. */
    async checkBytes(user, incoming = 0) {
      if (!options.quotaBytes) return;
      const u = await storage.usage(user);
      checkBytes(u.bytes + (creating.get(user)?.bytes || 0), incoming);
    },

    /** Creates a REST upload session with fn() unless the user has quotaSessions open ones (429). */
    async createSession(user, fn) {
      if (!options.quotaSessions) return fn();
      return lock(user, async () => {
        const u = await storage.usage(user);
        if (u.sessions >= options.quotaSessions) throw countError('upload sessions', options.quotaSessions);
        return fn();
      });
    },

    /**
     * Admits one tus creation of `declared` bytes (0: deferred length) or throws 429 / 507.
     * Returns release(), to call once the creation has been answered.
     */
    async admitTusUpload(user, declared = 0) {
      if (!options.quotaTusUploads && !options.quotaBytes) return () => {};
      return lock(user, async () => {
        // In flight as the count starts: a creation answered during the count may or may not be seen
        // by it, so it is counted as in flight (never fewer than there are).
        const pending = creating.get(user) || { count: 0, bytes: 0 };
        const before = { ...pending };
        const u = await storage.usage(user);
        if (options.quotaTusUploads && u.tusUploads + before.count >= options.quotaTusUploads) {
          throw countError('tus uploads', options.quotaTusUploads);
        }
        checkBytes(u.bytes + before.bytes, declared);
        creating.set(user, pending);
        pending.count += 1;
        pending.bytes += declared;
        let released = false;
        return () => {
          if (released) return;
          released = true;
          pending.count -= 1;
          pending.bytes -= declared;
          if (pending.count === 0) creating.delete(user);
        };
      });
    },
  };
}
