// The reference server with its state in PostgreSQL (--database): a real PostgreSQL (initdb in a temp
// directory, tests/helpers/postgres.mjs) and three server processes over one data directory (the bytes)
// and one database (the state). Requests of one upload go to different servers; the steps two servers
// could race on (the same chunk, finalize, an Idempotency-Key) are sent to all three at once; PostgreSQL
// is stopped in the middle of an upload and started again.
import { readdir } from 'node:fs/promises';
import { rm } from 'node:fs/promises';
import { startPostgres } from '../../helpers/postgres.mjs';
import { startServerProcess } from './server-process.mjs';
import { ALICE, BOB, tempDir, fakeWebm, makePng, sha256, json, initSession, sendChunk, screenshotForm } from './helpers.mjs';

const MIGRATIONS = (await readdir(new URL('../../../examples/server/migrations/', import.meta.url))).filter((f) => f.endsWith('.sql')).sort();
const TUS = { 'tus-resumable': '1.0.0' };
const b64 = (s) => Buffer.from(s).toString('base64');

let pg;
let dataDir;
let servers = [];
let dbUrl;

beforeAll(async () => {
  pg = await startPostgres();
  dbUrl = await pg.createDatabase('capturekit');
  dataDir = await tempDir('ck-pg-data-');
  // Three servers start at once: they wait for one another's migrations (an advisory lock).
  servers = await Promise.all([0, 1, 2].map(() => startServerProcess({ dataDir, args: ['--database', dbUrl, '--quota-sessions', '0', '--public-url', 'http://capturekit.test'] })));
}, 180000);

afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  if (pg) await pg.destroy();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

// Request n goes to server n % 3.
let turn = 0;
const next = () => servers[turn++ % servers.length];
const bytesOf = async (res) => Buffer.from(await res.arrayBuffer());

test('three servers starting together apply each migration once', async () => {
  const applied = (await pg.query('SELECT name FROM schema_migrations ORDER BY name', [], 'capturekit')).rows.map((r) => r.name);
  expect(applied).toEqual(MIGRATIONS);
  for (const name of MIGRATIONS) {
    const by = servers.filter((s) => s.output().includes(`applied migration ${name}`));
    expect(by).toHaveLength(1);
  }
  for (const s of servers) {
    const ready = await (await fetch(`${s.url}/readyz`)).json();
    expect(ready).toEqual({ status: 'ready', checks: { dataDir: 'ok', database: 'ok' } });
  }
});

test('a REST recording whose init, chunks, resume list, finalize and downloads each land on another server', async () => {
  const chunks = [0, 1, 2, 3, 4, 5, 6].map((i) => fakeWebm(i === 6 ? 1234 : 64 * 1024, 100 + i));
  const whole = Buffer.concat(chunks);
  const sessionId = await initSession(next().api, { metadata: { title: 'across servers' } });
  // part 0 last (capturekit's seekable streaming), every request to the next server
  for (const i of [1, 2, 3, 4, 5, 6, 0]) {
    const res = await sendChunk(next().api, sessionId, i, chunks[i]);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ chunkIndex: i, duplicate: false });
  }
  // a resend to another server is a duplicate there too
  const dup = await sendChunk(next().api, sessionId, 3, chunks[3]);
  expect(await dup.json()).toMatchObject({ chunkIndex: 3, duplicate: true });
  const conflict = await sendChunk(next().api, sessionId, 3, fakeWebm(64 * 1024, 999));
  expect(conflict.status).toBe(409);
  const list = await (await next().api(`/videos/${sessionId}/chunks`)).json();
  expect(list).toEqual({ chunks: [0, 1, 2, 3, 4, 5, 6], state: 'open' });

  const fin = await next().api('/videos/finalize', json({ sessionId, totalChunks: 7 }));
  expect(fin.status).toBe(200);
  const answer = await fin.json();
  expect(answer.size).toBe(whole.length);
  for (const s of servers) {
    const info = await (await s.api(`/api/captures/${answer.id}`)).json();
    expect(info).toMatchObject({ id: answer.id, type: 'video', size: whole.length, sha256: sha256(whole), metadata: { title: 'across servers' } });
    expect(sha256(await bytesOf(await s.api(`/api/captures/${answer.id}/file`)))).toBe(sha256(whole));
    const range = await s.api(`/api/captures/${answer.id}/file`, { headers: { range: 'bytes=100-199' } });
    expect(range.status).toBe(206);
    expect((await bytesOf(range)).equals(whole.subarray(100, 200))).toBe(true);
    // the share link, without a token
    expect(sha256(await bytesOf(await fetch(new URL(new URL(answer.url).pathname, s.url))))).toBe(sha256(whole));
    // another user's capture is 404 on every server
    expect((await s.api(`/api/captures/${answer.id}`, {}, BOB)).status).toBe(404);
  }
  // a finalize retried on another server gets the same answer
  expect(await (await next().api('/videos/finalize', json({ sessionId, totalChunks: 7 }))).json()).toEqual(answer);
});

test('the same chunk, the same finalize and the same Idempotency-Key sent to three servers at once: one of each', async () => {
  const chunks = [fakeWebm(32 * 1024, 7), fakeWebm(32 * 1024, 8)];
  const sessionId = await initSession(next().api);
  const racing = await Promise.all(servers.map((s) => sendChunk(s.api, sessionId, 0, chunks[0]).then((r) => r.json())));
  expect(racing.filter((r) => r.duplicate === false)).toHaveLength(1);
  expect(racing.filter((r) => r.duplicate === true)).toHaveLength(2);
  expect((await sendChunk(next().api, sessionId, 1, chunks[1])).status).toBe(200);
  const parts = await pg.query('SELECT idx FROM upload_parts WHERE session_id = $1 ORDER BY idx', [sessionId], 'capturekit');
  expect(parts.rows.map((r) => r.idx)).toEqual([0, 1]);

  const fins = await Promise.all(servers.map((s) => s.api('/videos/finalize', json({ sessionId, totalChunks: 2 })).then(async (r) => ({ status: r.status, body: await r.json() }))));
  expect(fins.map((f) => f.status)).toEqual([200, 200, 200]);
  expect(new Set(fins.map((f) => f.body.id)).size).toBe(1);
  const made = await pg.query("SELECT count(*)::int AS n FROM captures WHERE record->'upload'->>'sessionId' = $1", [sessionId], 'capturekit');
  expect(made.rows[0].n).toBe(1);

  const png = makePng(50, 40);
  const shots = await Promise.all(servers.map((s) => s.api('/api/capture/screenshot', {
    method: 'POST', body: screenshotForm(png, { session: 'pg-idem' }), headers: { 'idempotency-key': 'shot-across-servers' },
  }).then(async (r) => ({ status: r.status, replayed: r.headers.get('idempotent-replayed'), body: await r.json() }))));
  expect(shots.map((s) => s.status)).toEqual([200, 200, 200]);
  expect(new Set(shots.map((s) => s.body.data.id)).size).toBe(1);
  expect(shots.filter((s) => s.replayed === 'true')).toHaveLength(2);
  const listed = await (await next().api('/api/captures?session=pg-idem')).json();
  expect(listed.count).toBe(1);
  // the same key with other bytes, on yet another server: 422
  const other = await next().api('/api/capture/screenshot', { method: 'POST', body: screenshotForm(makePng(51, 40), { session: 'pg-idem' }), headers: { 'idempotency-key': 'shot-across-servers' } });
  expect(other.status).toBe(422);
});

test('tus: create, PATCH and HEAD on different servers; the owner is known to all of them', async () => {
  const data = fakeWebm(90000, 31);
  const create = await next().api('/files/', {
    method: 'POST',
    headers: { ...TUS, 'upload-length': String(data.length), 'upload-metadata': `filename ${b64('tus.webm')},session ${b64('pg-tus')}` },
  });
  expect(create.status).toBe(201);
  const path = new URL(create.headers.get('location')).pathname;
  const patch = (s, offset, body, token = ALICE) => s.api(path, { method: 'PATCH', headers: { ...TUS, 'upload-offset': String(offset), 'content-type': 'application/offset+octet-stream' }, body }, token);
  expect((await patch(next(), 0, data.subarray(0, 50000))).status).toBe(204);
  const head = await next().api(path, { method: 'HEAD', headers: TUS });
  expect(head.headers.get('upload-offset')).toBe('50000');
  expect((await next().api(path, { method: 'HEAD', headers: TUS }, BOB)).status).toBe(404);
  expect((await patch(next(), 50000, Buffer.from('x'), BOB)).status).toBe(404);
  const last = await patch(next(), 50000, data.subarray(50000));
  expect(last.status).toBe(204);
  const id = last.headers.get('capture-id');
  expect(sha256(await bytesOf(await next().api(`/api/captures/${id}/file`)))).toBe(sha256(data));
});

test('PostgreSQL stopped mid-upload: 503 with Retry-After, /readyz 503; after its restart nothing acknowledged is lost', async () => {
  const chunks = [0, 1, 2, 3].map((i) => fakeWebm(48 * 1024, 300 + i));
  const whole = Buffer.concat(chunks);
  const sessionId = await initSession(next().api, { session: 'pg-outage' });
  for (const i of [0, 1]) expect((await sendChunk(next().api, sessionId, i, chunks[i])).status).toBe(200);
  const png = makePng(30, 20);
  const shot = await (await next().api('/api/capture/screenshot', { method: 'POST', body: screenshotForm(png, { session: 'pg-outage' }) })).json();

  await pg.stop({ mode: 'immediate' }); // like a crash: no clean shutdown
  try {
    for (const s of servers) {
      const res = await sendChunk(s.api, sessionId, 2, chunks[2]);
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('1');
      const list = await s.api('/api/captures?session=pg-outage');
      expect(list.status).toBe(503);
      expect(list.headers.get('retry-after')).toBe('1');
      const ready = await fetch(`${s.url}/readyz`);
      expect(ready.status).toBe(503);
      expect((await ready.json()).checks).toMatchObject({ dataDir: 'ok', database: expect.not.stringMatching(/^ok$/) });
      expect((await fetch(`${s.url}/healthz`)).status).toBe(200);
      expect(s.alive()).toBe(true);
    }
  } finally {
    await pg.start();
  }
  // the client retries: every server answers again
  for (const s of servers) {
    let ready;
    for (let i = 0; i < 50; i++) {
      ready = await fetch(`${s.url}/readyz`);
      if (ready.status === 200) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(ready.status).toBe(200);
  }
  for (const i of [2, 3]) expect((await sendChunk(next().api, sessionId, i, chunks[i])).status).toBe(200);
  expect((await (await next().api(`/videos/${sessionId}/chunks`)).json()).chunks).toEqual([0, 1, 2, 3]);
  const fin = await (await next().api('/videos/finalize', json({ sessionId, totalChunks: 4 }))).json();
  const listed = await (await next().api('/api/captures?session=pg-outage')).json();
  expect(listed.captures.map((c) => c.id).sort()).toEqual([shot.data.id, fin.id].sort());
  expect(sha256(await bytesOf(await next().api(`/api/captures/${fin.id}/file`)))).toBe(sha256(whole));
  expect(sha256(await bytesOf(await next().api(`/api/captures/${shot.data.id}/file`)))).toBe(sha256(png));
  for (const s of servers) expect(s.output()).not.toMatch(/uncaught exception|unhandled rejection/);
});

test('a server whose database cannot be reached does not start, and says why', async () => {
  const dead = `postgres://ck@127.0.0.1:${pg.port + 1}/nothing`; // no PostgreSQL there (a refused connection)
  const dir = await tempDir('ck-pg-dead-');
  try {
    await expect(startServerProcess({ dataDir: dir, args: ['--database', dead] })).rejects.toThrow(/cannot start on .*cannot connect to the database/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
