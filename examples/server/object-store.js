// The bucket as the reference server's byte store (`--s3-bytes` with `--s3-bucket`): capture files,
// thumbnails and REST recordings are objects, read back with Range. One S3Client (@aws-sdk/client-s3)
// for the whole server; every method throws an httpError: 404 for a missing object, 503 with
// Retry-After when the bucket is unreachable or slows down (the client retries), else 502.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { stat, rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
export const MIN_PART_BYTES = 5 * 1024 * 1024; // S3's smallest part (all parts of an upload but its last)

function bytesError(statusCode, message, extra = {}) {
  const e = new Error(message);
  Object.assign(e, { statusCode, expose: true, extra });
  return e;
}

/** An S3 SDK error -> an httpError for the client. */
function fromS3(e, what) {
  if (e && e.statusCode && e.expose) return e;
  const code = e?.name || e?.Code || 'Error';
  const status = e?.$metadata?.httpStatusCode || 0;
  if (code === 'NoSuchKey' || code === 'NotFound' || status === 404) return bytesError(404, `${what}: no such object`, { code });
  if (code === 'SlowDown' || status === 503 || ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE'].includes(e?.code)) {
    return bytesError(503, `${what}: the object store is unavailable; retry shortly`, { code, retryAfter: 1 });
  }
  return bytesError(502, `${what}: the object store refused (${code})`, { code });
}

export class ObjectStore {
  /** `s3`: the normalized s3 options of server.js (bucket, endpoint, region, credentials, keyPrefix). */
  constructor(s3) {
    this.options = s3;
    this.bucket = s3.bucket;
    this.prefix = s3.keyPrefix;
    this.sdk = require('@aws-sdk/client-s3');
    this.client = new this.sdk.S3Client(ObjectStore.clientConfig(s3));
  }

  /** The S3Client configuration (also given to @tus/s3-store). */
  static clientConfig(s3) {
    return {
      region: s3.region,
      forcePathStyle: s3.forcePathStyle,
      ...(s3.endpoint ? { endpoint: s3.endpoint } : {}),
      ...(s3.accessKeyId ? { credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } } : {}),
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: 2,
    };
  }

  async #send(command, what) {
    try {
      return await this.client.send(command);
    } catch (e) {
      throw fromS3(e, what);
    }
  }

  /** A capture's object key: <prefix><user>/<id>/<name>. */
  captureKey(user, id, name) { return `${this.prefix}${user}/${id}/${name}`; }
  /** A REST recording's key while it is assembled (and after: the capture keeps it). */
  sessionKey(user, sessionId) { return `${this.prefix}${user}/sessions/${sessionId}/recording`; }
  sideKey(user, sessionId, index) { return `${this.prefix}${user}/sessions/${sessionId}/chunk-${index}`; }

  /** null when the bucket answers (readiness), else an error code. */
  async check() {
    try {
      await this.client.send(new this.sdk.HeadBucketCommand({ Bucket: this.bucket }));
      return null;
    } catch (e) {
      return e?.name || e?.code || 'error';
    }
  }

  /** Uploads a local file (its size known) as `key`. */
  async putFile(key, path, contentType = 'application/octet-stream') {
    const { size } = await stat(path);
    await this.#send(new this.sdk.PutObjectCommand({ Bucket: this.bucket, Key: key, Body: createReadStream(path), ContentLength: size, ContentType: contentType }), 'store');
    return size;
  }

  async putBuffer(key, buf, contentType = 'application/octet-stream') {
    await this.#send(new this.sdk.PutObjectCommand({ Bucket: this.bucket, Key: key, Body: buf, ContentLength: buf.length, ContentType: contentType }), 'store');
  }

  /** { body (a stream), size (of the whole object), length, range: {start, end} | null }; range: inclusive bytes. */
  async get(key, range = null) {
    const out = await this.#send(new this.sdk.GetObjectCommand({ Bucket: this.bucket, Key: key, ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}) }), 'read');
    const total = out.ContentRange ? Number(/\/(\d+)$/.exec(out.ContentRange)?.[1]) : Number(out.ContentLength);
    return { body: out.Body, size: total, length: Number(out.ContentLength), lastModified: out.LastModified };
  }

  /** Size of `key`, or null when there is no such object. */
  async size(key) {
    try {
      const out = await this.client.send(new this.sdk.HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return Number(out.ContentLength);
    } catch (e) {
      const err = fromS3(e, 'head');
      if (err.statusCode === 404) return null;
      throw err;
    }
  }

  /** The first `n` bytes (fewer when the object is shorter). */
  async head(key, n = 64) {
    const { body } = await this.get(key, { start: 0, end: n - 1 });
    const parts = [];
    for await (const c of body) parts.push(c);
    return Buffer.concat(parts);
  }

  async buffer(key) {
    const { body } = await this.get(key);
    const parts = [];
    for await (const c of body) parts.push(c);
    return Buffer.concat(parts);
  }

  /** Copies the object into a local file (for the readers that need one: video facts, thumbnails, repair). */
  async download(key, path) {
    const { body } = await this.get(key);
    try {
      await pipeline(body, createWriteStream(path, { flags: 'wx' }));
    } catch (e) {
      await rm(path, { force: true });
      throw e;
    }
  }

  /** SHA-256 of the object, streamed. */
  async digest(key) {
    const hash = createHash('sha256');
    const { body } = await this.get(key);
    for await (const c of body) hash.update(c);
    return hash.digest('hex');
  }

  async delete(key) {
    await this.#send(new this.sdk.DeleteObjectCommand({ Bucket: this.bucket, Key: key }), 'delete').catch((e) => { if (e.statusCode !== 404) throw e; });
  }

  // ---- multipart: a REST recording ----
  async createMultipart(key, contentType) {
    const out = await this.#send(new this.sdk.CreateMultipartUploadCommand({ Bucket: this.bucket, Key: key, ContentType: contentType }), 'create the multipart upload');
    return out.UploadId;
  }

  /** Uploads part `partNumber` from a local file; returns its ETag. */
  async uploadPart(key, uploadId, partNumber, path, size) {
    const out = await this.#send(new this.sdk.UploadPartCommand({
      Bucket: this.bucket, Key: key, UploadId: uploadId, PartNumber: partNumber, Body: createReadStream(path), ContentLength: size,
    }), `part ${partNumber}`);
    return out.ETag;
  }

  async uploadPartBuffer(key, uploadId, partNumber, buf) {
    const out = await this.#send(new this.sdk.UploadPartCommand({
      Bucket: this.bucket, Key: key, UploadId: uploadId, PartNumber: partNumber, Body: buf, ContentLength: buf.length,
    }), `part ${partNumber}`);
    return out.ETag;
  }

  /** CompleteMultipartUpload; a repeat after it succeeded (NoSuchUpload, the object there) is success too. */
  async completeMultipart(key, uploadId, parts, expectedSize) {
    try {
      await this.client.send(new this.sdk.CompleteMultipartUploadCommand({
        Bucket: this.bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: parts.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag })) },
      }));
    } catch (e) {
      if ((e?.name === 'NoSuchUpload' || e?.Code === 'NoSuchUpload') && (await this.size(key)) === expectedSize) return;
      throw fromS3(e, 'complete the recording');
    }
  }

  async abortMultipart(key, uploadId) {
    await this.client.send(new this.sdk.AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId })).catch(() => {});
  }

  close() { this.client.destroy(); }
}
