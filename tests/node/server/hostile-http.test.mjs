// The reference server against a hostile user with a valid account, at the HTTP layer: the server runs
// as its own process (a crash is an exit, a held connection is an open descriptor in /proc/<pid>/fd),
// with short timeouts and small quotas so that each limit is reached in a second or two.
//
// Stated bounds: after every attack the process is alive and another user's request is answered
// within ANSWER_MS; a stalled body or header loses its connection within STALL_CLOSE_MS (timeouts of
// 1 s here); a refused body is not read: the client gets no further than REFUSED_BODY_MAX bytes of a
// 64 MiB body (the loopback socket buffers hold a few MiB).
import net from 'node:net';
import http from 'node:http';
import { ALICE, BOB, TOKENS, makePng, fakeWebm, screenshotForm, randomBytes } from './helpers.mjs';
import { startServerProcess, answersWithin } from './server-process.mjs';

const CAROL = 'carol-token-0123456789'; // quota tests: users with nothing stored yet
const DAVE = 'dave-token-0123456789';
const ERIN = 'erin-token-0123456789';
const ALL_TOKENS = `${TOKENS},${CAROL}:carol,${DAVE}:dave,${ERIN}:erin`;
const TIMEOUT_ARGS = ['--headers-timeout', '1s', '--body-timeout', '1s', '--request-timeout', '20s', '--keep-alive-timeout', '1s'];
const QUOTA_ARGS = ['--quota-sessions', '5', '--quota-tus', '4', '--quota-bytes', '3MiB'];
const ANSWER_MS = 1500;
const STALL_CLOSE_MS = 4000;
const REFUSED_BODY_MAX = 24 * 1024 * 1024;
const BIG_BODY = 64 * 1024 * 1024;

const TUS = { 'tus-resumable': '1.0.0' };
const b64 = (s) => Buffer.from(s).toString('base64');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let srv;
beforeAll(async () => {
  srv = await startServerProcess({
    args: ['--tokens', ALL_TOKENS, '--max-chunk', '1MiB', '--max-screenshot', '1MiB', ...TIMEOUT_ARGS, ...QUOTA_ARGS],
    heapMb: 256,
  });
});
afterAll(async () => { await srv?.stop(); });

/** Every attack ends with the same check: the process lives and bob is answered in time. */
async function stillServing() {
  expect(srv.alive()).toBe(true);
  const ms = await answersWithin(srv, ANSWER_MS);
  expect(ms).toBeLessThan(ANSWER_MS);
  return ms;
}

/**
 * A raw HTTP/1.1 exchange on its own socket: writes `head` (and `body` if given), then reads.
 * Resolves { status, headers, body, closed, closedAfterMs } when the server closes the socket or when
 * `waitMs` passes (closed: false). With `stopAfterBody`, the client closes as soon as Content-Length
 * bytes of the answer arrived (what curl does).
 */
function raw(head, { body, waitMs = STALL_CLOSE_MS, stopAfterBody = false, port = new URL(srv.url).port } = {}) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const socket = net.connect(Number(port), '127.0.0.1');
    let buf = Buffer.alloc(0);
    let done = false;
    const parse = () => {
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return null;
      const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
      const headers = {};
      for (const l of lines.slice(1)) { const i = l.indexOf(':'); headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim(); }
      return { status: Number(lines[0].split(' ')[1]), headers, body: buf.subarray(end + 4) };
    };
    const finish = (closed) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ ...(parse() || { status: null, headers: {}, body: Buffer.alloc(0) }), closed, closedAfterMs: performance.now() - t0 });
    };
    const timer = setTimeout(() => finish(false), waitMs);
    socket.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      const r = parse();
      if (stopAfterBody && r && r.body.length >= Number(r.headers['content-length'])) finish(true);
    });
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));
    socket.write(head);
    if (body) socket.write(body);
  });
}

/**
 * Sends `head`, then up to `total` body bytes, until the server answers or closes. Resolves
 * { status, headers, sent, closed, closedAfterMs }: how far the client got, and whether the server closed
 * the connection within `waitMs`. `keepSending`: a client that goes on sending after the answer
 * (it sees its writes fail once the server has closed; node then drops the unread answer).
 */
function pushBody(head, { total = BIG_BODY, chunked = false, prefix = Buffer.alloc(0), keepSending = false, waitMs = 10000, port = new URL(srv.url).port } = {}) {
  return new Promise((resolve) => {
    const socket = net.connect(Number(port), '127.0.0.1');
    let answer = Buffer.alloc(0);
    let sent = 0;
    let stop = false;
    const t0 = performance.now();
    const piece = Buffer.alloc(256 * 1024, 0x61);
    const finish = (closed) => {
      if (stop) return;
      stop = true;
      clearTimeout(timer);
      socket.destroy();
      const text = answer.toString('latin1');
      const headers = {};
      for (const l of text.slice(0, Math.max(0, text.indexOf('\r\n\r\n'))).split('\r\n').slice(1)) {
        const i = l.indexOf(':');
        headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
      }
      resolve({ status: Number(text.split(' ')[1]) || null, headers, sent, closed, closedAfterMs: performance.now() - t0 });
    };
    const timer = setTimeout(() => finish(false), waitMs);
    socket.on('data', (d) => { answer = Buffer.concat([answer, d]); });
    socket.on('close', () => finish(true));
    socket.on('error', () => {});
    const frame = (b) => (chunked ? Buffer.concat([Buffer.from(`${b.length.toString(16)}\r\n`), b, Buffer.from('\r\n')]) : b);
    socket.write(head);
    if (prefix.length) { socket.write(frame(prefix)); sent += prefix.length; }
    // One piece, then a timer, so the socket is read between two writes and the answer is seen before
    // a write runs into the server's close (node destroys a socket whose write fails, unread answer
    // and all; curl and browsers read the answer). As browsers do, the client stops sending once an
    // answer arrives, unless `keepSending`. Bounded: at most `total` bytes and `waitMs`.
    const pump = () => {
      if (stop || (answer.length && !keepSending)) return;
      if (sent >= total) { if (chunked) socket.write('0\r\n\r\n'); return; }
      sent += piece.length;
      if (socket.write(frame(piece))) setTimeout(pump, keepSending ? 0 : 1);
      else socket.once('drain', () => setTimeout(pump, keepSending ? 0 : 1));
    };
    pump();
  });
}

const host = () => `127.0.0.1:${new URL(srv.url).port}`;

async function tusCreate(token, length, metadata = '', headers = {}) {
  const res = await srv.api('/files/', {
    method: 'POST',
    headers: { ...TUS, 'upload-length': String(length), ...(metadata ? { 'upload-metadata': metadata } : {}), ...headers },
  }, token);
  return res;
}

async function tusPatch(path, offset, body, token) {
  return srv.api(path, {
    method: 'PATCH',
    headers: { ...TUS, 'upload-offset': String(offset), 'content-type': 'application/offset+octet-stream' },
    body,
  }, token);
}

async function initSession(token, body = {}) {
  return srv.api('/videos/init', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ filename: 'r.webm', ...body }) }, token);
}

test('GET of a finished tus upload, closed by the client at once, does not end the process; the client\'s filetype is not echoed', async () => {
  const data = fakeWebm(60000, 3);
  const create = await tusCreate(ALICE, data.length, `filename ${b64('x.html')},filetype ${b64('text/html')}`);
  expect(create.status).toBe(201);
  const path = new URL(create.headers.get('location')).pathname;
  expect((await tusPatch(path, 0, data, ALICE)).status).toBe(204);

  // What curl does: read Content-Length bytes and close, before the server saw the end of its stream.
  const answers = [];
  for (let i = 0; i < 5; i++) {
    answers.push(await raw(`GET ${path} HTTP/1.1\r\nHost: ${host()}\r\nAuthorization: Bearer ${ALICE}\r\nTus-Resumable: 1.0.0\r\n\r\n`, { stopAfterBody: true }));
  }
  await sleep(300);
  expect(srv.alive()).toBe(true);
  await stillServing();
  expect(srv.output()).not.toMatch(/uncaught|ERR_INVALID_STATE/i);
  for (const r of answers) {
    expect(r.status).toBe(200);
    expect(r.body.equals(data)).toBe(true);
    expect(r.headers['content-type']).toBe('video/webm');
    expect(r.headers['x-content-type-options']).toBe('nosniff');
    expect(r.headers['content-disposition']).toMatch(/^attachment/);
  }

  // Unrecognised bytes are application/octet-stream, whatever the client declared.
  const other = Buffer.from('<html><script>alert(1)</script></html>');
  const c2 = await tusCreate(ALICE, other.length, `filetype ${b64('text/html')}`);
  const p2 = new URL(c2.headers.get('location')).pathname;
  await tusPatch(p2, 0, other, ALICE); // refused (415) as a capture, and removed
  const get2 = await srv.api(p2);
  expect(get2.status).toBe(404);
  expect(get2.headers.get('content-type')).not.toMatch(/html/);
});

test('tus ownership: every spelling of another user\'s upload URL is 404, and no answer shows a path', async () => {
  const create = await tusCreate(ALICE, 100);
  const id = new URL(create.headers.get('location')).pathname.split('/').pop();
  expect(id).toMatch(/^[0-9a-f]{32}$/);
  expect((await tusPatch(`/files/${id}`, 0, Buffer.alloc(10, 1), ALICE)).status).toBe(204);

  const spellings = [`/files/?/${id}`, `/files/x?/${id}`, `/files/%3F/${id}`, `/files/%3f/${id}`, `/files/${id}/`, `/files//${id}`,
    `/files/${id}?`, `/files/${id}?x=1`, `/files/${id}/.`, `/files/${id}%2F`, `/files/?id=${id}`, `/files/./${id}`, `/files/${id.toUpperCase()}`];
  const seen = [];
  for (const path of spellings) {
    for (const method of ['HEAD', 'GET', 'PATCH', 'DELETE']) {
      const init = { method, headers: { ...TUS } };
      if (method === 'PATCH') Object.assign(init, { headers: { ...TUS, 'upload-offset': '10', 'content-type': 'application/offset+octet-stream' }, body: Buffer.alloc(90, 2) });
      const res = await srv.api(path, init, BOB);
      const text = method === 'HEAD' ? '' : await res.text();
      seen.push(`${method} ${path} ${res.status}`);
      expect([method, path, res.status]).toEqual([method, path, 404]);
      expect(text).not.toContain(srv.dataDir);
      expect(text).not.toMatch(/\/tmp\/|\/work\//);
    }
  }
  // bob's own id on the plain URL is 404 too, and alice's upload is untouched
  for (const method of ['HEAD', 'GET', 'DELETE']) expect((await srv.api(`/files/${id}`, { method, headers: TUS }, BOB)).status).toBe(404);
  const head = await srv.api(`/files/${id}`, { method: 'HEAD', headers: TUS });
  expect(head.status).toBe(200);
  expect(head.headers.get('upload-offset')).toBe('10');
  // the owner's other spellings are 404 as well: only /files/<id> names an upload
  expect((await srv.api(`/files/?/${id}`, { method: 'HEAD', headers: TUS })).status).toBe(404);
  expect(seen.length).toBe(spellings.length * 4);
  await stillServing();
});

test('stalled headers and stalled bodies, with and without a token, lose their connection within the timeout; descriptors return to baseline', async () => {
  const own = new URL((await tusCreate(BOB, 100000)).headers.get('location')).pathname;
  await sleep(1200); // earlier keep-alive connections time out (1 s)
  const baseline = srv.fdCount();
  const h = host();
  const stalls = [];
  const tusStall = (auth) => raw(`PATCH ${own} HTTP/1.1\r\nHost: ${h}\r\n${auth}Tus-Resumable: 1.0.0\r\nContent-Type: application/offset+octet-stream\r\nUpload-Offset: 0\r\nContent-Length: 100000\r\n\r\nabc`);
  for (let i = 0; i < 6; i++) {
    // headers that never end
    stalls.push(raw(`POST /videos/init HTTP/1.1\r\nHost: ${h}\r\nContent-Type: application/json\r\n`));
    // a body announced and never sent: no token (401 at once, then closed), and a valid token (body timeout)
    stalls.push(raw(`POST /videos/chunk HTTP/1.1\r\nHost: ${h}\r\nContent-Type: multipart/form-data; boundary=x\r\nContent-Length: 1000000\r\n\r\n--x\r\n`));
    stalls.push(raw(`POST /videos/chunk HTTP/1.1\r\nHost: ${h}\r\nAuthorization: Bearer ${BOB}\r\nContent-Type: multipart/form-data; boundary=x\r\nContent-Length: 1000000\r\n\r\n--x\r\n`));
    stalls.push(raw(`POST /api/capture/screenshot HTTP/1.1\r\nHost: ${h}\r\nAuthorization: Bearer ${BOB}\r\nContent-Type: multipart/form-data; boundary=x\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n--x\r\n`));
    stalls.push(tusStall(''), tusStall(`Authorization: Bearer ${BOB}\r\n`));
  }
  await sleep(300);
  const during = srv.fdCount();
  expect(during).toBeGreaterThanOrEqual(baseline + 18); // the stalled connections are held meanwhile
  const results = await Promise.all(stalls);
  for (const r of results) expect(r.closed).toBe(true);
  const noToken = results.filter((_, i) => i % 6 === 1 || i % 6 === 4);
  for (const r of noToken) {
    expect(r.status).toBe(401);
    expect(r.headers.connection).toBe('close');
    expect(r.closedAfterMs).toBeLessThan(1500); // answered, and closed after a short linger (LINGER.idleMs) without waiting for the body
  }
  const slowest = Math.max(...results.map((r) => r.closedAfterMs));
  expect(slowest).toBeLessThan(STALL_CLOSE_MS);
  let after = srv.fdCount();
  for (let i = 0; i < 20 && after > baseline; i++) { await sleep(100); after = srv.fdCount(); }
  expect(after).toBeLessThanOrEqual(baseline);
  console.log(`stalls: fds ${baseline} before, ${during} with ${stalls.length} stalled, ${after} after; slowest close ${Math.round(slowest)} ms`);
  await stillServing();
});

test('a body refused before it is read (401, 413, another user\'s upload) is not read: the connection closes', async () => {
  const h = host();
  const refusals = [
    // (a declared length over a route's limit is 413 before the token is looked at: init has none)
    [401, `POST /videos/init HTTP/1.1\r\nHost: ${h}\r\nAuthorization: Bearer wrong-token-123456\r\nContent-Type: application/json\r\nContent-Length: ${BIG_BODY}\r\n\r\n`],
    [401, `PATCH /files/${'2'.repeat(32)} HTTP/1.1\r\nHost: ${h}\r\nTus-Resumable: 1.0.0\r\nContent-Type: application/offset+octet-stream\r\nUpload-Offset: 0\r\nContent-Length: ${BIG_BODY}\r\n\r\n`],
    [413, `POST /videos/chunk HTTP/1.1\r\nHost: ${h}\r\nAuthorization: Bearer ${BOB}\r\nContent-Type: multipart/form-data; boundary=x\r\nContent-Length: ${BIG_BODY}\r\n\r\n`],
    [404, `PATCH /files/${'1'.repeat(32)} HTTP/1.1\r\nHost: ${h}\r\nAuthorization: Bearer ${BOB}\r\nTus-Resumable: 1.0.0\r\nContent-Type: application/offset+octet-stream\r\nUpload-Offset: 0\r\nContent-Length: ${BIG_BODY}\r\n\r\n`],
  ];
  const sent = [];
  for (const [status, head] of refusals) {
    // a client that stops at the answer: it gets the answer, and the server closes the connection
    const polite = await pushBody(head, { waitMs: 3000 });
    expect([status, polite.status, polite.headers.connection, polite.closed]).toEqual([status, status, 'close', true]);
    expect(polite.closedAfterMs).toBeLessThan(2000);
    // a client that goes on sending: the server does not read on
    const pushy = await pushBody(head, { keepSending: true, waitMs: 5000 });
    expect(pushy.closed).toBe(true);
    expect(pushy.sent).toBeLessThan(REFUSED_BODY_MAX);
    sent.push(pushy.sent);
  }
  console.log(`refused bodies: a client that kept sending got ${sent.map((n) => (n / 1048576).toFixed(1)).join(', ')} MiB of 64 MiB out`);
  await stillServing();
});

test('an oversize chunked body (no Content-Length) is cut off at the limit with 413', async () => {
  const sessionRes = await initSession(BOB);
  const { sessionId } = await sessionRes.json();
  const h = host();
  const prefix = Buffer.from(`--x\r\nContent-Disposition: form-data; name="sessionId"\r\n\r\n${sessionId}\r\n--x\r\nContent-Disposition: form-data; name="chunkIndex"\r\n\r\n1\r\n`
    + '--x\r\nContent-Disposition: form-data; name="chunk"; filename="c.webm"\r\nContent-Type: video/webm\r\n\r\n');
  const r = await pushBody(`POST /videos/chunk HTTP/1.1\r\nHost: ${h}\r\nAuthorization: Bearer ${BOB}\r\nContent-Type: multipart/form-data; boundary=x\r\nTransfer-Encoding: chunked\r\n\r\n`, { chunked: true, prefix });
  expect(r.status).toBe(413);
  expect(r.closed).toBe(true);
  expect(r.sent).toBeLessThan(REFUSED_BODY_MAX);
  // chunked screenshot and tus bodies over their limits too
  const shot = await pushBody(`POST /screenshots/upload HTTP/1.1\r\nHost: ${h}\r\nAuthorization: Bearer ${BOB}\r\nContent-Type: multipart/form-data; boundary=x\r\nTransfer-Encoding: chunked\r\n\r\n`,
    { chunked: true, prefix: Buffer.from('--x\r\nContent-Disposition: form-data; name="file"; filename="s.png"\r\nContent-Type: image/png\r\n\r\n') });
  expect(shot.status).toBe(413);
  expect(shot.sent).toBeLessThan(REFUSED_BODY_MAX);
  const chunks = await (await srv.api(`/videos/${sessionId}/chunks`, {}, BOB)).json();
  expect(chunks.chunks).toEqual([]);
  console.log(`chunked oversize: cut off after ${(r.sent / 1048576).toFixed(1)} and ${(shot.sent / 1048576).toFixed(1)} MiB of 64 MiB`);
  await stillServing();
});

test('a 30,000-deep JSON array is 400, wherever it is sent', async () => {
  const deep = '['.repeat(30000) + ']'.repeat(30000);
  const asBody = await srv.api('/videos/init', { method: 'POST', headers: { 'content-type': 'application/json' }, body: deep }, BOB);
  expect(asBody.status).toBe(400);
  const inMetadata = await srv.api('/videos/init', { method: 'POST', headers: { 'content-type': 'application/json' }, body: `{"filename":"a.webm","metadata":{"a":${deep}}}` }, BOB);
  expect(inMetadata.status).toBe(400);
  expect((await inMetadata.json()).error).toMatch(/nested deeper/);
  const form = screenshotForm(makePng(8, 8), { metadata: `{"a":${deep}}` });
  const asField = await srv.api('/screenshots/upload', { method: 'POST', body: form }, BOB);
  expect(asField.status).toBe(400);
  const viaTus = await tusCreate(BOB, 10, `metadata ${b64(`{"a":${'['.repeat(3000) + ']'.repeat(3000)}}`)}`); // a header: 16 KiB at most
  expect(viaTus.status).toBe(400);
  await stillServing();
});

test('two files in one multipart body are 400 with what was wrong', async () => {
  const png = makePng(8, 8);
  const form = new FormData();
  form.append('file', new Blob([png], { type: 'image/png' }), 'a.png');
  form.append('file', new Blob([png], { type: 'image/png' }), 'b.png');
  for (const path of ['/screenshots/upload', '/api/capture/screenshot']) {
    const res = await srv.api(path, { method: 'POST', body: form }, BOB);
    expect(res.status).toBe(400);
    expect((await res.json()).error).toMatch(/one file/);
  }
  const { sessionId } = await (await initSession(BOB)).json();
  const chunkForm = new FormData();
  chunkForm.append('sessionId', sessionId);
  chunkForm.append('chunkIndex', '0');
  chunkForm.append('chunk', new Blob([fakeWebm(1000)]), 'a.webm');
  chunkForm.append('chunk', new Blob([fakeWebm(1000, 2)]), 'b.webm');
  const res = await srv.api('/videos/chunk', { method: 'POST', body: chunkForm }, BOB);
  expect(res.status).toBe(400);
  expect((await (await srv.api(`/videos/${sessionId}/chunks`, {}, BOB)).json()).chunks).toEqual([]);
});

test('quotas: a flood of sessions or tus uploads past the limit is 429, bytes past the quota 507, other users unaffected', async () => {
  // 12 parallel session inits against a limit of 5: exactly 5 succeed
  const inits = await Promise.all(Array.from({ length: 12 }, () => initSession(CAROL)));
  const statuses = inits.map((r) => r.status).sort();
  expect(statuses.filter((s) => s === 200).length).toBe(5);
  expect(statuses.filter((s) => s === 429).length).toBe(7);
  const refused = inits.find((r) => r.status === 429);
  expect(await refused.json()).toMatchObject({ statusCode: 429, quota: 'sessions', limit: 5 });
  expect((await initSession(BOB)).status).toBe(200); // another user is not affected

  // tus: 10 parallel creations against a limit of 4 open uploads
  const creates = await Promise.all(Array.from({ length: 10 }, () => tusCreate(DAVE, 1000)));
  expect(creates.filter((r) => r.status === 201).length).toBe(4);
  const t429 = creates.find((r) => r.status === 429);
  expect(await t429.json()).toMatchObject({ quota: 'tusUploads', limit: 4 });
  // finishing one frees its slot
  const done = creates.find((r) => r.status === 201);
  const png = makePng(20, 20);
  const small = await tusCreate(DAVE, png.length);
  expect(small.status).toBe(429);
  const path = new URL(done.headers.get('location')).pathname;
  const finish = Buffer.concat([png, Buffer.alloc(1000 - png.length)]);
  expect((await tusPatch(path, 0, finish, DAVE)).status).toBe(204);
  expect((await tusCreate(DAVE, 1000)).status).toBe(201);

  // bytes (3 MiB): a declared tus length past it, then chunks until it is full
  const huge = await tusCreate(ERIN, 4 * 1024 * 1024);
  expect(huge.status).toBe(507);
  expect(await huge.json()).toMatchObject({ quota: 'bytes', limit: 3 * 1024 * 1024 });
  const { sessionId } = await (await initSession(ERIN)).json();
  const part = fakeWebm(900 * 1024, 5);
  const codes = [];
  for (let i = 0; i < 5; i++) {
    const form = new FormData();
    form.append('sessionId', sessionId);
    form.append('chunkIndex', String(i));
    form.append('chunk', new Blob([part]), `c${i}.webm`);
    codes.push((await srv.api('/videos/chunk', { method: 'POST', body: form }, ERIN)).status);
  }
  expect(codes).toEqual([200, 200, 200, 507, 507]);
  const shot = await srv.api('/screenshots/upload', { method: 'POST', body: screenshotForm(Buffer.concat([makePng(8, 8), randomBytes(400 * 1024)])) }, ERIN);
  expect(shot.status).toBe(507);
  expect((await srv.api('/screenshots/upload', { method: 'POST', body: screenshotForm(makePng(16, 16)) }, BOB)).status).toBe(200);
  await stillServing();
});

test('share links are not cacheable by shared caches, and stop working when the capture is deleted', async () => {
  const up = await srv.api('/screenshots/upload', { method: 'POST', body: screenshotForm(makePng(32, 32)) }, BOB);
  expect(up.status).toBe(200);
  const { url, id } = await up.json();
  const share = new URL(url).pathname;
  for (const path of [share, `${share}/thumbnail`]) {
    const res = await fetch(srv.url + path);
    expect([path, res.status]).toEqual([path, 200]);
    const cc = res.headers.get('cache-control');
    expect(cc).toMatch(/\bprivate\b|\bno-store\b/);
    expect(cc).toMatch(/\bno-cache\b|\bno-store\b/);
    expect(cc).not.toMatch(/\bpublic\b|s-maxage/);
    await res.arrayBuffer();
  }
  expect((await srv.api(`/api/captures/${id}`, { method: 'DELETE' }, BOB)).status).toBe(204);
  expect((await fetch(srv.url + share)).status).toBe(404);
});

test('with --public-url, neither share URLs nor tus Location follow the Host header; without it a malformed Host is not reflected', async () => {
  const pub = await startServerProcess({ args: ['--public-url', 'https://captures.example/', ...TIMEOUT_ARGS], heapMb: 256 });
  try {
    const port = new URL(pub.url).port;
    const request = (method, path, headers, body) => new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, method, path, headers: { authorization: `Bearer ${ALICE}`, ...headers } }, (res) => {
        let text = '';
        res.on('data', (d) => { text += d; });
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text }));
      });
      req.on('error', reject);
      req.end(body);
    });
    const evil = { host: 'evil.example' };
    const tus = await request('POST', '/files/', { ...evil, ...TUS, 'upload-length': '10' });
    expect(tus.status).toBe(201);
    expect(tus.headers.location).toMatch(/^https:\/\/captures\.example\/files\/[0-9a-f]{32}$/);
    const png = makePng(8, 8);
    const done = await request('POST', '/files/', { ...evil, ...TUS, 'upload-length': String(png.length), 'content-type': 'application/offset+octet-stream' }, png);
    expect(done.headers['capture-url']).toMatch(/^https:\/\/captures\.example\/s\//);
    const init = await request('POST', '/videos/init', { ...evil, 'content-type': 'application/json' }, '{"filename":"a.webm"}');
    expect(init.status).toBe(200);
    const list = JSON.parse((await request('GET', '/api/captures', evil)).text);
    expect(list.captures.length).toBeGreaterThan(0);
    for (const c of list.captures) expect(JSON.stringify(c.urls)).not.toMatch(/evil/);
  } finally {
    await pub.stop();
  }
  // without --public-url: a Host that is not host[:port] never reaches an answer
  const port = new URL(srv.url).port;
  const odd = await raw(`POST /files/ HTTP/1.1\r\nHost: a.example@evil.example\r\nAuthorization: Bearer ${BOB}\r\nTus-Resumable: 1.0.0\r\nUpload-Length: 10\r\nContent-Length: 0\r\n\r\n`, { stopAfterBody: true, port });
  expect(odd.status).toBe(201);
  expect(odd.headers.location).not.toMatch(/evil/);
});

test('after everything: alive, answering, RSS bounded', async () => {
  const ms = await stillServing();
  const rss = srv.rssBytes();
  console.log(`after the hostile suite: bob answered in ${ms.toFixed(0)} ms, RSS ${(rss / 1048576).toFixed(0)} MiB, ${srv.fdCount()} fds`);
  expect(rss).toBeLessThan(400 * 1024 * 1024);
});
