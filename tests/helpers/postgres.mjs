// A real PostgreSQL for the tests: Debian's `postgresql` binaries, a cluster made with initdb in a temp
// directory, listening on 127.0.0.1 on a free port, stopped and removed by destroy(). PostgreSQL refuses
// to run as root, so when the tests run as root the cluster belongs to an unprivileged system user
// (`postgres`, which Debian's package creates; `capturekit-pg` is created when it is missing) and its
// commands run through runuser.
//
//   const pg = await startPostgres();
//   const url = await pg.createDatabase('t1');   // postgres://ck@127.0.0.1:<port>/t1
//   await pg.stop(); await pg.start();          // a restart: same port, same data
//   await pg.destroy();
import { execFile as execFileCb } from 'node:child_process';
import { chown, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createRequire } from 'node:module';

const execFile = promisify(execFileCb);
const require = createRequire(import.meta.url);
const SUPERUSER = 'ck';

/** The bin directory of the newest installed PostgreSQL (Debian: /usr/lib/postgresql/<major>/bin). */
export async function postgresBinDir() {
  const base = '/usr/lib/postgresql';
  const majors = (await readdir(base).catch(() => [])).filter((d) => /^\d+$/.test(d)).sort((a, b) => Number(b) - Number(a));
  for (const m of majors) if (existsSync(join(base, m, 'bin', 'initdb'))) return join(base, m, 'bin');
  throw new Error('PostgreSQL is not installed (Debian package postgresql; scripts/setup.sh installs it)');
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

// The user the cluster runs as: ourselves, or (as root) an unprivileged system user.
async function clusterUser() {
  if (process.getuid() !== 0) return null;
  for (const name of ['postgres', 'capturekit-pg']) {
    try {
      const { stdout } = await execFile('id', ['-u', name]);
      const { stdout: gid } = await execFile('id', ['-g', name]);
      return { name, uid: Number(stdout.trim()), gid: Number(gid.trim()) };
    } catch { /* not there */ }
  }
  await execFile('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', 'capturekit-pg']);
  const { stdout } = await execFile('id', ['-u', 'capturekit-pg']);
  const { stdout: gid } = await execFile('id', ['-g', 'capturekit-pg']);
  return { name: 'capturekit-pg', uid: Number(stdout.trim()), gid: Number(gid.trim()) };
}

/**
 * initdb + start on a free port. Returns { port, url(db), createDatabase(name), query(sql, params, db),
 * start(), stop({ mode }), running(), log(), destroy() }.
 */
export async function startPostgres() {
  const bin = await postgresBinDir();
  const owner = await clusterUser();
  const dir = await mkdtemp(join(tmpdir(), 'ck-pg-'));
  const data = join(dir, 'data');
  const logFile = join(dir, 'postgres.log');
  if (owner) await chown(dir, owner.uid, owner.gid);
  const run = (cmd, args) => (owner
    ? execFile('runuser', ['-u', owner.name, '--', join(bin, cmd), ...args], { cwd: dir })
    : execFile(join(bin, cmd), args, { cwd: dir }));
  await run('initdb', ['-D', data, '-U', SUPERUSER, '--auth=trust', '-E', 'UTF8', '--no-sync', '--locale=C']);
  const port = await freePort();
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=200 -c shared_buffers=16MB`;
  let running = false;
  const pg = {
    port,
    dir,
    url: (db = 'postgres') => `postgres://${SUPERUSER}@127.0.0.1:${port}/${db}`,
    running: () => running,
    log: () => readFile(logFile, 'utf8').catch(() => ''),
    async start() {
      await run('pg_ctl', ['-D', data, '-l', logFile, '-o', opts, '-w', '-t', '60', 'start']);
      running = true;
    },
    /** mode: 'fast' (disconnects clients, clean shutdown) or 'immediate' (like a crash: recovery at the next start). */
    async stop({ mode = 'fast' } = {}) {
      if (!running) return;
      await run('pg_ctl', ['-D', data, '-m', mode, '-w', '-t', '60', 'stop']);
      running = false;
    },
    /** Runs one statement (a short-lived connection). */
    async query(sql, params = [], db = 'postgres') {
      const { Client } = require('pg');
      const c = new Client({ connectionString: pg.url(db) });
      await c.connect();
      try {
        return await c.query(sql, params);
      } finally {
        await c.end();
      }
    },
    /** Creates database `name` (letters, digits, _) and returns its URL. */
    async createDatabase(name) {
      if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`database name must match [a-z_][a-z0-9_]*, got ${name}`);
      await pg.query(`CREATE DATABASE ${name}`);
      return pg.url(name);
    },
    async destroy() {
      try {
        await pg.stop({ mode: 'immediate' });
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
  await pg.start();
  return pg;
}
