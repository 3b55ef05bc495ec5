// Where the reference server keeps its state: REST upload sessions, the parts each session acknowledged,
// captures (their records and metadata), share tokens, Idempotency-Keys and tus upload ownership. The
// bytes (chunks, recordings, capture files, thumbnails, tus files) are Storage's (storage.js); the state
// is a StateStore's. Two implementations answer the same methods:
//
//   DiskStateStore      (this file, the default) JSON files in the data directory, beside the bytes;
//                       one server process, locks in memory.
//   PostgresStateStore  (state-postgres.js, `--database postgres://...`) tables in PostgreSQL, so any
//                       number of servers share it; locks are PostgreSQL advisory locks, and the steps
//                       two servers could race on (a part recorded twice, a finalize, a key claimed
//                       twice) are transactions.
//
// The interface (every method async unless said otherwise; `user` is a checked user name, ids are
// checked 32-hex ids before they get here):
//   kind                                  'disk' | 'postgres'
//   prepare()                             directories / migrations
//   check()                               null when the store answers (readiness), else an error code
//   withLock(key, fn)                     fn() with `key` held against every other holder (of every server)
//   createSession(session)                a new session record { id, owner, state, createdAt, ... }
//   getSession(user, id) / saveSession(s) the record (null: missing or another user's)
//   listParts(user, id)                   Map index -> { sha256, size } of the acknowledged chunks
//   recordPart(user, id, index, sha256, size)  'stored' | 'duplicate' | 'conflict', the acknowledgement's
//                                         commit point; null on disk, where the assembly's own parts/
//                                         entry is that commit point and its outcome stands
//   partsVersion(user, id)                a number that changes with every part recorded (null: no other
//                                         writer can exist, so a cached assembly never goes stale)
//   dropParts(user, id)                   forgets the parts of a finalized session
//   dropSession(user, id)                 forgets a session (retention removed its directory)
//   putCapture(rec)                       the capture's record and its share token, together
//   getCapture(user, id) / updateCapture(rec) / listCaptures(user, { session, type })
//   deleteCapture(rec)                    the record, its share token and its Idempotency-Key
//   resolveShare(token)                   { user, id } or null
//   getIdempotency / putIdempotency / deleteIdempotency (user, keyHash[, record])
//   putTusOwner(id, user, declared) / tusOwner(id)  who created a tus upload (null: unknown);
//                                         finishTus(id), dropTusOwner(id)
//   getLiveRecording(user, session) / putLiveRecording(rec)  a server-side recording in progress
//                                         (live-recording.js; changed only under withLock)
// PostgresStateStore also answers usage(user) and expired(cutoff), for the bytes in the bucket (where no
// directory can be counted).
//   close()
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fsyncPath } from './durable.js';

const PART_RE = /^(\d{1,9})\.([0-9a-f]{64})$/;
const SHA256_RE = /^[0-9a-f]{64}$/;
const TOKEN_RE = /^[A-Za-z0-9_-]{22}$/;
const USER_RE = /^[A-Za-z0-9_-]{1,64}$/;
const ID_RE = /^[0-9a-f]{32}$/;

/** Writes JSON atomically: temp file beside the target, fsync, rename, fsync the directory. */
export async function writeJsonFile(path, value) {
  const dir = join(path, '..');
  const tmp = join(dir, `.${randomBytes(6).toString('hex')}.tmp`);
  const fh = await open(tmp, 'wx');
  try {
    await fh.writeFile(JSON.stringify(value, null, 2));
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  await fsyncPath(dir);
}

/** Parsed JSON of a file, or null when there is no such file. */
export async function readJsonFile(path) {
  try {
    return JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    if (e.code === 'ENOENT' || e.code === 'ENOTDIR') return null;
    throw e;
  }
}

/** The state in the data directory, beside the bytes (the layout storage.js describes). */
export class DiskStateStore {
  constructor(storage) {
    this.kind = 'disk';
    this.storage = storage; // its directories and path helpers
    this.locks = new Map();
  }

  async prepare() {}
  async check() { return null; }
  async close() {}

  /** Runs fn with an in-process lock on `key` (chunk stores and finalize of one session never interleave). */
  async withLock(key, fn) {
    const prev = this.locks.get(key) || Promise.resolve();
    let release;
    const mine = new Promise((r) => { release = r; });
    const chained = prev.then(() => mine);
    this.locks.set(key, chained);
    await prev;
    try {
      return await fn();
    } finally {
      release();
      if (this.locks.get(key) === chained) this.locks.delete(key);
    }
  }

  // ---- sessions ----
  async createSession(session) {
    await writeJsonFile(join(this.storage.sessionDir(session.owner, session.id), 'session.json'), session);
    return session;
  }

  async getSession(user, id) {
    const s = await readJsonFile(join(this.storage.sessionDir(user, id), 'session.json'));
    return s && s.owner === user ? s : null;
  }

  async saveSession(session) {
    await writeJsonFile(join(this.storage.sessionDir(session.owner, session.id), 'session.json'), session);
  }

  /** From the parts/ entries the assembly writes (each one holds the chunk's size). */
  async listParts(user, id) {
    const dir = join(this.storage.sessionDir(user, id), 'parts');
    const parts = new Map();
    let names = [];
    try {
      names = await readdir(dir);
    } catch (e) {
      if (e.code !== 'ENOENT') throw e;
    }
    for (const name of names) {
      const m = PART_RE.exec(name);
      if (m) parts.set(Number(m[1]), { sha256: m[2] });
    }
    return parts;
  }

  // The assembly's parts/ entry was the commit point already; nothing more to record.
  async recordPart() { return null; }
  async partsVersion() { return null; }
  async dropParts() {}
  async dropSession() {} // session.json went with the session's directory

  // ---- captures, share tokens ----
  #capturePath(user, id) { return join(this.storage.captureDir(user, id), 'capture.json'); }

  async putCapture(rec) {
    await writeJsonFile(this.#capturePath(rec.owner, rec.id), rec);
    await mkdir(this.storage.sharesDir, { recursive: true });
    const fh = await open(join(this.storage.sharesDir, rec.shareToken), 'w');
    try {
      await fh.writeFile(`${rec.owner}/${rec.id}`);
      await fh.sync();
    } finally {
      await fh.close();
    }
  }

  async getCapture(user, id) {
    const rec = await readJsonFile(this.#capturePath(user, id));
    return rec && rec.owner === user && rec.id === id ? rec : null;
  }

  async updateCapture(rec) {
    await writeJsonFile(this.#capturePath(rec.owner, rec.id), rec);
  }

  async listCaptures(user, { session, type } = {}) {
    let ids = [];
    try {
      ids = await readdir(join(this.storage.capturesDir, user));
    } catch (e) {
      if (e.code !== 'ENOENT') throw e;
    }
    const out = [];
    for (const id of ids) {
      if (!ID_RE.test(id)) continue;
      const rec = await this.getCapture(user, id);
      if (!rec) continue;
      if (session !== undefined && rec.session !== session) continue;
      if (type !== undefined && rec.type !== type) continue;
      out.push(rec);
    }
    return out;
  }

  /** The share link and the key; capture.json goes with the capture's directory (Storage removes it). */
  async deleteCapture(rec) {
    if (rec.idempotencyKey && SHA256_RE.test(rec.idempotencyKey)) await this.deleteIdempotency(rec.owner, rec.idempotencyKey);
    if (rec.shareToken && TOKEN_RE.test(rec.shareToken)) await rm(join(this.storage.sharesDir, rec.shareToken), { force: true });
  }

  async resolveShare(token) {
    let target;
    try {
      target = (await readFile(join(this.storage.sharesDir, token), 'utf8')).trim();
    } catch {
      return null;
    }
    const [user, id] = target.split('/');
    return USER_RE.test(user || '') && ID_RE.test(id || '') ? { user, id } : null;
  }

  // ---- idempotency keys ----
  #keyPath(user, keyHash) {
    if (!SHA256_RE.test(keyHash)) throw new Error('idempotency key hash must be 64 hex digits');
    return join(this.storage.idempotencyDir, user, `${keyHash}.json`);
  }

  async getIdempotency(user, keyHash) { return readJsonFile(this.#keyPath(user, keyHash)); }

  async putIdempotency(user, keyHash, record) {
    await mkdir(join(this.storage.idempotencyDir, user), { recursive: true });
    await writeJsonFile(this.#keyPath(user, keyHash), record);
  }

  async deleteIdempotency(user, keyHash) { await rm(this.#keyPath(user, keyHash), { force: true }); }

  // ---- tus uploads: @tus/file-store keeps the owner in the upload's info file ----
  async putTusOwner() {}
  async finishTus() {}
  async dropTusOwner() {} // the info file went with the upload

  async tusOwner(id) {
    const info = await readJsonFile(join(this.storage.tusDir, `${id}.json`));
    return info?.metadata?.owner ?? null;
  }

  // ---- server-side recordings in progress: live/<user>/<session label as hex>.json ----
  #livePath(user, session) { return join(this.storage.dataDir, 'live', user, `${Buffer.from(session).toString('hex')}.json`); }

  async getLiveRecording(user, session) {
    const rec = await readJsonFile(this.#livePath(user, session));
    return rec && rec.owner === user && rec.session === session ? rec : null;
  }

  async putLiveRecording(rec) {
    await mkdir(join(this.storage.dataDir, 'live', rec.owner), { recursive: true });
    await writeJsonFile(this.#livePath(rec.owner, rec.session), rec);
  }
}
