// The reference server as its own process (node examples/server/start.js), for tests where a crash,
// an out-of-memory or a held descriptor must be seen as what it is: the process exits, its RSS grows,
// its /proc/<pid>/fd fills. The data directory is fresh unless one is given.
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TOKENS, ALICE, tempDir } from './helpers.mjs';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * Starts the server process. `args` are extra command-line flags; `env` extra environment;
 * `heapMb` caps V8's old space (--max-old-space-size), so a memory bomb ends as an OOM exit rather than
 * swapping the machine. Returns { url, pid, child, output(), exited (Promise of {code, signal}),
 * alive(), rssBytes(), fdCount(), api(path, init, token), stop() }.
 */
export async function startServerProcess({ args = [], env = {}, heapMb = 1024, dataDir } = {}) {
  const dir = dataDir || (await tempDir('ck-hostile-'));
  const child = spawn(process.execPath, [`--max-old-space-size=${heapMb}`, join(ROOT, 'examples/server/start.js'),
    '--port', '0', '--data-dir', dir, '--tokens', TOKENS, '--no-static', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_PATH: process.env.NODE_PATH || '/usr/share/nodejs', ...env },
  });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  let exitInfo = null;
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => { exitInfo = { code, signal }; resolve(exitInfo); }));
  const url = await new Promise((resolve, reject) => {
    const onData = () => {
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)\//.exec(out);
      if (m) { child.stdout.off('data', onData); resolve(m[1]); }
    };
    child.stdout.on('data', onData);
    exited.then((e) => reject(new Error(`start.js exited (${e.code ?? e.signal}) before listening: ${out}`)));
  });
  const pid = child.pid;
  const api = (path, init = {}, token = ALICE) => fetch(url + path, {
    ...init,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(init.headers || {}) },
  });
  return {
    url, pid, child, dataDir: dir, exited, api,
    output: () => out,
    alive: () => exitInfo === null,
    /** Resident set size now, from /proc/<pid>/status (VmRSS). */
    rssBytes() {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      return m ? Number(m[1]) * 1024 : 0;
    },
    /** Open file descriptors now (sockets included). */
    fdCount: () => readdirSync(`/proc/${pid}/fd`).length,
    async stop() {
      if (exitInfo === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(t);
      }
      if (!dataDir) await rm(dir, { recursive: true, force: true });
      return exitInfo;
    },
  };
}

/** Resolves to the time in ms a cheap authenticated request takes; throws when it takes longer than `withinMs`. */
export async function answersWithin(srv, withinMs, path = '/api/captures') {
  const t0 = performance.now();
  const res = await srv.api(path, { signal: AbortSignal.timeout(withinMs) });
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`${path} answered ${res.status}`);
  return performance.now() - t0;
}
