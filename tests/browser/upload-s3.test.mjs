// S3 multipart in Chromium: a page served by the reference server records 12 MiB into the uploader
// (IndexedDB store), the s3 transport sends the parts cross-origin straight to s3rver (CORS), and the
// object in the bucket is byte-identical. A bucket whose CORS rule does not expose ETag makes the browser
// hide the header: a clear failure naming ExposeHeaders, never a completion.
import { S3Client, GetObjectCommand } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from '../../examples/server/server.js';
import { startS3rver } from '../helpers/s3rver.mjs';
import { launchBrowser, serveStatic } from './browser.mjs';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const TOKEN = 'browser-s3-token-1234';
const NOEXPOSE = 'ck-noexpose';
let browser; let s3; let site; const apps = []; const dirs = [];

async function refServer(bucket) {
  const dir = await mkdtemp(join(tmpdir(), 'ck-s3-browser-'));
  dirs.push(dir);
  const app = createServer({
    dataDir: dir, tokens: `${TOKEN}:alice`, retentionDays: 0,
    s3: { endpoint: s3.endpoint, region: s3.region, bucket, forcePathStyle: true, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  apps.push(app);
  return `http://127.0.0.1:${app.server.address().port}`;
}

beforeAll(async () => {
  s3 = await startS3rver({ buckets: [{ name: NOEXPOSE, cors: true, exposeEtag: false }] });
  browser = await launchBrowser();
  // The app's page on its own origin (a real server: Chromium lets a loopback page reach other loopback
  // ports), the backend (reference server) and the bucket (s3rver) on two others.
  site = await serveStatic({ routes: { '/s3-upload.html': (req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE) } });
});
afterAll(async () => {
  await browser?.close();
  await site?.close();
  for (const a of apps) await a.close();
  await s3?.close();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const PAGE = `<!doctype html><meta charset="utf-8"><title>s3 upload</title>
<script type="importmap">{ "imports": { "idb": "/node_modules/idb/build/index.js" } }</script>
<script type="module">
import { init } from '/js-glue/index.js';
import { createUploader } from '/js-glue/upload/uploader.js';
import { createS3Transport } from '/js-glue/upload/transports/s3.js';
window.runUpload = async ({ backend, token, size, name, maxRetries }) => {
  await init();
  const up = createUploader({
    name, token, transport: createS3Transport({ endpoint: backend + '/s3/multipart' }),
    queue: { backoffBaseMs: 5, backoffMaxMs: 50, jitter: 0, maxRetries },
  });
  const events = [];
  for (const n of ['uploaderror', 'itemfailed', 'itemcompleted', 'partuploaded']) up.addEventListener(n, (e) => events.push({ name: n, ...e.detail }));
  let progress = 0;
  up.addEventListener('uploadprogress', () => { progress++; });
  await up.ready;
  // Deterministic bytes, 1 MiB at a time, as a recorder would hand them over.
  const rec = await up.startRecording({ filename: 'browser.webm', mimeType: 'video/webm' });
  const all = new Uint8Array(size);
  let x = 2463534242;
  for (let i = 0; i < size; i++) { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; all[i] = x & 255; }
  all.set([0x1a, 0x45, 0xdf, 0xa3]);
  for (let o = 0; o < size; o += 1 << 20) await rec.append(all.subarray(o, Math.min(size, o + (1 << 20))));
  await rec.stop({ duration: 1 });
  await up.whenIdle();
  await up.close();
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', all));
  return { events, progress, sha256: Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('') };
};
document.body.dataset.ready = 'true';
</script>`;

async function openUploadPage() {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(String(e)));
  await page.goto(`${site.url}/s3-upload.html`);
  await page.waitForSelector('body[data-ready="true"]', { state: 'attached' });
  return page;
}

test('a 12 MiB recording goes from the page straight to the bucket (CORS), 3 parts, byte-identical', async () => {
  const backend = await refServer(s3.bucket);
  const page = await openUploadPage();
  const before = s3.partPuts().length;
  const r = await page.evaluate((a) => window.runUpload(a), { backend, token: TOKEN, size: 12 * 1024 * 1024, name: 'ok', maxRetries: 3 });
  expect(r.events.filter((e) => e.name === 'uploaderror')).toEqual([]);
  expect(r.events.filter((e) => e.name === 'partuploaded').map((e) => e.size)).toEqual([5, 5, 2].map((m) => m * 1024 * 1024));
  expect(r.progress).toBeGreaterThan(0); // XMLHttpRequest upload progress
  const puts = s3.partPuts().slice(before);
  expect(puts.map((p) => [Number(p.query.partNumber), p.status])).toEqual([[1, 200], [2, 200], [3, 200]]);
  const done = r.events.find((e) => e.name === 'itemcompleted');
  expect(done.result.key).toMatch(/^captures\/alice\/[0-9a-f]{32}\/browser\.webm$/);
  const c = new S3Client({ endpoint: s3.endpoint, region: s3.region, forcePathStyle: true, credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } });
  const out = await c.send(new GetObjectCommand({ Bucket: s3.bucket, Key: done.result.key }));
  const bytes = Buffer.from(await out.Body.transformToByteArray());
  c.destroy();
  expect(bytes.length).toBe(12 * 1024 * 1024);
  expect(createHash('sha256').update(bytes).digest('hex')).toBe(r.sha256);
  expect(page.errors).toEqual([]);
  await page.context().close();
});

test('a bucket whose CORS rule does not expose ETag: a clear failure naming ExposeHeaders', async () => {
  const backend = await refServer(NOEXPOSE);
  const page = await openUploadPage();
  const r = await page.evaluate((a) => window.runUpload(a), { backend, token: TOKEN, size: 1024 * 1024, name: 'noexpose', maxRetries: 1 });
  const failed = r.events.find((e) => e.name === 'itemfailed');
  expect(failed).toMatchObject({ kind: 'malformed', action: 'uploadPart', partIndex: 0 });
  expect(failed.message).toMatch(/without an ETag header/);
  expect(failed.message).toMatch(/ExposeHeader/);
  expect(r.events.some((e) => e.name === 'itemcompleted')).toBe(false);
  // The bucket did store the part (200): only the browser hid its ETag.
  expect(s3.requests.some((q) => q.method === 'PUT' && q.path.startsWith(`/${NOEXPOSE}/`) && q.status === 200)).toBe(true);
  await page.context().close();
});
