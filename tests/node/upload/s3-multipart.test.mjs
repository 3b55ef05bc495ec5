// S3 multipart (issue 6): the uploader with the s3 transport, the reference server's presign endpoints
// (AWS SDK) and a real S3-compatible server on 127.0.0.1 (s3rver; tests/helpers/s3rver.mjs adds the
// ListParts / abort / completion checks it lacks, and verifies Signature V4). Parts go straight to the
// bucket; the object is judged by GetObject + SHA-256; PUTs are counted from the bucket's request log.
import http from 'node:http';
import { createHash } from 'node:crypto';
import {
  S3Client, GetObjectCommand, HeadObjectCommand, AbortMultipartUploadCommand, UploadPartCommand,
} from '@aws-sdk/client-s3';
import { init } from '../../../js-glue/index.js';
import { createUploader } from '../../../js-glue/upload/uploader.js';
import { createMemoryStore } from '../../../js-glue/upload/store-memory.js';
import { createS3Transport, throwForS3, parseS3Session } from '../../../js-glue/upload/transports/s3.js';
import { createServer } from '../../../examples/server/server.js';
import { startS3rver } from '../../helpers/s3rver.mjs';
import { TOKEN, TOKEN_B, startServer, fakeWebm, makePng, countingFetch, once, spyTransport } from './uploader.helpers.mjs';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const MiB = 1024 * 1024;
const sha256 = (b) => createHash('sha256').update(b).digest('hex');
let seq = 0;
const live = [];
afterEach(async () => {
  while (live.length) await live.pop()();
});
beforeAll(() => init());

async function bucket(o) {
  const s3 = await startS3rver(o);
  live.push(() => s3.close());
  return s3;
}

/** The reference server with presign endpoints for `s3` (endpoint may be overridden, e.g. by a proxy). */
async function server(s3, o = {}) {
  const srv = await startServer({
    s3: {
      endpoint: o.endpoint || s3.endpoint, region: s3.region, bucket: s3.bucket, forcePathStyle: true,
      accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey, ...(o.s3 || {}),
    },
  });
  live.push(() => srv.close());
  return srv;
}

function sdk(s3) {
  const c = new S3Client({
    endpoint: s3.endpoint, region: s3.region, forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED',
  });
  live.push(() => c.destroy());
  return c;
}

async function objectBytes(s3, key) {
  const out = await sdk(s3).send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }));
  return Buffer.from(await out.Body.transformToByteArray());
}

function uploader(srv, o = {}) {
  const f = o.fetch || countingFetch();
  const transport = spyTransport(createS3Transport({ endpoint: `${srv.url}/s3/multipart`, fetch: f }));
  const up = createUploader({
    name: o.name || `s3-${++seq}`,
    transport,
    store: o.store || createMemoryStore(),
    token: TOKEN,
    locks: null,
    channel: null,
    onlineEvents: null,
    timeoutMs: 20000,
    ...(o.minPartSize ? { minPartSize: o.minPartSize } : {}), // default: 5 MiB, S3's minimum
    queue: { backoffBaseMs: 5, backoffMaxMs: 50, jitter: 0.2, maxRetries: 4, ...(o.queue || {}) },
  });
  up.fetch = f;
  up.transport = transport;
  const events = [];
  for (const name of ['uploaderror', 'itemfailed', 'itemcompleted', 'partuploaded']) up.addEventListener(name, (e) => events.push({ name, ...e.detail }));
  up.events = events;
  live.push(() => up.close());
  return up;
}

async function record(up, bytes, { chunk = MiB, filename = 'talk.webm' } = {}) {
  const rec = await up.startRecording({ filename, fps: 30, codec: 'vp8', mimeType: 'video/webm;codecs=vp8' });
  for (let o = 0; o < bytes.length; o += chunk) await rec.append(bytes.subarray(o, o + chunk));
  await rec.stop({ duration: 12 });
  return rec;
}

const partNumbers = (s3) => s3.partPuts().map((r) => Number(r.query.partNumber));

test('a 12 MiB recording goes to the bucket in 3 parts (5, 5, 2 MiB) with their ETags; the object is byte-identical', async () => {
  const s3 = await bucket();
  const srv = await server(s3);
  const up = uploader(srv);
  await up.ready;
  const webm = fakeWebm(12 * MiB, 3);
  const done = once(up, 'itemcompleted');
  const rec = await record(up, webm);
  const { result } = await done;
  await up.whenIdle();

  expect(up.events.filter((e) => e.name === 'partuploaded').map((e) => e.size)).toEqual([5 * MiB, 5 * MiB, 2 * MiB]);
  expect(up.events.filter((e) => e.name === 'uploaderror')).toEqual([]);
  // Parts went straight to the bucket, each once; the ETags the bucket answered were enough to complete.
  expect(partNumbers(s3)).toEqual([1, 2, 3]);
  expect(s3.partPuts().every((r) => r.status === 200)).toBe(true);
  expect(up.fetch.counts.get('POST /s3/multipart')).toBe(1);
  expect(up.transport.stats()).toEqual({ presigned: 3, partPuts: 3, listParts: 0, completes: 1 });
  const completes = s3.requests.filter((r) => r.method === 'POST' && r.query.uploadId !== undefined);
  expect(completes.map((r) => r.status)).toEqual([200]);
  // The reference server never saw a part: only JSON went to it.
  expect([...up.fetch.counts.keys()].filter((k) => k.startsWith('PUT ')).every((k) => k.includes(`/${s3.bucket}/`))).toBe(true);

  expect(result.key).toMatch(/^captures\/alice\/[0-9a-f]{32}\/talk\.webm$/);
  expect(result.etag).toMatch(/^"[0-9a-f]{32}-3"$|^"[0-9a-f]{32}"$/);
  const stored = await objectBytes(s3, result.key);
  expect(stored.length).toBe(webm.length);
  expect(sha256(stored)).toBe(sha256(webm));
  const head = await sdk(s3).send(new HeadObjectCommand({ Bucket: s3.bucket, Key: result.key }));
  expect(head.ContentType).toBe('video/webm');
  // The answer's URL (a presigned GET) serves the same bytes.
  const viaUrl = Buffer.from(await (await fetch(result.url)).arrayBuffer());
  expect(sha256(viaUrl)).toBe(sha256(webm));
  expect(rec.itemId).toBeTruthy();
});

test('a reload mid-upload resumes with ListParts: parts the bucket has are not sent again', async () => {
  const s3 = await bucket();
  const srv = await server(s3);
  const store = createMemoryStore();
  const up = uploader(srv, { store });
  await up.ready;
  const webm = fakeWebm(12 * MiB, 5);
  // The page dies right after the bucket stored part 2: its answer (and ETag) never reaches the queue.
  up.fetch.hook = async (url, reqInit) => {
    if (reqInit.method !== 'PUT' || !url.includes('partNumber=2&')) return undefined;
    const res = await fetch(url, reqInit);
    await res.text();
    up.close();
    throw new TypeError('the page went away');
  };
  const died = once(up, 'uploaderror', { filter: (d) => d.partIndex === 1 });
  await record(up, webm);
  await died;
  await up.close();
  expect(partNumbers(s3)).toEqual([1, 2]);

  const next = uploader(srv, { store, name: up.name });
  await next.ready;
  const done = once(next, 'itemcompleted');
  await next.whenIdle();
  const { result } = await done;
  const ops = next.transport.calls.map((c) => (c.op === 'uploadPart' ? `part${c.index}` : c.op));
  expect(ops).toEqual(['listParts', 'part2', 'finalize']);
  expect(partNumbers(s3)).toEqual([1, 2, 3]); // 3 PUTs in all: nothing sent twice
  // The ETags of parts 1 and 2 came from ListParts (no second ListParts at completion).
  expect(next.transport.stats()).toMatchObject({ partPuts: 1, listParts: 1, completes: 1 });
  expect(sha256(await objectBytes(s3, result.key))).toBe(sha256(webm));
});

test('EntityTooSmall: parts under 5 MiB are refused at completion, a clear permanent failure', async () => {
  const s3 = await bucket();
  const srv = await server(s3);
  const up = uploader(srv, { minPartSize: MiB }); // wrong for S3: every part but the last must be >= 5 MiB
  await up.ready;
  const failed = once(up, 'itemfailed');
  await record(up, fakeWebm(3 * MiB + 100, 7));
  const f = await failed;
  await up.whenIdle();
  expect(f.kind).toBe('client4xx');
  expect(f.action).toBe('finalize');
  expect(f.message).toMatch(/EntityTooSmall/);
  expect(f.message).toMatch(/5 MiB/);
  // Permanent: one completion attempt, no retry.
  expect(up.transport.calls.filter((c) => c.op === 'finalize')).toHaveLength(1);
  expect(s3.requests.filter((r) => r.method === 'POST' && r.query.uploadId !== undefined).map((r) => r.code)).toEqual(['EntityTooSmall']);
  expect((await up.getProgress()).failed).toBe(1);
});

test('NoSuchUpload: an upload aborted behind the queue\'s back is started again, and completes', async () => {
  const s3 = await bucket();
  const srv = await server(s3);
  const up = uploader(srv);
  await up.ready;
  const webm = fakeWebm(12 * MiB, 11);
  let aborted = null;
  up.fetch.hook = async (url) => {
    if (aborted || !url.includes('partNumber=2&')) return undefined;
    // A lifecycle rule (or another client) aborts the upload while part 2 is on its way.
    const u = new URL(url);
    const key = decodeURIComponent(u.pathname.slice(`/${s3.bucket}/`.length));
    aborted = { key, uploadId: u.searchParams.get('uploadId') };
    await sdk(s3).send(new AbortMultipartUploadCommand({ Bucket: s3.bucket, Key: key, UploadId: aborted.uploadId }));
    return undefined;
  };
  const done = once(up, 'itemcompleted');
  await record(up, webm);
  const { result } = await done;
  await up.whenIdle();
  const errors = up.events.filter((e) => e.name === 'uploaderror');
  expect(errors).toHaveLength(1);
  expect(errors[0]).toMatchObject({ kind: 'sessionExpired', action: 'uploadPart', partIndex: 1, status: 404 });
  expect(errors[0].message).toMatch(/NoSuchUpload/);
  // A new multipart upload (another key) took every part again.
  expect(up.fetch.counts.get('POST /s3/multipart')).toBe(2);
  expect(result.key).not.toBe(aborted.key);
  expect(partNumbers(s3)).toEqual([1, 2, 1, 2, 3]);
  expect(sha256(await objectBytes(s3, result.key))).toBe(sha256(webm));
});

test('InvalidPart: a part replaced in the bucket before completion is sent again, then the upload completes', async () => {
  const s3 = await bucket();
  const srv = await server(s3);
  const up = uploader(srv);
  await up.ready;
  const webm = fakeWebm(12 * MiB, 19);
  let replaced = false;
  up.fetch.hook = async (url, reqInit) => {
    if (replaced || !url.endsWith('/complete')) return undefined;
    replaced = true;
    // Another writer puts other bytes of the same size under part 2 just before the completion.
    const { key } = JSON.parse(reqInit.body instanceof Blob ? await reqInit.body.text() : new TextDecoder().decode(reqInit.body));
    const uploadId = decodeURIComponent(new URL(url).pathname.split('/').at(-2));
    await sdk(s3).send(new UploadPartCommand({ Bucket: s3.bucket, Key: key, UploadId: uploadId, PartNumber: 2, Body: fakeWebm(5 * MiB, 99) }));
    return undefined;
  };
  const done = once(up, 'itemcompleted');
  await record(up, webm);
  const { result } = await done;
  await up.whenIdle();
  const errors = up.events.filter((e) => e.name === 'uploaderror');
  expect(errors).toHaveLength(1);
  expect(errors[0]).toMatchObject({ kind: 'malformed', action: 'finalize', status: 400 });
  expect(errors[0].message).toMatch(/InvalidPart/);
  const ops = up.transport.calls.map((c) => (c.op === 'uploadPart' ? `part${c.index}` : c.op));
  expect(ops).toEqual(['init', 'part0', 'part1', 'part2', 'finalize', 'part1', 'finalize']);
  expect(sha256(await objectBytes(s3, result.key))).toBe(sha256(webm));
});

test('an expired presigned URL (2 s) is retried with a fresh one', async () => {
  const s3 = await bucket();
  // 2 s, not 1: X-Amz-Date has whole seconds, so a URL signed at x.999 s with 1 s to live would have 1 ms
  // left and a fresh URL could expire again on its way; with 2 s it has at least 1 s.
  const srv = await server(s3, { s3: { partUrlExpiresSeconds: 2 } });
  const up = uploader(srv);
  await up.ready;
  const webm = fakeWebm(6 * MiB, 13);
  let stalled = false;
  up.fetch.hook = async (url) => {
    if (stalled || !url.includes('partNumber=1&')) return undefined;
    stalled = true; // the tab was suspended between the presign and the PUT
    await new Promise((r) => setTimeout(r, 2200));
    return undefined;
  };
  const done = once(up, 'itemcompleted');
  await record(up, webm);
  const { result } = await done;
  await up.whenIdle();
  const errors = up.events.filter((e) => e.name === 'uploaderror');
  expect(errors).toHaveLength(1);
  expect(errors[0]).toMatchObject({ kind: 'timeout', action: 'uploadPart', partIndex: 0, status: 403 });
  expect(errors[0].message).toMatch(/Request has expired/);
  expect(errors[0].message).toMatch(/fresh URL/);
  expect(s3.partPuts().map((r) => [Number(r.query.partNumber), r.status, r.code || ''])).toEqual([[1, 403, 'AccessDenied'], [1, 200, ''], [2, 200, '']]);
  expect(up.fetch.counts.get('GET /s3/multipart/:id/part/1')).toBe(2); // a fresh URL for the retry
  expect(sha256(await objectBytes(s3, result.key))).toBe(sha256(webm));
});

/** An HTTP proxy in front of the bucket that drops the ETag header from UploadPart answers. */
async function etagStrippingProxy(target) {
  const t = new URL(target);
  const proxy = http.createServer((req, res) => {
    const up = http.request({ host: t.hostname, port: t.port, method: req.method, path: req.url, headers: req.headers }, (r) => {
      const headers = { ...r.headers };
      if (req.method === 'PUT' && /[?&]partNumber=/.test(req.url)) delete headers.etag;
      res.writeHead(r.statusCode, headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise((r) => proxy.listen(0, '127.0.0.1', r));
  live.push(() => new Promise((r) => { proxy.closeAllConnections(); proxy.close(r); }));
  return `http://127.0.0.1:${proxy.address().port}`;
}

test('a part answered without an ETag header is a clear failure naming CORS ExposeHeaders', async () => {
  const s3 = await bucket();
  const endpoint = await etagStrippingProxy(s3.endpoint);
  const srv = await server(s3, { endpoint });
  const up = uploader(srv, { queue: { maxRetries: 1 } });
  await up.ready;
  const failed = once(up, 'itemfailed');
  await record(up, fakeWebm(2 * MiB, 17));
  const f = await failed;
  await up.whenIdle();
  expect(f).toMatchObject({ kind: 'malformed', action: 'uploadPart', partIndex: 0, status: 200 });
  expect(f.message).toMatch(/without an ETag header/);
  expect(f.message).toMatch(/<ExposeHeader>ETag<\/ExposeHeader>/);
  // 'malformed' is counted: one retry (maxRetries 1), then failed; never completed without ETags.
  expect(up.events.filter((e) => e.name === 'uploaderror')).toHaveLength(2);
  expect(up.transport.stats().completes).toBe(0);
});

test('a screenshot is a one-part upload; a lost completion answer is not a second object', async () => {
  const s3 = await bucket();
  const srv = await server(s3);
  const f = countingFetch();
  let lose = true;
  f.hook = async (url, reqInit) => {
    if (!lose || !url.endsWith('/complete')) return undefined;
    lose = false;
    await (await fetch(url, reqInit)).text(); // completed in the bucket, the answer is lost
    throw new TypeError('connection reset');
  };
  const up = uploader(srv, { fetch: f });
  await up.ready;
  const png = makePng(4, 64, 48);
  const done = once(up, 'itemcompleted');
  await up.enqueueScreenshot(png, { mimeType: 'image/png', filename: 'shot.png', metadata: { title: 'a' } });
  const { result } = await done;
  await up.whenIdle();
  expect(result.key).toMatch(/^captures\/alice\/[0-9a-f]{32}\/shot\.png$/);
  expect(f.counts.get('POST /s3/multipart')).toBe(1);
  expect(partNumbers(s3)).toEqual([1]);
  expect(f.counts.get('POST /s3/multipart/:id/complete')).toBe(2);
  expect(sha256(await objectBytes(s3, result.key))).toBe(sha256(png));
});

describe('the reference server\'s presign endpoints', () => {
  let s3; let srv;
  const call = async (path, { method = 'GET', token = TOKEN, body } = {}) => {
    const res = await fetch(srv.url + path, {
      method, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : null };
  };
  beforeEach(async () => {
    s3 = await bucket();
    srv = await server(s3);
  });

  test('Bearer auth, per-user keys, strict parameters', async () => {
    expect((await call('/s3/multipart', { method: 'POST', token: null, body: {} })).status).toBe(401);
    const c = await call('/s3/multipart', { method: 'POST', body: { filename: '../../etc/passwd', contentType: 'video/webm' } });
    expect(c.status).toBe(200);
    expect(c.json.key).toMatch(/^captures\/alice\/[0-9a-f]{32}\/etc_passwd$|^captures\/alice\/[0-9a-f]{32}\/passwd$/);
    const id = encodeURIComponent(c.json.uploadId);
    const key = encodeURIComponent(c.json.key);
    // Bob may not sign for Alice's key: as if it did not exist.
    expect((await call(`/s3/multipart/${id}/part/1?key=${key}`, { token: TOKEN_B })).status).toBe(404);
    expect((await call(`/s3/multipart/${id}/part/0?key=${key}`)).status).toBe(400);
    expect((await call(`/s3/multipart/${id}/part/10001?key=${key}`)).status).toBe(400);
    expect((await call(`/s3/multipart/${id}/part/1`)).status).toBe(400);
    expect((await call('/s3/multipart', { method: 'POST', body: { contentType: 'not a type' } })).status).toBe(400);
    const p = await call(`/s3/multipart/${id}/part/1?key=${key}`);
    expect(p.status).toBe(200);
    expect(p.json).toMatchObject({ partNumber: 1, expiresIn: 900 });
    const u = new URL(p.json.url);
    expect(u.origin).toBe(s3.endpoint);
    expect(u.searchParams.get('X-Amz-SignedHeaders')).toBe('host');
    // No flexible-checksum parameters: the URL must accept any body.
    expect([...u.searchParams.keys()].filter((k) => /checksum/i.test(k))).toEqual([]);
    // A tampered URL is refused by the bucket (signatures are verified).
    const bad = await fetch(p.json.url.replace('partNumber=1', 'partNumber=2'), { method: 'PUT', body: 'x' });
    expect(bad.status).toBe(403);
    expect(await bad.text()).toMatch(/SignatureDoesNotMatch/);
  });

  test('ListParts, complete, repeated complete, abort', async () => {
    const c = (await call('/s3/multipart', { method: 'POST', body: { filename: 'a.webm' } })).json;
    const id = encodeURIComponent(c.uploadId);
    const key = encodeURIComponent(c.key);
    const put = async (n, bytes) => {
      const { url } = (await call(`/s3/multipart/${id}/part/${n}?key=${key}`)).json;
      const res = await fetch(url, { method: 'PUT', body: bytes });
      expect(res.status).toBe(200);
      return res.headers.get('etag');
    };
    const a = fakeWebm(5 * MiB, 1);
    const b = Buffer.from('tail');
    const e1 = await put(1, a);
    const e2 = await put(2, b);
    const l = await call(`/s3/multipart/${id}/parts?key=${key}`);
    expect(l.json.parts).toEqual([{ PartNumber: 1, ETag: e1, Size: a.length }, { PartNumber: 2, ETag: e2, Size: 4 }]);
    // A wrong ETag: InvalidPart, passed on with its code.
    const wrong = await call(`/s3/multipart/${id}/complete`, { method: 'POST', body: { key: c.key, parts: [{ PartNumber: 1, ETag: e2 }, { PartNumber: 2, ETag: e2 }] } });
    expect(wrong).toMatchObject({ status: 400, json: { code: 'InvalidPart' } });
    const body = { key: c.key, parts: [{ PartNumber: 1, ETag: e1 }, { PartNumber: 2, ETag: e2 }] };
    const done = await call(`/s3/multipart/${id}/complete`, { method: 'POST', body });
    expect(done.status).toBe(200);
    expect(done.json.key).toBe(c.key);
    // The same completion again (its answer was lost): the object is there, same answer, no error.
    const again = await call(`/s3/multipart/${id}/complete`, { method: 'POST', body });
    expect(again).toMatchObject({ status: 200, json: { key: c.key, alreadyCompleted: true } });
    expect(sha256(await objectBytes(s3, c.key))).toBe(sha256(Buffer.concat([a, b])));
    // Abort: 204, then the upload is gone (NoSuchUpload -> 404 with its code).
    const c2 = (await call('/s3/multipart', { method: 'POST', body: {} })).json;
    const id2 = encodeURIComponent(c2.uploadId);
    const key2 = encodeURIComponent(c2.key);
    expect((await call(`/s3/multipart/${id2}?key=${key2}`, { method: 'DELETE' })).status).toBe(204);
    expect(await call(`/s3/multipart/${id2}/parts?key=${key2}`)).toMatchObject({ status: 404, json: { code: 'NoSuchUpload' } });
  });
});

test('createServer checks the s3 options', () => {
  expect(() => createServer({ s3: { bucket: 'No_Such Bucket' } })).toThrow(/s3.bucket/);
  expect(() => createServer({ s3: { bucket: 'ok-bucket', accessKeyId: 'a' } })).toThrow(/both/);
  expect(() => createServer({ s3: { bucket: 'ok-bucket', partUrlExpiresSeconds: 0 } })).toThrow(/partUrlExpiresSeconds/);
  expect(() => createServer({ s3: { bucket: 'ok-bucket', endpoint: 'localhost:9000' } })).toThrow(/endpoint/);
  expect(() => createServer({ s3: { bucket: 'ok-bucket', nope: 1 } })).toThrow(/unknown option "nope"/);
});

test('S3 error answers map to the queue\'s failure kinds', () => {
  const kind = (status, code, message = '', headers = {}) => {
    try {
      throwForS3({ status, headers: new Headers(headers), text: code ? `<?xml version="1.0"?><Error><Code>${code}</Code><Message>${message}</Message></Error>` : '' }, 'part 1');
    } catch (e) {
      return [e.kind, e.retryAfterMs];
    }
    return null;
  };
  expect(kind(404, 'NoSuchUpload')).toEqual(['sessionExpired', 0]);
  expect(kind(403, 'AccessDenied', 'Request has expired')).toEqual(['timeout', 0]);
  expect(kind(403, 'AccessDenied', 'Access Denied')).toEqual(['unauthorized', 0]);
  expect(kind(403, 'SignatureDoesNotMatch')).toEqual(['client4xx', 0]);
  expect(kind(400, 'EntityTooSmall')).toEqual(['client4xx', 0]);
  expect(kind(503, 'SlowDown', 'Please reduce your request rate.', { 'retry-after': '3' })).toEqual(['rateLimited', 3000]);
  expect(kind(503, 'SlowDown')).toEqual(['rateLimited', 1000]);
  expect(kind(500, 'InternalError')).toEqual(['server5xx', 0]);
  expect(kind(502, '')).toEqual(['server5xx', 0]);
  expect(kind(400, 'RequestTimeout')).toEqual(['timeout', 0]);
  expect(kind(400, 'BadDigest')).toEqual(['checksumMismatch', 0]);
  expect(kind(400, 'InvalidArgument')).toEqual(['client4xx', 0]);
  expect(() => parseS3Session('not json')).toThrow(expect.objectContaining({ kind: 'sessionExpired' }));
  expect(() => createS3Transport({ endpoint: 'ftp://x' })).toThrow(TypeError);
  expect(() => createS3Transport({})).toThrow(/endpoint/);
});
