// The server's state in PostgreSQL (`--database postgres://user@host:port/db`): the StateStore interface
// of state-store.js over tables, so several servers share sessions, acknowledged parts, captures,
// share tokens, Idempotency-Keys and tus ownership.
//
// - Migrations: the files of migrations/ (NNN_name.sql, in name order) run at start, each in a
//   transaction, under an advisory lock: servers that start together wait for one another and each
//   migration runs once (schema_migrations lists those applied).
// - Locks: withLock(key) holds a session-level advisory lock (pg_advisory_lock on the key's 64-bit
//   hash) on a connection of its own pool, so a chunk store, a finalize or an Idempotency-Key claim of
//   one server waits for the same step on every other server. The lock connections are a pool apart
//   from the query connections, so holders never wait for a connection their own work needs.
// - Races two servers could still run into are settled by the database itself: a part is recorded with
//   INSERT ... ON CONFLICT and compared with the row that won (same SHA-256: duplicate; other bytes:
//   conflict); a finalize moves the session out of 'open' with one UPDATE guarded by its state (a
//   second finalize takes the "already finalized" path); an Idempotency-Key is read and claimed under
//   its advisory lock (idempotency.js), so two servers never make two captures of one key; a capture
//   and its share token are inserted in one transaction.
// - PostgreSQL unreachable (stopped, restarting, the network): every request that needs it is answered
//   503 with Retry-After (httpError, statusCode 503) instead of a 500, and check() reports it to /readyz.
//   Nothing is acknowledged before its transaction committed, so a restart loses nothing acknowledged.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));
const MIGRATION_RE = /^(\d{3})_[a-z0-9_]+\.sql$/;
const MIGRATION_LOCK = 0x636b6d6967; // "ckmig": the advisory lock the migrations run under
const RETRY_AFTER_S = 1;

// Errors that mean "the database is not there right now" (as opposed to a bug in a query).
const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH',
  '57P01', '57P02', '57P03', '53300']); // admin/crash shutdown, cannot connect now, too many connections
function unavailable(e) {
  if (!e) return false;
  if (UNAVAILABLE_CODES.has(e.code) || (typeof e.code === 'string' && e.code.startsWith('08'))) return true; // 08xxx: connection exception
  return /Connection terminated|connection timeout|Client has encountered a connection error|timeout exceeded when trying to connect/i.test(e.message || '');
}

function unavailableError(cause) {
  const e = new Error('the database is unavailable; retry shortly');
  Object.assign(e, { statusCode: 503, expose: true, extra: { retryAfter: RETRY_AFTER_S }, cause, code: 'EDATABASE' });
  return e;
}

/** A parse of the URL that says what is wrong with it (the pg driver would fail later, less clearly). */
export function checkDatabaseUrl(url) {
  let u;
  try { u = new URL(url); } catch { throw new RangeError(`--database must be a postgres:// URL, got ${JSON.stringify(String(url))}`); }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') throw new RangeError(`--database must be a postgres:// URL, got protocol ${u.protocol}`);
  return url;
}

export class PostgresStateStore {
  /**
   * `url`: postgres://...; `log(msg)` for the migrations it applies. Each server opens at most `max`
   * query connections and `lockMax` lock connections (26 by default: PostgreSQL's default of 100
   * connections serves three servers; raise max_connections for more).
   */
  constructor(url, { log = () => {}, max = 10, lockMax = 16 } = {}) {
    checkDatabaseUrl(url);
    const { Pool } = require('pg');
    this.kind = 'postgres';
    this.log = log;
    const base = { connectionString: url, connectionTimeoutMillis: 2000, idleTimeoutMillis: 10000 };
    this.pool = new Pool({ ...base, max });
    this.lockPool = new Pool({ ...base, max: lockMax });
    // An idle connection that the server closes (a restart) emits 'error' on its pool; without a
    // listener that would end the process. The next query opens a new connection.
    this.pool.on('error', () => {});
    this.lockPool.on('error', () => {});
    this.local = new Map(); // key -> tail of this process's waiters (one lock connection per key at a time)
  }

  async #q(text, params) {
    try {
      return await this.pool.query(text, params);
    } catch (e) {
      throw unavailable(e) ? unavailableError(e) : e;
    }
  }

  /** fn(client) inside BEGIN ... COMMIT (ROLLBACK when it throws). */
  async #tx(fn) {
    let client;
    try {
      client = await this.pool.connect();
    } catch (e) {
      throw unavailable(e) ? unavailableError(e) : e;
    }
    let broken = false;
    try {
      await client.query('BEGIN');
      const out = await fn(client);
      await client.query('COMMIT');
      return out;
    } catch (e) {
      broken = unavailable(e);
      if (!broken) await client.query('ROLLBACK').catch(() => { broken = true; });
      throw broken ? unavailableError(e) : e;
    } finally {
      client.release(broken);
    }
  }

  async prepare() {
    let client;
    try {
      client = await this.pool.connect();
    } catch (e) {
      throw new Error(`cannot connect to the database: ${e.message}`);
    }
    try {
      await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
      try {
        await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
        const done = new Set((await client.query('SELECT name FROM schema_migrations')).rows.map((r) => r.name));
        const files = (await readdir(MIGRATIONS_DIR)).filter((f) => MIGRATION_RE.test(f)).sort();
        for (const name of files) {
          if (done.has(name)) continue;
          const sql = await readFile(join(MIGRATIONS_DIR, name), 'utf8');
          await client.query('BEGIN');
          try {
            await client.query(sql);
            await client.query('INSERT INTO schema_migrations (name) VALUES ($1)', [name]);
            await client.query('COMMIT');
          } catch (e) {
            await client.query('ROLLBACK').catch(() => {});
            throw new Error(`migration ${name} failed: ${e.message}`);
          }
          this.log(`applied migration ${name}`);
        }
      } finally {
        await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => {});
      }
    } finally {
      client.release();
    }
  }

  /** null when a query answers within 2 s, else an error code (for /readyz). */
  async check() {
    let timer;
    try {
      await Promise.race([
        this.pool.query('SELECT 1'),
        new Promise((_, reject) => { timer = setTimeout(() => reject(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })), 2000); }),
      ]);
      return null;
    } catch (e) {
      return e.code || 'error';
    } finally {
      clearTimeout(timer);
    }
  }

  async close() {
    await Promise.all([this.pool.end().catch(() => {}), this.lockPool.end().catch(() => {})]);
  }

  /**
   * fn() holding `key` on every server: waiters of this process queue here first (so one process holds
   * one lock connection per key), then the advisory lock is taken on a connection of the lock pool.
   */
  async withLock(key, fn) {
    const prev = this.local.get(key) || Promise.resolve();
    let release;
    const mine = new Promise((r) => { release = r; });
    const chained = prev.then(() => mine);
    this.local.set(key, chained);
    await prev;
    let client = null;
    try {
      try {
        client = await this.lockPool.connect();
        await client.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [key]);
      } catch (e) {
        if (client) client.release(true);
        client = null;
        throw unavailable(e) ? unavailableError(e) : e;
      }
      return await fn();
    } finally {
      if (client) {
        // A connection whose unlock failed is dropped (closing it releases the lock).
        await client.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [key])
          .then(() => client.release(), () => client.release(true));
      }
      release();
      if (this.local.get(key) === chained) this.local.delete(key);
    }
  }

  // ---- sessions ----
  async createSession(session) {
    await this.#q('INSERT INTO upload_sessions (id, owner, state, record) VALUES ($1, $2, $3, $4)',
      [session.id, session.owner, session.state, session]);
    return session;
  }

  async getSession(user, id) {
    const { rows } = await this.#q('SELECT record FROM upload_sessions WHERE id = $1 AND owner = $2', [id, user]);
    return rows.length ? rows[0].record : null;
  }

  /**
   * Saves the record. Leaving 'open' (a finalize) is one guarded UPDATE: of two servers finalizing at
   * once (each under the session's lock, so only after the other finished) the second finds the
   * session no longer open and takes the finalized path.
   */
  async saveSession(s) {
    if (s.state !== 'open') {
      const { rowCount } = await this.#q(
        `UPDATE upload_sessions SET state = $3, record = $4, updated_at = now()
          WHERE id = $1 AND owner = $2 AND (state = 'open' OR state = $3 OR (state = 'finalizing' AND $3 = 'finalized'))`,
        [s.id, s.owner, s.state, s]);
      if (rowCount === 0) {
        const e = new Error('upload session was finalized by another request');
        Object.assign(e, { statusCode: 409, expose: true, extra: {} });
        throw e;
      }
      return;
    }
    await this.#q('UPDATE upload_sessions SET record = $3, updated_at = now() WHERE id = $1 AND owner = $2', [s.id, s.owner, s]);
  }

  async listParts(user, id) {
    const { rows } = await this.#q(
      `SELECT p.idx, p.sha256, p.size, p.etag, p.side_key FROM upload_parts p JOIN upload_sessions s ON s.id = p.session_id
        WHERE p.session_id = $1 AND s.owner = $2`, [id, user]);
    return new Map(rows.map((r) => [r.idx, { sha256: r.sha256, size: Number(r.size), etag: r.etag, side: r.side_key }]));
  }

  /**
   * One transaction: the part's row (the first one wins), and the session's parts version. `where`:
   * { etag } of its multipart part, or { side } (its own object) when the bytes are in the bucket.
   */
  async recordPart(user, id, index, sha256, size, where = {}) {
    return this.#tx(async (c) => {
      const ins = await c.query(
        'INSERT INTO upload_parts (session_id, idx, sha256, size, etag, side_key) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (session_id, idx) DO NOTHING',
        [id, index, sha256, size, where.etag ?? null, where.side ?? null]);
      if (ins.rowCount === 1) {
        await c.query('UPDATE upload_sessions SET parts_version = parts_version + 1, updated_at = now() WHERE id = $1 AND owner = $2', [id, user]);
        return 'stored';
      }
      const { rows } = await c.query('SELECT sha256 FROM upload_parts WHERE session_id = $1 AND idx = $2', [id, index]);
      return rows[0]?.sha256 === sha256 ? 'duplicate' : 'conflict';
    });
  }

  async partsVersion(user, id) {
    const { rows } = await this.#q('SELECT parts_version FROM upload_sessions WHERE id = $1 AND owner = $2', [id, user]);
    return rows.length ? Number(rows[0].parts_version) : -1;
  }

  async dropParts(user, id) {
    await this.#q('DELETE FROM upload_parts WHERE session_id = $1', [id]);
  }

  async dropSession(user, id) {
    await this.#q('DELETE FROM upload_sessions WHERE id = $1 AND owner = $2', [id, user]);
  }

  // ---- captures, share tokens ----
  async putCapture(rec) {
    await this.#tx(async (c) => {
      await c.query(
        `INSERT INTO captures (id, owner, session, type, created_at, record) VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (id) DO UPDATE SET record = EXCLUDED.record WHERE captures.owner = EXCLUDED.owner`,
        [rec.id, rec.owner, rec.session ?? null, rec.type, rec.createdAt, rec]);
      await c.query('DELETE FROM share_tokens WHERE capture_id = $1', [rec.id]);
      await c.query('INSERT INTO share_tokens (token, capture_id) VALUES ($1, $2)', [rec.shareToken, rec.id]);
    });
  }

  async getCapture(user, id) {
    const { rows } = await this.#q('SELECT record FROM captures WHERE id = $1 AND owner = $2', [id, user]);
    return rows.length ? rows[0].record : null;
  }

  async updateCapture(rec) {
    await this.#q('UPDATE captures SET record = $3, session = $4 WHERE id = $1 AND owner = $2', [rec.id, rec.owner, rec, rec.session ?? null]);
  }

  async listCaptures(user, { session, type } = {}) {
    const { rows } = await this.#q(
      `SELECT record FROM captures WHERE owner = $1 AND ($2::text IS NULL OR session = $2) AND ($3::text IS NULL OR type = $3)
        ORDER BY created_at, id`, [user, session ?? null, type ?? null]);
    return rows.map((r) => r.record);
  }

  async deleteCapture(rec) {
    await this.#tx(async (c) => {
      if (rec.idempotencyKey) await c.query('DELETE FROM idempotency_keys WHERE owner = $1 AND key_hash = $2', [rec.owner, rec.idempotencyKey]);
      await c.query('DELETE FROM captures WHERE id = $1 AND owner = $2', [rec.id, rec.owner]); // share_tokens: ON DELETE CASCADE
      if (rec.tus?.id) await c.query('DELETE FROM tus_uploads WHERE id = $1', [rec.tus.id]);
    });
  }

  async resolveShare(token) {
    const { rows } = await this.#q(
      'SELECT c.owner, c.id FROM share_tokens t JOIN captures c ON c.id = t.capture_id WHERE t.token = $1', [token]);
    return rows.length ? { user: rows[0].owner, id: rows[0].id } : null;
  }

  // ---- idempotency keys ----
  async getIdempotency(user, keyHash) {
    const { rows } = await this.#q('SELECT capture_id, kind, sha256, created_at FROM idempotency_keys WHERE owner = $1 AND key_hash = $2', [user, keyHash]);
    if (!rows.length) return null;
    const r = rows[0];
    return { captureId: r.capture_id, kind: r.kind, sha256: r.sha256, createdAt: r.created_at.toISOString() };
  }

  /** Claims the key (idempotency.js calls it under the key's lock; a row already there is replaced). */
  async putIdempotency(user, keyHash, record) {
    await this.#q(
      `INSERT INTO idempotency_keys (owner, key_hash, capture_id, kind, sha256) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (owner, key_hash) DO UPDATE SET capture_id = EXCLUDED.capture_id, kind = EXCLUDED.kind, sha256 = EXCLUDED.sha256, created_at = now()`,
      [user, keyHash, record.captureId, record.kind, record.sha256]);
  }

  async deleteIdempotency(user, keyHash) {
    await this.#q('DELETE FROM idempotency_keys WHERE owner = $1 AND key_hash = $2', [user, keyHash]);
  }

  // ---- tus ----
  async putTusOwner(id, user, declared = null) {
    await this.#q('INSERT INTO tus_uploads (id, owner, declared) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING', [id, user, declared]);
  }

  async finishTus(id) {
    await this.#q('UPDATE tus_uploads SET finished = true WHERE id = $1', [id]);
  }

  /**
   * What `user` holds, from the tables (the bytes being in the bucket): captures' sizes, the parts of
   * open sessions, unfinished tus uploads at their declared length.
   */
  async usage(user) {
    const { rows } = await this.#q(
      `SELECT (SELECT coalesce(sum((record->>'size')::bigint + coalesce((record->'thumbnail'->>'size')::bigint, 0)), 0) FROM captures WHERE owner = $1) AS captures,
              (SELECT count(*) FROM upload_sessions WHERE owner = $1 AND state <> 'finalized') AS sessions,
              (SELECT coalesce(sum(p.size), 0) FROM upload_parts p JOIN upload_sessions s ON s.id = p.session_id WHERE s.owner = $1 AND s.state <> 'finalized') AS parts,
              (SELECT count(*) FROM tus_uploads WHERE owner = $1 AND NOT finished) AS tus,
              (SELECT coalesce(sum(declared), 0) FROM tus_uploads WHERE owner = $1 AND NOT finished) AS tus_bytes`, [user]);
    const r = rows[0];
    return { bytes: Number(r.captures) + Number(r.parts) + Number(r.tus_bytes), sessions: Number(r.sessions), tusUploads: Number(r.tus) };
  }

  /** Retention with the bytes in the bucket: what is older than `cutoff` (a Date). */
  async expired(cutoff) {
    const captures = (await this.#q('SELECT record FROM captures WHERE created_at < $1', [cutoff])).rows.map((r) => r.record);
    const sessions = (await this.#q('SELECT record FROM upload_sessions WHERE updated_at < $1', [cutoff])).rows.map((r) => r.record);
    const tus = (await this.#q('SELECT id FROM tus_uploads WHERE created_at < $1 AND NOT finished', [cutoff])).rows.map((r) => r.id);
    return { captures, sessions, tus };
  }

  async tusOwner(id) {
    const { rows } = await this.#q('SELECT owner FROM tus_uploads WHERE id = $1', [id]);
    return rows.length ? rows[0].owner : null;
  }

  async dropTusOwner(id) {
    await this.#q('DELETE FROM tus_uploads WHERE id = $1', [id]);
  }

  // ---- server-side recordings in progress ----
  async getLiveRecording(user, session) {
    const { rows } = await this.#q('SELECT record FROM live_recordings WHERE owner = $1 AND session = $2', [user, session]);
    return rows.length ? rows[0].record : null;
  }

  async putLiveRecording(rec) {
    await this.#q(
      `INSERT INTO live_recordings (owner, session, record) VALUES ($1, $2, $3)
         ON CONFLICT (owner, session) DO UPDATE SET record = EXCLUDED.record, updated_at = now()`,
      [rec.owner, rec.session, rec]);
  }
}
