// The uploader (js-glue/upload/uploader.js) over the REST protocol against the real reference server on
// 127.0.0.1, with the server's fault injection: captures arrive byte-identical and once, faults are
// classified into QueueCore's kinds (never a success), reloads resume from the server's parts, two
// "tabs" (uploaders sharing a store, MemoryLocks and a BroadcastChannel) upload exactly once, orphaned
// recordings are recovered, QuotaExceeded is reported without dropping bytes.
import { init } from '../../../js-glue/index.js';
import { createUploader } from '../../../js-glue/upload/uploader.js';
import { createMemoryStore, MemoryLocks } from '../../../js-glue/upload/store-memory.js';
import { createRestTransport } from '../../../js-glue/upload/transports/rest.js';
import {
  TOKEN, startServer, fakeWebm, makePng, realWebmBytes, sha256, countingFetch, spyTransport, once, verifyServer, captureBytes, tempFile, ffprobe,
} from './uploader.helpers.mjs';

const KiB = 1024;
let seq = 0;
const live = [];
afterEach(async () => {
  while (live.length) await live.pop()();
});
beforeAll(() => init());

function uploader(srv, o = {}) {
  const f = o.fetch || countingFetch();
  const transport = spyTransport(createRestTransport({ baseUrl: srv.url, fetch: f, lookupSettleMs: o.settle ?? 200 }));
  const up = createUploader({
    name: o.name || `t${++seq}`,
    transport,
    store: o.store || createMemoryStore(),
    token: o.token ?? TOKEN,
    locks: o.locks ?? null,
    channel: o.channel ?? null,
    onlineEvents: o.onlineEvents ?? null,
    minPartSize: 64 * KiB,
    timeoutMs: o.timeoutMs ?? 3000,
    queue: { backoffBaseMs: 5, backoffMaxMs: 50, jitter: 0.2, maxRetries: 10, ...(o.queue || {}) },
    ...Object.fromEntries(Object.entries(o).filter(([k]) => !['fetch', 'store', 'token', 'locks', 'channel', 'onlineEvents', 'timeoutMs', 'queue', 'name', 'settle'].includes(k))),
  });
  up.fetch = f;
  up.transport = transport;
  live.push(() => up.close());
  return up;
}

async function server(options) {
  const srv = await startServer(options);
  live.push(() => srv.close());
  return srv;
}

async function record(up, bytes, { chunk = 30 * KiB, id, metadata = { filename: 'rec.webm', fps: 30, codec: 'vp8' }, stop = true } = {}) {
  const rec = await up.startRecording(metadata, id ? { id } : {});
  for (let o = 0; o < bytes.length; o += chunk) await rec.append(bytes.subarray(o, o + chunk));
  if (stop) await rec.stop({ duration: 3 });
  return rec;
}

test('a recording uploads while it is recorded; screenshots follow in order; the server holds byte-identical files; ffprobe reads the WebM', async () => {
  const srv = await server();
  const up = uploader(srv);
  const events = [];
  for (const n of ['itemqueued', 'partuploaded', 'itemcompleted', 'uploaderror']) up.addEventListener(n, (e) => events.push([n, e.detail]));
  await up.ready;
  expect(up.role).toBe('leader');

  const webm = realWebmBytes();
  const rec = await up.startRecording({ filename: 'testsrc.webm', fps: 30, codec: 'vp8', resolution: '320x240' });
  let o = 0;
  // Part 0 must be on the server while the recording is still going.
  const firstPart = once(up, 'partuploaded');
  for (; o < 100 * KiB; o += 20 * KiB) await rec.append(webm.subarray(o, o + 20 * KiB));
  expect((await firstPart).partIndex).toBe(0);
  expect(rec.state).toBe('recording');
  for (; o < webm.length; o += 20 * KiB) await rec.append(new Blob([webm.subarray(o, o + 20 * KiB)]));
  const stopped = await rec.stop({ duration: 3 });
  expect(stopped).toEqual({ itemId: rec.itemId, bytes: webm.length, parts: Math.ceil(webm.length / (64 * KiB)) });

  const pngs = [1, 2, 3].map((i) => makePng(i));
  const ids = [];
  for (const p of pngs) ids.push(await up.enqueueScreenshot(p, { metadata: { title: `shot ${ids.length}` } }));
  const progress = await up.whenIdle();
  expect(progress).toMatchObject({ state: 'idle', uploaded: 4, pending: 0, failed: 0, percentage: 100, isOnline: true, isLeader: true });
  expect(progress.bytes).toEqual({ uploaded: webm.length + pngs.reduce((n, p) => n + p.length, 0), total: webm.length + pngs.reduce((n, p) => n + p.length, 0) });
  expect(events.filter(([n]) => n === 'uploaderror')).toEqual([]);

  const expected = [{ id: rec.itemId, sha256: sha256(webm), size: webm.length }, ...pngs.map((p, i) => ({ id: ids[i], sha256: sha256(p), size: p.length }))];
  const v = await verifyServer(srv, expected);
  expect([v.arrived, v.identical, v.duplicates, v.extra]).toEqual([4, 4, 0, 0]);
  // Completion order = enqueue order.
  expect(events.filter(([n]) => n === 'itemcompleted').map(([, d]) => d.itemId)).toEqual(expected.map((e) => e.id));
  const video = v.byClient.get(rec.itemId)[0];
  expect(video.type).toBe('video');
  const info = ffprobe(await tempFile(await captureBytes(srv, video)));
  expect(info).toMatchObject({ codec: 'vp8', width: 320, height: 240, packets: 90 });
  // The result of finalize is the share URL.
  const done = events.find(([n, d]) => n === 'itemcompleted' && d.itemId === rec.itemId)[1];
  expect(done.result.url).toBe(video.urls.share);
  // retain 'finalized': nothing is left locally.
  for (const s of ['parts', 'tail', 'screenshots', 'items', 'inbox']) expect([s, (await up.store.getAll(s)).length]).toEqual([s, 0]);
});

// [fault kind, route, phase, failure kinds the uploader may report]
const FAULTS = [
  ['500', 'chunk', 'before', ['server5xx']],
  ['503', 'init', 'before', ['server5xx']],
  ['reset', 'chunk', 'after', ['network']],
  ['stall', 'chunk', 'before', ['timeout']],
  ['truncated', 'finalize', 'after', ['network', 'malformed']],
  ['html', 'chunk', 'after', ['malformed']],
  ['nonjson', 'init', 'before', ['malformed']],
  ['missingSessionId', 'init', 'after', ['malformed']],
  ['wrongChunkIndex', 'chunk', 'after', ['malformed']],
  ['errorBody200', 'finalize', 'before', ['server5xx']],
  ['html', 'screenshot', 'after', ['malformed']],
  ['reset', 'screenshot', 'after', ['network']],
  ['500', 'chunks', 'before', []], // the resume list: a failure there only means the state's own record is used
];

describe('each injected fault is classified and never taken for a success', () => {
  let srv;
  beforeAll(async () => { srv = await startServer({ faults: { rate: 0, stallMs: 4000 } }); });
  afterAll(() => srv.close());

  test.each(FAULTS)('%s on %s (%s)', async (kind, route, phase, kinds) => {
    srv.setFaults({ rate: 1, kinds: [kind], routes: [route], phase });
    // A short client timeout turns the stall into a 'timeout'; every other fault gets time enough that a
    // slow answer (a loaded machine) is never taken for one.
    const timeoutMs = kind === 'stall' ? 500 : 3000;
    const up = uploader(srv, { timeoutMs });
    const errors = [];
    up.addEventListener('uploaderror', (e) => {
      errors.push(e.detail);
      srv.setFaults({ rate: 0 }); // one fault, then a healthy server
    });
    await up.ready;
    const webm = fakeWebm(150 * KiB, kind.length);
    const expected = [];
    const part1 = route === 'chunks' ? once(up, 'partuploaded', { filter: (d) => d.partIndex === 1 }) : null;
    if (route === 'screenshot') {
      const png = makePng(kind.length);
      expected.push({ id: await up.enqueueScreenshot(png), sha256: sha256(png), size: png.length });
    } else {
      const rec = await record(up, webm, { stop: route !== 'chunks' });
      expected.push({ id: rec.itemId, sha256: sha256(webm), size: webm.length });
      if (route === 'chunks') {
        // The list is asked for when a leader takes over a video with a session: here the tab goes away
        // mid-recording, the next leader's list request fails, and it continues from its own record.
        await part1;
        const logged = srv.faults.log.length;
        await up.close();
        const next = uploader(srv, { store: up.store, name: up.name, timeoutMs });
        next.addEventListener('uploaderror', (e) => errors.push(e.detail));
        await next.ready;
        await next.whenIdle();
        expect(srv.faults.log.slice(logged).map((f) => f.route)).toEqual(['chunks']);
        expect(errors).toEqual([]);
        const v = await verifyServer(srv, expected);
        expect([v.arrived, v.identical, v.duplicates]).toEqual([1, 1, 0]);
        for (const c of v.captures) await fetch(`${srv.url}/api/captures/${c.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${TOKEN}` } });
        return;
      }
    }
    const p = await up.whenIdle();
    expect(p.failed).toBe(0);
    expect(errors.length).toBeGreaterThanOrEqual(1);
    expect(kinds).toContain(errors[0].kind);
    expect(errors[0].message.length).toBeGreaterThan(0);
    const v = await verifyServer(srv, expected);
    expect([v.arrived, v.identical, v.duplicates]).toEqual([1, 1, 0]);
    // Clean up this case's captures so the next case counts from zero.
    for (const c of v.captures) await fetch(`${srv.url}/api/captures/${c.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${TOKEN}` } });
  });
});

test('30% seeded faults of every kind over 16 screenshots and 4 recordings: all arrive byte-identical, none twice, parts in order', async () => {
  const srv = await server({ faults: { rate: 0.3, seed: 20261121, stallMs: 3000 } });
  const up = uploader(srv, { timeoutMs: 400, queue: { maxRetries: 30 } });
  const kinds = new Map();
  up.addEventListener('uploaderror', (e) => kinds.set(e.detail.kind, (kinds.get(e.detail.kind) || 0) + 1));
  const completed = [];
  up.addEventListener('itemcompleted', (e) => completed.push(e.detail.itemId));
  await up.ready;
  const expected = [];
  for (let i = 0; i < 20; i++) {
    if (i % 5 === 4) {
      const webm = fakeWebm(300 * KiB + i * 7919, i);
      const rec = await record(up, webm, { chunk: 17 * KiB });
      expected.push({ id: rec.itemId, sha256: sha256(webm), size: webm.length });
    } else {
      const png = makePng(i);
      expected.push({ id: await up.enqueueScreenshot(png), sha256: sha256(png), size: png.length });
    }
  }
  const p = await up.whenIdle();
  expect(p.failed).toBe(0);
  const v = await verifyServer(srv, expected);
  expect({ arrived: v.arrived, identical: v.identical, duplicates: v.duplicates, extra: v.extra }).toEqual({ arrived: 20, identical: 20, duplicates: 0, extra: 0 });
  expect(srv.faults.log.length).toBeGreaterThan(8);
  // Faults happened and were all classified as retryable kinds.
  for (const k of kinds.keys()) expect(['network', 'timeout', 'server5xx', 'malformed']).toContain(k);
  expect(new Set(completed).size).toBe(20);
});

test('a reload mid-upload resumes from the first part the server does not have (a lost acknowledgement included)', async () => {
  const srv = await server();
  const store = createMemoryStore();
  const up = uploader(srv, { store });
  await up.ready;
  const webm = fakeWebm(10 * 64 * KiB, 9);
  // The page dies just after the server stored part 4: its acknowledgement never reaches the queue.
  up.fetch.hook = async (url, init) => {
    if (!url.endsWith('/videos/chunk')) return undefined;
    const body = init.body instanceof Blob ? await init.body.text() : '';
    if (!/name="chunkIndex"\r\n\r\n4\r\n/.test(body)) return undefined;
    const res = await fetch(url, init);
    await res.text();
    up.close();
    throw new TypeError('the page went away');
  };
  const closed = once(up, 'uploaderror', { filter: (d) => d.partIndex === 4 });
  const rec = await record(up, webm, { stop: true, chunk: 64 * KiB });
  await closed;
  await up.close();
  const sentBefore = up.transport.calls.filter((c) => c.op === 'uploadPart').map((c) => c.index);
  expect(sentBefore).toEqual([0, 1, 2, 3, 4]);

  const next = uploader(srv, { store, name: up.name });
  await next.ready;
  await next.whenIdle();
  const ops = next.transport.calls.map((c) => (c.op === 'uploadPart' ? `part${c.index}` : c.op));
  expect(ops).toEqual(['listParts', 'part5', 'part6', 'part7', 'part8', 'part9', 'finalize']);
  const v = await verifyServer(srv, [{ id: rec.itemId, sha256: sha256(webm), size: webm.length }]);
  expect([v.arrived, v.identical, v.duplicates]).toEqual([1, 1, 0]);
});

test('a finalize whose answer was lost, then a reload: the resync sees the session finalized and finalizes again (same answer)', async () => {
  const srv = await server({ faults: { rate: 0 } });
  const store = createMemoryStore();
  const up = uploader(srv, { store });
  await up.ready;
  srv.setFaults({ rate: 1, kinds: ['reset'], routes: ['finalize'], phase: 'after' });
  const lost = once(up, 'uploaderror', { filter: (d) => d.action === 'finalize' });
  const webm = fakeWebm(200 * KiB, 21);
  const rec = await record(up, webm);
  expect((await lost).kind).toBe('network');
  await up.close(); // the page reloads before the retry
  srv.setFaults({ rate: 0 });
  const next = uploader(srv, { store, name: up.name });
  const errors = [];
  next.addEventListener('uploaderror', (e) => errors.push(e.detail));
  await next.ready;
  const p = await next.whenIdle();
  expect(p).toMatchObject({ uploaded: 1, failed: 0 });
  expect(errors).toEqual([]);
  expect(next.transport.calls.map((c) => c.op)).toEqual(['listParts', 'finalize']);
  const v = await verifyServer(srv, [{ id: rec.itemId, sha256: sha256(webm), size: webm.length }]);
  expect([v.arrived, v.identical, v.duplicates]).toEqual([1, 1, 0]);
});

test('a screenshot request still landing on the server when the next attempt starts is not stored twice', async () => {
  const srv = await server();
  const f = countingFetch();
  let late = null;
  f.hook = async (url, init) => {
    if (!url.endsWith('/screenshots/upload') || late) return undefined;
    // The request reaches the server only later (a slow network, a tab that went away); the client gave up.
    late = new Promise((r) => setTimeout(r, 400)).then(() => fetch(url, init)).then((r) => r.text());
    throw new TypeError('connection reset');
  };
  const up = uploader(srv, { fetch: f, settle: 1500 });
  await up.ready;
  const png = makePng(77);
  const id = await up.enqueueScreenshot(png);
  await up.whenIdle();
  await late;
  expect(f.counts.get('POST /screenshots/upload')).toBe(1); // the retry found the late copy instead of sending
  expect(f.counts.get('GET /api/captures')).toBe(1);
  const v = await verifyServer(srv, [{ id, sha256: sha256(png), size: png.length }]);
  expect([v.arrived, v.identical, v.duplicates]).toEqual([1, 1, 0]);
});

test('a late copy that lands while the retry is under way is removed; the older copy is kept', async () => {
  const srv = await server();
  const f = countingFetch();
  let n = 0;
  let late = null;
  f.hook = async (url, init) => {
    if (!url.endsWith('/screenshots/upload')) return undefined;
    n++;
    if (n === 1) {
      late = new Promise((r) => setTimeout(r, 300)).then(() => fetch(url, init)).then((r) => r.text());
      throw new TypeError('connection reset');
    }
    await new Promise((r) => setTimeout(r, 600)); // the retry is slow: the late copy lands first
    return undefined;
  };
  const up = uploader(srv, { fetch: f, settle: 200 });
  const done = [];
  up.addEventListener('itemcompleted', (e) => done.push(e.detail.result));
  await up.ready;
  const png = makePng(78);
  const id = await up.enqueueScreenshot(png);
  await up.whenIdle();
  await late;
  expect(f.counts.get('POST /screenshots/upload')).toBe(2);
  const v = await verifyServer(srv, [{ id, sha256: sha256(png), size: png.length }]);
  expect([v.arrived, v.identical, v.duplicates]).toEqual([1, 1, 0]);
  expect(done[0].url).toBe(v.byClient.get(id)[0].urls.share);
});

test('two tabs: one uploads, the other follows through BroadcastChannel; exactly once; leadership moves when the leader goes', async () => {
  const srv = await server();
  const store = createMemoryStore();
  const locks = new MemoryLocks();
  const name = `tabs${++seq}`;
  const channel = (n) => new BroadcastChannel(n);
  const a = uploader(srv, { store, locks, channel, name });
  await a.ready;
  const b = uploader(srv, { store, locks, channel, name });
  await b.ready;
  expect([a.role, b.role]).toEqual(['leader', 'follower']);

  const expected = [];
  const bProgress = [];
  b.addEventListener('progress', (e) => bProgress.push(e.detail));
  const bCompleted = [];
  b.addEventListener('itemcompleted', (e) => bCompleted.push(e.detail.itemId));
  for (let i = 0; i < 4; i++) {
    const png = makePng(100 + i);
    expected.push({ id: await b.enqueueScreenshot(png), sha256: sha256(png), size: png.length });
  }
  const webm = fakeWebm(200 * KiB, 5);
  const rec = await record(b, webm, { chunk: 25 * KiB });
  expected.push({ id: rec.itemId, sha256: sha256(webm), size: webm.length });
  const pb = await b.whenIdle();
  expect(pb).toMatchObject({ uploaded: 5, pending: 0, failed: 0, isLeader: false });
  expect(b.transport.calls).toEqual([]); // the follower never sent anything
  expect(bCompleted).toEqual(expected.map((e) => e.id));
  expect(bProgress.length).toBeGreaterThan(3);

  // The leader goes away mid-upload: the follower takes the lock and finishes.
  const webm2 = fakeWebm(8 * 64 * KiB, 6);
  a.fetch.hook = async (url) => { if (url.endsWith('/videos/chunk') && a.transport.calls.filter((c) => c.op === 'uploadPart').length > 6) await new Promise((r) => setTimeout(r, 200)); };
  const part2 = once(a, 'partuploaded', { filter: (d) => d.partIndex === 2 && d.itemId !== rec.itemId });
  const rec2 = await record(b, webm2, { chunk: 64 * KiB });
  expected.push({ id: rec2.itemId, sha256: sha256(webm2), size: webm2.length });
  await part2;
  const role = once(b, 'rolechange', { filter: (d) => d.role === 'leader' });
  await a.close();
  await role;
  expect(b.role).toBe('leader');
  const p = await b.whenIdle();
  expect(p).toMatchObject({ failed: 0, pending: 0, isLeader: true });
  const v = await verifyServer(srv, expected);
  expect({ arrived: v.arrived, identical: v.identical, duplicates: v.duplicates, extra: v.extra }).toEqual({ arrived: 6, identical: 6, duplicates: 0, extra: 0 });
  // b resumed rec2 after the parts a had sent: no part went twice except at most the one in flight.
  const aParts = a.transport.calls.filter((c) => c.op === 'uploadPart' && c.itemId === rec2.itemId).length;
  const bParts = b.transport.calls.filter((c) => c.op === 'uploadPart' && c.itemId === rec2.itemId).length;
  expect(aParts + bParts).toBeLessThanOrEqual(8 + 1);
});

test('a recording whose tab went away is recovered from the stored parts and tail, then finalized', async () => {
  const srv = await server();
  const store = createMemoryStore();
  const locks = new MemoryLocks();
  const name = `orphan${++seq}`;
  const a = uploader(srv, { store, locks, name });
  await a.ready;
  const webm = fakeWebm(150 * KiB + 123, 77); // 2 full parts of 64 KiB + a tail
  const rec = await record(a, webm, { chunk: 10 * KiB, stop: false });
  expect(rec.partsStored).toBe(2);
  await a.close(); // the tab is gone without stop()
  const b = uploader(srv, { store, locks, name });
  const recovered = once(b, 'recordingrecovered');
  await b.ready;
  expect(await recovered).toEqual({ itemId: rec.itemId, bytes: webm.length, parts: 3 });
  await b.whenIdle();
  const v = await verifyServer(srv, [{ id: rec.itemId, sha256: sha256(webm), size: webm.length }]);
  expect([v.arrived, v.identical, v.duplicates]).toEqual([1, 1, 0]);
});

test('storage full: QuotaExceeded is an event the app can show; screenshots are refused, recording bytes are held, nothing is dropped', async () => {
  const srv = await server();
  const store = createMemoryStore({ quotaBytes: 300 * KiB });
  const up = uploader(srv, { store });
  await up.ready;
  srv.setFaults({ rate: 1, kinds: ['503'], routes: ['init', 'chunk'] }); // keep everything stored for now
  const quota = [];
  up.addEventListener('quotaexceeded', (e) => quota.push(e.detail));

  await expect(up.enqueueScreenshot(new Uint8Array(400 * KiB).fill(1))).rejects.toMatchObject({ name: 'QuotaExceededError' });
  expect(quota[0]).toMatchObject({ where: 'enqueue' });

  const webm = fakeWebm(320 * KiB, 3);
  const rec = await up.startRecording({ filename: 'big.webm' });
  for (let o = 0; o < webm.length; o += 32 * KiB) await rec.append(webm.subarray(o, o + 32 * KiB));
  expect(rec.unsavedBytes).toBeGreaterThan(0);
  expect(quota.some((q) => q.where === 'recording' && q.itemId === rec.itemId)).toBe(true);
  expect(up.getProgress().storage.quotaExceeded).toBe(true);
  await expect(rec.stop()).rejects.toMatchObject({ name: 'QuotaExceededError' });

  store.quotaBytes = Infinity; // the user freed space
  expect(await rec.retrySave()).toBe(true);
  await rec.stop({ duration: 1 });
  srv.setFaults({ rate: 0 });
  await up.whenIdle();
  const v = await verifyServer(srv, [{ id: rec.itemId, sha256: sha256(webm), size: webm.length }]);
  expect([v.arrived, v.identical]).toEqual([1, 1]);
});

test('401: refreshToken() gets a new token; without it the queue pauses until setToken()', async () => {
  const srv = await server();
  let refreshed = 0;
  const a = uploader(srv, { token: 'expired-token', refreshToken: async () => { refreshed++; return TOKEN; } });
  await a.ready;
  const png = makePng(5);
  await a.enqueueScreenshot(png);
  await a.whenIdle();
  expect(refreshed).toBe(1);
  expect((await a.whenIdle()).uploaded).toBe(1);

  const b = uploader(srv, { token: 'expired-token' });
  await b.ready;
  const auth = once(b, 'authrequired');
  await b.enqueueScreenshot(makePng(6));
  await auth;
  expect(b.getProgress()).toMatchObject({ state: 'authRequired', authRequired: true, pending: 1 });
  await b.setToken(TOKEN);
  expect(await b.whenIdle()).toMatchObject({ uploaded: 1, failed: 0, authRequired: false });
});

test('offline: nothing is sent and progress says offline; back online the queue continues', async () => {
  const srv = await server();
  let online = true;
  const net = new EventTarget();
  const up = uploader(srv, { isOnline: () => online, onlineEvents: net });
  await up.ready;
  online = false;
  net.dispatchEvent(new Event('offline'));
  const png = makePng(8);
  const id = await up.enqueueScreenshot(png);
  await new Promise((r) => setTimeout(r, 100));
  expect(up.getProgress()).toMatchObject({ state: 'offline', isOnline: false, pending: 1 });
  expect(up.fetch.total()).toBe(0);
  online = true;
  net.dispatchEvent(new Event('online'));
  expect(await up.whenIdle()).toMatchObject({ uploaded: 1, isOnline: true });
  const v = await verifyServer(srv, [{ id, sha256: sha256(png), size: png.length }]);
  expect(v.identical).toBe(1);
});

test('failures: a 4xx fails its item at once without blocking the next; counted failures end in failed; retryFailed() restarts them', async () => {
  const srv = await server();
  const up = uploader(srv, { queue: { maxRetries: 2 } });
  await up.ready;
  const failed = [];
  up.addEventListener('itemfailed', (e) => failed.push(e.detail));
  const notWebm = Buffer.alloc(10 * KiB, 7); // chunk 0 must start with an EBML header: 415
  const bad = await record(up, notWebm);
  const png = makePng(9);
  const good = await up.enqueueScreenshot(png);
  const p = await up.whenIdle();
  expect(p).toMatchObject({ uploaded: 1, failed: 1, pending: 0 });
  expect(failed).toEqual([expect.objectContaining({ itemId: bad.itemId, kind: 'client4xx', status: 415 })]);
  expect(up.items().map((i) => [i.id, i.state])).toEqual([[bad.itemId, 'failed'], [good, 'completed']]);

  srv.setFaults({ rate: 1, kinds: ['500'], routes: ['screenshot'], phase: 'before' });
  const png2 = makePng(10);
  const id2 = await up.enqueueScreenshot(png2);
  await once(up, 'itemfailed', { filter: (d) => d.itemId === id2 });
  expect(up.items().find((i) => i.id === id2)).toMatchObject({ state: 'failed', failures: 3, lastError: 'server5xx' });
  srv.setFaults({ rate: 0 });
  await up.retryFailed(id2);
  expect(await up.whenIdle()).toMatchObject({ uploaded: 2, failed: 1 });
  // The failed recording's bytes are still stored: nothing is dropped.
  expect((await up.getLocalCopy(bad.itemId)).size).toBe(notWebm.length);
});

test("retain: 'keep' keeps local copies until deleteLocalCopy(); 'confirmed' deletes each part once the server has it", async () => {
  const srv = await server();
  const keep = uploader(srv, { retain: 'keep' });
  await keep.ready;
  const webm = fakeWebm(130 * KiB, 12);
  const rec = await record(keep, webm);
  await keep.whenIdle();
  const copy = await keep.getLocalCopy(rec.itemId);
  expect(Buffer.from(await copy.arrayBuffer()).equals(webm)).toBe(true);
  await keep.deleteLocalCopy(rec.itemId);
  expect(await keep.getLocalCopy(rec.itemId)).toBeNull();

  const conf = uploader(srv, { retain: 'confirmed' });
  await conf.ready;
  const part1 = once(conf, 'partuploaded', { filter: (d) => d.partIndex === 1 });
  const rec2 = await record(conf, webm, { stop: false });
  await part1;
  await new Promise((r) => setTimeout(r, 20));
  expect((await conf.store.getAll('parts', { prefix: rec2.itemId })).length).toBe(0);
  await rec2.stop();
  await conf.whenIdle();
  const v = await verifyServer(srv, [{ id: rec.itemId, sha256: sha256(webm), size: webm.length }, { id: rec2.itemId, sha256: sha256(webm), size: webm.length }]);
  expect([v.arrived, v.identical, v.duplicates]).toEqual([2, 2, 0]);
});

test('bad arguments are clear errors', async () => {
  const srv = await server();
  expect(() => createUploader({})).toThrow(TypeError);
  expect(() => createUploader({ transport: createRestTransport({ baseUrl: srv.url }), store: createMemoryStore(), retain: 'never' })).toThrow(/retain must be one of/);
  expect(() => createRestTransport({ baseUrl: 'ftp://x' })).toThrow(/http\(s\) URL/);
  const up = uploader(srv);
  await up.ready;
  await expect(up.enqueueScreenshot('not bytes')).rejects.toThrow(TypeError);
  await expect(up.enqueueScreenshot(new Uint8Array(0))).rejects.toThrow(RangeError);
  await expect(up.enqueueScreenshot(makePng(1), { metadata: [1, 2] })).rejects.toThrow(/plain object/);
  const id = await up.enqueueScreenshot(makePng(1), { id: 'same' });
  await expect(up.enqueueScreenshot(makePng(1), { id })).rejects.toThrow(/already stored/);
  const rec = await up.startRecording({});
  await expect(rec.append(42)).rejects.toThrow(TypeError);
  await expect(rec.write(new Uint8Array(4), 99)).rejects.toThrow(/expected offset 0/);
  await rec.abort();
  await expect(rec.append(new Uint8Array(4))).rejects.toThrow(/aborted/);
  await up.whenIdle();
});

test('partRules: a recording\'s parts follow the store\'s rules (gcs: multiples of 256 KiB, decided by the core); a minPartSize that breaks them fails startRecording and stores nothing; an unknown store is a TypeError', async () => {
  const srv = await server();
  expect(() => uploader(srv, { partRules: 'azure' })).toThrow(/partRules must be one of 's3', 'r2', 'gcs', got "azure"/);
  const bad = uploader(srv, { partRules: 'gcs', minPartSize: 300 * KiB });
  await bad.ready;
  await expect(bad.startRecording({ filename: 'x.webm' })).rejects.toThrow(/multiple of partSizeMultiple \(262144 bytes/);
  expect((await bad.store.getAll('items')).length).toBe(0);

  const up = uploader(srv, { partRules: 'gcs', minPartSize: 512 * KiB });
  await up.ready;
  const sizes = [];
  up.addEventListener('partuploaded', (e) => sizes[e.detail.partIndex] = e.detail.size);
  const webm = realWebmBytes();
  const rec = await record(up, webm, { metadata: { filename: 'gcs.webm', fps: 30, codec: 'vp8' } });
  await up.whenIdle();
  expect(sizes.length).toBe(Math.ceil(webm.length / (512 * KiB)));
  expect(sizes.slice(0, -1).every((n) => n === 512 * KiB)).toBe(true);
  const v = await verifyServer(srv, [{ id: rec.itemId, sha256: sha256(webm), size: webm.length }]);
  expect([v.arrived, v.identical, v.duplicates]).toEqual([1, 1, 0]);
});
