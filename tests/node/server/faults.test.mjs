// Fault injection of the reference server: every kind, both phases, and the seeded determinism.
import { startServer, fakeWebm, initSession, sendChunk, json, makePng, screenshotForm } from './helpers.mjs';
import { FAULT_KINDS, parseFaults, mulberry32 } from '../../../examples/server/faults.js';

async function withFaults(faults, fn) {
  const srv = await startServer({ faults });
  try {
    return await fn(srv);
  } finally {
    await srv.close();
  }
}
const initReq = (srv) => srv.api('/videos/init', json({ filename: 'f.webm' }));

test('off by default: no request is faulted', async () => {
  const srv = await startServer();
  for (let i = 0; i < 5; i++) expect((await initReq(srv)).status).toBe(200);
  expect(srv.app.capturekit.faults.enabled).toBe(false);
  expect(srv.app.capturekit.faults.log).toEqual([]);
  await srv.close();
});

test.each([
  ['500', async (res) => { expect(res.status).toBe(500); expect((await res.json()).error).toMatch(/injected/); }],
  ['503', async (res) => { expect(res.status).toBe(503); expect(res.headers.get('retry-after')).toBe('1'); }],
  ['html', async (res) => {
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    await expect(res.json()).rejects.toThrow(/JSON/);
  }],
  ['nonjson', async (res) => {
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    await expect(res.json()).rejects.toThrow(/JSON/);
  }],
  ['errorBody200', async (res) => { expect(res.status).toBe(200); expect(await res.json()).toMatchObject({ received: false, error: expect.any(String) }); }],
  ['missingSessionId', async (res) => { expect(res.status).toBe(200); expect(await res.json()).toEqual({}); }],
  ['truncated', async (res) => {
    expect(res.status).toBe(200);
    expect(Number(res.headers.get('content-length'))).toBeGreaterThan(2);
    await expect(res.text()).rejects.toThrow();
  }],
])('fault %s on POST /videos/init', async (kind, check) => {
  for (const phase of ['before', 'after']) {
    await withFaults({ rate: 1, kinds: [kind], phase }, async (srv) => {
      await check(await initReq(srv));
      expect(srv.app.capturekit.faults.log).toEqual([{ n: 1, route: 'init', kind, phase }]);
    });
  }
});

test.each(['reset', 'stall'])('fault %s: the request fails without an HTTP response', async (kind) => {
  await withFaults({ rate: 1, kinds: [kind], stallMs: 50 }, async (srv) => {
    await expect(initReq(srv)).rejects.toThrow(/fetch failed/); // socket reset / closed
    expect(srv.app.capturekit.faults.log.map((f) => f.kind)).toEqual([kind]);
  });
});

test('wrongChunkIndex answers index + 1; in phase before nothing is stored, in phase after the chunk is', async () => {
  for (const phase of ['before', 'after']) {
    await withFaults({ rate: 1, kinds: ['wrongChunkIndex'], phase }, async (srv) => {
      const sessionId = await initSession(srv.api); // init is never given a chunk-only fault
      const res = await sendChunk(srv.api, sessionId, 0, fakeWebm(300));
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ received: true, chunkIndex: 1 });
      const list = await (await srv.api(`/videos/${sessionId}/chunks`)).json();
      expect(list.chunks).toEqual(phase === 'before' ? [] : [0]);
    });
  }
});

test('phase after: the work is done even though the answer is a 500 (idempotent retry finds it)', async () => {
  await withFaults({ rate: 1, kinds: ['500'], phase: 'after', routes: ['chunk', 'finalize', 'screenshot'] }, async (srv) => {
    const sessionId = await initSession(srv.api);
    const data = fakeWebm(1000);
    expect((await sendChunk(srv.api, sessionId, 0, data)).status).toBe(500);
    expect((await sendChunk(srv.api, sessionId, 0, data)).status).toBe(500);
    expect(await (await srv.api(`/videos/${sessionId}/chunks`)).json()).toEqual({ chunks: [0], state: 'open' });
    expect((await srv.api('/videos/finalize', json({ sessionId, totalChunks: 1 }))).status).toBe(500);
    expect(await (await srv.api(`/videos/${sessionId}/chunks`)).json()).toEqual({ chunks: [], state: 'finalized' });
    expect((await srv.api('/screenshots/upload', { method: 'POST', body: screenshotForm(makePng()) })).status).toBe(500);
    expect((await (await srv.api('/api/captures?type=screenshot')).json()).count).toBe(1);
  });
});

test('faults need the token first, and apply only to the protocol routes', async () => {
  await withFaults({ rate: 1, kinds: ['500'] }, async (srv) => {
    expect((await srv.api('/videos/init', json({}), null)).status).toBe(401);
    expect((await srv.api('/api/captures')).status).toBe(200);
    expect(srv.app.capturekit.faults.log).toEqual([]);
  });
});

test('the same seed gives the same faults; a rate of 0.3 faults about 30% of requests', async () => {
  const run = () => withFaults({ rate: 0.3, seed: 1234, phase: 'before', stallMs: 20 }, async (srv) => {
    const statuses = [];
    for (let i = 0; i < 40; i++) {
      try {
        const res = await initReq(srv);
        statuses.push(`${res.status}:${res.headers.get('x-capturekit-fault') || ''}`);
        await res.text().catch(() => {});
      } catch {
        statuses.push('failed');
      }
    }
    return { statuses, log: srv.app.capturekit.faults.log.map((f) => `${f.n}:${f.kind}`) };
  });
  const a = await run();
  const b = await run();
  expect(b).toEqual(a);
  expect(a.log.length).toBeGreaterThan(4);
  expect(a.log.length).toBeLessThan(24);
  const kinds = new Set(a.log.map((s) => s.split(':')[1]));
  expect(kinds.has('wrongChunkIndex')).toBe(false); // chunk-only kind never hits init
});

test('parseFaults: flag syntax, JSON, bare rate; bad specs throw', () => {
  expect(parseFaults('rate=0.2,seed=7,kinds=500+reset,phase=before,stallMs=10,routes=chunk|finalize')).toEqual({
    rate: 0.2, seed: 7, kinds: ['500', 'reset'], routes: ['chunk', 'finalize'], phase: 'before', stallMs: 10,
  });
  expect(parseFaults('{"rate":1,"kinds":["html"]}')).toMatchObject({ rate: 1, kinds: ['html'], seed: 1, phase: 'mixed' });
  expect(parseFaults('0.5')).toMatchObject({ rate: 0.5, kinds: [...FAULT_KINDS] });
  expect(parseFaults('')).toBeNull();
  expect(() => parseFaults('rate=2')).toThrow(RangeError);
  expect(() => parseFaults('rate=0.1,kinds=teapot')).toThrow(/unknown kind/);
  expect(() => parseFaults('rate=0.1,phase=during')).toThrow(/phase/);
  const r = mulberry32(42);
  const first = [r(), r(), r()];
  const r2 = mulberry32(42);
  expect([r2(), r2(), r2()]).toEqual(first);
  expect(first.every((x) => x >= 0 && x < 1)).toBe(true);
});
