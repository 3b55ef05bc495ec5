// The reference server with every byte in the bucket (--s3-bytes, --s3-bucket, --database): s3rver
// (tests/helpers/s3rver.mjs, signatures checked) for the bytes, a real PostgreSQL for the state, and two
// server processes with data directories of their own (nothing of an upload is on a server's disk), each
// request of an upload sent to the other server than the one before.
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { startPostgres } from '../../helpers/postgres.mjs';
import { startS3rver, MIN_PART_SIZE } from '../../helpers/s3rver.mjs';
import { startServerProcess } from './server-process.mjs';
import { ALICE, BOB, fakeWebm, makePng, sha256, json, initSession, sendChunk, screenshotForm } from './helpers.mjs';

const TUS = { 'tus-resumable': '1.0.0' };
const b64 = (s) => Buffer.from(s).toString('base64');
const bytesOf = async (res) => Buffer.from(await res.arrayBuffer());

let pg;
let s3;
let servers = [];

beforeAll(async () => {
  [pg, s3] = await Promise.all([startPostgres(), startS3rver({ bucket: 'ck-bytes' })]);
  const db = await pg.createDatabase('capturekit');
  args = ['--database', db, '--s3-bytes', '--s3-bucket', s3.bucket, '--s3-endpoint', s3.endpoint, '--s3-region', s3.region,
    '--s3-access-key-id', s3.accessKeyId, '--s3-secret-access-key', s3.secretAccessKey, '--s3-force-path-style',
    '--public-url', 'http://capturekit.test', '--max-chunk', '16MiB'];
  servers = [];
  for (let i = 0; i < 2; i++) servers.push(await startServerProcess({ args }));
}, 180000);

afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  await Promise.all([pg?.destroy(), s3?.close()]);
});

let args;
let turn = 0;
const next = () => servers[turn++ % servers.length];

// Every file a server's data directory holds (temp files of requests in flight aside, there should be none).
async function filesOf(dir) {
  const out = [];
  const walk = async (d) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      if (e.isDirectory()) await walk(join(d, e.name));
      else out.push(join(d, e.name).slice(dir.length + 1));
    }
  };
  await walk(dir);
  return out;
}

async function objectsOf() {
  const dir = join(s3.dir, s3.bucket);
  return (await filesOf(dir).catch(() => [])).filter((f) => f.endsWith('._S3rver_object')).length; // s3rver: <key>._S3rver_object
}

test('a REST recording: each chunk of 5 MiB goes into the multipart upload once received, finalize completes it without a copy', async () => {
  const chunks = [fakeWebm(MIN_PART_SIZE, 11), fakeWebm(MIN_PART_SIZE, 12), fakeWebm(777777, 13)];
  const whole = Buffer.concat(chunks);
  const partsBefore = s3.partPuts().length;
  const sessionId = await initSession(next().api, { metadata: { title: 'in the bucket' } });
  // part 0 last, each request to the other server
  for (const i of [1, 2, 0]) {
    const res = await sendChunk(next().api, sessionId, i, chunks[i]);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ chunkIndex: i, duplicate: false, size: chunks[i].length });
  }
  // chunks 1 and 0 are parts 2 and 1 already; the small last chunk waits as an object of its own
  const puts = s3.partPuts().slice(partsBefore);
  expect(puts.map((p) => Number(p.query.partNumber)).sort()).toEqual([1, 2]);
  expect(puts.every((p) => p.status === 200)).toBe(true);
  expect((await sendChunk(next().api, sessionId, 1, chunks[1])).status).toBe(200); // a duplicate: no new part
  expect(s3.partPuts().length - partsBefore).toBe(2);
  expect((await sendChunk(next().api, sessionId, 1, chunks[0])).status).toBe(409);

  const requestsBefore = s3.requests.length;
  const fin = await next().api('/videos/finalize', json({ sessionId, totalChunks: 3 }));
  expect(fin.status).toBe(200);
  const answer = await fin.json();
  expect(answer.size).toBe(whole.length);
  // finalize: the last chunk (under 5 MiB) as part 3, CompleteMultipartUpload, no copy of the recording
  const during = s3.requests.slice(requestsBefore);
  expect(during.filter((r) => r.method === 'POST' && r.query.uploadId !== undefined)).toHaveLength(1); // Complete
  expect(during.filter((r) => r.method === 'PUT' && r.query.partNumber === '3')).toHaveLength(1);
  expect(during.filter((r) => r.method === 'PUT' && r.query.partNumber !== '3')).toHaveLength(0);

  for (const s of servers) {
    const info = await (await s.api(`/api/captures/${answer.id}`)).json();
    expect(info).toMatchObject({ id: answer.id, size: whole.length, sha256: sha256(whole), metadata: { title: 'in the bucket' } });
    expect(sha256(await bytesOf(await s.api(`/api/captures/${answer.id}/file`)))).toBe(sha256(whole));
    const range = await s.api(`/api/captures/${answer.id}/file`, { headers: { range: `bytes=${MIN_PART_SIZE - 10}-${MIN_PART_SIZE + 9}` } });
    expect(range.status).toBe(206);
    expect(range.headers.get('content-range')).toBe(`bytes ${MIN_PART_SIZE - 10}-${MIN_PART_SIZE + 9}/${whole.length}`);
    expect((await bytesOf(range)).equals(whole.subarray(MIN_PART_SIZE - 10, MIN_PART_SIZE + 10))).toBe(true);
    const shared = await fetch(new URL(new URL(answer.url).pathname, s.url), { headers: { range: 'bytes=-100' } });
    expect(shared.status).toBe(206);
    expect((await bytesOf(shared)).equals(whole.subarray(whole.length - 100))).toBe(true);
    expect((await s.api(`/api/captures/${answer.id}/file`, {}, BOB)).status).toBe(404);
  }
  // nothing of it on either server's disk
  for (const s of servers) expect((await filesOf(s.dataDir)).filter((f) => !f.startsWith('tmp/'))).toEqual([]);
});

test('security as on disk: another user\'s session and capture are 404, a bad token 401, a chunk over the limit 413', async () => {
  const sessionId = await initSession(next().api);
  const chunk = fakeWebm(1000, 9);
  expect((await sendChunk(next().api, sessionId, 0, chunk, {}, BOB)).status).toBe(404);
  expect((await next().api(`/videos/${sessionId}/chunks`, {}, BOB)).status).toBe(404);
  expect((await next().api(`/videos/${sessionId}/chunks`, {}, 'not-a-token')).status).toBe(401);
  const over = await sendChunk(next().api, sessionId, 0, fakeWebm(16 * 1024 * 1024 + 1, 10));
  expect(over.status).toBe(413);
  expect((await (await next().api(`/videos/${sessionId}/chunks`)).json()).chunks).toEqual([]);
  const shot = await (await next().api('/api/capture/screenshot', { method: 'POST', body: screenshotForm(makePng(10, 10)) })).json();
  expect((await next().api(`/api/captures/${shot.data.id}/file`, {}, BOB)).status).toBe(404);
  expect((await next().api(`/api/captures/${shot.data.id}`, { method: 'DELETE' }, BOB)).status).toBe(404);
  expect((await next().api(`/api/captures/${shot.data.id}/file`)).status).toBe(200);
});

test('quotas count from the tables: stored bytes (507), open sessions (429), open tus uploads (429)', async () => {
  const small = await startServerProcess({ args: [...args, '--quota-bytes', '1MiB', '--quota-sessions', '1', '--quota-tus', '1'] });
  try {
    const video = (seed) => {
      const form = new FormData();
      form.append('file', new Blob([fakeWebm(600 * 1024, seed)], { type: 'video/webm' }), 'q.webm');
      return form;
    };
    expect((await small.api('/api/capture/video', { method: 'POST', body: video(1) }, BOB)).status).toBe(200);
    const over = await small.api('/api/capture/video', { method: 'POST', body: video(2) }, BOB);
    expect(over.status).toBe(507);
    expect(await over.json()).toMatchObject({ quota: 'bytes', used: 600 * 1024 });
    expect((await small.api('/videos/init', json({ filename: 'a.webm' }), BOB)).status).toBe(200);
    expect(await (await small.api('/videos/init', json({ filename: 'b.webm' }), BOB)).json()).toMatchObject({ statusCode: 429, quota: 'sessions' });
    expect((await small.api('/files/', { method: 'POST', headers: { ...TUS, 'upload-length': '1000' } }, BOB)).status).toBe(201);
    expect((await small.api('/files/', { method: 'POST', headers: { ...TUS, 'upload-length': '1000' } }, BOB)).status).toBe(429);
  } finally {
    await small.stop();
  }
});

test('a small chunk before the last cannot be a multipart part: finalize says which (400)', async () => {
  const sessionId = await initSession(next().api);
  expect((await sendChunk(next().api, sessionId, 0, fakeWebm(1000, 1))).status).toBe(200);
  expect((await sendChunk(next().api, sessionId, 1, fakeWebm(1000, 2))).status).toBe(200);
  const fin = await next().api('/videos/finalize', json({ sessionId, totalChunks: 2 }));
  expect(fin.status).toBe(400);
  expect(await fin.json()).toMatchObject({ tooSmall: [0], error: expect.stringMatching(/at least 5242880 bytes/) });
});

test('screenshots (with thumbnails) and whole videos are objects; delete removes them', async () => {
  const before = await objectsOf();
  const png = makePng(320, 240);
  const shot = await (await next().api('/api/capture/screenshot', { method: 'POST', body: screenshotForm(png, { session: 's3b' }), headers: { 'idempotency-key': 'k1' } })).json();
  expect(shot.status).toBe('success');
  const again = await next().api('/api/capture/screenshot', { method: 'POST', body: screenshotForm(png, { session: 's3b' }), headers: { 'idempotency-key': 'k1' } });
  expect((await again.json()).data.id).toBe(shot.data.id);
  const id = shot.data.id;
  expect(sha256(await bytesOf(await next().api(`/api/captures/${id}/file`)))).toBe(sha256(png));
  const thumb = await next().api(`/api/captures/${id}/thumbnail`);
  expect(thumb.status).toBe(200);
  const jpeg = await bytesOf(thumb);
  expect(jpeg.subarray(0, 3).equals(Buffer.from([0xff, 0xd8, 0xff]))).toBe(true);

  const webm = fakeWebm(300000, 5);
  const form = new FormData();
  form.append('session_id', 's3b');
  form.append('file', new Blob([webm], { type: 'video/webm' }), 'clip.webm');
  const vid = await (await next().api('/api/capture/video', { method: 'POST', body: form })).json();
  const vr = await next().api(`/api/captures/${vid.data.id}/file`, { headers: { range: 'bytes=1000-1999' } });
  expect((await bytesOf(vr)).equals(webm.subarray(1000, 2000))).toBe(true);
  expect(await objectsOf()).toBe(before + 3); // the screenshot, its thumbnail, the video

  expect((await next().api(`/api/captures/${id}`, { method: 'DELETE' })).status).toBe(204);
  expect((await next().api(`/api/captures/${vid.data.id}`, { method: 'DELETE' })).status).toBe(204);
  expect(await objectsOf()).toBe(before);
  for (const s of servers) expect((await s.api(`/api/captures/${id}/file`)).status).toBe(404);
});

test('tus through @tus/s3-store: create, PATCHes and HEAD on alternating servers; the capture is the upload\'s object', async () => {
  const data = fakeWebm(6 * 1024 * 1024 + 4321, 21);
  const create = await next().api('/files/', {
    method: 'POST',
    headers: { ...TUS, 'upload-length': String(data.length), 'upload-metadata': `filename ${b64('tus.webm')},session ${b64('s3-tus')}` },
  });
  expect(create.status).toBe(201);
  const path = new URL(create.headers.get('location')).pathname;
  const patch = (s, offset, body, token = ALICE) => s.api(path, { method: 'PATCH', headers: { ...TUS, 'upload-offset': String(offset), 'content-type': 'application/offset+octet-stream' }, body }, token);
  const cut = [0, 1000000, 5500000, data.length];
  let last;
  for (let i = 0; i + 1 < cut.length; i++) {
    last = await patch(next(), cut[i], data.subarray(cut[i], cut[i + 1]));
    expect(last.status).toBe(204);
    expect(last.headers.get('upload-offset')).toBe(String(cut[i + 1]));
    if (i === 0) {
      const head = await next().api(path, { method: 'HEAD', headers: TUS });
      expect(head.headers.get('upload-offset')).toBe(String(cut[1]));
      expect((await next().api(path, { method: 'HEAD', headers: TUS }, BOB)).status).toBe(404);
    }
  }
  const id = last.headers.get('capture-id');
  expect(id).toMatch(/^[0-9a-f]{32}$/);
  for (const s of servers) {
    expect(sha256(await bytesOf(await s.api(`/api/captures/${id}/file`)))).toBe(sha256(data));
    expect(sha256(await bytesOf(await s.api(path)))).toBe(sha256(data));
  }
  const info = await (await next().api(`/api/captures/${id}`)).json();
  expect(info).toMatchObject({ type: 'video', filename: 'tus.webm', session: 's3-tus', size: data.length, sha256: sha256(data) });
  for (const s of servers) expect((await filesOf(s.dataDir)).filter((f) => !f.startsWith('tmp/'))).toEqual([]);
  for (const s of servers) expect(s.output()).not.toMatch(/uncaught exception|unhandled rejection/);
});

test('a terminated tus upload is 404 and no longer counts against the quota', async () => {
  const count = async () => (await pg.query('SELECT count(*)::int AS n FROM tus_uploads WHERE NOT finished', [], 'capturekit')).rows[0].n;
  const before = await count();
  const create = await next().api('/files/', { method: 'POST', headers: { ...TUS, 'upload-length': '6000000' } });
  const path = new URL(create.headers.get('location')).pathname;
  expect((await next().api(path, { method: 'PATCH', headers: { ...TUS, 'upload-offset': '0', 'content-type': 'application/offset+octet-stream' }, body: fakeWebm(100000, 77) })).status).toBe(204);
  expect(await count()).toBe(before + 1);
  expect((await next().api(path, { method: 'DELETE', headers: TUS })).status).toBe(204);
  // the row goes right after the answer (the termination event)
  for (let i = 0; i < 50 && (await count()) !== before; i++) await new Promise((r) => setTimeout(r, 100));
  expect(await count()).toBe(before);
  expect((await next().api(path, { method: 'HEAD', headers: TUS })).status).toBe(404);
});

test('/readyz checks the bucket; retention (at start) removes expired captures\' objects and open recordings\' uploads', async () => {
  for (const s of servers) expect(await (await fetch(`${s.url}/readyz`)).json()).toEqual({ status: 'ready', checks: { dataDir: 'ok', database: 'ok', bucket: 'ok' } });
  const png = makePng(20, 20);
  const old = await (await next().api('/api/capture/screenshot', { method: 'POST', body: screenshotForm(png, { session: 'old' }) })).json();
  const kept = await (await next().api('/api/capture/screenshot', { method: 'POST', body: screenshotForm(png, { session: 'new' }) })).json();
  const sessionId = await initSession(next().api);
  expect((await sendChunk(next().api, sessionId, 0, fakeWebm(MIN_PART_SIZE, 3))).status).toBe(200);
  const objects = await objectsOf();
  await pg.query("UPDATE captures SET created_at = now() - interval '40 days' WHERE id = $1", [old.data.id], 'capturekit');
  await pg.query("UPDATE upload_sessions SET updated_at = now() - interval '40 days' WHERE id = $1", [sessionId], 'capturekit');
  // a server started now runs retention (30 days) before it listens
  await servers[0].stop();
  servers[0] = await startServerProcess({ args });
  expect((await servers[1].api(`/api/captures/${old.data.id}`)).status).toBe(404);
  expect((await servers[1].api(`/api/captures/${kept.data.id}`)).status).toBe(200);
  expect(await objectsOf()).toBe(objects - 2); // the screenshot and its thumbnail
  expect((await servers[1].api(`/videos/${sessionId}/chunks`)).status).toBe(404);
  const uploads = s3.requests.filter((r) => r.method === 'DELETE' && r.query.uploadId !== undefined);
  expect(uploads.length).toBeGreaterThanOrEqual(1); // AbortMultipartUpload
});
