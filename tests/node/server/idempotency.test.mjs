// Idempotency-Key on the single-request uploads of the reference server, and the clients that send it
// (js-glue/upload/transports rest.js and multipart.js, with the uploader's item id as the key).
import { readFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { ALICE, BOB, startServer, tempDir, makePng, screenshotForm } from './helpers.mjs';
import { createRestTransport } from '../../../js-glue/upload/transports/rest.js';
import { createMultipartTransport } from '../../../js-glue/upload/transports/multipart.js';

let srv;
beforeAll(async () => { srv = await startServer(); });
afterAll(() => srv.close());

const shots = async (token = ALICE, session = undefined) =>
  (await (await srv.api(`/api/captures?type=screenshot${session ? `&session=${session}` : ''}`, {}, token)).json()).captures;

async function post(path, form, key, token = ALICE) {
  const res = await srv.api(path, { method: 'POST', body: form, headers: key === undefined ? {} : { 'idempotency-key': key } }, token);
  return { status: res.status, replayed: res.headers.get('idempotent-replayed'), body: await res.json() };
}

test('a retried screenshot with the same key is the first capture, same answer; other bytes are 422', async () => {
  const png = makePng(40, 30);
  const session = 'idem-1';
  const first = await post('/screenshots/upload', screenshotForm(png, { session }), 'shot-7f3c');
  expect(first.status).toBe(200);
  expect(first.replayed).toBeNull();
  const again = await post('/screenshots/upload', screenshotForm(png, { session }), 'shot-7f3c');
  expect(again).toEqual({ ...first, replayed: 'true' });
  // the draft's form (a quoted string) is the same key
  expect((await post('/screenshots/upload', screenshotForm(png, { session }), '"shot-7f3c"')).body.id).toBe(first.body.id);
  expect(await shots(ALICE, session)).toHaveLength(1);
  const other = await post('/screenshots/upload', screenshotForm(makePng(41, 30), { session }), 'shot-7f3c');
  expect(other.status).toBe(422);
  expect(other.body).toMatchObject({ statusCode: 422, captureId: first.body.id });
  expect(await shots(ALICE, session)).toHaveLength(1);
  // without a key, each request is a capture of its own (as before)
  await post('/screenshots/upload', screenshotForm(png, { session }));
  await post('/screenshots/upload', screenshotForm(png, { session }));
  expect(await shots(ALICE, session)).toHaveLength(3);
});

test('the same key sent five times at once makes one capture', async () => {
  const png = makePng(20, 20);
  const answers = await Promise.all([0, 1, 2, 3, 4].map(() => post('/api/capture/screenshot', screenshotForm(png, { session: 'idem-2' }), 'burst-1')));
  expect(new Set(answers.map((a) => a.body.data.id)).size).toBe(1);
  expect(answers.filter((a) => a.replayed === 'true')).toHaveLength(4);
  expect(await shots(ALICE, 'idem-2')).toHaveLength(1);
});

test('keys are per user, on every single-request route, and free again once their capture is deleted', async () => {
  const png = makePng(16, 16);
  const a = await post('/api/capture/screenshot', screenshotForm(png, { session: 'idem-3' }), 'shared-key');
  const b = await post('/api/capture/screenshot', screenshotForm(png, { session: 'idem-3' }), 'shared-key', BOB);
  expect(a.body.data.id).not.toBe(b.body.data.id);
  // the key of a screenshot cannot be reused for a video
  const dir = await tempDir();
  const webm = join(dir, 'v.webm');
  execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=32x32:rate=5', '-t', '1', '-c:v', 'libvpx', '-y', webm]);
  const video = await readFile(webm);
  const videoForm = () => { const f = new FormData(); f.append('session_id', 'idem-3'); f.append('file', new Blob([video]), 'v.webm'); return f; };
  expect((await post('/api/capture/video', videoForm(), 'shared-key')).status).toBe(422);
  const v1 = await post('/api/capture/video', videoForm(), 'video-key');
  const v2 = await post('/api/capture/video', videoForm(), 'video-key');
  expect(v1.status).toBe(200);
  expect(v2).toEqual({ ...v1, replayed: 'true' });
  // deleting the capture frees the key
  expect((await srv.api(`/api/captures/${a.body.data.id}`, { method: 'DELETE' })).status).toBe(204);
  const c = await post('/api/capture/screenshot', screenshotForm(png, { session: 'idem-3' }), 'shared-key');
  expect(c.status).toBe(200);
  expect(c.body.data.id).not.toBe(a.body.data.id);
  expect(c.replayed).toBeNull();
});

test('a malformed key is 400 before the body is stored; CORS allows the header', async () => {
  for (const bad of ['', 'a'.repeat(256), 'with space', 'tab\there', '"quoted but \\ bad"', 'é']) {
    const res = await srv.api('/screenshots/upload', { method: 'POST', body: screenshotForm(makePng(8, 8), { session: 'idem-4' }), headers: { 'idempotency-key': bad } }).catch((e) => e);
    if (res instanceof Error) continue; // fetch itself refuses some header values
    expect([bad, res.status]).toEqual([bad, 400]);
    expect(await res.json()).toMatchObject({ statusCode: 400 });
  }
  expect(await shots(ALICE, 'idem-4')).toHaveLength(0);
  const pre = await fetch(`${srv.url}/screenshots/upload`, { method: 'OPTIONS', headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'idempotency-key' } });
  expect(pre.status).toBe(204);
  expect(pre.headers.get('access-control-allow-headers')).toMatch(/idempotency-key/);
});

describe('clients send the item id as the key', () => {
  const ctxFor = (itemId, bytes, session) => ({ itemId, bytes, filename: 'shot.png', mimeType: 'image/png', token: ALICE, metadata: { session }, timeoutMs: 10000 });

  test('rest transport: a second attempt of one item (its first answer lost) stores no second copy', async () => {
    // lookupUrl: false — no client-side search for copies: only the server's key can keep it to one
    const t = createRestTransport({ baseUrl: srv.url, lookupUrl: false, engine: 'fetch' });
    const png = makePng(24, 18);
    const one = await t.uploadScreenshot(ctxFor('shot-item-1', png, 'idem-5'));
    const two = await t.uploadScreenshot({ ...ctxFor('shot-item-1', png, 'idem-5'), maybeSent: true, sentAt: 0 });
    expect(JSON.parse(two.result).id).toBe(JSON.parse(one.result).id);
    expect(await shots(ALICE, 'idem-5')).toHaveLength(1);
  });

  test('multipart transport: the same', async () => {
    const t = createMultipartTransport({ url: `${srv.url}/api/capture/screenshot`, fields: { session_id: 'idem-6' }, engine: 'fetch' });
    const png = makePng(24, 19);
    const one = await t.uploadScreenshot(ctxFor('shot-item-2', png, 'idem-6'));
    const two = await t.uploadScreenshot(ctxFor('shot-item-2', png, 'idem-6'));
    expect(JSON.parse(two.result).id).toBe(JSON.parse(one.result).id);
    expect(await shots(ALICE, 'idem-6')).toHaveLength(1);
  });
});
