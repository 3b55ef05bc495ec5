// Three reference servers behind a round-robin proxy (haproxy, tests/node/server/haproxy.mjs), sharing
// one PostgreSQL (state) and one bucket (s3rver: the bytes, and the browser-direct presign path); each
// server has a data directory of its own. Every protocol goes through the proxy with consecutive requests
// answered by different servers (X-Served-By); then one server is SIGKILLed in the middle of a run of
// uploads and started again, and every capture arrives once, byte-identical.
import { startPostgres } from '../../helpers/postgres.mjs';
import { startS3rver, MIN_PART_SIZE } from '../../helpers/s3rver.mjs';
import { startServerProcess } from './server-process.mjs';
import { startHaproxy, freePort } from './haproxy.mjs';
import { ALICE, fakeWebm, makePng, sha256, screenshotForm, chunkForm } from './helpers.mjs';

const TUS = { 'tus-resumable': '1.0.0' };
const b64 = (s) => Buffer.from(s).toString('base64');
const bytesOf = async (res) => Buffer.from(await res.arrayBuffer());
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let pg;
let s3;
let proxy;
let servers = [];
let args;
const ports = [];
const NAMES = ['a', 'b', 'c'];

beforeAll(async () => {
  [pg, s3] = await Promise.all([startPostgres(), startS3rver({ bucket: 'ck-cluster' })]);
  const db = await pg.createDatabase('capturekit');
  const proxyPort = await freePort();
  args = ['--database', db, '--s3-bytes', '--s3-bucket', s3.bucket, '--s3-endpoint', s3.endpoint, '--s3-region', s3.region,
    '--s3-access-key-id', s3.accessKeyId, '--s3-secret-access-key', s3.secretAccessKey, '--s3-force-path-style',
    '--public-url', `http://127.0.0.1:${proxyPort}`, '--max-chunk', '16MiB'];
  servers = await Promise.all(NAMES.map((name) => startServerProcess({ args: [...args, '--server-id', name] })));
  for (const s of servers) ports.push(Number(new URL(s.url).port));
  proxy = await startHaproxy(NAMES.map((name, i) => ({ name, port: ports[i] })), { port: proxyPort });
}, 180000);

afterAll(async () => {
  await proxy?.stop();
  await Promise.all(servers.map((s) => s.stop()));
  await Promise.all([pg?.destroy(), s3?.close()]);
});

// Requests through the proxy; the server that answered each one is logged.
const served = [];
async function api(path, init = {}, token = ALICE) {
  const res = await fetch(proxy.url + path, { ...init, headers: { authorization: `Bearer ${token}`, ...(init.headers || {}) } });
  served.push(res.headers.get('x-served-by'));
  return res;
}
const postJson = (path, body) => api(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

/** The servers that answered since `from`: every one named, no two consecutive the same. */
function expectRoundRobin(from) {
  const seq = served.slice(from);
  expect(seq.length).toBeGreaterThanOrEqual(3);
  for (const name of seq) expect(NAMES).toContain(name);
  for (let i = 1; i < seq.length; i++) expect(seq[i]).not.toBe(seq[i - 1]);
  expect(new Set(seq).size).toBe(3);
}

test('REST: init, chunks, resume list, finalize and download, each answered by another server', async () => {
  const from = served.length;
  const chunks = [fakeWebm(MIN_PART_SIZE, 41), fakeWebm(300000, 42)];
  const whole = Buffer.concat(chunks);
  const init = await (await postJson('/videos/init', { filename: 'rec.webm', timestamp: Date.now(), fps: 30, codec: 'vp9', bitrate: 1, resolution: '640x480' })).json();
  for (const i of [0, 1]) {
    const res = await api('/videos/chunk', { method: 'POST', body: chunkForm({ sessionId: init.sessionId, chunkIndex: i, data: chunks[i] }) });
    expect(res.status).toBe(200);
  }
  expect((await (await api(`/videos/${init.sessionId}/chunks`)).json()).chunks).toEqual([0, 1]);
  const fin = await (await postJson('/videos/finalize', { sessionId: init.sessionId, totalChunks: 2 })).json();
  expect(sha256(await bytesOf(await api(`/api/captures/${fin.id}/file`)))).toBe(sha256(whole));
  expect(sha256(await bytesOf(await fetch(fin.url)))).toBe(sha256(whole)); // the share link, through the proxy
  expectRoundRobin(from);
});

test('tus: creation, PATCHes, HEAD and GET, each answered by another server', async () => {
  const from = served.length;
  const data = fakeWebm(700000, 43);
  const create = await api('/files/', { method: 'POST', headers: { ...TUS, 'upload-length': String(data.length), 'upload-metadata': `filename ${b64('t.webm')}` } });
  expect(create.status).toBe(201);
  const path = new URL(create.headers.get('location')).pathname;
  const cut = [0, 200000, 450000, data.length];
  let last;
  for (let i = 0; i + 1 < cut.length; i++) {
    last = await api(path, { method: 'PATCH', headers: { ...TUS, 'upload-offset': String(cut[i]), 'content-type': 'application/offset+octet-stream' }, body: data.subarray(cut[i], cut[i + 1]) });
    expect(last.status).toBe(204);
    expect((await api(path, { method: 'HEAD', headers: TUS })).headers.get('upload-offset')).toBe(String(cut[i + 1]));
  }
  expect(sha256(await bytesOf(await api(path)))).toBe(sha256(data));
  expect(sha256(await bytesOf(await api(`/api/captures/${last.headers.get('capture-id')}/file`)))).toBe(sha256(data));
  expectRoundRobin(from);
});

test('single-request uploads with an Idempotency-Key, replayed by the other servers', async () => {
  const from = served.length;
  const png = makePng(64, 48);
  const answers = [];
  for (let i = 0; i < 3; i++) {
    const res = await api('/api/capture/screenshot', { method: 'POST', body: screenshotForm(png, { session: 'rr-single' }), headers: { 'idempotency-key': 'rr-shot' } });
    answers.push({ status: res.status, replayed: res.headers.get('idempotent-replayed'), id: (await res.json()).data.id });
  }
  expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
  expect(new Set(answers.map((a) => a.id)).size).toBe(1);
  expect(answers.map((a) => a.replayed)).toEqual([null, 'true', 'true']);
  const webm = fakeWebm(250000, 44);
  const form = new FormData();
  form.append('session_id', 'rr-single');
  form.append('file', new Blob([webm], { type: 'video/webm' }), 'v.webm');
  const vid = (await (await api('/api/capture/video', { method: 'POST', body: form })).json()).data;
  expect(sha256(await bytesOf(await api(`/api/captures/${vid.id}/file`)))).toBe(sha256(webm));
  expect(sha256(await bytesOf(await api(`/api/captures/${answers[0].id}/file`)))).toBe(sha256(png));
  expect((await (await api('/api/captures?session=rr-single')).json()).count).toBe(2);
  expectRoundRobin(from);
});

test('S3 presign: create, part URLs and completion signed by different servers; the parts go to the bucket', async () => {
  const from = served.length;
  const parts = [fakeWebm(MIN_PART_SIZE, 45), fakeWebm(123456, 46)];
  const created = await (await postJson('/s3/multipart', { filename: 'direct.webm', contentType: 'video/webm' })).json();
  const etags = [];
  for (let n = 1; n <= parts.length; n++) {
    const { url } = await (await api(`/s3/multipart/${encodeURIComponent(created.uploadId)}/part/${n}?key=${encodeURIComponent(created.key)}`)).json();
    const put = await fetch(url, { method: 'PUT', body: parts[n - 1] });
    expect(put.status).toBe(200);
    etags.push({ PartNumber: n, ETag: put.headers.get('etag') });
  }
  const listed = await (await api(`/s3/multipart/${encodeURIComponent(created.uploadId)}/parts?key=${encodeURIComponent(created.key)}`)).json();
  expect(listed.parts.map((p) => p.PartNumber)).toEqual([1, 2]);
  const done = await (await postJson(`/s3/multipart/${encodeURIComponent(created.uploadId)}/complete`, { key: created.key, parts: etags })).json();
  expect(sha256(await bytesOf(await fetch(done.url)))).toBe(sha256(Buffer.concat(parts)));
  expectRoundRobin(from);
});

// A client that retries what a dead server could not answer (a network error, a 5xx), as capturekit's
// uploader does; `make` builds the request afresh for each attempt.
let retries = 0;
async function retrying(make) {
  let last;
  for (let attempt = 0; attempt < 40; attempt++) {
    if (attempt > 0) retries++;
    try {
      const res = await make();
      if (res.status < 500) return res;
      last = `${res.status} ${await res.text()}`;
    } catch (e) {
      last = e.message;
    }
    await sleep(250);
  }
  throw new Error(`gave up: ${last}`);
}

test('one server SIGKILLed in the middle of a run and started again: every capture arrives once, byte-identical', async () => {
  const session = 'chaos-run';
  const recordings = [0, 1, 2, 3].map((r) => [fakeWebm(MIN_PART_SIZE, 50 + r), fakeWebm(200000 + r, 60 + r)]);
  const shots = [0, 1, 2, 3, 4, 5].map((i) => makePng(30 + i, 20));
  const parallel = [0, 1, 2].map((i) => makePng(50 + i, 20));
  const ids = new Set();
  let killed = null;
  let restarted = null;
  const victim = 1;
  const run = async () => {
    for (let r = 0; r < recordings.length; r++) {
      const init = await (await retrying(() => postJson('/videos/init', { filename: `r${r}.webm`, timestamp: Date.now(), fps: 30, codec: 'vp9', bitrate: 1, resolution: '640x480', session }))).json();
      for (const i of [0, 1]) {
        const chunk = retrying(() => api('/videos/chunk', { method: 'POST', body: chunkForm({ sessionId: init.sessionId, chunkIndex: i, data: recordings[r][i] }) }));
        if (r === 1 && i === 0) {
          // mid-run: the victim dies while this chunk and three screenshots are on their way (round robin:
          // one of the four requests is the victim's)
          const more = parallel.map((png, k) => retrying(() => api('/api/capture/screenshot', { method: 'POST', body: screenshotForm(png, { session }), headers: { 'idempotency-key': `chaos-p${k}` } }))
            .then(async (res) => ids.add((await res.json()).data.id)));
          await sleep(30);
          servers[victim].child.kill('SIGKILL');
          killed = await servers[victim].exited;
          restarted = sleep(1500).then(() => startServerProcess({ args: [...args, '--server-id', NAMES[victim], '--port', String(ports[victim])] }));
          await Promise.all(more);
        }
        expect((await chunk).status).toBe(200);
      }
      const fin = await (await retrying(() => postJson('/videos/finalize', { sessionId: init.sessionId, totalChunks: 2 }))).json();
      ids.add(fin.id);
      const shotA = shots[r];
      const res = await retrying(() => api('/api/capture/screenshot', { method: 'POST', body: screenshotForm(shotA, { session }), headers: { 'idempotency-key': `chaos-${r}` } }));
      ids.add((await res.json()).data.id);
    }
    for (const [i, png] of shots.slice(recordings.length).entries()) {
      const res = await retrying(() => api('/api/capture/screenshot', { method: 'POST', body: screenshotForm(png, { session }), headers: { 'idempotency-key': `chaos-x${i}` } }));
      ids.add((await res.json()).data.id);
    }
  };
  await run();
  expect(killed).toMatchObject({ signal: 'SIGKILL' });
  servers[victim] = await restarted;
  const from = served.length;
  const listed = await (await retrying(() => api(`/api/captures?session=${session}`))).json();
  expect(listed.count).toBe(recordings.length + shots.length + parallel.length); // no duplicate
  console.log(`cluster chaos run: ${retries} request(s) retried after the SIGKILL of server ${NAMES[victim]}`);
  expect(new Set(listed.captures.map((c) => c.id))).toEqual(ids);
  const want = new Map([...recordings.map((r) => sha256(Buffer.concat(r))), ...[...shots, ...parallel].map((p) => sha256(p))].map((h) => [h, 0]));
  for (const c of listed.captures) {
    const got = sha256(await bytesOf(await api(`/api/captures/${c.id}/file`)));
    expect(want.has(got)).toBe(true);
    want.set(got, want.get(got) + 1);
  }
  expect([...want.values()].every((n) => n === 1)).toBe(true);
  // the restarted server is back in the rotation
  for (let i = 0; i < 3; i++) await api('/healthz');
  expect(served.slice(from)).toContain(NAMES[victim]);
  for (const s of servers) expect(s.output()).not.toMatch(/uncaught exception|unhandled rejection/);
}, 240000);
