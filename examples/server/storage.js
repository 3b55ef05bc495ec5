// On-disk storage for the reference upload server. Every id in a path is server-generated and checked
// against a strict pattern before it is joined to a directory, and every file that the server has
// acknowledged was fsynced and renamed into place (write temp, fsync, rename, fsync the directory),
// so a crash loses nothing the client was told had arrived.
//
// Layout under dataDir:
//   tmp/                                   temp files (same filesystem, so rename is atomic)
//   uploads/<user>/<sessionId>/session.json REST upload session (owner, init fields, state, layout)
//   uploads/<user>/<sessionId>/data        the recording, assembled in place as chunks arrive (assembly.js)
//   uploads/<user>/<sessionId>/parts/<index>.<sha256>   one per acknowledged chunk (its size)
//   uploads/<user>/<sessionId>/waiting/<index>.<sha256> an acknowledged chunk behind a gap
//   captures/<user>/<captureId>/data.<ext> the capture itself
//   captures/<user>/<captureId>/capture.json  its record: metadata, video facts, share token
//   captures/<user>/<captureId>/thumb.jpg  screenshot thumbnail (made on upload or on first request)
//   shares/<token>                         "<user>/<captureId>" (unguessable share links)
//   idempotency/<user>/<sha256 of key>.json  an Idempotency-Key's capture (idempotency.js)
//   tus/                                   @tus/file-store directory
// The state (session.json, parts/ as the list of acknowledged chunks, capture.json, shares/,
// idempotency/, the tus owner) is read and written through a StateStore (state-store.js): these files
// with the default DiskStateStore, tables in PostgreSQL with a PostgresStateStore (state-postgres.js),
// which then holds them instead (the bytes stay here).
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { link, mkdir, open, readdir, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SessionAssembly } from './assembly.js';
import { fsyncPath } from './durable.js';
import { DiskStateStore, readJsonFile, writeJsonFile } from './state-store.js';
import { MIN_PART_BYTES } from './object-store.js';
import { sendFile, sendObject } from './range.js';

export const ID_RE = /^[0-9a-f]{32}$/; // capture ids and upload session ids: 128 random bits, hex
export const TOKEN_RE = /^[A-Za-z0-9_-]{22}$/; // share tokens: 128 random bits, base64url
export const USER_RE = /^[A-Za-z0-9_-]{1,64}$/;
export const CAPTURE_SESSION_RE = /^(?!\.+$)[A-Za-z0-9_.:-]{1,128}$/; // client-chosen grouping label, never a path alone
export const SHA256_RE = /^[0-9a-f]{64}$/;

export const newId = () => randomBytes(16).toString('hex');
export const newShareToken = () => randomBytes(16).toString('base64url');

/** An Error carrying an HTTP status (the error handler turns it into a JSON reply). */
export function httpError(statusCode, message, extra = {}) {
  const e = new Error(message);
  e.statusCode = statusCode;
  Object.assign(e, { expose: true, extra });
  return e;
}

function checkId(id, what = 'id') {
  if (typeof id !== 'string' || !ID_RE.test(id)) throw httpError(400, `${what} must be 32 lowercase hex digits`);
  return id;
}
function checkKeyHash(keyHash) {
  if (typeof keyHash !== 'string' || !SHA256_RE.test(keyHash)) throw new Error('idempotency key hash must be 64 hex digits');
  return keyHash;
}
function checkUser(user) {
  if (typeof user !== 'string' || !USER_RE.test(user)) throw new Error(`invalid user name ${JSON.stringify(user)}`);
  return user;
}


/** Magic bytes: what a file is, from its first bytes (never from its name). */
export function sniff(head) {
  const b = head || Buffer.alloc(0);
  if (b.length >= 8 && b.readUInt32BE(0) === 0x89504e47 && b.readUInt32BE(4) === 0x0d0a1a0a) {
    return { kind: 'png', mime: 'image/png', ext: 'png' };
  }
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return { kind: 'jpeg', mime: 'image/jpeg', ext: 'jpg' };
  // ISO BMFF: a box named 'ftyp' first (its size in bytes 0-3): an MP4 (its facts and whether it is whole
  // are the MP4 reader's to say, video-facts.js).
  if (b.length >= 8 && b.toString('latin1', 4, 8) === 'ftyp') return { kind: 'mp4', mime: 'video/mp4', ext: 'mp4' };
  if (b.length >= 4 && b.readUInt32BE(0) === 0x1a45dfa3) {
    // EBML header: WebM or Matroska. The DocType string sits a few bytes later; 'webm' is the common case.
    const text = b.toString('latin1');
    if (text.includes('matroska')) return { kind: 'matroska', mime: 'video/x-matroska', ext: 'mkv' };
    return { kind: 'webm', mime: 'video/webm', ext: 'webm' };
  }
  return null;
}

export class Storage {
  constructor(dataDir) {
    this.dataDir = dataDir;
    this.tmpDir = join(dataDir, 'tmp');
    this.uploadsDir = join(dataDir, 'uploads');
    this.capturesDir = join(dataDir, 'captures');
    this.sharesDir = join(dataDir, 'shares');
    this.tusDir = join(dataDir, 'tus');
    this.idempotencyDir = join(dataDir, 'idempotency');
    this.state = new DiskStateStore(this); // replaced by useState() (PostgreSQL)
    this.tusOwners = new Map(); // tus upload id -> owner (never changes), so usage() reads each info once
    this.assemblies = new Map(); // "<user>/<sessionId>" -> SessionAssembly (its state is on disk; this caches it)
  }

  /** Keeps the state in `state` (a StateStore) instead of the data directory. */
  useState(state) {
    this.state = state;
  }

  /**
   * Keeps the bytes in the bucket (`objects`: an ObjectStore) instead of the data directory: capture
   * files and thumbnails are objects, a REST recording is a multipart upload (chunk i of at least
   * 5 MiB is part i + 1, so finalize is CompleteMultipartUpload), and the data directory holds only
   * temp files. Needs a shared state store (PostgreSQL) for the parts' ETags.
   */
  useObjects(objects) {
    this.objects = objects;
  }

  async prepare() {
    await this.state.prepare();
    for (const d of [this.tmpDir, this.uploadsDir, this.capturesDir, this.sharesDir, this.tusDir, this.idempotencyDir]) {
      await mkdir(d, { recursive: true });
    }
  }

  /** Runs fn holding `key` against every other holder (in this process; with PostgreSQL, on every server). */
  withLock(key, fn) {
    return this.state.withLock(key, fn);
  }

  tmpPath() {
    return join(this.tmpDir, `${Date.now()}-${randomBytes(8).toString('hex')}.tmp`);
  }

  /**
   * Streams `source` into a new temp file while hashing it; the file is fsynced before this resolves.
   * Returns { path, size, sha256, head } (head: the first 64 bytes, for sniff()).
   * `isTruncated()` is asked at the end (multipart size limits truncate the stream rather than fail it).
   */
  async receive(source, { maxBytes = Infinity, isTruncated = () => false } = {}) {
    const path = this.tmpPath();
    const hash = createHash('sha256');
    let size = 0;
    let head = Buffer.alloc(0);
    let tooBig = false;
    const meter = new Transform({
      transform(chunk, _enc, cb) {
        size += chunk.length;
        if (size > maxBytes) {
          tooBig = true;
          cb(httpError(413, `body exceeds the limit of ${maxBytes} bytes`));
          return;
        }
        if (head.length < 64) head = Buffer.concat([head, chunk.subarray(0, 64 - head.length)]);
        hash.update(chunk);
        cb(null, chunk);
      },
    });
    try {
      await pipeline(source, meter, createWriteStream(path, { flags: 'wx', flush: true }));
    } catch (e) {
      await rm(path, { force: true });
      if (tooBig) throw httpError(413, `body exceeds the limit of ${maxBytes} bytes`);
      throw e;
    }
    if (isTruncated()) {
      await rm(path, { force: true });
      throw httpError(413, `body exceeds the limit of ${maxBytes} bytes`);
    }
    return { path, size, sha256: hash.digest('hex'), head };
  }

  /** Writes JSON atomically: temp file beside the target, fsync, rename, fsync the directory. */
  writeJson(path, value) {
    return writeJsonFile(path, value);
  }

  readJson(path) {
    return readJsonFile(path);
  }

  // ---- REST upload sessions ----------------------------------------------------------------------

  sessionDir(user, sessionId) {
    return join(this.uploadsDir, checkUser(user), checkId(sessionId, 'sessionId'));
  }

  async createSession(user, fields) {
    const id = newId();
    const dir = this.sessionDir(user, id);
    const session = { id, owner: user, state: 'open', createdAt: new Date().toISOString(), ...fields };
    if (this.objects) {
      const key = this.objects.sessionKey(user, id);
      session.s3 = { key, uploadId: await this.objects.createMultipart(key, fields.mimeType || 'video/webm') };
      await this.state.createSession(session);
      return session;
    }
    await mkdir(join(dir, 'parts'), { recursive: true });
    await this.state.createSession(session);
    await fsyncPath(join(this.uploadsDir, user));
    return session;
  }

  /** The session, or null when it does not exist for this user (another user's session is null too). */
  async getSession(user, sessionId) {
    return this.state.getSession(checkUser(user), checkId(sessionId, 'sessionId'));
  }

  async saveSession(session) {
    await this.state.saveSession(session);
  }

  /** Map index -> { sha256 } of the acknowledged chunks (no lock needed). */
  async listParts(user, sessionId) {
    return this.state.listParts(checkUser(user), checkId(sessionId, 'sessionId'));
  }

  // The session's assembly state, loaded from disk on first use (after a restart that re-reads the
  // assembled prefix once, to rebuild its SHA-256). Call under withLock(sessionId).
  async #assembly(user, sessionId) {
    const key = `${user}/${sessionId}`;
    let a = this.assemblies.get(key);
    // With a shared state (PostgreSQL) another server may have stored chunks of this session since this
    // one cached it: a changed parts version means load it again from the (shared) data directory.
    const version = await this.state.partsVersion(user, sessionId);
    if (a && version !== null && a.partsVersion !== version) a = null;
    if (a) {
      this.assemblies.delete(key); // most recently used last
    } else {
      const session = await this.getSession(user, sessionId);
      if (!session) throw httpError(404, 'unknown upload session');
      // With a shared state other servers write this session's chunks too: re-reading the prefix to
      // rebuild its SHA-256 at every change of hands would read the recording again per chunk, so the
      // digest is left to after finalize instead (O(1) chunks and finalize, one read in the background).
      a = await SessionAssembly.load(this.sessionDir(user, sessionId), session, { rehash: version === null });
      a.partsVersion = version;
    }
    this.assemblies.set(key, a);
    while (this.assemblies.size > 256) this.assemblies.delete(this.assemblies.keys().next().value);
    return a;
  }

  /**
   * Stores a received temp file as chunk `index` of the session: written into the recording at its
   * place (or kept aside behind a gap), fsynced, then recorded. Unless that index is already stored.
   * Returns 'stored' | 'duplicate' | 'conflict'. Call under withLock(sessionId).
   */
  async storePart(user, sessionId, index, received) {
    if (this.objects) return this.#storeObjectPart(user, sessionId, index, received);
    const a = await this.#assembly(user, sessionId);
    const outcome = await a.store(index, received, async (layout) => {
      const s = await this.getSession(user, sessionId);
      s.assembly = layout;
      await this.saveSession(s);
    });
    if (outcome === 'conflict') return outcome;
    // The state's record of the part is the acknowledgement's commit point (a duplicate is recorded too:
    // its first store may have ended, by a crash, between the assembly's entry and this record).
    const recorded = await this.state.recordPart(user, sessionId, index, received.sha256, received.size);
    if (recorded !== null) {
      a.partsVersion = await this.state.partsVersion(user, sessionId);
      return recorded === 'conflict' ? 'conflict' : outcome;
    }
    return outcome;
  }

  /**
   * The recording of chunks 0..n-1 (all stored), ready to become a capture: { path, size, sha256, head,
   * copied }. No recording byte is read or copied when every chunk is in place (the usual case); sha256
   * is null when it was not computed on the way (chunk 0 stored after the chunks behind it): then
   * `digestFile(path)` computes it. Call under withLock(sessionId).
   */
  async sealUpload(user, sessionId, n) {
    if (this.objects) return this.#sealObject(user, sessionId, n);
    const a = await this.#assembly(user, sessionId);
    return a.seal(n, this.tmpPath());
  }

  // Chunk `index` into the bucket: at least 5 MiB, part index + 1 of the session's multipart upload;
  // smaller (a last chunk, as far as this server can tell) an object of its own until finalize. The
  // chunk was received into a temp file first (its SHA-256 checked, its length known for UploadPart).
  async #storeObjectPart(user, sessionId, index, received) {
    try {
      const s = await this.getSession(user, sessionId);
      if (!s) throw httpError(404, 'unknown upload session');
      const had = (await this.state.listParts(user, sessionId)).get(index);
      if (had) return had.sha256 === received.sha256 ? 'duplicate' : 'conflict';
      let etag = null;
      let side = null;
      if (received.size >= MIN_PART_BYTES) {
        etag = await this.objects.uploadPart(s.s3.key, s.s3.uploadId, index + 1, received.path, received.size);
      } else {
        side = this.objects.sideKey(user, sessionId, index);
        await this.objects.putFile(side, received.path);
      }
      return await this.state.recordPart(user, sessionId, index, received.sha256, received.size, { etag, side });
    } finally {
      await rm(received.path, { force: true });
    }
  }

  // Finalize in the bucket: CompleteMultipartUpload of parts 1..n (no byte copied). The last chunk, when
  // it is under 5 MiB, is uploaded as part n now (at most 5 MiB read). A smaller chunk before the last
  // cannot be part of a multipart upload (S3's rule): 400, naming them.
  async #sealObject(user, sessionId, n) {
    const s = await this.getSession(user, sessionId);
    const parts = await this.state.listParts(user, sessionId);
    const small = [];
    for (let i = 0; i < n - 1; i++) if (parts.get(i).size < MIN_PART_BYTES) small.push(i);
    if (small.length) {
      throw httpError(400, `with the bytes in S3 every chunk but the last must be at least ${MIN_PART_BYTES} bytes (S3's part minimum); smaller: ${small.slice(0, 20).join(', ')}`, { tooSmall: small.slice(0, 10000) });
    }
    const list = [];
    let size = 0;
    for (let i = 0; i < n; i++) {
      const p = parts.get(i);
      let etag = p.etag;
      if (!etag) etag = await this.objects.uploadPartBuffer(s.s3.key, s.s3.uploadId, i + 1, await this.objects.buffer(p.side));
      list.push({ partNumber: i + 1, etag });
      size += p.size;
    }
    await this.objects.completeMultipart(s.s3.key, s.s3.uploadId, list, size);
    const head = await this.objects.head(s.s3.key);
    return { objectKey: s.s3.key, size, sha256: null, head, copied: false };
  }

  /** Streams files (or byte ranges of them) in order into one temp file; returns { path, size, sha256, head }. */
  async assemble(sources) {
    const path = this.tmpPath();
    const out = createWriteStream(path, { flags: 'wx', flush: true });
    const hash = createHash('sha256');
    let size = 0;
    let head = Buffer.alloc(0);
    try {
      for (const part of sources) {
        const src = createReadStream(part.path, part.length === undefined ? {} : { start: part.start || 0, end: (part.start || 0) + part.length - 1 });
        for await (const chunk of src) {
          hash.update(chunk);
          size += chunk.length;
          if (head.length < 64) head = Buffer.concat([head, chunk.subarray(0, 64 - head.length)]);
          if (!out.write(chunk)) await new Promise((r) => out.once('drain', r));
        }
      }
      await new Promise((resolve, reject) => {
        out.once('error', reject);
        out.end(resolve);
      });
    } catch (e) {
      out.destroy();
      await rm(path, { force: true });
      throw e;
    }
    return { path, size, sha256: hash.digest('hex'), head };
  }

  /** SHA-256 of a whole file (hex). */
  async digestFile(path) {
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(path)) hash.update(chunk);
    return hash.digest('hex');
  }

  /** Removes what an upload session kept of its chunks (after finalize, or when it is dropped). */
  async removeSessionParts(user, sessionId) {
    this.assemblies.delete(`${user}/${sessionId}`);
    if (this.objects) {
      for (const p of (await this.state.listParts(user, sessionId)).values()) if (p.side) await this.objects.delete(p.side);
      await this.state.dropParts(user, sessionId);
      return;
    }
    await this.state.dropParts(user, sessionId);
    const dir = this.sessionDir(user, sessionId);
    await rm(join(dir, 'data'), { force: true });
    await rm(join(dir, 'waiting'), { recursive: true, force: true });
    await rm(join(dir, 'parts'), { recursive: true, force: true });
  }

  // ---- captures ----------------------------------------------------------------------------------

  captureDir(user, id) {
    return join(this.capturesDir, checkUser(user), checkId(id, 'capture id'));
  }

  /**
   * Makes a capture from a received temp file (moved, or hard-linked when `linkOnly`).
   * `record` holds type, mimeType, ext, filename, session, metadata, sha256, size ...
   */
  async createCapture(user, received, record, { id = newId(), linkOnly = false } = {}) {
    const dir = this.captureDir(user, id);
    const dataName = `data.${record.ext}`;
    let objectKey = null;
    if (this.objects) {
      // An object already (a completed REST recording, a tus upload), or a temp file uploaded now.
      objectKey = received.objectKey || this.objects.captureKey(user, id, dataName);
      if (!received.objectKey) {
        await this.objects.putFile(objectKey, received.path, record.mimeType);
        if (!linkOnly) await rm(received.path, { force: true });
      }
    }
    const dataPath = join(dir, dataName);
    if (objectKey) {
      // nothing on disk
    } else if (linkOnly) {
      await mkdir(dir, { recursive: true });
      await rm(dataPath, { force: true });
      await link(received.path, dataPath);
    } else {
      await mkdir(dir, { recursive: true });
      await rename(received.path, dataPath);
    }
    if (!objectKey) await fsyncPath(dir);
    const shareToken = newShareToken();
    const full = {
      id,
      owner: user,
      createdAt: new Date().toISOString(),
      ...record,
      dataName,
      sha256: received.sha256,
      size: received.size,
      shareToken,
      ...(objectKey ? { objectKey } : {}),
    };
    await this.state.putCapture(full);
    return full;
  }

  async getCapture(user, id) {
    if (typeof id !== 'string' || !ID_RE.test(id)) return null;
    return this.state.getCapture(checkUser(user), id);
  }

  async updateCapture(rec) {
    await this.state.updateCapture(rec);
  }

  capturePath(rec, name = rec.dataName) {
    return join(this.captureDir(rec.owner, rec.id), name);
  }

  // The object of a capture's file (`name`: its data file or thumb.jpg) when the bytes are in the bucket.
  #objectKey(rec, name = rec.dataName) {
    if (!this.objects) return null;
    if (name === rec.dataName && rec.objectKey) return rec.objectKey;
    return this.objects.captureKey(rec.owner, rec.id, name);
  }

  /** Sends a capture's file (`name`: its data file by default, or thumb.jpg) with Range support. */
  send(request, reply, rec, name, opts) {
    const key = this.#objectKey(rec, name || rec.dataName);
    return key ? sendObject(request, reply, this.objects, key, opts) : sendFile(request, reply, this.capturePath(rec, name || rec.dataName), opts);
  }

  /**
   * fn(path) with a local file of the capture's `name` (its data file by default): the file itself on
   * disk; a temp copy of the object when the bytes are in the bucket (removed after).
   */
  async withLocalFile(rec, fn, name = rec.dataName) {
    const key = this.#objectKey(rec, name);
    if (!key) return fn(this.capturePath(rec, name));
    const path = this.tmpPath();
    await this.objects.download(key, path);
    try {
      return await fn(path);
    } finally {
      await rm(path, { force: true });
    }
  }

  /** Whether the capture has a file `name` (thumb.jpg). */
  async hasFile(rec, name) {
    const key = this.#objectKey(rec, name);
    if (key) return (await this.objects.size(key)) !== null;
    return stat(this.capturePath(rec, name)).then(() => true, () => false);
  }

  /** Stores `buf` as the capture's file `name` (thumb.jpg), replacing it. */
  async putFile(rec, name, buf, contentType) {
    const key = this.#objectKey(rec, name);
    if (key) return this.objects.putBuffer(key, buf, contentType);
    const path = this.capturePath(rec, name);
    const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    const fh = await open(tmp, 'wx');
    try { await fh.writeFile(buf); } finally { await fh.close(); }
    await rename(tmp, path);
  }

  /** SHA-256 of the capture's data (streamed from its file or object). */
  digestCapture(rec) {
    const key = this.#objectKey(rec);
    return key ? this.objects.digest(key) : this.digestFile(this.capturePath(rec));
  }

  async listCaptures(user, { session, type } = {}) {
    const out = await this.state.listCaptures(checkUser(user), { session, type });
    out.sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id < b.id ? -1 : 1));
    return out;
  }

  async deleteCapture(rec) {
    await this.state.deleteCapture(rec);
    if (this.objects) {
      await this.objects.delete(this.#objectKey(rec));
      await this.objects.delete(this.#objectKey(rec, 'thumb.jpg'));
      if (rec.tus && ID_RE.test(rec.tus.id || '') && this.tusDatastore) await this.tusDatastore.remove(rec.tus.id).catch(() => {});
      return;
    }
    await rm(this.captureDir(rec.owner, rec.id), { recursive: true, force: true });
    if (rec.tus && ID_RE.test(rec.tus.id || '')) {
      await rm(join(this.tusDir, rec.tus.id), { force: true });
      await rm(join(this.tusDir, `${rec.tus.id}.json`), { force: true });
    }
  }

  // ---- idempotency keys (the SHA-256 of the key names the record) --------------------------------

  getIdempotency(user, keyHash) {
    return this.state.getIdempotency(checkUser(user), checkKeyHash(keyHash));
  }

  putIdempotency(user, keyHash, record) {
    return this.state.putIdempotency(checkUser(user), checkKeyHash(keyHash), record);
  }

  deleteIdempotency(user, keyHash) {
    return this.state.deleteIdempotency(checkUser(user), checkKeyHash(keyHash));
  }

  /** The capture a share token points at, or null. */
  async resolveShare(token) {
    if (typeof token !== 'string' || !TOKEN_RE.test(token)) return null;
    const target = await this.state.resolveShare(token);
    if (!target) return null;
    const rec = await this.getCapture(target.user, target.id);
    return rec && rec.shareToken === token ? rec : null;
  }

  // ---- tus uploads ----

  /** Remembers who created tus upload `id` (the tus route asks tusOwner() before every other request). */
  putTusOwner(id, user, declared = null) {
    return this.state.putTusOwner(checkId(id, 'upload id'), checkUser(user), declared);
  }

  /** Notes that tus upload `id` finished (it is a capture now). */
  finishTus(id) {
    return this.state.finishTus(checkId(id, 'upload id'));
  }

  /** The user who created tus upload `id`, or null. */
  tusOwner(id) {
    return this.state.tusOwner(checkId(id, 'upload id'));
  }

  // ---- usage (quotas) ----------------------------------------------------------------------------

  /**
   * What `user` holds now: { bytes, sessions, tusUploads }. bytes: every file of the user's captures,
   * the parts of the open upload sessions, and each unfinished tus upload at its declared length (or
   * its current size when the length is deferred). sessions: REST sessions not finalized (they keep a
   * parts/ directory until then). tusUploads: tus uploads not finished.
   */
  async usage(user) {
    checkUser(user);
    if (this.objects) return this.state.usage(user); // no directory to count: the tables know
    let bytes = 0;
    let sessions = 0;
    let tusUploads = 0;
    const size = async (p) => { try { return (await stat(p)).size; } catch { return 0; } };
    const list = (d) => readdir(d).catch(() => []);
    for (const id of await list(join(this.capturesDir, user))) {
      if (!ID_RE.test(id)) continue;
      for (const name of await list(join(this.capturesDir, user, id))) bytes += await size(join(this.capturesDir, user, id, name));
    }
    for (const id of await list(join(this.uploadsDir, user))) {
      if (!ID_RE.test(id)) continue;
      const partsDir = join(this.uploadsDir, user, id, 'parts');
      let parts;
      try { parts = await readdir(partsDir); } catch { continue; } // finalized: no parts/ any more
      sessions++;
      for (const name of parts) bytes += await size(join(partsDir, name));
      bytes += await size(join(this.uploadsDir, user, id, 'data'));
      for (const name of await list(join(this.uploadsDir, user, id, 'waiting'))) bytes += await size(join(this.uploadsDir, user, id, 'waiting', name));
    }
    const tusNames = await list(this.tusDir);
    const present = new Set(tusNames);
    for (const id of this.tusOwners.keys()) if (!present.has(id)) this.tusOwners.delete(id); // removed uploads
    for (const name of tusNames) {
      if (!ID_RE.test(name)) continue;
      let owner = this.tusOwners.get(name);
      let info = null;
      if (owner === undefined) {
        info = await this.readJson(join(this.tusDir, `${name}.json`)).catch(() => null);
        if (!info) continue;
        owner = info.metadata?.owner ?? null;
        this.tusOwners.set(name, owner);
      }
      if (owner !== user) continue;
      info = info || (await this.readJson(join(this.tusDir, `${name}.json`)).catch(() => null));
      if (!info) { this.tusOwners.delete(name); continue; }
      const have = await size(join(this.tusDir, name));
      const declared = Number.isSafeInteger(info.size) ? info.size : null;
      if (declared !== null && have >= declared) continue; // finished: a capture now (counted above)
      tusUploads++;
      bytes += Math.max(have, declared ?? 0);
    }
    return { bytes, sessions, tusUploads };
  }

  // ---- retention ---------------------------------------------------------------------------------

  /**
   * Removes captures whose data file, upload sessions whose newest file, and tus uploads whose data
   * file were last modified before `cutoffMs`; temp files older than `tmpCutoffMs`.
   * Returns counts { captures, sessions, tus, tmp }.
   */
  async cleanup(cutoffMs, tmpCutoffMs = cutoffMs) {
    const counts = { captures: 0, sessions: 0, tus: 0, tmp: 0 };
    const mtime = async (p) => { try { return (await stat(p)).mtimeMs; } catch { return null; } };
    if (this.objects) {
      // The bytes in the bucket: what is expired comes from the tables (creation / last activity).
      const expired = Number.isFinite(cutoffMs) ? await this.state.expired(new Date(cutoffMs)) : { captures: [], sessions: [], tus: [] };
      for (const rec of expired.captures) { await this.deleteCapture(rec); counts.captures++; }
      for (const s of expired.sessions) {
        await this.withLock(s.id, async () => {
          if (s.state !== 'finalized' && s.s3) await this.objects.abortMultipart(s.s3.key, s.s3.uploadId);
          await this.removeSessionParts(s.owner, s.id);
          await this.state.dropSession(s.owner, s.id);
        });
        counts.sessions++;
      }
      for (const id of expired.tus) {
        if (this.tusDatastore) await this.tusDatastore.remove(id).catch(() => {});
        await this.state.dropTusOwner(id);
        counts.tus++;
      }
    }
    const users = async (base) => (await readdir(base).catch(() => [])).filter((u) => USER_RE.test(u));

    for (const user of this.objects ? [] : await users(this.capturesDir)) {
      for (const id of await readdir(join(this.capturesDir, user)).catch(() => [])) {
        if (!ID_RE.test(id)) continue;
        const rec = await this.getCapture(user, id);
        const t = rec ? await mtime(this.capturePath(rec)) : await mtime(join(this.capturesDir, user, id));
        if (t !== null && t < cutoffMs) {
          if (rec) await this.deleteCapture(rec);
          else await rm(join(this.capturesDir, user, id), { recursive: true, force: true });
          counts.captures++;
        }
      }
    }
    for (const user of this.objects ? [] : await users(this.uploadsDir)) {
      for (const id of await readdir(join(this.uploadsDir, user)).catch(() => [])) {
        if (!ID_RE.test(id)) continue;
        const dir = join(this.uploadsDir, user, id);
        await this.withLock(id, async () => {
          let newest = (await mtime(join(dir, 'session.json'))) ?? (await mtime(dir));
          // Every chunk stored writes its parts/ entry (data is written only with one), so the newest
          // entry is the session's last activity.
          for (const sub of ['parts', 'waiting']) {
            for (const name of await readdir(join(dir, sub)).catch(() => [])) {
              newest = Math.max(newest ?? 0, (await mtime(join(dir, sub, name))) ?? 0);
            }
          }
          if (newest === null || newest < cutoffMs) {
            this.assemblies.delete(`${user}/${id}`);
            await rm(dir, { recursive: true, force: true });
            await this.state.dropSession(user, id);
            counts.sessions++;
          }
        });
      }
    }
    for (const name of await readdir(this.tusDir).catch(() => [])) {
      if (!ID_RE.test(name)) continue;
      const t = await mtime(join(this.tusDir, name));
      if (t !== null && t < cutoffMs) {
        await rm(join(this.tusDir, name), { force: true });
        await rm(join(this.tusDir, `${name}.json`), { force: true });
        await this.state.dropTusOwner(name);
        counts.tus++;
      }
    }
    for (const name of await readdir(this.tmpDir).catch(() => [])) {
      const t = await mtime(join(this.tmpDir, name));
      if (t !== null && t < tmpCutoffMs) {
        await unlink(join(this.tmpDir, name)).catch(() => {});
        counts.tmp++;
      }
    }
    return counts;
  }
}
