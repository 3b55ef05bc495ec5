// Seekable while streaming over S3 multipart (issue 6): with startRecording({ seekable: true }) the parts
// after the first go to the bucket while recording, a late patch of the header lands in part 0, which is
// PUT last (part number 1 after 2 and 3); S3 assembles by part number, so the object is the patched file.
// Real S3-compatible server on 127.0.0.1 (s3rver via tests/helpers/s3rver.mjs) and the reference server's
// presign endpoints.
import { createHash } from 'node:crypto';
import { S3Client, GetObjectCommand } from '@aws-sdk/client-s3';
import { init } from '../../../js-glue/index.js';
import { createUploader } from '../../../js-glue/upload/uploader.js';
import { createMemoryStore } from '../../../js-glue/upload/store-memory.js';
import { createS3Transport } from '../../../js-glue/upload/transports/s3.js';
import { startS3rver } from '../../helpers/s3rver.mjs';
import { TOKEN, startServer, fakeWebm, countingFetch, once } from './uploader.helpers.mjs';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const MiB = 1024 * 1024;
const sha256 = (b) => createHash('sha256').update(b).digest('hex');
const live = [];
afterEach(async () => {
  while (live.length) await live.pop()();
});
beforeAll(() => init());

test('a seekable 12 MiB recording: parts 2 and 3 while recording, the patched part 1 last; the object is the patched file', async () => {
  const s3 = await startS3rver();
  live.push(() => s3.close());
  const srv = await startServer({
    s3: { endpoint: s3.endpoint, region: s3.region, bucket: s3.bucket, forcePathStyle: true, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
  });
  live.push(() => srv.close());
  const transport = createS3Transport({ endpoint: `${srv.url}/s3/multipart`, fetch: countingFetch() });
  const up = createUploader({
    name: 's3-seekable', transport, store: createMemoryStore(), token: TOKEN, locks: null, channel: null, onlineEvents: null,
    timeoutMs: 20000, queue: { backoffBaseMs: 5, backoffMaxMs: 50, jitter: 0.2, maxRetries: 4 },
  });
  live.push(() => up.close());
  const uploaded = [];
  up.addEventListener('partuploaded', (e) => uploaded.push(e.detail.partIndex));
  const errors = [];
  up.addEventListener('uploaderror', (e) => errors.push(e.detail));
  await up.ready;

  const webm = fakeWebm(12 * MiB, 9);
  const rec = await up.startRecording({ filename: 'seekable.webm', fps: 30, codec: 'vp8' }, { seekable: true });
  for (let o = 0; o < webm.length; o += MiB) await rec.write(webm.subarray(o, o + MiB), o);
  // Part index 1 (S3 part number 2) goes up while the recording is still open.
  if (!uploaded.includes(1)) await once(up, 'partuploaded', { filter: (d) => d.partIndex === 1 });
  expect(rec.state).toBe('recording');
  // The muxer's header patch at the end (here: 8 bytes at offset 40).
  const patch = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
  await rec.write(patch, 40);
  const done = once(up, 'itemcompleted');
  await rec.stop({ duration: 12 });
  const { result } = await done;
  await up.whenIdle();
  expect(errors).toEqual([]);
  expect(uploaded).toEqual([1, 2, 0]);
  expect(s3.partPuts().filter((r) => r.status === 200).map((r) => Number(r.query.partNumber))).toEqual([2, 3, 1]);

  const want = Buffer.from(webm);
  want.set(patch, 40);
  const c = new S3Client({
    endpoint: s3.endpoint, region: s3.region, forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED',
  });
  live.push(() => c.destroy());
  const out = await c.send(new GetObjectCommand({ Bucket: s3.bucket, Key: result.key }));
  const stored = Buffer.from(await out.Body.transformToByteArray());
  expect(stored.length).toBe(want.length);
  expect(sha256(stored)).toBe(sha256(want));
});
