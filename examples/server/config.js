// Command-line flags and environment variables -> createServer() options (flags win over env).
import { parseArgs } from 'node:util';
import { parseFaults } from './faults.js';

/** "64MiB", "5MB", "65536", "64k" -> bytes. */
export function parseSize(v, name = 'size') {
  if (v === undefined || v === null || v === '') return undefined;
  const m = /^\s*([0-9]+(?:\.[0-9]+)?)\s*([kmgt]?)(i?b?)\s*$/i.exec(String(v));
  if (!m) throw new RangeError(`${name}: "${v}" is not a size (examples: 65536, 64KiB, 5MB, 2GiB)`);
  const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[m[2].toLowerCase()];
  const n = Math.round(Number(m[1]) * unit);
  if (!Number.isSafeInteger(n) || n <= 0) throw new RangeError(`${name}: "${v}" must be a positive size`);
  return n;
}

/** "30s", "500ms", "10m", "1h", or a bare number of seconds -> milliseconds. */
export function parseDuration(v, name = 'duration') {
  if (v === undefined || v === null || v === '') return undefined;
  const m = /^\s*([0-9]+(?:\.[0-9]+)?)\s*(ms|s|m|h)?\s*$/i.exec(String(v));
  if (!m) throw new RangeError(`${name}: "${v}" is not a duration (examples: 500ms, 30s, 10m, 1h; a bare number is seconds)`);
  const unit = { ms: 1, s: 1000, m: 60000, h: 3600000 }[(m[2] || 's').toLowerCase()];
  const n = Math.round(Number(m[1]) * unit);
  if (!Number.isSafeInteger(n) || n <= 0) throw new RangeError(`${name}: "${v}" must be a positive duration`);
  return n;
}

/** A count flag: a non-negative integer (0 = no limit). */
function parseCount(v, name) {
  if (v === undefined || v === null || v === '') return undefined;
  if (!/^\s*[0-9]{1,9}\s*$/.test(String(v))) throw new RangeError(`${name}: "${v}" is not a non-negative integer`);
  return Number(v);
}

/** A size flag that also takes 0 (= no limit). */
function parseQuotaSize(v, name) {
  if (v === undefined || v === null || v === '') return undefined;
  return /^\s*0+\s*$/.test(String(v)) ? 0 : parseSize(v, name);
}

const FLAGS = {
  port: { type: 'string', env: 'PORT' },
  host: { type: 'string', env: 'HOST' },
  'data-dir': { type: 'string', env: 'DATA_DIR' },
  tokens: { type: 'string', env: 'TOKENS' },
  'max-chunk': { type: 'string', env: 'MAX_CHUNK_BYTES' },
  'max-screenshot': { type: 'string', env: 'MAX_SCREENSHOT_BYTES' },
  'max-video': { type: 'string', env: 'MAX_VIDEO_BYTES' },
  'max-metadata': { type: 'string', env: 'MAX_METADATA_BYTES' },
  'max-image-pixels': { type: 'string', env: 'MAX_IMAGE_PIXELS' },
  'retention-days': { type: 'string', env: 'RETENTION_DAYS' },
  'headers-timeout': { type: 'string', env: 'HEADERS_TIMEOUT' },
  'request-timeout': { type: 'string', env: 'REQUEST_TIMEOUT' },
  'body-timeout': { type: 'string', env: 'BODY_TIMEOUT' },
  'keep-alive-timeout': { type: 'string', env: 'KEEP_ALIVE_TIMEOUT' },
  'shutdown-timeout': { type: 'string', env: 'SHUTDOWN_TIMEOUT' },
  'quota-bytes': { type: 'string', env: 'QUOTA_BYTES' },
  'quota-sessions': { type: 'string', env: 'QUOTA_SESSIONS' },
  'quota-tus': { type: 'string', env: 'QUOTA_TUS' },
  faults: { type: 'string', env: 'FAULTS' },
  'public-url': { type: 'string', env: 'PUBLIC_URL' },
  'no-static': { type: 'boolean' },
  log: { type: 'boolean', env: 'LOG' },
  database: { type: 'string', env: 'DATABASE_URL' },
  'server-id': { type: 'string', env: 'SERVER_ID' },
  's3-bucket': { type: 'string', env: 'S3_BUCKET' },
  's3-endpoint': { type: 'string', env: 'S3_ENDPOINT' },
  's3-region': { type: 'string', env: 'S3_REGION' },
  's3-access-key-id': { type: 'string', env: 'S3_ACCESS_KEY_ID' },
  's3-secret-access-key': { type: 'string', env: 'S3_SECRET_ACCESS_KEY' },
  's3-force-path-style': { type: 'boolean', env: 'S3_FORCE_PATH_STYLE' },
  's3-url-expires': { type: 'string', env: 'S3_URL_EXPIRES' },
  's3-public-url': { type: 'string', env: 'S3_PUBLIC_URL' },
  's3-key-prefix': { type: 'string', env: 'S3_KEY_PREFIX' },
  's3-bytes': { type: 'boolean', env: 'S3_BYTES' },
  help: { type: 'boolean', short: 'h' },
};

export const USAGE = `Usage: node examples/server/start.js [options]   (or: npm start -- [options])

  --port N               PORT            listen port (default 8787; 0 = any free port)
  --host H               HOST            listen address (default 127.0.0.1)
  --data-dir DIR         DATA_DIR        storage directory (default examples/server/data)
  --tokens T:U,T:U       TOKENS          bearer tokens and their users (default: a random dev token, printed)
  --max-chunk SIZE       MAX_CHUNK_BYTES       largest chunk (default 64MiB)
  --max-screenshot SIZE  MAX_SCREENSHOT_BYTES  largest screenshot (default 32MiB)
  --max-video SIZE       MAX_VIDEO_BYTES       largest single-request or tus video (default 4GiB)
  --max-metadata SIZE    MAX_METADATA_BYTES    largest metadata JSON (default 64KiB)
  --max-image-pixels N   MAX_IMAGE_PIXELS      screenshots of more pixels are stored without a thumbnail,
                                               never decoded (default 50000000)
  --retention-days N     RETENTION_DAYS  delete files older than N days, at start and hourly (default 30, 0 = never)
  --headers-timeout T    HEADERS_TIMEOUT  a request's headers must arrive within T (default 20s)
  --request-timeout T    REQUEST_TIMEOUT  a whole request, body included, must arrive within T (default 10m)
  --body-timeout T       BODY_TIMEOUT     a body that sends nothing for T is cut off (default 30s)
  --keep-alive-timeout T KEEP_ALIVE_TIMEOUT  an idle kept-alive connection is closed after T (default 10s)
  --shutdown-timeout T   SHUTDOWN_TIMEOUT    on SIGTERM, requests in flight get T to finish (default 25s)
                         (durations: 500ms, 30s, 10m, 1h; a bare number is seconds)
  --quota-bytes SIZE     QUOTA_BYTES     bytes one user may store: captures and unfinished uploads
                                         (default 20GiB; 0 = no limit; beyond: 507)
  --quota-sessions N     QUOTA_SESSIONS  open REST upload sessions per user (default 100; 0 = no limit; beyond: 429)
  --quota-tus N          QUOTA_TUS       unfinished tus uploads per user (default 100; 0 = no limit; beyond: 429)
  --faults SPEC          FAULTS          fault injection, e.g. "rate=0.2,seed=7,kinds=500+reset+stall,phase=mixed"
  --public-url URL       PUBLIC_URL      base of the URLs in answers (default: from the Host header;
                                         set it in production, where the Host header is the client's)
  --server-id NAME       SERVER_ID       sent as X-Served-By on every answer (which server behind a proxy answered)
  --no-static                            do not serve the example site
  --log                  LOG=1           request log (pino, JSON lines, each with the request id reqId;
                                         X-Request-Id from the client is kept when plain, else made)
  --database URL         DATABASE_URL    postgres://user:pass@host:port/db: sessions, parts, captures, share
                                         links, Idempotency-Keys and tus ownership in PostgreSQL (migrations
                                         run at start), so several servers share them (default: data dir)

  S3 multipart presign endpoints (/s3/multipart, on when a bucket is given):
  --s3-bucket NAME       S3_BUCKET       the bucket the browser uploads parts to
  --s3-endpoint URL      S3_ENDPOINT     an S3-compatible server's origin (default: AWS)
  --s3-region R          S3_REGION       default us-east-1
  --s3-access-key-id K   S3_ACCESS_KEY_ID      with --s3-secret-access-key (default: the AWS SDK's
  --s3-secret-access-key S S3_SECRET_ACCESS_KEY  credential chain: AWS_* env, profile, role)
  --s3-force-path-style  S3_FORCE_PATH_STYLE=1  http://host/bucket/key URLs (MinIO, s3rver, ...)
  --s3-url-expires N     S3_URL_EXPIRES  lifetime of a presigned part URL in seconds (default 900)
  --s3-public-url URL    S3_PUBLIC_URL   public/CDN base of the bucket for answer URLs (default: presigned GET)
  --s3-key-prefix P      S3_KEY_PREFIX   object keys are P<user>/<id>/<file> (default captures/)
  --s3-bytes             S3_BYTES=1      every byte in the bucket too: REST chunks of >= 5 MiB as multipart
                                         parts (finalize = CompleteMultipartUpload), captures and thumbnails
                                         as objects, tus through @tus/s3-store (needs --database)
`;

function s3Options(get) {
  const bucket = get('s3-bucket');
  if (!bucket) return undefined;
  const pathStyle = get('s3-force-path-style');
  const expires = get('s3-url-expires');
  return {
    bucket,
    endpoint: get('s3-endpoint') || undefined,
    region: get('s3-region') || undefined,
    accessKeyId: get('s3-access-key-id') || undefined,
    secretAccessKey: get('s3-secret-access-key') || undefined,
    forcePathStyle: pathStyle === true || pathStyle === '1' || pathStyle === 'true',
    partUrlExpiresSeconds: expires === undefined || expires === '' ? undefined : Number(expires),
    publicUrl: get('s3-public-url') || undefined,
    keyPrefix: get('s3-key-prefix') ?? undefined,
  };
}

/** Returns { listen: {port, host}, options (for createServer), help }. */
export function resolveConfig(argv = process.argv.slice(2), env = process.env) {
  const { values } = parseArgs({
    args: argv,
    options: Object.fromEntries(Object.entries(FLAGS).map(([k, v]) => [k, { type: v.type, ...(v.short ? { short: v.short } : {}) }])),
    strict: true,
    allowPositionals: false,
  });
  const get = (k) => (values[k] !== undefined ? values[k] : FLAGS[k].env ? env[FLAGS[k].env] : undefined);
  const port = get('port') === undefined || get('port') === '' ? 8787 : Number(get('port'));
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`--port must be 0..65535, got ${get('port')}`);
  const retention = get('retention-days');
  const logFlag = get('log');
  return {
    help: !!values.help,
    listen: { port, host: get('host') || '127.0.0.1' },
    options: {
      dataDir: get('data-dir') || undefined,
      tokens: get('tokens') || undefined,
      maxChunkBytes: parseSize(get('max-chunk'), '--max-chunk'),
      maxScreenshotBytes: parseSize(get('max-screenshot'), '--max-screenshot'),
      maxVideoBytes: parseSize(get('max-video'), '--max-video'),
      maxMetadataBytes: parseSize(get('max-metadata'), '--max-metadata'),
      maxImagePixels: parseCount(get('max-image-pixels'), '--max-image-pixels'),
      retentionDays: retention === undefined || retention === '' ? undefined : Number(retention),
      headersTimeoutMs: parseDuration(get('headers-timeout'), '--headers-timeout'),
      requestTimeoutMs: parseDuration(get('request-timeout'), '--request-timeout'),
      bodyTimeoutMs: parseDuration(get('body-timeout'), '--body-timeout'),
      keepAliveTimeoutMs: parseDuration(get('keep-alive-timeout'), '--keep-alive-timeout'),
      shutdownTimeoutMs: parseDuration(get('shutdown-timeout'), '--shutdown-timeout'),
      quotaBytes: parseQuotaSize(get('quota-bytes'), '--quota-bytes'),
      quotaSessions: parseCount(get('quota-sessions'), '--quota-sessions'),
      quotaTusUploads: parseCount(get('quota-tus'), '--quota-tus'),
      faults: parseFaults(get('faults')) || undefined,
      publicUrl: get('public-url') || undefined,
      static: values['no-static'] ? false : undefined,
      logger: logFlag === true || logFlag === '1' || logFlag === 'true',
      database: get('database') || undefined,
      serverId: get('server-id') || undefined,
      s3Bytes: ['1', 'true', true].includes(get('s3-bytes')) || undefined,
      s3: s3Options(get),
    },
  };
}
