// A REST upload session's recording, assembled in place while its chunks arrive, so that finalize
// only checks, truncates, fsyncs and links (no byte of the recording is copied or read at finalize).
//
// Files of one session (uploads/<user>/<sessionId>/):
//   data                 the recording being assembled; chunk bytes are written at their final offsets
//   parts/<i>.<sha256>   one per acknowledged chunk, holding the chunk's size in decimal (written
//                        atomically: temp, fsync, rename, directory fsync). It is the acknowledgement's
//                        commit point: a chunk without it was never acknowledged.
//   waiting/<i>.<sha256> the bytes of an acknowledged chunk that could not be placed yet (a gap before it)
//
// Where a chunk goes. The chunks from `base` on form the run: chunk `base` starts at base*stride and
// every later chunk right after the one before it, whatever the sizes. A chunk whose predecessor is in
// place is written into `data` (then every waiting chunk the gap held back, in order); one behind a gap
// waits in waiting/ until the gap closes. `base` is the index of the first chunk the session stored
// (0 for a client that sends in order) and `stride` its size: chunks below `base` (capturekit's
// seekable streaming sends part 0 last, every part but the last being the same size) are written at
// k*stride when they are exactly `stride` bytes, else they wait and finalize falls back to copying the
// whole recording into a new file (a client with uneven parts that also sends them out of order).
//
// Durability. A chunk written into `data` is fsynced there before its parts/ entry is made; a waiting
// chunk is fsynced in waiting/ before. Bytes in `data` past the placed chunks (a crash between the write
// and the entry) are overwritten by the chunk's resend or cut off by finalize's truncate. A waiting
// chunk's file is removed only after its bytes in `data` were fsynced, so after a crash a chunk is
// either still waiting (and placed again, to the same offset) or in `data`.
//
// SHA-256 of the whole recording. Hashed as the bytes are written, while they extend the hashed prefix
// (chunks in order). Node's hash state cannot be saved, so after a restart the first request that
// touches the session re-reads the assembled prefix once to rebuild it. When bytes land before the
// hashed prefix's end can reach them (part 0 sent last) the session stops hashing: finalize then
// answers `sha256: null` and the capture's digest is computed in the background (captures.js waits
// for it before serving the capture).
import { createHash, randomBytes } from 'node:crypto';
import { link, mkdir, open, readdir, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { fsyncPath } from './durable.js';

const MARK_RE = /^(\d{1,9})\.([0-9a-f]{64})$/;
const COPY_BUF = 1 << 20;
const sha256 = (buf) => createHash('sha256').update(buf).digest('hex');

// Test hook: CAPTUREKIT_CRASH_POINT="<point>:<chunk index>" kills the process (SIGKILL) at that point,
// so tests can crash the server exactly between two steps. Points: placed (the chunk's bytes are in
// data and fsynced, no parts/ entry yet), marked (entry made, no answer yet), drained (waiting chunks
// copied into data and fsynced, their waiting/ files not yet removed).
function crashPoint(point, index) {
  if (process.env.CAPTUREKIT_CRASH_POINT === `${point}:${index}`) process.kill(process.pid, 'SIGKILL');
}

/** Counters of the bytes the assembly reads, by phase (tests check finalize reads no recording bytes). */
export const assemblyStats = { chunkBytesRead: 0, rehashBytesRead: 0, finalizeBytesRead: 0 };

export class SessionAssembly {
  /**
   * Loads the state of the session in `dir` from disk (call under the session's lock). `rehash: false`
   * does not re-read the assembled prefix to rebuild its SHA-256: the session stops hashing (finalize
   * answers sha256: null, the digest follows in the background). Several servers sharing the data
   * directory take turns on a session's chunks, and each turn would re-read the whole prefix.
   */
  static async load(dir, session, { rehash = true } = {}) {
    const a = new SessionAssembly(dir, session);
    await a.#load(rehash);
    return a;
  }

  constructor(dir, session) {
    this.dir = dir;
    this.dataPath = join(dir, 'data');
    this.partsDir = join(dir, 'parts');
    this.waitingDir = join(dir, 'waiting');
    this.base = session.assembly?.base ?? 0;
    this.stride = session.assembly?.stride ?? 0;
    this.chunks = new Map(); // index -> { sha256, size, waiting: path | null }
    this.runEnd = 0; // byte offset after the last placed chunk of the run
    this.next = 0; // index after the last placed chunk of the run
    this.hash = createHash('sha256');
    this.hashed = 0; // bytes [0, hashed) are in this.hash; null hash: the session stopped hashing
  }

  async #load(rehash) {
    const marks = await readdir(this.partsDir).catch((e) => { if (e.code === 'ENOENT') return []; throw e; });
    const legacy = [];
    for (const name of marks) {
      const m = MARK_RE.exec(name);
      if (!m) {
        if (name.endsWith('.tmp')) await rm(join(this.partsDir, name), { force: true });
        continue;
      }
      const path = join(this.partsDir, name);
      const st = await stat(path);
      const content = st.size < 16 ? await readFile(path) : null;
      const size = content ? Number(content.toString('latin1').trim()) : NaN;
      // A parts/ file of the layout before in-place assembly holds the chunk itself (its SHA-256 is its name).
      if (!content || !(Number.isSafeInteger(size) && size > 0) || sha256(content) === m[2]) legacy.push({ name, path, size: st.size });
      else this.chunks.set(Number(m[1]), { sha256: m[2], size, waiting: null });
    }
    for (const { name, path, size } of legacy) {
      // Moved to waiting/ (link first, entry replaced after), so a crash in between keeps the chunk.
      await mkdir(this.waitingDir, { recursive: true });
      const to = join(this.waitingDir, name);
      await rm(to, { force: true });
      await link(path, to);
      await fsyncPath(this.waitingDir);
      await this.#mark(name, size);
    }
    const waiting = await readdir(this.waitingDir).catch((e) => { if (e.code === 'ENOENT') return []; throw e; });
    for (const name of waiting) {
      const m = MARK_RE.exec(name);
      const c = m && this.chunks.get(Number(m[1]));
      const l = m && legacy.find((x) => x.name === name);
      if (l) this.chunks.set(Number(m[1]), { sha256: m[2], size: l.size, waiting: join(this.waitingDir, name) });
      else if (c && c.sha256 === m[2]) c.waiting = join(this.waitingDir, name);
      else await rm(join(this.waitingDir, name), { force: true }); // never acknowledged (no parts/ entry)
    }
    if (!this.#anyPlaced()) {
      // Nothing placed yet: the first chunk placed decides base and stride.
      this.base = 0;
      this.stride = 0;
    }
    this.next = this.base;
    this.runEnd = this.base * this.stride;
    for (let c = this.chunks.get(this.next); c && !c.waiting; c = this.chunks.get(this.next)) {
      this.runEnd += c.size;
      this.next++;
    }
    // Rebuild the hash of the assembled prefix (Node cannot save a hash's state across a restart).
    const prefix = this.prefixEnd();
    if (prefix > 0 && !rehash) {
      this.hash = null;
    } else if (prefix > 0) {
      const fh = await open(this.dataPath, 'r');
      try {
        await readRange(fh, 0, prefix, (buf) => { this.hash.update(buf); assemblyStats.rehashBytesRead += buf.length; });
      } finally {
        await fh.close();
      }
      this.hashed = prefix;
    }
  }

  #anyPlaced() {
    for (const c of this.chunks.values()) if (!c.waiting) return true;
    return false;
  }

  // data, created (and its directory entry fsynced) on first use.
  async #openData() {
    try {
      return await open(this.dataPath, 'r+');
    } catch (e) {
      if (e.code !== 'ENOENT') throw e;
      const fh = await open(this.dataPath, 'wx+');
      await fsyncPath(this.dir);
      return fh;
    }
  }

  /** Bytes [0, n) of the recording that are in place without a gap. */
  prefixEnd() {
    if (this.base === 0) return this.runEnd;
    let k = 0;
    while (k < this.base && this.#placed(k)) k++;
    return k === this.base && this.next > this.base ? this.runEnd : k * this.stride;
  }

  #placed(i) {
    const c = this.chunks.get(i);
    return !!c && !c.waiting;
  }

  /** Indices of acknowledged chunks, ascending. */
  indices() {
    return [...this.chunks.keys()].sort((a, b) => a - b);
  }

  /** Where chunk i of `size` bytes can be written now, or null (it must wait). */
  #slot(i, size) {
    if (i >= this.base) return i === this.next ? this.runEnd : null;
    return size === this.stride ? i * this.stride : null;
  }

  /**
   * Stores an acknowledged-to-be chunk from a received temp file ({path, size, sha256}); the temp file
   * is consumed. Returns 'stored' | 'duplicate' | 'conflict'. `saveLayout(assembly)` persists base and
   * stride in the session record before the first chunk is placed. Call under the session's lock.
   */
  async store(index, received, saveLayout) {
    const existing = this.chunks.get(index);
    if (existing) {
      await rm(received.path, { force: true });
      return existing.sha256 === received.sha256 ? 'duplicate' : 'conflict';
    }
    if (!this.#anyPlaced()) {
      // The first chunk to be placed: the run starts at the lowest acknowledged index (this chunk,
      // unless chunks of the layout before in-place assembly are waiting).
      let base = index;
      let stride = received.size;
      for (const [i, c] of this.chunks) if (i < base) { base = i; stride = c.size; }
      if (base !== this.base || stride !== this.stride) {
        this.base = base;
        this.stride = stride;
        await saveLayout({ base, stride });
      }
      this.next = base;
      this.runEnd = base * stride;
    }
    const name = `${index}.${received.sha256}`;
    const at = this.#slot(index, received.size);
    if (at === null) {
      await mkdir(this.waitingDir, { recursive: true });
      const path = join(this.waitingDir, name);
      await rename(received.path, path); // the temp file was fsynced by Storage.receive
      await fsyncPath(this.waitingDir);
      await this.#mark(name, received.size);
      this.chunks.set(index, { sha256: received.sha256, size: received.size, waiting: path });
      if (this.chunks.get(this.next)?.waiting) {
        const fh = await this.#openData();
        try { await this.#drain(fh, index); } finally { await fh.close(); }
      }
      crashPoint('marked', index);
      return 'stored';
    }
    const fh = await this.#openData();
    try {
      await this.#place(fh, index, received.path, received.size, at);
      await fh.sync();
      crashPoint('placed', index);
      await this.#mark(name, received.size);
      await rm(received.path, { force: true });
      this.chunks.set(index, { sha256: received.sha256, size: received.size, waiting: null });
      this.#advance(index, received.size);
      await this.#drain(fh, index);
    } finally {
      await fh.close();
    }
    crashPoint('marked', index);
    return 'stored';
  }

  // Copies `size` bytes of `src` into data at `at`, hashing them when they extend the hashed prefix.
  async #place(fh, index, src, size, at) {
    const hashing = this.hash && this.hashed === at;
    const in_ = await open(src, 'r');
    try {
      let done = 0;
      await readRange(in_, 0, size, async (buf) => {
        assemblyStats.chunkBytesRead += buf.length;
        await writeAll(fh, buf, at + done);
        done += buf.length;
        if (hashing) this.hash.update(buf);
      });
    } finally {
      await in_.close();
    }
    if (hashing) this.hashed += size;
  }

  #advance(index, size) {
    if (index === this.next) {
      this.runEnd += size;
      this.next++;
    }
    // Bytes placed beyond the hashed prefix that the prefix now reaches without having hashed them
    // (part 0 written after the chunks behind it): this session's digest is left to finalize's caller.
    if (this.hash && this.prefixEnd() > this.hashed) this.hash = null;
  }

  // Places every waiting chunk that can now be placed, in order; fsyncs data before any waiting file goes.
  async #drain(fh, cause = -1) {
    const moved = [];
    for (;;) {
      const i = this.next;
      const c = this.chunks.get(i);
      if (!c || !c.waiting) break;
      await this.#place(fh, i, c.waiting, c.size, this.runEnd);
      moved.push(c);
      this.#advance(i, c.size);
    }
    for (let k = 0; k < this.base; k++) {
      const c = this.chunks.get(k);
      if (c && c.waiting && c.size === this.stride) {
        await this.#place(fh, k, c.waiting, c.size, k * this.stride);
        moved.push(c);
      }
    }
    if (!moved.length) return;
    await fh.sync();
    crashPoint('drained', cause);
    for (const c of moved) {
      const path = c.waiting;
      c.waiting = null;
      await unlink(path).catch(() => {});
    }
    if (this.hash && this.prefixEnd() > this.hashed) this.hash = null;
  }

  async #mark(name, size) {
    const tmp = join(this.partsDir, `.${randomBytes(6).toString('hex')}.tmp`);
    const fh = await open(tmp, 'wx');
    try {
      await fh.writeFile(String(size));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, join(this.partsDir, name));
    await fsyncPath(this.partsDir);
  }

  /**
   * Seals chunks 0..n-1 (all acknowledged) into one file and returns { path, size, sha256, head, copied }.
   * In the usual case `path` is `data` itself (truncated to its length and fsynced; sha256 null when the
   * session stopped hashing). A recording whose chunks could not all be placed is copied into a new temp
   * file `tmpPath` (copied: true, sha256 always known). Call under the session's lock.
   */
  async seal(n, tmpPath) {
    let fh = null;
    try {
      if (this.next < n && this.chunks.get(this.next)?.waiting) {
        fh = await this.#openData();
        await this.#drain(fh); // a crash between a chunk's entry and its drain
      }
      let inPlace = this.next === n;
      for (let k = 0; inPlace && k < Math.min(this.base, n); k++) inPlace = this.#placed(k);
      if (!inPlace) return { ...(await this.#copyOut(n, tmpPath)), copied: true };
      fh = fh || (await this.#openData());
      const size = this.runEnd;
      if ((await fh.stat()).size !== size) await fh.truncate(size);
      await fh.sync();
      const head = Buffer.alloc(64);
      const { bytesRead } = await fh.read(head, 0, 64, 0);
      assemblyStats.finalizeBytesRead += bytesRead;
      const sha256 = this.hash && this.hashed === size ? this.hash.copy().digest('hex') : null;
      return { path: this.dataPath, size, sha256, head: head.subarray(0, bytesRead), copied: false };
    } finally {
      await fh?.close();
    }
  }

  // The fallback: every chunk in index order into a new file (from data or from waiting/), hashed.
  async #copyOut(n, tmpPath) {
    const out = await open(tmpPath, 'wx');
    const hash = createHash('sha256');
    let size = 0;
    let head = Buffer.alloc(0);
    const data = await open(this.dataPath, 'r').catch(() => null);
    try {
      const offsets = new Map();
      let off = this.base * this.stride;
      for (let i = this.base; i < this.next; i++) { offsets.set(i, off); off += this.chunks.get(i).size; }
      for (let k = 0; k < this.base; k++) if (this.#placed(k)) offsets.set(k, k * this.stride);
      for (let i = 0; i < n; i++) {
        const c = this.chunks.get(i);
        const src = c.waiting ? await open(c.waiting, 'r') : data;
        try {
          await readRange(src, c.waiting ? 0 : offsets.get(i), c.size, async (buf) => {
            assemblyStats.finalizeBytesRead += buf.length;
            hash.update(buf);
            if (head.length < 64) head = Buffer.concat([head, buf.subarray(0, 64 - head.length)]);
            await writeAll(out, buf, size);
            size += buf.length;
          });
        } finally {
          if (c.waiting) await src.close();
        }
      }
      await out.sync();
    } catch (e) {
      await out.close().catch(() => {});
      await rm(tmpPath, { force: true });
      throw e;
    } finally {
      await data?.close();
    }
    await out.close();
    return { path: tmpPath, size, sha256: hash.digest('hex'), head };
  }

  /** Bytes this session holds on disk (data's length and the waiting chunks). */
  async bytes() {
    let total = 0;
    total += await stat(this.dataPath).then((s) => s.size, () => 0);
    for (const c of this.chunks.values()) if (c.waiting) total += c.size;
    return total;
  }
}

async function readRange(fh, start, length, onChunk) {
  const buf = Buffer.allocUnsafe(Math.min(COPY_BUF, Math.max(1, length)));
  let pos = start;
  const end = start + length;
  while (pos < end) {
    const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, end - pos), pos);
    if (bytesRead === 0) throw new Error(`unexpected end of file at ${pos} (wanted ${end})`);
    await onChunk(buf.subarray(0, bytesRead));
    pos += bytesRead;
  }
}

async function writeAll(fh, buf, position) {
  let done = 0;
  while (done < buf.length) {
    const { bytesWritten } = await fh.write(buf, done, buf.length - done, position + done);
    done += bytesWritten;
  }
}
