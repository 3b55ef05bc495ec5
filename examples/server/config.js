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

const FLAGS = {
  port: { type: 'string', env: 'PORT' },
  host: { type: 'string', env: 'HOST' },
  'data-dir': { type: 'string', env: 'DATA_DIR' },
  tokens: { type: 'string', env: 'TOKENS' },
  'max-chunk': { type: 'string', env: 'MAX_CHUNK_BYTES' },
  'max-screenshot': { type: 'string', env: 'MAX_SCREENSHOT_BYTES' },
  'max-video': { type: 'string', env: 'MAX_VIDEO_BYTES' },
  'max-metadata': { type: 'string', env: 'MAX_METADATA_BYTES' },
  'retention-days': { type: 'string', env: 'RETENTION_DAYS' },
  faults: { type: 'string', env: 'FAULTS' },
  'public-url': { type: 'string', env: 'PUBLIC_URL' },
  'no-static': { type: 'boolean' },
  log: { type: 'boolean', env: 'LOG' },
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
  --retention-days N     RETENTION_DAYS  delete files older than N days, at start and hourly (default 30, 0 = never)
  --faults SPEC          FAULTS          fault injection, e.g. "rate=0.2,seed=7,kinds=500+reset+stall,phase=mixed"
  --public-url URL       PUBLIC_URL      base of the URLs in answers (default: from the Host header)
  --no-static                            do not serve the example site
  --log                  LOG=1           request log (pino, JSON lines)
`;

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
      retentionDays: retention === undefined || retention === '' ? undefined : Number(retention),
      faults: parseFaults(get('faults')) || undefined,
      publicUrl: get('public-url') || undefined,
      static: values['no-static'] ? false : undefined,
      logger: logFlag === true || logFlag === '1' || logFlag === 'true',
    },
  };
}
