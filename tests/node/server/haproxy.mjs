// A round-robin HTTP proxy in front of several reference servers, for the cluster tests: Debian's haproxy
// (scripts/setup.sh installs it), its configuration written to a temp directory, on a free port of
// 127.0.0.1. In HTTP mode haproxy picks the next server for every request, kept-alive client connections
// included; a server that stops answering /healthz (checked every 300 ms) is skipped until it answers
// again, and a request whose connection to a server could not be made is sent to another one.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export async function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

const accepts = (port) => new Promise((resolve) => {
  const c = connect(port, '127.0.0.1');
  c.once('connect', () => { c.destroy(); resolve(true); });
  c.once('error', () => resolve(false));
});

/**
 * The configuration for `backends` ([{ name, port }]) behind 127.0.0.1:`port`. `site` ({ port, paths }):
 * requests whose path starts with one of `paths` go to that one server instead (a static site served
 * beside the API on the same origin, e.g. test pages).
 */
export function haproxyConfig(port, backends, { site } = {}) {
  return [
    'global',
    '  maxconn 1024',
    'defaults',
    '  mode http',
    '  timeout connect 2s',
    '  timeout client 120s',
    '  timeout server 120s',
    '  retries 3',
    '  option redispatch', // a failed connection is retried on another server
    'frontend capturekit',
    `  bind 127.0.0.1:${port}`,
    ...(site ? [`  acl site path_beg ${site.paths.join(' ')}`, '  use_backend site if site'] : []),
    '  default_backend servers',
    'backend servers',
    '  balance roundrobin',
    '  option httpchk GET /healthz',
    '  default-server inter 300ms fall 1 rise 1',
    ...backends.map((b) => `  server ${b.name} 127.0.0.1:${b.port} check`),
    ...(site ? ['backend site', `  server site 127.0.0.1:${site.port}`] : []),
    '',
  ].join('\n');
}

/** Starts haproxy on `port` (a free one when not given; `site` as above); returns { url, port, output(), stop() }. */
export async function startHaproxy(backends, { port, site } = {}) {
  const listen = port || (await freePort());
  const dir = await mkdtemp(join(tmpdir(), 'ck-haproxy-'));
  const cfg = join(dir, 'haproxy.cfg');
  await writeFile(cfg, haproxyConfig(listen, backends, { site }));
  const child = spawn('haproxy', ['-db', '-f', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  let exited = false;
  const done = new Promise((r) => child.once('exit', () => { exited = true; r(); }));
  for (let i = 0; i < 100 && !exited && !(await accepts(listen)); i++) await new Promise((r) => setTimeout(r, 100));
  if (exited || !(await accepts(listen))) throw new Error(`haproxy did not start: ${out}`);
  return {
    url: `http://127.0.0.1:${listen}`,
    port: listen,
    output: () => out,
    async stop() {
      if (!exited) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 3000);
        await done;
        clearTimeout(t);
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
