// tus 1.0 at /files/ on the reference server (@tus/server + @tus/file-store), behind Bearer auth.
import { utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { ALICE, BOB, startServer, fakeWebm, makePng, sha256 } from './helpers.mjs';

let srv;
beforeAll(async () => { srv = await startServer(); });
afterAll(() => srv.close());

const TUS = { 'tus-resumable': '1.0.0' };
const b64 = (s) => Buffer.from(s).toString('base64');
const patch = (location, offset, body, token = ALICE) => srv.api(new URL(location).pathname, {
  method: 'PATCH',
  headers: { ...TUS, 'upload-offset': String(offset), 'content-type': 'application/offset+octet-stream' },
  body,
}, token);
const headOffset = async (location, token = ALICE) => {
  const res = await srv.api(new URL(location).pathname, { method: 'HEAD', headers: TUS }, token);
  return { status: res.status, offset: res.headers.get('upload-offset'), length: res.headers.get('upload-length'), defer: res.headers.get('upload-defer-length') };
};

test('OPTIONS lists the extensions', async () => {
  const res = await fetch(`${srv.url}/files/`, { method: 'OPTIONS' });
  expect(res.status).toBe(204);
  expect(res.headers.get('tus-extension')).toMatch(/creation-defer-length/);
  expect(res.headers.get('tus-version')).toMatch(/1\.0\.0/);
});

test('create with Upload-Length, PATCH in two pieces, HEAD offset; the file becomes a capture', async () => {
  const data = fakeWebm(100000, 9);
  const create = await srv.api('/files/', {
    method: 'POST',
    headers: { ...TUS, 'upload-length': String(data.length), 'upload-metadata': `filename ${b64('clip.webm')},session ${b64('tus-s')},metadata ${b64('{"title":"via tus"}')}` },
  });
  expect(create.status).toBe(201);
  const location = create.headers.get('location');
  expect(location).toMatch(/\/files\/[0-9a-f]{32}$/);
  expect(await headOffset(location)).toMatchObject({ status: 200, offset: '0', length: String(data.length) });

  const first = await patch(location, 0, data.subarray(0, 40000));
  expect(first.status).toBe(204);
  expect(first.headers.get('upload-offset')).toBe('40000');
  expect(await headOffset(location)).toMatchObject({ offset: '40000' });
  // another user cannot see or continue it
  expect((await headOffset(location, BOB)).status).toBe(404);
  expect((await patch(location, 40000, Buffer.from('x'), BOB)).status).toBe(404);
  // a wrong offset is a conflict
  expect((await patch(location, 1, Buffer.from('x'))).status).toBe(409);

  const second = await patch(location, 40000, data.subarray(40000));
  expect(second.status).toBe(204);
  expect(second.headers.get('upload-offset')).toBe(String(data.length));
  const captureId = second.headers.get('capture-id');
  expect(captureId).toMatch(/^[0-9a-f]{32}$/);
  expect(await headOffset(location)).toMatchObject({ offset: String(data.length) });

  const info = await (await srv.api(`/api/captures/${captureId}`)).json();
  expect(info).toMatchObject({ type: 'video', filename: 'clip.webm', session: 'tus-s', size: data.length, sha256: sha256(data), metadata: { title: 'via tus' } });
  const file = Buffer.from(await (await srv.api(`/api/captures/${captureId}/file`)).arrayBuffer());
  expect(sha256(file)).toBe(sha256(data));
  const tusFile = Buffer.from(await (await srv.api(new URL(location).pathname)).arrayBuffer());
  expect(sha256(tusFile)).toBe(sha256(data));
});

test('creation-defer-length: the length is declared with the last PATCH', async () => {
  const png = makePng(30, 20);
  const create = await srv.api('/files/', { method: 'POST', headers: { ...TUS, 'upload-defer-length': '1', 'upload-metadata': `filename ${b64('s.png')}` } });
  expect(create.status).toBe(201);
  const location = create.headers.get('location');
  expect(await headOffset(location)).toMatchObject({ status: 200, offset: '0', length: null, defer: '1' });
  expect((await patch(location, 0, png.subarray(0, 50))).status).toBe(204);
  const last = await srv.api(new URL(location).pathname, {
    method: 'PATCH',
    headers: { ...TUS, 'upload-offset': '50', 'upload-length': String(png.length), 'content-type': 'application/offset+octet-stream' },
    body: png.subarray(50),
  });
  expect(last.status).toBe(204);
  expect(await headOffset(location)).toMatchObject({ offset: String(png.length), length: String(png.length) });
  const id = last.headers.get('capture-id');
  const info = await (await srv.api(`/api/captures/${id}`)).json();
  expect(info).toMatchObject({ type: 'screenshot', mimeType: 'image/png', sha256: sha256(png) });
});

test('creation-with-upload, auth, bad metadata, wrong magic bytes and the size limit', async () => {
  const data = fakeWebm(5000, 3);
  const withBody = await srv.api('/files/', {
    method: 'POST',
    headers: { ...TUS, 'upload-length': String(data.length), 'content-type': 'application/offset+octet-stream' },
    body: data,
  });
  expect(withBody.status).toBe(201);
  expect(withBody.headers.get('upload-offset')).toBe(String(data.length));
  expect(withBody.headers.get('capture-id')).toMatch(/^[0-9a-f]{32}$/);

  expect((await srv.api('/files/', { method: 'POST', headers: { ...TUS, 'upload-length': '10' } }, null)).status).toBe(401);
  const badMeta = await srv.api('/files/', { method: 'POST', headers: { ...TUS, 'upload-length': '10', 'upload-metadata': `metadata ${b64('{"width":-1}')}` } });
  expect(badMeta.status).toBe(400);
  const junk = Buffer.from('just some text, not an image or a video');
  const made = await srv.api('/files/', { method: 'POST', headers: { ...TUS, 'upload-length': String(junk.length) } });
  const res = await patch(made.headers.get('location'), 0, junk);
  expect(res.status).toBe(415);
  expect((await headOffset(made.headers.get('location'))).status).toBe(404);

  const small = await startServer({ maxVideoBytes: 1000 });
  const tooBig = await small.api('/files/', { method: 'POST', headers: { ...TUS, 'upload-length': '1001' } });
  expect(tooBig.status).toBe(413);
  await small.close();
});

test('retention removes old tus uploads', async () => {
  const local = await startServer();
  const create = await local.api('/files/', { method: 'POST', headers: { ...TUS, 'upload-length': '100' } });
  const id = new URL(create.headers.get('location')).pathname.split('/').pop();
  const past = new Date(Date.now() - 40 * 86400000);
  await utimes(join(local.dataDir, 'tus', id), past, past);
  expect(await local.app.capturekit.runRetention()).toMatchObject({ tus: 1 });
  expect((await local.api(`/files/${id}`, { method: 'HEAD', headers: TUS })).status).toBe(404);
  await local.close();
});
