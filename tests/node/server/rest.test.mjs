// The REST chunk protocol of the reference server against a real server on 127.0.0.1.
import { execFileSync } from 'node:child_process';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ALICE, BOB, startServer, tempDir, fakeWebm, sha256, initSession, sendChunk, json, chunkForm,
} from './helpers.mjs';

let srv;
beforeAll(async () => { srv = await startServer(); });
afterAll(() => srv.close());

async function download(api, id, token = ALICE) {
  const res = await api(`/api/captures/${id}/file`, {}, token);
  expect(res.status).toBe(200);
  return Buffer.from(await res.arrayBuffer());
}

test('full flow: init, 3 chunks out of order, finalize; the assembled file is byte-identical', async () => {
  const parts = [fakeWebm(70000, 1), Buffer.from(fakeWebm(50000, 2).subarray(9)), Buffer.from('the end')];
  const sessionId = await initSession(srv.api, { session: 'xr-1', metadata: { title: 'three parts' } });
  expect(sessionId).toMatch(/^[0-9a-f]{32}$/);
  for (const i of [2, 0, 1]) {
    const res = await sendChunk(srv.api, sessionId, i, parts[i]);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ received: true, chunkIndex: i, duplicate: false, checksum: sha256(parts[i]) });
  }
  const res = await srv.api('/videos/finalize', json({ sessionId, totalChunks: 3, uploadedChunks: [0, 1, 2], duration: 1.5, metadata: { fps: 30 } }));
  expect(res.status).toBe(200);
  const out = await res.json();
  expect(out.key).toBe(`videos/${out.id}/recording.webm`);
  expect(out.url).toMatch(new RegExp(`^${srv.url}/s/[A-Za-z0-9_-]{22}$`));
  const whole = Buffer.concat(parts);
  expect(out.sha256).toBe(sha256(whole));
  expect(sha256(await download(srv.api, out.id))).toBe(sha256(whole));
  // the share URL works without a token, the info has the metadata of init and finalize
  const shared = await fetch(out.url);
  expect(sha256(Buffer.from(await shared.arrayBuffer()))).toBe(sha256(whole));
  const info = await (await srv.api(`/api/captures/${out.id}`)).json();
  expect(info).toMatchObject({ type: 'video', session: 'xr-1', size: whole.length, metadata: { title: 'three parts', fps: 30 } });
  expect(info.upload).toMatchObject({ sessionId, chunks: 3, clientDuration: 1.5 });
  // finalize again (a lost answer, retried) gives the same answer; a chunk now is 409
  const again = await srv.api('/videos/finalize', json({ sessionId, totalChunks: 3 }));
  expect(again.status).toBe(200);
  expect((await again.json()).id).toBe(out.id);
  expect((await sendChunk(srv.api, sessionId, 3, Buffer.from('late'))).status).toBe(409);
  // parts are removed after assembly
  expect(await readdir(join(srv.dataDir, 'uploads', 'alice', sessionId))).toEqual(['session.json']);
});

test('the protocol is also served under /api/v1 (the seed base URL)', async () => {
  const res = await srv.api('/api/v1/videos/init', json({ filename: 'a.webm' }));
  expect(res.status).toBe(200);
  const { sessionId } = await res.json();
  const form = chunkForm({ sessionId, chunkIndex: 0, data: fakeWebm(100) });
  expect((await srv.api('/api/v1/videos/chunk', { method: 'POST', body: form })).status).toBe(200);
  expect(await (await srv.api(`/api/v1/videos/${sessionId}/chunks`)).json()).toEqual({ chunks: [0], state: 'open' });
});

test('a duplicate chunk is accepted once; a different checksum for a stored index is 409', async () => {
  const sessionId = await initSession(srv.api);
  const data = fakeWebm(3000, 7);
  const first = await (await sendChunk(srv.api, sessionId, 0, data)).json();
  const second = await sendChunk(srv.api, sessionId, 0, data);
  expect(second.status).toBe(200);
  expect(await second.json()).toEqual({ ...first, duplicate: true });
  const parts = await readdir(join(srv.dataDir, 'uploads', 'alice', sessionId, 'parts'));
  expect(parts).toEqual([`0.${sha256(data)}`]);
  const other = fakeWebm(3000, 8);
  const conflict = await sendChunk(srv.api, sessionId, 0, other);
  expect(conflict.status).toBe(409);
  expect(await conflict.json()).toMatchObject({ chunkIndex: 0 });
  // without a checksum field (the seed client sends none) the server's own hash decides
  expect((await sendChunk(srv.api, sessionId, 0, data, { checksum: null })).status).toBe(200);
});

test('fields may come after the file part', async () => {
  const sessionId = await initSession(srv.api);
  const data = fakeWebm(1234, 5);
  const form = new FormData();
  form.append('chunk', new Blob([data]), 'chunk_0.webm');
  form.append('chunkIndex', '0');
  form.append('sessionId', sessionId);
  form.append('checksum', sha256(data));
  const res = await srv.api('/videos/chunk', { method: 'POST', body: form });
  expect(res.status).toBe(200);
  expect(await res.json()).toMatchObject({ received: true, chunkIndex: 0, checksum: sha256(data) });
});

test('the same chunk sent five times at once is stored once', async () => {
  const sessionId = await initSession(srv.api);
  const data = fakeWebm(200000, 11);
  const answers = await Promise.all([0, 1, 2, 3, 4].map(() => sendChunk(srv.api, sessionId, 0, data).then((r) => r.json())));
  expect(answers.every((a) => a.received === true && a.chunkIndex === 0)).toBe(true);
  expect(answers.filter((a) => !a.duplicate)).toHaveLength(1);
  expect(await readdir(join(srv.dataDir, 'uploads', 'alice', sessionId, 'parts'))).toEqual([`0.${sha256(data)}`]);
});

test('a checksum mismatch is 422 and stores nothing', async () => {
  const sessionId = await initSession(srv.api);
  const data = fakeWebm(2000);
  const res = await sendChunk(srv.api, sessionId, 0, data, { checksum: sha256(Buffer.from('something else')) });
  expect(res.status).toBe(422);
  expect(await res.json()).toMatchObject({ actual: sha256(data) });
  expect(await (await srv.api(`/videos/${sessionId}/chunks`)).json()).toEqual({ chunks: [], state: 'open' });
});

test('finalize with gaps is 400 listing the missing indices; the resume list shows what is stored', async () => {
  const sessionId = await initSession(srv.api);
  for (const i of [0, 2, 5]) expect((await sendChunk(srv.api, sessionId, i, i === 0 ? fakeWebm(500) : Buffer.from(`part ${i}`))).status).toBe(200);
  const list = await srv.api(`/videos/${sessionId}/chunks`);
  expect(await list.json()).toEqual({ chunks: [0, 2, 5], state: 'open' });
  const gap = await srv.api('/videos/finalize', json({ sessionId, totalChunks: 7 }));
  expect(gap.status).toBe(400);
  expect(await gap.json()).toMatchObject({ missing: [1, 3, 4, 6], extra: [] });
  const noTotal = await (await srv.api('/videos/finalize', json({ sessionId }))).json();
  expect(noTotal.missing).toEqual([1, 3, 4]);
  const beyond = await (await srv.api('/videos/finalize', json({ sessionId, totalChunks: 1 }))).json();
  expect(beyond).toMatchObject({ missing: [], extra: [2, 5] });
  // resume: upload what is missing, finalize succeeds
  for (const i of [1, 3, 4]) await sendChunk(srv.api, sessionId, i, Buffer.from(`part ${i}`));
  const done = await srv.api('/videos/finalize', json({ sessionId, totalChunks: 6 }));
  expect(done.status).toBe(200);
  const id = (await done.json()).id;
  const body = await download(srv.api, id);
  expect(body.subarray(500).toString()).toBe('part 1part 2part 3part 4part 5');
});

test('chunk checks: unknown session 404, malformed ids and indices 400, chunk 0 must be EBML (415)', async () => {
  const unknown = await sendChunk(srv.api, 'f'.repeat(32), 0, fakeWebm(100));
  expect(unknown.status).toBe(404);
  expect((await sendChunk(srv.api, '../../etc/passwd', 0, fakeWebm(100))).status).toBe(400);
  const sessionId = await initSession(srv.api);
  for (const bad of ['-1', '1.5', 'abc', '01', '1e3', '99999999999', '']) {
    const res = await sendChunk(srv.api, sessionId, bad, Buffer.from('x'));
    expect([bad, res.status]).toEqual([bad, 400]);
  }
  expect((await sendChunk(srv.api, sessionId, 0, Buffer.from('not a webm at all'))).status).toBe(415);
  expect((await sendChunk(srv.api, sessionId, 1, Buffer.alloc(0))).status).toBe(400);
  const noFile = await srv.api('/videos/chunk', { method: 'POST', body: chunkForm({ sessionId, chunkIndex: 1, checksum: null }) });
  expect(noFile.status).toBe(400);
  expect((await srv.api('/videos/chunk', json({ sessionId, chunkIndex: 0 }))).status).toBe(415);
  // another user's session does not exist for bob
  expect((await sendChunk(srv.api, sessionId, 1, Buffer.from('x'), {}, BOB)).status).toBe(404);
  expect((await srv.api(`/videos/${sessionId}/chunks`, {}, BOB)).status).toBe(404);
  expect((await srv.api('/videos/finalize', json({ sessionId }), BOB)).status).toBe(404);
  expect((await srv.api('/videos/finalize', json({ sessionId: 'nothex' }))).status).toBe(400);
});

test('crash safety: acknowledged chunks survive a restart over the same data dir', async () => {
  const dataDir = await tempDir();
  const a = await startServer({ dataDir });
  const parts = [fakeWebm(40000, 3), fakeWebm(30000, 4), Buffer.from('tail')];
  const sessionId = await initSession(a.api);
  await sendChunk(a.api, sessionId, 0, parts[0]);
  await sendChunk(a.api, sessionId, 1, parts[1]);
  // a temp file left by a crash mid-chunk is not a chunk
  await writeFile(join(dataDir, 'tmp', 'crashed.tmp'), 'half a chunk');
  await a.close({ keepData: true });

  const b = await startServer({ dataDir });
  expect(await (await b.api(`/videos/${sessionId}/chunks`)).json()).toEqual({ chunks: [0, 1], state: 'open' });
  await sendChunk(b.api, sessionId, 2, parts[2]);
  const res = await b.api('/videos/finalize', json({ sessionId, totalChunks: 3 }));
  expect(res.status).toBe(200);
  const { id } = await res.json();
  expect(sha256(await download(b.api, id))).toBe(sha256(Buffer.concat(parts)));
  await b.close();
});

test('video facts of a live WebM (no Duration, unknown sizes, as MediaRecorder writes) come from the frame times', async () => {
  const dir = await tempDir();
  const file = join(dir, 'live.webm');
  execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=64x48:rate=10', '-t', '3', '-c:v', 'libvpx', '-f', 'webm', '-live', '1', '-y', file]);
  const bytes = await readFile(file);
  const sessionId = await initSession(srv.api, { resolution: '64x48', codec: 'vp8', fps: 10 });
  expect((await sendChunk(srv.api, sessionId, 0, bytes)).status).toBe(200);
  const out = await (await srv.api('/videos/finalize', json({ sessionId, duration: 3 }))).json();
  const info = await (await srv.api(`/api/captures/${out.id}`)).json();
  expect(info.video).toMatchObject({ width: 64, height: 48, codec: 'vp8', source: 'capturekit' });
  expect(info.video.duration).toBeCloseTo(3, 1);
});

test('video facts of a real WebM (ffmpeg-made) uploaded in chunks', async () => {
  const dir = await tempDir();
  const file = join(dir, 'clip.webm');
  execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=96x64:rate=10', '-t', '2', '-c:v', 'libvpx', '-b:v', '200k', '-y', file]);
  const bytes = await readFile(file);
  const sessionId = await initSession(srv.api, { resolution: '96x64', codec: 'vp8', fps: 10 });
  const size = Math.ceil(bytes.length / 3);
  for (let i = 0; i * size < bytes.length; i++) {
    expect((await sendChunk(srv.api, sessionId, i, bytes.subarray(i * size, (i + 1) * size))).status).toBe(200);
  }
  const out = await (await srv.api('/videos/finalize', json({ sessionId, duration: 2 }))).json();
  const info = await (await srv.api(`/api/captures/${out.id}`)).json();
  expect(info.video).toMatchObject({ width: 96, height: 64, resolution: '96x64', codec: 'vp8', source: 'capturekit' });
  expect(info.video.duration).toBeCloseTo(2, 0);
  expect(sha256(await download(srv.api, out.id))).toBe(sha256(bytes));
});
