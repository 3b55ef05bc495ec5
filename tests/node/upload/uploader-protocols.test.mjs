// The other two transports against servers nobody here wrote the protocol of: tus 1.0 at /files/ of the
// reference server (@tus/server + @tus/file-store: creation, creation-defer-length, HEAD, PATCH), and a
// plain multipart POST for simple screenshot endpoints. Interrupted PATCHes resume at the server's offset,
// lost answers never store anything twice, a deleted upload starts again, replies are checked.
import { init } from '../../../js-glue/index.js';
import { createUploader } from '../../../js-glue/upload/uploader.js';
import { createMemoryStore } from '../../../js-glue/upload/store-memory.js';
import { createTusTransport } from '../../../js-glue/upload/transports/tus.js';
import { createMultipartTransport } from '../../../js-glue/upload/transports/multipart.js';
import { combineTransports, UploadError } from '../../../js-glue/upload/transports/index.js';
import {
  TOKEN, startServer, fakeWebm, makePng, realWebmBytes, sha256, countingFetch, once, verifyServer, captureBytes, tempFile, ffprobe,
} from './uploader.helpers.mjs';

const KiB = 1024;
let seq = 0;
const live = [];
afterEach(async () => { while (live.length) await live.pop()(); });
beforeAll(() => init());

let srv;
beforeAll(async () => { srv = await startServer({ faults: { rate: 0 } }); });
afterAll(() => srv.close());
afterEach(async () => {
  srv.setFaults({ rate: 0 });
  const { captures } = await srv.api('/api/captures');
  for (const c of captures) await fetch(`${srv.url}/api/captures/${c.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${TOKEN}` } });
});

function uploader(transport, o = {}) {
  const up = createUploader({
    name: `p${++seq}`, transport, store: o.store || createMemoryStore(), token: TOKEN, locks: null, channel: null, onlineEvents: null,
    minPartSize: 64 * KiB, timeoutMs: 3000, queue: { backoffBaseMs: 5, backoffMaxMs: 50, maxRetries: 8 }, ...o,
  });
  live.push(() => up.close());
  return up;
}

const tus = (f) => createTusTransport({ endpoint: `${srv.url}/files/`, fetch: f });

async function record(up, bytes, { chunk = 30 * KiB, stop = true, onAppended } = {}) {
  const rec = await up.startRecording({ filename: 'rec.webm', session: 'protocols' });
  for (let o = 0; o < bytes.length; o += chunk) {
    await rec.append(bytes.subarray(o, o + chunk));
    if (onAppended) await onAppended(o + chunk);
  }
  if (stop) await rec.stop({ duration: 3 });
  return rec;
}

describe('tus 1.0', () => {
  test('a live recording: creation-defer-length, PATCH per part while recording, Upload-Length at the end; ffprobe reads the file', async () => {
    const f = countingFetch();
    const up = uploader(tus(f));
    await up.ready;
    const webm = realWebmBytes();
    const part0 = once(up, 'partuploaded', { filter: (d) => d.partIndex === 0 });
    let seenDuring = false;
    const rec = await record(up, webm, {
      chunk: 20 * KiB,
      onAppended: async (n) => { if (n === 100 * KiB) { await part0; seenDuring = true; } },
    });
    expect(seenDuring).toBe(true);
    const done = once(up, 'itemcompleted');
    await up.whenIdle();
    const { result } = await done;
    const parts = Math.ceil(webm.length / (64 * KiB));
    expect(f.counts.get('POST /files/')).toBe(1);
    expect(f.counts.get('PATCH /files/:id')).toBe(parts + 1); // the parts, then an empty PATCH with Upload-Length
    const v = await verifyServer(srv, [{ id: rec.itemId, sha256: sha256(webm), size: webm.length }]);
    expect([v.arrived, v.identical, v.duplicates]).toEqual([1, 1, 0]);
    const cap = v.byClient.get(rec.itemId)[0];
    expect(result.url).toBe(cap.urls.share);
    expect(result.id).toBe(cap.id);
    expect(ffprobe(await tempFile(await captureBytes(srv, cap)))).toMatchObject({ codec: 'vp8', packets: 90 });
    // The upload resource says it is complete.
    const h = await fetch(result.upload, { method: 'HEAD', headers: { authorization: `Bearer ${TOKEN}`, 'tus-resumable': '1.0.0' } });
    expect([h.headers.get('upload-offset'), h.headers.get('upload-length')]).toEqual([String(webm.length), String(webm.length)]);
  });

  test('a PATCH cut off mid-part resumes at the offset the server reports (HEAD), not at the part start', async () => {
    const f = countingFetch();
    let cut = false;
    const offsets = [];
    f.hook = async (url, init) => {
      if (init.method !== 'PATCH') return undefined;
      offsets.push(Number(init.headers['upload-offset']));
      const body = init.body;
      if (cut || !(body instanceof Uint8Array) || body.byteLength < 64 * KiB || offsets.length < 3) return undefined;
      cut = true;
      // Half the part goes out, then the connection breaks.
      const half = body.subarray(0, 40 * KiB);
      const stream = new ReadableStream({
        start(c) { c.enqueue(new Uint8Array(half)); setTimeout(() => c.error(new Error('cable pulled')), 100); },
      });
      return fetch(url, { ...init, body: stream, duplex: 'half' });
    };
    const up = uploader(tus(f));
    const errors = [];
    up.addEventListener('uploaderror', (e) => errors.push(e.detail.kind));
    await up.ready;
    const webm = fakeWebm(5 * 64 * KiB + 999, 4);
    const rec = await record(up, webm);
    await up.whenIdle();
    expect(cut).toBe(true);
    expect(errors).toEqual(['network']);
    // Part 2 starts at 128 KiB; the server kept the 40 KiB that arrived, so the retry starts at 168 KiB.
    expect(offsets).toContain(128 * KiB + 40 * KiB);
    expect(f.counts.get('HEAD /files/:id')).toBeGreaterThanOrEqual(1);
    const v = await verifyServer(srv, [{ id: rec.itemId, sha256: sha256(webm), size: webm.length }]);
    expect([v.arrived, v.identical, v.duplicates]).toEqual([1, 1, 0]);
  });

  test('lost answers: the final PATCH and a screenshot PATCH done by the server but not heard; no second upload', async () => {
    const f = countingFetch();
    const lost = new Set();
    f.hook = async (url, init) => {
      if (init.method !== 'PATCH') return undefined;
      const key = init.headers['upload-length'] ? 'final' : init.body?.byteLength < 1000 ? 'shot' : null;
      if (!key || lost.has(key)) return undefined;
      lost.add(key);
      const res = await fetch(url, init);
      await res.arrayBuffer();
      throw new TypeError('the answer was lost');
    };
    const up = uploader(tus(f));
    await up.ready;
    const webm = fakeWebm(3 * 64 * KiB, 8);
    const rec = await record(up, webm);
    const png = makePng(3);
    const shot = await up.enqueueScreenshot(png, { metadata: { session: 'protocols' } });
    expect(await up.whenIdle()).toMatchObject({ uploaded: 2, failed: 0 });
    expect([...lost].sort()).toEqual(['final', 'shot']);
    expect(f.counts.get('POST /files/')).toBe(2); // one upload each: the retries asked HEAD instead
    const v = await verifyServer(srv, [
      { id: rec.itemId, sha256: sha256(webm), size: webm.length },
      { id: shot, sha256: sha256(png), size: png.length },
    ]);
    expect({ arrived: v.arrived, identical: v.identical, duplicates: v.duplicates, extra: v.extra }).toEqual({ arrived: 2, identical: 2, duplicates: 0, extra: 0 });
  });

  test('a reload resumes from HEAD; an upload the server deleted (404) starts again with a new one', async () => {
    const store = createMemoryStore();
    const f1 = countingFetch();
    const up = uploader(tus(f1), { store, name: `reload${++seq}` });
    await up.ready;
    const webm = fakeWebm(6 * 64 * KiB, 10);
    const part2 = once(up, 'partuploaded', { filter: (d) => d.partIndex === 2 });
    const rec = await record(up, webm);
    await part2;
    await up.close();

    const f2 = countingFetch();
    const next = uploader(tus(f2), { store, name: up.name });
    await next.ready;
    await next.whenIdle();
    expect(f2.counts.get('HEAD /files/:id')).toBeGreaterThanOrEqual(1);
    expect(f2.counts.get('POST /files/')).toBeUndefined();
    const sentAfter = f2.counts.get('PATCH /files/:id');
    expect(sentAfter).toBeLessThanOrEqual(6 - 3 + 1 + 1); // the rest (+ one maybe in flight at the reload) + the final
    let v = await verifyServer(srv, [{ id: rec.itemId, sha256: sha256(webm), size: webm.length }]);
    expect([v.arrived, v.identical, v.duplicates]).toEqual([1, 1, 0]);
    await fetch(`${srv.url}/api/captures/${v.captures[0].id}`, { method: 'DELETE', headers: { authorization: `Bearer ${TOKEN}` } });

    // Session lost: the server terminates the upload mid-way (tus termination); the queue re-inits.
    const f3 = countingFetch();
    let terminated = false;
    f3.hook = async (url, init) => {
      if (init.method === 'PATCH' && !terminated && Number(init.headers['upload-offset']) === 2 * 64 * KiB) {
        terminated = true;
        await fetch(url, { method: 'DELETE', headers: { authorization: `Bearer ${TOKEN}`, 'tus-resumable': '1.0.0' } });
      }
      return undefined;
    };
    const third = uploader(tus(f3));
    const kinds = [];
    third.addEventListener('uploaderror', (e) => kinds.push(e.detail.kind));
    await third.ready;
    const rec3 = await record(third, webm);
    await third.whenIdle();
    expect(kinds).toEqual(['sessionExpired']);
    expect(f3.counts.get('POST /files/')).toBe(2);
    v = await verifyServer(srv, [{ id: rec3.itemId, sha256: sha256(webm), size: webm.length }]);
    expect([v.arrived, v.identical, v.duplicates]).toEqual([1, 1, 0]);
  });

  test('tus replies are checked: no Location, a wrong offset, 401', async () => {
    const ctx = { itemId: 'x', metadata: {}, token: TOKEN, timeoutMs: 2000 };
    const fake = (status, headers = {}) => async () => new Response(null, { status, headers });
    await expect(createTusTransport({ endpoint: `${srv.url}/files/`, fetch: fake(201) }).init({ ...ctx, recordingFinished: false }))
      .rejects.toMatchObject({ name: 'UploadError', kind: 'malformed' });
    await expect(createTusTransport({ endpoint: `${srv.url}/files/`, fetch: fake(200, { location: '/files/x' }) }).init({ ...ctx, recordingFinished: false }))
      .rejects.toMatchObject({ kind: 'malformed' });
    const t = tus();
    const url = (await t.init({ ...ctx, recordingFinished: false })).sessionId;
    await expect(t.init({ ...ctx, token: 'nope', recordingFinished: false })).rejects.toMatchObject({ kind: 'unauthorized', status: 401 });
    const bytes = new Uint8Array(fakeWebm(1000));
    const liar = createTusTransport({
      endpoint: `${srv.url}/files/`,
      fetch: async (u, init) => (init.method === 'PATCH' ? new Response(null, { status: 204, headers: { 'upload-offset': '5' } }) : fetch(u, init)),
    });
    await expect(liar.uploadPart({ ...ctx, sessionId: url, index: 0, bytes, offset: 0, partSizes: [1000] })).rejects.toMatchObject({ kind: 'network' });
    await expect(t.uploadPart({ ...ctx, sessionId: `${srv.url}/files/${'0'.repeat(32)}`, index: 0, bytes, offset: 0, partSizes: [1000] }))
      .rejects.toMatchObject({ kind: 'sessionExpired' });
  });
});

describe('multipart (simple screenshot endpoints)', () => {
  test('the single-request /api/capture/screenshot and the REST protocol\'s /screenshots/upload; videos go by tus when combined', async () => {
    const a = uploader(createMultipartTransport({ url: `${srv.url}/api/capture/screenshot`, fields: { session_id: 'multi' } }));
    await a.ready;
    const pngs = [makePng(21), makePng(22)];
    const ids = [];
    const results = [];
    a.addEventListener('itemcompleted', (e) => results.push(e.detail.result));
    for (const p of pngs) ids.push(await a.enqueueScreenshot(p));
    await a.whenIdle();
    await expect(a.startRecording({})).rejects.toThrow(/does not upload recordings/);

    const b = uploader(combineTransports({
      video: tus(),
      screenshot: createMultipartTransport({ url: `${srv.url}/screenshots/upload` }),
    }));
    await b.ready;
    const png = makePng(23);
    ids.push(await b.enqueueScreenshot({ bytes: png, format: 'image/png', metadata: { title: 'from a capture result' } }));
    pngs.push(png);
    const webm = fakeWebm(100 * KiB, 2);
    const rec = await record(b, webm);
    await b.whenIdle();
    const v = await verifyServer(srv, [...pngs.map((p, i) => ({ id: ids[i], sha256: sha256(p), size: p.length })), { id: rec.itemId, sha256: sha256(webm), size: webm.length }]);
    expect({ arrived: v.arrived, identical: v.identical, duplicates: v.duplicates }).toEqual({ arrived: 4, identical: 4, duplicates: 0 });
    expect(v.byClient.get(ids[0])[0].session).toBe('multi');
    expect(results.map((r) => r.url)).toEqual(ids.slice(0, 2).map((id) => v.byClient.get(id)[0].urls.share));
    expect(v.byClient.get(ids[2])[0].metadata.title).toBe('from a capture result');
  });

  test.each([
    ['html', 'malformed'], ['nonjson', 'malformed'], ['errorBody200', 'server5xx'], ['truncated', 'network|malformed'], ['503', 'server5xx'],
  ])('a %s reply is a %s failure, then the screenshot arrives once', async (fault, kinds) => {
    srv.setFaults({ rate: 1, kinds: [fault], routes: ['screenshot'], phase: 'before' });
    const up = uploader(createMultipartTransport({ url: `${srv.url}/screenshots/upload` }));
    const errors = [];
    up.addEventListener('uploaderror', (e) => { errors.push(e.detail); srv.setFaults({ rate: 0 }); });
    await up.ready;
    const png = makePng(30);
    const id = await up.enqueueScreenshot(png);
    await up.whenIdle();
    expect(kinds.split('|')).toContain(errors[0].kind);
    const v = await verifyServer(srv, [{ id, sha256: sha256(png), size: png.length }]);
    expect([v.arrived, v.identical, v.duplicates]).toEqual([1, 1, 0]);
  });

  test('answers without a URL or with a failure status are not successes; bad options are TypeErrors', async () => {
    const json = (body, status = 200, headers = {}) => async () => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
    const ctx = { itemId: 's1', bytes: new Uint8Array(makePng(1)), metadata: {}, timeoutMs: 1000 };
    const t = (f) => createMultipartTransport({ url: 'http://127.0.0.1:9/x', fetch: f });
    await expect(t(json({ ok: true })).uploadScreenshot(ctx)).rejects.toMatchObject({ name: 'UploadError', kind: 'malformed' });
    await expect(t(json({ status: 'error', data: { url: 'https://x/y' } })).uploadScreenshot(ctx)).rejects.toMatchObject({ kind: 'server5xx' });
    await expect(t(json({ error: 'too big' }, 413)).uploadScreenshot(ctx)).rejects.toMatchObject({ kind: 'client4xx', status: 413 });
    await expect(t(json({}, 429, { 'retry-after': '7' })).uploadScreenshot(ctx)).rejects.toMatchObject({ kind: 'rateLimited', retryAfterMs: 7000 });
    await expect(t(json({ data: { url: 'https://x/y' } })).uploadScreenshot(ctx)).resolves.toEqual({ result: JSON.stringify({ url: 'https://x/y', id: null }) });
    await expect(t(json({})).init(ctx)).rejects.toBeInstanceOf(UploadError);
    expect(() => createMultipartTransport({ url: 'nope' })).toThrow(TypeError);
    expect(() => createMultipartTransport({ url: 'http://x/', urlOf: 3 })).toThrow(TypeError);
  });
});
