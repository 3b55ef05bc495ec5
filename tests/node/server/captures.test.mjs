// Captures API, share links and security of the reference server (its own API, the single-request upload API and the recordings API).
import { utimes, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ALICE, BOB, startServer, fakeWebm, makePng, sha256, screenshotForm, initSession, sendChunk, json,
} from './helpers.mjs';

let srv;
beforeAll(async () => {
  srv = await startServer({ maxScreenshotBytes: 200000, maxChunkBytes: 100000, maxMetadataBytes: 4096, maxVideoBytes: 300000, thumbnailsOnUpload: false });
});
afterAll(() => srv.close());

async function uploadShot(bytes = makePng(), opts = {}, token = ALICE) {
  const res = await srv.api('/screenshots/upload', { method: 'POST', body: screenshotForm(bytes, opts) }, token);
  return res;
}

test('screenshot: upload, list per session, download with Range (206), share URL, delete', async () => {
  const png = makePng(80, 60);
  const res = await uploadShot(png, { session: 'room-7', metadata: { title: 'hello', width: 80, height: 60, tags: ['a'] } });
  expect(res.status).toBe(200);
  const up = await res.json();
  expect(up.id).toMatch(/^[0-9a-f]{32}$/);
  expect(up.url).toMatch(/\/s\/[A-Za-z0-9_-]{22}$/);
  await uploadShot(makePng(10, 10), { session: 'other' });

  const list = await (await srv.api('/api/captures?session=room-7')).json();
  expect(list.count).toBe(1);
  expect(list.captures[0]).toMatchObject({
    id: up.id, type: 'screenshot', session: 'room-7', mimeType: 'image/png', size: png.length, sha256: sha256(png),
    width: 80, height: 60, metadata: { title: 'hello' }, filename: 'shot.png',
  });
  const seedList = await (await srv.api('/api/capture/room-7/list?media_type=screenshot')).json();
  expect(seedList).toMatchObject({ session_id: 'room-7', count: 1 });
  expect(seedList.captures[0]).toMatchObject({ type: 'screenshot', filename: 'shot.png', size: png.length });
  expect((await (await srv.api('/api/capture/room-7/list?media_type=video')).json()).count).toBe(0);

  const full = await srv.api(`/api/captures/${up.id}/file`);
  expect(full.status).toBe(200);
  expect(full.headers.get('accept-ranges')).toBe('bytes');
  expect(full.headers.get('content-type')).toBe('image/png');
  expect(Buffer.from(await full.arrayBuffer()).equals(png)).toBe(true);

  const part = await srv.api(`/api/captures/${up.id}/file`, { headers: { range: 'bytes=10-29' } });
  expect(part.status).toBe(206);
  expect(part.headers.get('content-range')).toBe(`bytes 10-29/${png.length}`);
  expect(Buffer.from(await part.arrayBuffer()).equals(png.subarray(10, 30))).toBe(true);
  const tail = await srv.api(`/api/captures/${up.id}/file`, { headers: { range: 'bytes=-16' } });
  expect(tail.status).toBe(206);
  expect(Buffer.from(await tail.arrayBuffer()).equals(png.subarray(png.length - 16))).toBe(true);
  const open = await srv.api(`/api/captures/${up.id}/file`, { headers: { range: `bytes=${png.length - 5}-` } });
  expect(Buffer.from(await open.arrayBuffer()).equals(png.subarray(png.length - 5))).toBe(true);
  const bad = await srv.api(`/api/captures/${up.id}/file`, { headers: { range: `bytes=${png.length}-` } });
  expect(bad.status).toBe(416);
  expect(bad.headers.get('content-range')).toBe(`bytes */${png.length}`);
  const head = await srv.api(`/api/captures/${up.id}/file`, { method: 'HEAD' });
  expect(head.status).toBe(200);
  expect(head.headers.get('content-length')).toBe(String(png.length));

  const shared = await fetch(up.url, { headers: { range: 'bytes=0-7' } });
  expect(shared.status).toBe(206);
  expect(Buffer.from(await shared.arrayBuffer()).equals(png.subarray(0, 8))).toBe(true);
  expect((await fetch(`${srv.url}/s/${'A'.repeat(22)}`)).status).toBe(404);
  expect((await fetch(`${srv.url}/s/short`)).status).toBe(400);

  const del = await srv.api(`/api/captures/${up.id}`, { method: 'DELETE' });
  expect(del.status).toBe(204);
  expect((await srv.api(`/api/captures/${up.id}`)).status).toBe(404);
  expect((await fetch(up.url)).status).toBe(404);
  expect((await (await srv.api('/api/captures?session=room-7')).json()).count).toBe(0);
});

test('single-request uploads and the recordings endpoints', async () => {
  const form = new FormData();
  form.append('session_id', 'ar-42');
  form.append('metadata', JSON.stringify({ source: 'xr' }));
  form.append('file', new Blob([makePng(4, 4)]), 'x.png');
  const shot = await srv.api('/api/capture/screenshot', { method: 'POST', body: form });
  expect(shot.status).toBe(200);
  expect(await shot.json()).toMatchObject({ status: 'success', data: { session_id: 'ar-42', type: 'screenshot' } });

  const vform = new FormData();
  vform.append('session_id', 'ar-42');
  const video = fakeWebm(5000);
  vform.append('file', new Blob([video]), 'clip.webm');
  const v = await srv.api('/api/capture/video', { method: 'POST', body: vform });
  expect(v.status).toBe(200);
  const vid = (await v.json()).data.id;
  const recs = await (await srv.api('/api/recordings/sessions/ar-42')).json();
  expect(recs.recordings.map((r) => r.id)).toEqual([vid]);
  expect((await (await srv.api('/api/recordings/')).json()).count).toBeGreaterThanOrEqual(1);
  const dl = await srv.api(`/api/recordings/${vid}/download`, { headers: { range: 'bytes=0-3' } });
  expect(dl.status).toBe(206);
  expect([...new Uint8Array(await dl.arrayBuffer())]).toEqual([0x1a, 0x45, 0xdf, 0xa3]);
  expect((await srv.api(`/api/recordings/${vid}`, { method: 'DELETE' })).status).toBe(204);
  expect((await srv.api(`/api/recordings/${vid}/download`)).status).toBe(404);
});

test('auth: a missing or wrong token is 401 on every API route', async () => {
  const routes = [
    ['/videos/init', json({})], ['/videos/chunk', { method: 'POST' }], ['/videos/finalize', json({})],
    [`/videos/${'a'.repeat(32)}/chunks`, {}], ['/screenshots/upload', { method: 'POST' }], ['/api/captures', {}],
    [`/api/captures/${'a'.repeat(32)}/file`, {}], ['/api/capture/s/list', {}], ['/api/recordings/', {}],
    ['/files/', { method: 'POST', headers: { 'tus-resumable': '1.0.0', 'upload-length': '10' } }],
  ];
  for (const [path, init] of routes) {
    const none = await srv.api(path, init, null);
    expect([path, none.status]).toEqual([path, 401]);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    const wrong = await srv.api(path, init, 'not-a-valid-token');
    expect([path, wrong.status]).toEqual([path, 401]);
  }
  const basic = await fetch(`${srv.url}/api/captures`, { headers: { authorization: `Basic ${ALICE}` } });
  expect(basic.status).toBe(401);
});

test("isolation: another user's capture is 404, and not in their list", async () => {
  const { id } = await (await uploadShot(makePng(), { session: 'mine' })).json();
  for (const path of [`/api/captures/${id}`, `/api/captures/${id}/file`, `/api/captures/${id}/thumbnail`]) {
    expect((await srv.api(path, {}, BOB)).status).toBe(404);
  }
  expect((await srv.api(`/api/captures/${id}`, { method: 'DELETE' }, BOB)).status).toBe(404);
  expect((await (await srv.api('/api/captures?session=mine', {}, BOB)).json()).count).toBe(0);
  expect((await srv.api(`/api/captures/${id}`)).status).toBe(200);
});

test('path traversal: ../ and odd names never reach the filesystem', async () => {
  const probes = [
    '/api/captures/..%2F..%2F..%2Fetc%2Fpasswd', '/api/captures/../../etc/passwd', '/api/captures/%2e%2e/file',
    `/api/captures/${'a'.repeat(31)}G/file`, '/api/capture/..%2F..%2F/list', '/api/captures?session=..%2Fx', '/api/captures?session=..',
    '/videos/..%2F..%2Fuploads/chunks', '/s/..%2F..%2F..%2F..%2Fetc%2Fpasswd', '/files/..%2F..%2Fcaptures',
  ];
  for (const p of probes) {
    const res = await srv.api(p);
    expect([p, [400, 404].includes(res.status)]).toEqual([p, true]);
  }
  // a file name with ../ is only a display name
  const res = await uploadShot(makePng(), { name: '../../../evil.png' });
  expect(res.status).toBe(200);
  const { id } = await res.json();
  const info = await (await srv.api(`/api/captures/${id}`)).json();
  expect(info.filename).toBe('evil.png');
  expect(await readdir(join(srv.dataDir, 'captures', 'alice', id))).toEqual(expect.arrayContaining(['data.png', 'capture.json']));
});

test('content type by magic bytes: a PNG name with JPEG bytes is stored as JPEG, text is 415', async () => {
  const jpegish = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(100, 7)]);
  const ok = await uploadShot(jpegish, { name: 'looks.png', type: 'image/png' });
  expect(ok.status).toBe(200);
  const info = await (await srv.api(`/api/captures/${(await ok.json()).id}`)).json();
  expect(info.mimeType).toBe('image/jpeg');
  const text = await uploadShot(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'), { name: 'x.png', type: 'image/png' });
  expect(text.status).toBe(415);
  const webmAsShot = await uploadShot(fakeWebm(200), { name: 'x.png' });
  expect(webmAsShot.status).toBe(415);
  const pngAsVideo = new FormData();
  pngAsVideo.append('file', new Blob([makePng()]), 'x.webm');
  expect((await srv.api('/api/capture/video', { method: 'POST', body: pngAsVideo })).status).toBe(415);
});

test('size limits: oversize bodies are 413', async () => {
  // screenshot over maxScreenshotBytes (streamed: Content-Length within the cap, file over the limit)
  const big = Buffer.concat([makePng(), Buffer.alloc(200001)]);
  expect((await uploadShot(big)).status).toBe(413);
  // way over: rejected on Content-Length before reading
  expect((await uploadShot(Buffer.concat([makePng(), Buffer.alloc(2_000_000)]))).status).toBe(413);
  const sessionId = await initSession(srv.api);
  expect((await sendChunk(srv.api, sessionId, 0, fakeWebm(100001))).status).toBe(413);
  expect(await (await srv.api(`/videos/${sessionId}/chunks`)).json()).toEqual({ chunks: [], state: 'open' });
  expect((await sendChunk(srv.api, sessionId, 0, fakeWebm(100000))).status).toBe(200);
  // metadata over maxMetadataBytes (4096)
  expect((await uploadShot(makePng(), { metadata: { description: 'x'.repeat(4090) } })).status).toBe(413);
  expect((await srv.api('/videos/init', json({ metadata: { notes: 'x'.repeat(5000) } }))).status).toBe(413);
  expect((await srv.api('/videos/init', json({ metadata: { notes: 'x'.repeat(50000) } }))).status).toBe(413);
  // the temp dir holds nothing after the rejections
  expect(await readdir(join(srv.dataDir, 'tmp'))).toEqual([]);
});

test('metadata schema violations are 400', async () => {
  const bad = [
    '[1,2]', '"text"', '{not json', JSON.stringify({ width: -3 }), JSON.stringify({ width: 1.5 }), JSON.stringify({ tags: 'a' }),
    JSON.stringify({ session: '../x' }), JSON.stringify({ 'bad key': 1 }), JSON.stringify({ resolution: 'big' }),
    JSON.stringify({ a: { b: { c: { d: { e: { f: { g: { h: { i: 1 } } } } } } } } }), JSON.stringify({ title: 5 }),
  ];
  for (const m of bad) {
    const res = await uploadShot(makePng(), { metadata: m });
    expect([m, res.status]).toEqual([m, 400]);
  }
  const detail = await (await uploadShot(makePng(), { metadata: { width: 0, height: 'x' } })).json();
  expect(detail.details).toHaveLength(2);
  expect((await srv.api('/videos/init', json({ metadata: { fps: 'fast' } }))).status).toBe(400);
  expect((await srv.api('/videos/init', json({ metadata: [1] }))).status).toBe(400);
  expect((await srv.api('/videos/init', json({ resolution: 'hd' }))).status).toBe(400);
  expect((await srv.api('/videos/init', json({ fps: 5000 }))).status).toBe(400);
  const sessionId = await initSession(srv.api);
  await sendChunk(srv.api, sessionId, 0, fakeWebm(100));
  expect((await srv.api('/videos/finalize', json({ sessionId, metadata: { height: 0 } }))).status).toBe(400);
  expect((await uploadShot(makePng(), { metadata: { title: 'ok', extra: { nested: [1, 'two', null, true] } } })).status).toBe(200);
});

test('retention removes captures, sessions, tus files and temp files older than N days', async () => {
  const local = await startServer({ retentionDays: 7 });
  const old = await (await local.api('/screenshots/upload', { method: 'POST', body: screenshotForm(makePng()) })).json();
  const fresh = await (await local.api('/screenshots/upload', { method: 'POST', body: screenshotForm(makePng()) })).json();
  const sessionId = await initSession(local.api);
  await sendChunk(local.api, sessionId, 0, fakeWebm(100));
  const past = new Date(Date.now() - 8 * 86400000);
  await utimes(join(local.dataDir, 'captures', 'alice', old.id, 'data.png'), past, past);
  const sdir = join(local.dataDir, 'uploads', 'alice', sessionId);
  await utimes(join(sdir, 'session.json'), past, past);
  for (const f of await readdir(join(sdir, 'parts'))) await utimes(join(sdir, 'parts', f), past, past);

  const counts = await local.app.capturekit.runRetention();
  expect(counts).toMatchObject({ captures: 1, sessions: 1 });
  expect((await local.api(`/api/captures/${old.id}`)).status).toBe(404);
  expect((await fetch(old.url)).status).toBe(404);
  expect((await local.api(`/api/captures/${fresh.id}`)).status).toBe(200);
  expect((await local.api(`/videos/${sessionId}/chunks`)).status).toBe(404);
  await expect(stat(sdir)).rejects.toThrow();
  await local.close();
});
