// A real S3-compatible server for the S3 multipart tests: s3rver (npm) on 127.0.0.1, one bucket with an
// optional CORS configuration, and a log of every request it answered (to count UploadPart PUTs).
//
// s3rver 3.7.1 implements CreateMultipartUpload, UploadPart and CompleteMultipartUpload, query-string
// expiry of presigned URLs (403 AccessDenied "Request has expired") and bucket CORS, but not everything a
// multipart client relies on. What it lacks is added here, on s3rver's own store layout and with
// s3rver's own error type, following the S3 API reference:
//   - ListParts (GET ?uploadId) and AbortMultipartUpload (DELETE ?uploadId)
//   - UploadPart / CompleteMultipartUpload on an unknown (aborted, completed) upload: 404 NoSuchUpload
//     (s3rver would silently create the upload directory again)
//   - CompleteMultipartUpload checks: InvalidPartOrder, InvalidPart (missing part or ETag mismatch),
//     EntityTooSmall (a part other than the last below 5 MiB)
//   - Signature V4 verification (s3rver skips it): header-signed and presigned requests whose signature
//     does not match are 403 SignatureDoesNotMatch, so a URL signed for other headers than the browser
//     sends fails here as it would on S3.
import { createRequire } from 'node:module';
import { createHash, createHmac } from 'node:crypto';
import { mkdtemp, readFile, readdir, stat, rm, access } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';

const require = createRequire(import.meta.url);
const S3rver = require('s3rver');
const sRequire = createRequire(require.resolve('s3rver'));
const S3Error = sRequire('./models/error');
const router = sRequire('./routes');
const xmlParser = sRequire('fast-xml-parser');
const he = sRequire('he');

export const S3RVER_KEY = 'S3RVER'; // s3rver's built-in account: access key id = secret = S3RVER
export const MIN_PART_SIZE = 5 * 1024 * 1024;

/** A CORS configuration document for the bucket. */
export function corsXml({ exposeEtag = true, origins = ['*'] } = {}) {
  return `<CORSConfiguration><CORSRule>${origins.map((o) => `<AllowedOrigin>${o}</AllowedOrigin>`).join('')}` +
    '<AllowedMethod>GET</AllowedMethod><AllowedMethod>PUT</AllowedMethod><AllowedMethod>POST</AllowedMethod>' +
    '<AllowedMethod>HEAD</AllowedMethod><AllowedMethod>DELETE</AllowedMethod><AllowedHeader>*</AllowedHeader>' +
    `${exposeEtag ? '<ExposeHeader>ETag</ExposeHeader>' : ''}<MaxAgeSeconds>600</MaxAgeSeconds></CORSRule></CORSConfiguration>`;
}

// ------------------------------------------------------------------------------ Signature V4

const enc = (s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const sha256hex = (s) => createHash('sha256').update(s).digest('hex');
const hmac = (key, s) => createHmac('sha256', key).update(s).digest();

function rawQueryPairs(querystring) {
  if (!querystring) return [];
  return querystring.split('&').filter(Boolean).map((kv) => {
    const i = kv.indexOf('=');
    const dec = (x) => decodeURIComponent(x.replace(/\+/g, '%20'));
    return i < 0 ? [dec(kv), ''] : [dec(kv.slice(0, i)), dec(kv.slice(i + 1))];
  });
}

/** Checks a SigV4 request (header or query); throws SignatureDoesNotMatch. Requests without V4 pass. */
function verifySigV4(ctx, secret) {
  const pairs = rawQueryPairs(ctx.querystring);
  const q = Object.fromEntries(pairs);
  let algorithm; let credential; let signedHeaders; let signature; let amzDate; let payloadHash;
  if (q['X-Amz-Signature']) {
    ({ 'X-Amz-Algorithm': algorithm, 'X-Amz-Credential': credential, 'X-Amz-SignedHeaders': signedHeaders,
      'X-Amz-Signature': signature, 'X-Amz-Date': amzDate } = q);
    payloadHash = 'UNSIGNED-PAYLOAD';
  } else {
    const auth = ctx.get('authorization');
    const m = /^AWS4-HMAC-SHA256 Credential=([^,]+), ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]+)$/.exec(auth);
    if (!m) return;
    algorithm = 'AWS4-HMAC-SHA256';
    [, credential, signedHeaders, signature] = m;
    amzDate = ctx.get('x-amz-date');
    payloadHash = ctx.get('x-amz-content-sha256') || 'UNSIGNED-PAYLOAD';
  }
  if (algorithm !== 'AWS4-HMAC-SHA256') return;
  const [, date, region, service] = credential.split('/');
  const names = signedHeaders.split(';');
  const canonicalQuery = pairs.filter(([k]) => k !== 'X-Amz-Signature').map(([k, v]) => [enc(k), enc(v)])
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`).join('&');
  const headerLines = names.map((n) => `${n}:${String(ctx.req.headers[n] ?? '').trim().replace(/\s+/g, ' ')}\n`).join('');
  const path = ctx.url.split('?')[0];
  const canonical = [ctx.method, path, canonicalQuery, headerLines, signedHeaders, payloadHash].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256hex(canonical)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), 'aws4_request');
  const expected = createHmac('sha256', key).update(toSign).digest('hex');
  if (expected !== signature) {
    throw new S3Error('SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. ' +
      'Check your key and signing method.', { SignedHeaders: signedHeaders });
  }
}

// ------------------------------------------------------------------------------ multipart additions

const exists = (p) => access(p).then(() => true, () => false);

async function readBody(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  return Buffer.concat(chunks);
}

function uploadDir(ctx, bucket, uploadId) {
  if (!/^[A-Za-z0-9_.-]{1,256}$/.test(uploadId)) return null;
  return join(ctx.store.getResourcePath(bucket, undefined, 'uploads'), uploadId);
}

async function requireUpload(ctx, bucket, key, uploadId) {
  const dir = uploadDir(ctx, bucket, uploadId);
  const noSuch = () => new S3Error('NoSuchUpload', 'The specified upload does not exist. The upload ID may be invalid, ' +
    'or the upload may have been aborted or completed.', { UploadId: uploadId });
  if (!dir || !(await exists(join(dir, 'key')))) throw noSuch();
  const storedKey = (await readFile(join(dir, 'key'))).toString();
  if (storedKey !== key) throw noSuch();
  return dir;
}

async function listStoredParts(dir) {
  const names = await readdir(dir);
  const parts = [];
  for (const n of names) {
    if (!/^\d+$/.test(n) || !names.includes(`${n}.md5`)) continue;
    const [st, md5] = await Promise.all([stat(join(dir, n)), readFile(join(dir, `${n}.md5`))]);
    parts.push({ PartNumber: Number(n), ETag: `"${md5.toString().trim()}"`, Size: st.size, LastModified: st.mtime.toISOString() });
  }
  return parts.sort((a, b) => a.PartNumber - b.PartNumber);
}

function multipartAdditions({ minPartSize, verify, secret }) {
  return async function s3Additions(ctx, next) {
    if (ctx.method === 'OPTIONS') return next();
    if (verify) verifySigV4(ctx, secret);
    const { bucket } = ctx.params;
    const key = ctx.params.key;
    const uploadId = ctx.query.uploadId;
    if (!bucket || !key || uploadId === undefined) return next();
    if (!(await ctx.store.getBucket(bucket))) return next();

    if (ctx.method === 'GET') { // ListParts
      const dir = await requireUpload(ctx, bucket, key, uploadId);
      const all = await listStoredParts(dir);
      const marker = Number(ctx.query['part-number-marker'] || 0);
      const max = Math.min(Number(ctx.query['max-parts'] || 1000), 1000);
      const after = all.filter((p) => p.PartNumber > marker);
      const page = after.slice(0, max);
      const truncated = after.length > page.length;
      ctx.body = {
        ListPartsResult: {
          Bucket: bucket, Key: key, UploadId: uploadId, PartNumberMarker: marker,
          NextPartNumberMarker: page.length ? page[page.length - 1].PartNumber : marker, MaxParts: max, IsTruncated: truncated,
          StorageClass: 'STANDARD',
          ...(page.length ? { Part: page } : {}),
        },
      };
      return undefined;
    }
    if (ctx.method === 'DELETE') { // AbortMultipartUpload
      const dir = await requireUpload(ctx, bucket, key, uploadId);
      await rm(dir, { recursive: true, force: true });
      ctx.status = 204;
      return undefined;
    }
    if (ctx.method === 'PUT') { // UploadPart
      const n = ctx.query.partNumber;
      if (!/^\d+$/.test(n || '') || Number(n) < 1 || Number(n) > 10000) {
        throw new S3Error('InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive',
          { ArgumentName: 'partNumber', ArgumentValue: String(n) });
      }
      await requireUpload(ctx, bucket, key, uploadId);
      return next();
    }
    if (ctx.method === 'POST') { // CompleteMultipartUpload
      const dir = await requireUpload(ctx, bucket, key, uploadId);
      const body = await readBody(ctx.req);
      const xml = body.toString('utf8');
      if (xmlParser.validate(xml) !== true) throw new S3Error('MalformedXML', 'The XML you provided was not well-formed.');
      const doc = xmlParser.parse(xml, { tagValueProcessor: (a) => he.decode(a) });
      const listed = [].concat(doc?.CompleteMultipartUpload?.Part || []);
      if (!listed.length) throw new S3Error('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema.');
      const stored = new Map((await listStoredParts(dir)).map((p) => [p.PartNumber, p]));
      let prev = 0;
      listed.forEach((p, i) => {
        const num = Number(p.PartNumber);
        if (!(num > prev)) throw new S3Error('InvalidPartOrder', 'The list of parts was not in ascending order. The parts list must be specified in order by part number.');
        prev = num;
        const s = stored.get(num);
        const etag = String(p.ETag ?? '').replace(/"/g, '');
        if (!s || s.ETag.replace(/"/g, '') !== etag) {
          throw new S3Error('InvalidPart', 'One or more of the specified parts could not be found. The part might not have been ' +
            "uploaded, or the specified entity tag might not have matched the part's entity tag.", { UploadId: uploadId, PartNumber: num, ETag: etag });
        }
        if (i < listed.length - 1 && s.Size < minPartSize) {
          throw new S3Error('EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed size',
            { ProposedSize: s.Size, MinSizeAllowed: minPartSize, PartNumber: num, ETag: etag });
        }
      });
      // Hand the body on to s3rver's own CompleteMultipartUpload, which reads it from ctx.req.
      ctx.req = Readable.from([body]);
      return next();
    }
    return next();
  };
}

let installedOptions = null;
function installAdditions(options) {
  // s3rver's router is one module instance; its layers run in order, so the additions go in right after
  // its CORS, authentication (presigned URL expiry) and header-override layers, before the routes.
  installedOptions = options;
  if (router.stack.some((l) => l.__capturekit)) return;
  router.use('/:bucket/:key+', (ctx, next) => multipartAdditions(installedOptions.get(ctx.app) || {})(ctx, next));
  const layer = router.stack.pop();
  layer.__capturekit = true;
  const at = router.stack.findIndex((l) => l.path === '/' && l.methods.includes('GET'));
  router.stack.splice(at < 0 ? 0 : at, 0, layer);
}
const perApp = new WeakMap();

/**
 * Starts s3rver on 127.0.0.1 (a free port) with one bucket.
 * @param {{bucket?: string, cors?: boolean, exposeEtag?: boolean, minPartSize?: number, verifySignatures?: boolean,
 *          buckets?: Array<{name: string, cors?: boolean, exposeEtag?: boolean}>}} [o]
 */
export async function startS3rver(o = {}) {
  const { bucket = 'capturekit-test', cors = true, exposeEtag = true, minPartSize = MIN_PART_SIZE, verifySignatures = true } = o;
  const dir = await mkdtemp(join(tmpdir(), 'ck-s3rver-'));
  const buckets = [{ name: bucket, cors, exposeEtag }, ...(o.buckets || [])].map((b) => ({
    name: b.name, configs: b.cors === false ? [] : [Buffer.from(corsXml({ exposeEtag: b.exposeEtag !== false }))],
  }));
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: dir, configureBuckets: buckets });
  server.silent = true; // Koa: no stderr for the 5xx answers tests provoke
  perApp.set(server, { minPartSize, verify: verifySignatures, secret: S3RVER_KEY });
  installAdditions(perApp);
  const requests = [];
  server.middleware.unshift(async (ctx, next) => {
    const entry = { method: ctx.method, path: ctx.path, query: { ...ctx.query }, status: 0 };
    requests.push(entry);
    try {
      await next();
      entry.status = ctx.status;
    } catch (e) {
      entry.status = e.status || 500;
      entry.code = e.code;
      throw e;
    }
  });
  const addr = await server.run();
  const endpoint = `http://127.0.0.1:${addr.port}`;
  return {
    server, endpoint, bucket, dir, requests,
    region: 'us-east-1', accessKeyId: S3RVER_KEY, secretAccessKey: S3RVER_KEY,
    /** The UploadPart PUTs seen so far (with their status). */
    partPuts: () => requests.filter((r) => r.method === 'PUT' && r.query.uploadId !== undefined && r.query.partNumber !== undefined),
    async close() {
      await server.close().catch(() => {});
      await rm(dir, { recursive: true, force: true });
    },
  };
}
