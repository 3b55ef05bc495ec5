// The reference server as a whole: example site, CORS, dev token, configuration and the CLI.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ALICE, startServer, tempDir } from './helpers.mjs';
import { createServer, REPO_ROOT } from '../../../examples/server/server.js';
import { resolveConfig, parseSize } from '../../../examples/server/config.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

test('REPO_ROOT is the repository', () => {
  expect(join(REPO_ROOT, '/')).toBe(ROOT);
});

test('serves the example site: /examples/, /js-glue/, /dist/ (application/wasm); nothing outside', async () => {
  const srv = await startServer({ static: true });
  try {
    const root = await fetch(`${srv.url}/`, { redirect: 'manual' });
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe('/examples/');
    const examples = await fetch(`${srv.url}/examples/`);
    expect(examples.status).toBe(200);
    expect(examples.headers.get('content-type')).toMatch(/^text\/html/);

    const js = await fetch(`${srv.url}/js-glue/index.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(await js.text()).toBe(await readFile(join(ROOT, 'js-glue/index.js'), 'utf8'));
    if (existsSync(join(ROOT, 'dist/capturekit-image.wasm'))) {
      const wasm = await fetch(`${srv.url}/dist/capturekit-image.wasm`);
      expect(wasm.status).toBe(200);
      expect(wasm.headers.get('content-type')).toBe('application/wasm');
      const bytes = new Uint8Array(await wasm.arrayBuffer());
      expect([...bytes.subarray(0, 4)]).toEqual([0, 0x61, 0x73, 0x6d]);
    }
    for (const p of ['/js-glue/..%2Fpackage.json', '/js-glue/%2e%2e/package.json', '/package.json', '/examples/server/../../package.json',
      '/dist/..%2F..%2Fetc%2Fpasswd', '/node_modules/jest/package.json', '/js-glue/.secret', '/tests/node/server/helpers.mjs']) {
      const res = await fetch(srv.url + p);
      expect([p, res.status]).toEqual([p, 404]);
    }
    const range = await fetch(`${srv.url}/js-glue/index.js`, { headers: { range: 'bytes=0-9' } });
    expect(range.status).toBe(206);
    expect((await range.text()).length).toBe(10);
  } finally {
    await srv.close();
  }
});

test('CORS: preflight answered without a token; answers carry Access-Control-Allow-Origin', async () => {
  const srv = await startServer();
  try {
    const pre = await fetch(`${srv.url}/videos/chunk`, {
      method: 'OPTIONS',
      headers: { origin: 'http://example.test', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-headers')).toMatch(/authorization/);
    const res = await srv.api('/api/captures', { headers: { origin: 'http://example.test' } });
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-expose-headers')).toMatch(/content-range/);
  } finally {
    await srv.close();
  }
});

test('dev token: random when no tokens are given, readable only same-origin on loopback', async () => {
  const dataDir = await tempDir();
  const app = createServer({ dataDir, static: false });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const url = `http://127.0.0.1:${app.server.address().port}`;
  try {
    const token = app.capturekit.devToken;
    expect(token).toMatch(/^dev-[A-Za-z0-9_-]{22}$/);
    const got = await fetch(`${url}/api/dev-token`);
    expect(got.headers.get('access-control-allow-origin')).toBeNull();
    expect(await got.json()).toEqual({ token, user: 'dev' });
    expect((await fetch(`${url}/api/dev-token`, { headers: { 'sec-fetch-site': 'cross-site' } })).status).toBe(404);
    expect((await fetch(`${url}/api/captures`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    const other = createServer({ dataDir, static: false });
    expect(other.capturekit.devToken).not.toBe(token);
    await other.close();
  } finally {
    await app.close();
  }
  const withTokens = await startServer();
  expect(withTokens.app.capturekit.devToken).toBeNull();
  expect((await fetch(`${withTokens.url}/api/dev-token`)).status).toBe(404);
  await withTokens.close();
});

test('configuration: flags win over environment variables; sizes take units', () => {
  const c = resolveConfig(
    ['--port', '9000', '--tokens', 'abcdefgh1:u1', '--max-chunk', '8MiB', '--retention-days', '3', '--faults', 'rate=0.1,seed=3'],
    { PORT: '1', HOST: '0.0.0.0', DATA_DIR: '/tmp/x', MAX_METADATA_BYTES: '32k', TOKENS: 'zzzzzzzz:z' },
  );
  expect(c.listen).toEqual({ port: 9000, host: '0.0.0.0' });
  expect(c.options).toMatchObject({
    dataDir: '/tmp/x', tokens: 'abcdefgh1:u1', maxChunkBytes: 8 * 1024 * 1024, maxMetadataBytes: 32 * 1024, retentionDays: 3,
    faults: { rate: 0.1, seed: 3 },
  });
  expect(resolveConfig([], {}).listen).toEqual({ port: 8787, host: '127.0.0.1' });
  expect(resolveConfig(['--no-static'], {}).options.static).toBe(false);
  expect(parseSize('5MB')).toBe(5 * 1024 * 1024);
  expect(parseSize('65536')).toBe(65536);
  expect(() => parseSize('lots')).toThrow(RangeError);
  expect(() => resolveConfig(['--port', 'x'], {})).toThrow(RangeError);
  expect(() => resolveConfig(['--bogus'], {})).toThrow();
  expect(() => createServer({ tokens: 'short:u' })).toThrow(/8\.\.512/);
  expect(() => createServer({ tokens: 'longenough:bad/user' })).toThrow(/user/);
  expect(() => createServer({ maxChunkBytes: -1 })).toThrow(RangeError);
});

test('npm start entry: start.js listens, prints the URL, serves, and stops on SIGTERM', async () => {
  const dataDir = await tempDir();
  const child = spawn(process.execPath, [join(ROOT, 'examples/server/start.js'), '--port', '0', '--data-dir', dataDir, '--tokens', `${ALICE}:alice`], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const url = await new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)\//.exec(out);
      if (m) resolve(m[1]);
    });
    child.on('exit', (code) => reject(new Error(`start.js exited with ${code}: ${out}`)));
  });
  try {
    expect(out).not.toMatch(/dev token/);
    const res = await fetch(`${url}/api/captures`, { headers: { authorization: `Bearer ${ALICE}` } });
    expect(res.status).toBe(200);
    expect((await fetch(`${url}/examples/`)).status).toBe(200);
  } finally {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }
});
