// Operating the reference server: probes (/healthz, /readyz), request ids (X-Request-Id, reqId in the
// --log lines), and graceful shutdown on SIGTERM (a chunk whose body is still arriving is finished and
// acknowledged, new connections are refused, the process exits 0). The server runs as its own process.
import { request as httpRequest } from 'node:http';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ALICE, startServer, fakeWebm, sha256, initSession, sendChunk } from './helpers.mjs';
import { startServerProcess } from './server-process.mjs';

test('/healthz and /readyz answer without a token; /readyz is 503 when the data directory refuses writes', async () => {
  const srv = await startServer();
  try {
    const h = await fetch(`${srv.url}/healthz`);
    expect(h.status).toBe(200);
    expect(await h.json()).toEqual({ status: 'ok' });
    expect(h.headers.get('access-control-allow-origin')).toBeNull();
    const r = await fetch(`${srv.url}/readyz`);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ status: 'ready', checks: { dataDir: 'ok' } });
    // the directory of its probe file replaced by a plain file: no write can succeed there
    await rm(join(srv.dataDir, 'tmp'), { recursive: true });
    await writeFile(join(srv.dataDir, 'tmp'), 'not a directory');
    const bad = await fetch(`${srv.url}/readyz`);
    expect(bad.status).toBe(503);
    expect(await bad.json()).toEqual({ status: 'not ready', checks: { dataDir: 'ENOTDIR' } });
    expect((await fetch(`${srv.url}/healthz`)).status).toBe(200); // up, but not ready
    await rm(join(srv.dataDir, 'tmp'));
    await mkdir(join(srv.dataDir, 'tmp'));
    expect((await fetch(`${srv.url}/readyz`)).status).toBe(200);
  } finally {
    await srv.close();
  }
});

test('every answer carries X-Request-Id: the client\'s when plain, else a new one; --log lines carry it as reqId', async () => {
  const srv = await startServerProcess({ args: ['--log'] });
  try {
    const mine = await srv.api('/api/captures', { headers: { 'x-request-id': 'trace-42.a:b' } });
    expect(mine.headers.get('x-request-id')).toBe('trace-42.a:b');
    const odd = await srv.api('/api/captures', { headers: { 'x-request-id': 'no spaces or {braces} please' } });
    const made = odd.headers.get('x-request-id');
    expect(made).toMatch(/^[0-9a-f-]{36}$/);
    const denied = await srv.api('/api/captures', {}, null);
    expect(denied.status).toBe(401);
    expect(denied.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    await new Promise((r) => setTimeout(r, 200));
    const lines = srv.output().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
    for (const id of ['trace-42.a:b', made]) {
      const mineLines = lines.filter((l) => l.reqId === id);
      expect(mineLines.map((l) => l.msg)).toEqual(expect.arrayContaining(['incoming request', 'request completed']));
    }
    expect(srv.output()).not.toContain(ALICE); // tokens are never logged
  } finally {
    await srv.stop();
  }
});

/** Starts a chunk upload whose body is sent in two halves; returns { sendRest(), answer (Promise) }. */
function slowChunk(url, sessionId, index, data) {
  const boundary = 'ck-slow-boundary';
  const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="sessionId"\r\n\r\n${sessionId}\r\n` +
    `--${boundary}\r\nContent-Disposition: form-data; name="chunkIndex"\r\n\r\n${index}\r\n` +
    `--${boundary}\r\nContent-Disposition: form-data; name="chunk"; filename="c"\r\nContent-Type: application/octet-stream\r\n\r\n`);
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const req = httpRequest(`${url}/videos/chunk`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ALICE}`, 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': head.length + data.length + tail.length },
  });
  const answer = new Promise((resolve, reject) => {
    req.on('response', (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, body: JSON.parse(body) }));
    });
    req.on('error', reject);
  });
  const half = data.length >> 1;
  req.write(head);
  req.write(data.subarray(0, half));
  return { answer, sendRest: () => { req.end(Buffer.concat([data.subarray(half), tail])); } };
}

test('SIGTERM: a chunk in flight is finished and acknowledged, no new connection is taken, exit 0', async () => {
  const srv = await startServerProcess();
  const data = fakeWebm(3 * 1024 * 1024, 77);
  const sessionId = await initSession(srv.api);
  const slow = slowChunk(srv.url, sessionId, 0, data);
  await new Promise((r) => setTimeout(r, 300)); // the body has started arriving
  srv.child.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 500));
  await expect(fetch(`${srv.url}/healthz`)).rejects.toThrow(); // no longer listening
  expect(srv.alive()).toBe(true); // still finishing the chunk
  slow.sendRest();
  const { status, body } = await slow.answer;
  expect(status).toBe(200);
  expect(body).toMatchObject({ received: true, chunkIndex: 0, checksum: sha256(data) });
  expect(await srv.exited).toEqual({ code: 0, signal: null });
  expect(srv.output()).toContain('SIGTERM, finishing the requests in flight');

  // the acknowledged chunk is there for the next server on the same data directory
  const next = await startServerProcess({ dataDir: srv.dataDir });
  try {
    expect(await (await next.api(`/videos/${sessionId}/chunks`)).json()).toEqual({ chunks: [0], state: 'open' });
    expect((await sendChunk(next.api, sessionId, 0, data)).status).toBe(200);
  } finally {
    await next.stop();
  }
});

test('SIGTERM: a request that does not finish within --shutdown-timeout is cut off; exit 0 all the same', async () => {
  const srv = await startServerProcess({ args: ['--shutdown-timeout', '700ms'] });
  const sessionId = await initSession(srv.api);
  const slow = slowChunk(srv.url, sessionId, 0, fakeWebm(1024 * 1024, 5));
  slow.answer.catch(() => {});
  await new Promise((r) => setTimeout(r, 300));
  srv.child.kill('SIGTERM');
  expect(await srv.exited).toEqual({ code: 0, signal: null });
  expect(srv.output()).toMatch(/1 request\(s\) cut off after the timeout/);
  await expect(slow.answer).rejects.toThrow();
});
