// S3 multipart presign endpoints (issue 6): the browser sends parts straight to the bucket; this server
// only holds the credentials and signs. Registered when createServer() gets `s3: { bucket, ... }`.
//
//   POST   /s3/multipart                         JSON {filename?, contentType?, metadata?}  -> {uploadId, key}
//   GET    /s3/multipart/:uploadId/part/:n?key=  presigned UploadPart URL      -> {url, partNumber, expiresIn, expiresAt}
//   GET    /s3/multipart/:uploadId/parts?key=    ListParts (every page)        -> {parts: [{PartNumber, ETag, Size}]}
//   POST   /s3/multipart/:uploadId/complete      JSON {key, parts: [{PartNumber, ETag}]} -> {key, etag, location, url}
//   DELETE /s3/multipart/:uploadId?key=          AbortMultipartUpload          -> 204
//
// Every route needs the Bearer token; keys are `<keyPrefix><user>/<32 hex>/<file name>`, made here, and a
// key outside the caller's namespace is 404 (as if it did not exist). S3's refusals are passed on as JSON
// `{error, code, statusCode}` with the S3 error code (EntityTooSmall 400, InvalidPart 400, NoSuchUpload 404,
// SlowDown 503 + Retry-After); a bucket that cannot be reached or refuses the server's own credentials is 502.
import { httpError, newId } from '../storage.js';
import { validateMetadata } from '../schema.js';

const BUCKET_RE = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const PREFIX_RE = /^([A-Za-z0-9_.-]+\/)*$/;
const UPLOAD_ID_RE = /^[A-Za-z0-9._~+=-]{1,256}$/;
const PART_RE = /^([1-9][0-9]{0,4})$/;
const ETAG_RE = /^"?[A-Za-z0-9-]{1,128}"?$/;
const TYPE_RE = /^[a-z]+\/[A-Za-z0-9.+-]{1,100}$/;

export const S3_DEFAULTS = Object.freeze({
  endpoint: null, // null: AWS itself
  region: 'us-east-1',
  bucket: null,
  accessKeyId: null, // null (with secretAccessKey null): the SDK's default credential chain (env, profile, role)
  secretAccessKey: null,
  forcePathStyle: false, // true for most S3-compatible servers (MinIO, s3rver, ...)
  partUrlExpiresSeconds: 900, // lifetime of a presigned UploadPart URL
  getUrlExpiresSeconds: 86400, // lifetime of the presigned GET URL in a completion answer (no publicUrl)
  publicUrl: null, // base URL of the bucket's public/CDN address: url = publicUrl + '/' + key
  keyPrefix: 'captures/',
});

function secondsIn(v, name, max) {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new RangeError(`s3.${name} must be an integer in [1, ${max}] seconds, got ${v}`);
  return n;
}

/** Checks createServer()'s `s3` option; null/undefined/false: S3 off. */
export function normalizeS3Options(s3) {
  if (!s3) return null;
  if (typeof s3 !== 'object') throw new TypeError('s3 must be an object { bucket, endpoint?, region?, accessKeyId?, secretAccessKey?, forcePathStyle? }');
  const o = { ...S3_DEFAULTS, ...Object.fromEntries(Object.entries(s3).filter(([, v]) => v !== undefined && v !== null)) };
  for (const k of Object.keys(s3)) if (!(k in S3_DEFAULTS)) throw new TypeError(`s3: unknown option "${k}" (known: ${Object.keys(S3_DEFAULTS).join(', ')})`);
  if (typeof o.bucket !== 'string' || !BUCKET_RE.test(o.bucket)) throw new RangeError(`s3.bucket must be a bucket name (3..63 of a-z 0-9 . -), got ${JSON.stringify(o.bucket)}`);
  if (o.endpoint !== null && (typeof o.endpoint !== 'string' || !/^https?:\/\/[^/]+\/?$/.test(o.endpoint))) {
    throw new RangeError(`s3.endpoint must be an http(s) origin like http://127.0.0.1:9000, got ${JSON.stringify(o.endpoint)}`);
  }
  if (typeof o.region !== 'string' || !/^[a-z0-9-]{1,32}$/.test(o.region)) throw new RangeError(`s3.region must look like us-east-1, got ${JSON.stringify(o.region)}`);
  if ((o.accessKeyId === null) !== (o.secretAccessKey === null)) throw new TypeError('s3: give both accessKeyId and secretAccessKey, or neither (the SDK\'s default credentials)');
  for (const k of ['accessKeyId', 'secretAccessKey']) if (o[k] !== null && (typeof o[k] !== 'string' || !o[k])) throw new TypeError(`s3.${k} must be a non-empty string`);
  o.forcePathStyle = o.forcePathStyle === true || o.forcePathStyle === 'true' || o.forcePathStyle === '1';
  o.partUrlExpiresSeconds = secondsIn(o.partUrlExpiresSeconds, 'partUrlExpiresSeconds', 604800);
  o.getUrlExpiresSeconds = secondsIn(o.getUrlExpiresSeconds, 'getUrlExpiresSeconds', 604800);
  if (o.publicUrl !== null) o.publicUrl = String(o.publicUrl).replace(/\/+$/, '');
  if (typeof o.keyPrefix !== 'string' || !PREFIX_RE.test(o.keyPrefix) || o.keyPrefix.length > 256) {
    throw new RangeError(`s3.keyPrefix must be "" or path segments ending in "/", got ${JSON.stringify(o.keyPrefix)}`);
  }
  return o;
}

const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function objectName(filename) {
  const base = typeof filename === 'string' ? filename.split(/[\\/]/).pop().replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '').slice(0, 128) : '';
  return base || 'recording.webm';
}

/** S3 error -> an httpError for the client (see the header). */
function fromS3(e, what) {
  if (e && e.statusCode && e.expose) return e; // already ours
  const code = e?.name || e?.Code || 'Error';
  const status = e?.$metadata?.httpStatusCode || 0;
  const msg = e?.message && e.message !== code ? e.message : code;
  if (code === 'NoSuchUpload') return httpError(404, `${what}: the bucket has no such multipart upload (aborted, completed or expired)`, { code });
  if (['EntityTooSmall', 'InvalidPart', 'InvalidPartOrder', 'MalformedXML', 'InvalidArgument', 'EntityTooLarge'].includes(code)) {
    return httpError(400, `${what}: S3 ${code}: ${msg}`, { code });
  }
  if (code === 'SlowDown' || status === 503) return httpError(503, `${what}: S3 ${code}: slow down`, { code, retryAfter: 1 });
  if (status >= 500 || !status) return httpError(502, `${what}: the bucket did not answer (${code}: ${msg})`, { code });
  // AccessDenied, NoSuchBucket, InvalidAccessKeyId, SignatureDoesNotMatch: this server's configuration.
  return httpError(502, `${what}: the bucket refused this server's request (${code}: ${msg}); check the s3 options`, { code });
}

export default async function s3Routes(app, { ctx }) {
  const s3 = ctx.options.s3;
  const sdk = await import('@aws-sdk/client-s3');
  const { getSignedUrl } = await import('@aws-sdk/s3-request-presigner');
  const client = new sdk.S3Client({
    region: s3.region,
    forcePathStyle: s3.forcePathStyle,
    ...(s3.endpoint ? { endpoint: s3.endpoint } : {}),
    ...(s3.accessKeyId ? { credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } } : {}),
    // No flexible checksums: a presigned UploadPart URL must not carry a checksum of an empty body, and
    // S3-compatible servers differ in what they accept.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 2,
  });
  ctx.s3 = { client, options: s3 };
  app.addHook('onClose', async () => client.destroy());
  app.addHook('onRequest', ctx.authenticate);

  const send = async (command, what) => {
    try {
      return await client.send(command);
    } catch (e) {
      throw fromS3(e, what);
    }
  };
  const keyRe = (user) => new RegExp(`^${escapeRe(s3.keyPrefix)}${escapeRe(user)}/[0-9a-f]{32}/[A-Za-z0-9._-]{1,128}$`);
  const checkKey = (request, key) => {
    if (key === undefined || key === '') throw httpError(400, 'key is required (the key POST /s3/multipart answered)');
    if (typeof key !== 'string' || key.length > 1024) throw httpError(400, 'key must be a string');
    if (!keyRe(request.user).test(key)) throw httpError(404, 'no such upload');
    return key;
  };
  const checkUploadId = (id) => {
    if (typeof id !== 'string' || !UPLOAD_ID_RE.test(id)) throw httpError(400, `uploadId must match ${UPLOAD_ID_RE}`);
    return id;
  };
  const publicUrl = async (key) => {
    if (s3.publicUrl) return `${s3.publicUrl}/${key.split('/').map(encodeURIComponent).join('/')}`;
    return getSignedUrl(client, new sdk.GetObjectCommand({ Bucket: s3.bucket, Key: key }), { expiresIn: s3.getUrlExpiresSeconds });
  };
  app.addHook('onSend', async (request, reply, payload) => {
    if (reply.statusCode === 503) reply.header('retry-after', '1');
    return payload;
  });

  app.post('/s3/multipart', { bodyLimit: ctx.options.maxMetadataBytes + 16384 }, async (request) => {
    const b = request.body ?? {};
    if (typeof b !== 'object' || Array.isArray(b)) throw httpError(400, 'the body must be a JSON object {filename?, contentType?, metadata?}');
    const contentType = b.contentType ?? 'application/octet-stream';
    if (typeof contentType !== 'string' || !TYPE_RE.test(contentType)) throw httpError(400, 'contentType must be a MIME type like video/webm');
    const metadata = validateMetadata(b.metadata, { maxBytes: ctx.options.maxMetadataBytes });
    const key = `${s3.keyPrefix}${request.user}/${newId()}/${objectName(b.filename ?? metadata.filename)}`;
    const clientId = typeof metadata.clientUploadId === 'string' && /^[\x20-\x7e]{1,256}$/.test(metadata.clientUploadId) ? metadata.clientUploadId : undefined;
    const out = await send(new sdk.CreateMultipartUploadCommand({
      Bucket: s3.bucket, Key: key, ContentType: contentType,
      Metadata: { owner: request.user, ...(clientId ? { 'client-upload-id': clientId } : {}) },
    }), 'create');
    if (!out.UploadId) throw httpError(502, 'create: the bucket answered without an UploadId');
    return { uploadId: out.UploadId, key, bucket: s3.bucket };
  });

  app.get('/s3/multipart/:uploadId/part/:n', async (request) => {
    const uploadId = checkUploadId(request.params.uploadId);
    const key = checkKey(request, request.query.key);
    if (!PART_RE.test(request.params.n) || Number(request.params.n) > 10000) throw httpError(400, 'part number must be an integer in [1, 10000]');
    const partNumber = Number(request.params.n);
    const expiresIn = s3.partUrlExpiresSeconds;
    const url = await getSignedUrl(client, new sdk.UploadPartCommand({ Bucket: s3.bucket, Key: key, UploadId: uploadId, PartNumber: partNumber }), { expiresIn });
    return { url, partNumber, expiresIn, expiresAt: Date.now() + expiresIn * 1000 };
  });

  app.get('/s3/multipart/:uploadId/parts', async (request) => {
    const uploadId = checkUploadId(request.params.uploadId);
    const key = checkKey(request, request.query.key);
    const parts = [];
    let marker;
    for (let page = 0; page < 20; page++) {
      const out = await send(new sdk.ListPartsCommand({ Bucket: s3.bucket, Key: key, UploadId: uploadId, ...(marker ? { PartNumberMarker: marker } : {}) }), 'list parts');
      for (const p of out.Parts || []) parts.push({ PartNumber: p.PartNumber, ETag: p.ETag, Size: p.Size });
      if (!out.IsTruncated) break;
      marker = out.NextPartNumberMarker;
    }
    return { parts };
  });

  app.post('/s3/multipart/:uploadId/complete', async (request) => {
    const uploadId = checkUploadId(request.params.uploadId);
    const b = request.body ?? {};
    const key = checkKey(request, b.key);
    const parts = b.parts;
    if (!Array.isArray(parts) || parts.length < 1 || parts.length > 10000) throw httpError(400, 'parts must be an array of 1..10000 {PartNumber, ETag}');
    parts.forEach((p, i) => {
      if (!p || typeof p !== 'object' || !Number.isInteger(p.PartNumber) || p.PartNumber < 1 || p.PartNumber > 10000) {
        throw httpError(400, `parts[${i}].PartNumber must be an integer in [1, 10000]`);
      }
      if (typeof p.ETag !== 'string' || !ETAG_RE.test(p.ETag)) throw httpError(400, `parts[${i}].ETag must be the ETag the bucket answered for that part`);
    });
    let out;
    try {
      out = await client.send(new sdk.CompleteMultipartUploadCommand({
        Bucket: s3.bucket, Key: key, UploadId: uploadId,
        MultipartUpload: { Parts: parts.map((p) => ({ PartNumber: p.PartNumber, ETag: p.ETag })) },
      }));
    } catch (e) {
      if (e?.name !== 'NoSuchUpload') throw fromS3(e, 'complete');
      // A completion whose answer was lost: the upload is gone because the object exists. Keys are unique
      // per upload (a fresh random id), so an object under this key can only be this upload's.
      let head;
      try {
        head = await client.send(new sdk.HeadObjectCommand({ Bucket: s3.bucket, Key: key }));
      } catch {
        throw fromS3(e, 'complete');
      }
      return { key, etag: head.ETag ?? null, size: head.ContentLength ?? null, location: null, url: await publicUrl(key), alreadyCompleted: true };
    }
    return { key, etag: out.ETag ?? null, location: out.Location ?? null, url: await publicUrl(key) };
  });

  app.delete('/s3/multipart/:uploadId', async (request, reply) => {
    const uploadId = checkUploadId(request.params.uploadId);
    const key = checkKey(request, request.query.key);
    await send(new sdk.AbortMultipartUploadCommand({ Bucket: s3.bucket, Key: key, UploadId: uploadId }), 'abort');
    return reply.code(204).send();
  });
}
