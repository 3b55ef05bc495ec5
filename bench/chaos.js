// Chaos run for the uploader (npm run chaos): Chromium, several tabs of one origin sharing one IndexedDB
// queue, the reference server answering a seeded share of protocol requests with faults of every kind
// (500, 503, resets, stalls past the client timeout, truncated / HTML / non-JSON / lying answers, lost
// acknowledgements), the network toggled offline, tabs reloaded mid-upload. At the end every capture on
// the server is compared with what was captured (SHA-256).
//
//   node bench/chaos.js [--captures 200] [--rate 0.3] [--reloads 10] [--offline 8] [--tabs 2] [--seed 1] [--port 0 (any free port)]
//   node bench/chaos.js --cluster [--captures 200] ...   (what `npm run chaos` runs after the single-server run)
//
// --cluster: three reference server processes behind haproxy (round robin), their state in one
// PostgreSQL, their bytes in one shared data directory; no injected faults, but one server is SIGKILLed
// in the middle of the run and started again on its port. The test pages come from a static server that
// haproxy routes /tests/, /js-glue/, /web/, /dist/ and /node_modules/ to (one origin). The client must
// never have had to delete a late copy (it sends Idempotency-Keys): removedCopies = 0.
//
// Writes bench/results/chaos-<timestamp>.md (and .json). tests/browser/upload-chaos.test.mjs runs a small
// version of the same thing with runChaos(), tests/node/server/cluster-chaos.test.mjs a small cluster run.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchBrowser, serveStatic } from '../tests/browser/browser.mjs';
import { startBrowserServer, verifyServer, TOKEN } from '../tests/node/upload/uploader.helpers.mjs';
import { startPostgres } from '../tests/helpers/postgres.mjs';
import { startServerProcess } from '../tests/node/server/server-process.mjs';
import { startHaproxy, freePort } from '../tests/node/server/haproxy.mjs';
import { mulberry32 } from '../examples/server/faults.js';

const SITE_PATHS = ['/tests/', '/js-glue/', '/web/', '/dist/', '/node_modules/'];

/**
 * Three (`servers`) reference server processes behind haproxy, sharing PostgreSQL and one data directory;
 * the same shape as startBrowserServer's answer, plus killOne() (SIGKILL one server, start it again on
 * its port after `downMs`; resolves once it answers again) and killed (what happened).
 */
export async function startClusterServer({ servers: n = 3, downMs = 1500 } = {}) {
  const pg = await startPostgres();
  const db = await pg.createDatabase('capturekit');
  const dataDir = await mkdtemp(join(tmpdir(), 'ck-chaos-cluster-'));
  const site = await serveStatic();
  const proxyPort = await freePort();
  const names = Array.from({ length: n }, (_, i) => String.fromCharCode(97 + i));
  const argsOf = (name) => ['--database', db, '--tokens', `${TOKEN}:alice`, '--public-url', `http://127.0.0.1:${proxyPort}`, '--server-id', name];
  const procs = await Promise.all(names.map((name) => startServerProcess({ dataDir, args: argsOf(name) })));
  const ports = procs.map((p) => Number(new URL(p.url).port));
  const proxy = await startHaproxy(names.map((name, i) => ({ name, port: ports[i] })),
    { port: proxyPort, site: { port: Number(new URL(site.url).port), paths: SITE_PATHS } });
  const url = proxy.url;
  const killed = [];
  return {
    url, dataDir, faults: { log: [], count: 0 }, killed, servers: procs,
    api: async (path) => {
      const res = await fetch(url + path, { headers: { authorization: `Bearer ${TOKEN}` } });
      if (!res.ok) throw new Error(`${path}: ${res.status}`);
      return res.json();
    },
    page: (query = {}, file = 'upload-app.html') => `${url}/tests/browser/pages/${file}?${new URLSearchParams({ token: TOKEN, ...query })}`,
    async killOne(i = 1) {
      const victim = procs[i];
      victim.child.kill('SIGKILL');
      const exit = await victim.exited;
      await new Promise((r) => setTimeout(r, downMs));
      procs[i] = await startServerProcess({ dataDir, args: [...argsOf(names[i]), '--port', String(ports[i])] });
      killed.push({ server: names[i], signal: exit.signal, downMs });
      return killed.at(-1);
    },
    async close() {
      await proxy.stop();
      await Promise.all(procs.map((p) => p.stop()));
      for (const p of procs) if (/uncaught exception|unhandled rejection/.test(p.output())) killed.push({ uncaught: p.output().slice(-2000) });
      await site.close();
      await pg.destroy();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

const spread = (n, total) => new Set(Array.from({ length: n }, (_, k) => Math.floor(((k + 0.5) * total) / n)));

/**
 * Runs the chaos scenario; returns the report object.
 * @param {object} [o]
 */
export async function runChaos(o = {}) {
  const {
    captures = 200, rate = 0.3, reloads = 10, offline = 8, tabs = 2, seed = 1, port = 0, videoShare = 0.25,
    log = () => {}, drainTimeoutMs = 15 * 60 * 1000, stallMs = 2000, clientTimeoutMs = 1000,
  } = o;
  const t0 = Date.now();
  const random = mulberry32(seed);
  const srv = o.cluster
    ? await startClusterServer(o.cluster === true ? {} : o.cluster)
    : await startBrowserServer({ port, faults: { rate, seed, stallMs }, logRequests: !!o.debug });
  let killing = null; // cluster: one server SIGKILLed (and started again) when half the captures are queued
  const browser = await launchBrowser();
  const report = {
    captures, rate: o.cluster ? 0 : rate, reloads, offline, tabs, seed, startedAt: new Date(t0).toISOString(), cluster: !!o.cluster,
  };
  try {
    const context = await browser.newContext();
    const query = { name: 'chaos', part: String(64 * 1024), timeout: String(clientTimeoutMs), retries: '60', base: '20', max: '500', settle: '1000' };
    const pageErrors = [];
    const open = async () => {
      const p = await context.newPage();
      p.on('pageerror', (e) => pageErrors.push(String(e)));
      await p.goto(srv.page(query));
      await p.evaluate(() => window.appReady);
      return p;
    };
    const pages = [];
    for (let i = 0; i < tabs; i++) pages.push(await open());
    const reloadAt = spread(reloads, captures);
    const offlineAt = spread(offline, captures);
    const expected = [];
    let reloadsDone = 0;
    let offlineDone = 0;
    const timers = new Set();
    let offlineUntil = 0;
    const marks = [];
    for (let i = 0; i < captures; i++) {
      if (reloadAt.has(i)) {
        // A page cannot load offline (no app shell cache here): the connection comes back first.
        if (offlineUntil > Date.now()) { offlineUntil = 0; await context.setOffline(false); }
        const p = pages[Math.floor(random() * pages.length)];
        await p.reload();
        await p.evaluate(() => window.appReady);
        reloadsDone++;
        marks.push({ t: new Date().toISOString(), what: `reload tab ${pages.indexOf(p)}` });
        log(`reload ${reloadsDone} at capture ${i}`);
      }
      if (offlineAt.has(i)) {
        const ms = 300 + Math.floor(random() * 1200);
        await context.setOffline(true);
        offlineUntil = Date.now() + ms;
        offlineDone++;
        const t = setTimeout(() => {
          timers.delete(t);
          if (offlineUntil && Date.now() >= offlineUntil) context.setOffline(false).catch(() => {});
        }, ms);
        timers.add(t);
      }
      if (o.cluster && i === Math.floor(captures / 2)) {
        killing = srv.killOne();
        log(`SIGKILL of one server at capture ${i}`);
      }
      const tab = i % pages.length;
      const s = seed * 100000 + i;
      let r;
      if (random() < videoShare) {
        const size = 90000 + Math.floor(random() * 330000);
        r = await pages[tab].evaluate(([sd, n]) => app.fakeVideo(sd, n), [s, size]);
      } else {
        r = await pages[tab].evaluate((sd) => app.shot(sd, 96, 64), s);
      }
      expected.push({ ...r, tab, i });
      if (i % 20 === 19) log(`${i + 1} captures queued (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    }
    for (const t of timers) clearTimeout(t);
    await context.setOffline(false);
    const queuedAt = Date.now();

    // Drain: wait until no tab sees anything pending; failed items (retry budget spent) get the retry button.
    let retryRounds = 0;
    const idleAll = () => Promise.all(pages.map((p) => p.evaluate((ms) => Promise.race([
      app.uploader.whenIdle(), new Promise((_, rej) => setTimeout(() => rej(new Error('drain timeout')), ms))]), drainTimeoutMs)));
    let progress = await idleAll();
    while (progress.some((p) => p.failed > 0) && retryRounds < 3) {
      retryRounds++;
      log(`retrying ${progress[0].failed} failed items`);
      await pages[0].evaluate(() => app.uploader.retryFailed());
      progress = await idleAll();
    }
    if (killing) await killing;
    const drainedAt = Date.now();
    const failedDetails = [];
    for (const p of pages) {
      const list = await p.evaluate(() => app.uploader.items().filter((i) => i.state === 'failed')
        .map((i) => ({ id: i.id, kind: i.kind, lastError: i.lastError, message: i.lastErrorMessage, parts: i.partCount, confirmed: i.confirmedParts })));
      failedDetails.push(...list);
    }

    const v = await verifyServer(srv, expected);
    const failedItems = new Set(await pages[0].evaluate(() => JSON.parse(localStorage.getItem('ck-failed-items') || '[]')));
    const removedCopies = await pages[0].evaluate(() => Number(localStorage.getItem('ck-removed-copies') || 0));
    // Order: the server's creation order against capture order. An item that had a failed attempt may be
    // passed by the ones behind it (QueueCore's backoff does not block the queue), and so may a
    // recording still being fed; anything else passed is a violation.
    const created = new Map();
    for (const c of v.captures) if (!created.has(c.metadata?.clientUploadId)) created.set(c.metadata?.clientUploadId, c.createdAt);
    let inversions = 0;
    let violations = 0;
    const violationPairs = [];
    for (let a = 0; a < expected.length; a++) {
      const ta = created.get(expected[a].id);
      if (!ta) continue;
      for (let b = a + 1; b < expected.length; b++) {
        const tb = created.get(expected[b].id);
        if (!tb || !(tb < ta)) continue;
        inversions++;
        if (!failedItems.has(expected[a].id) && expected[a].type === 'screenshot') {
          violations++;
          if (violationPairs.length < 5) violationPairs.push([expected[a].i, expected[b].i]);
        }
      }
    }
    const duplicateDetails = [];
    for (const [id, list] of v.byClient) {
      if (list.length > 1) {
        const e = expected.find((x) => x.id === id);
        const times = list.map((c) => Date.parse(c.createdAt));
        const near = o.debug ? srv.requestLog.filter((q) => q.path === '/screenshots/upload' && times.some((t) => q.start <= t + 50 && (q.end || q.closed || Infinity) >= t - 50))
          .map((q) => ({ start: new Date(q.start).toISOString(), ms: (q.end || q.closed) - q.start, status: q.status, closedEarly: q.closed && (!q.end || q.closed < q.end) })) : undefined;
        duplicateDetails.push({ id, type: e?.type, capture: e?.i, failedBefore: failedItems.has(id), copies: list.map((c) => c.createdAt), requests: near });
      }
    }
    const faultsByKind = {};
    for (const f of srv.faults.log) faultsByKind[f.kind] = (faultsByKind[f.kind] || 0) + 1;
    Object.assign(report, {
      videos: expected.filter((e) => e.type === 'video').length,
      screenshots: expected.filter((e) => e.type === 'screenshot').length,
      bytes: expected.reduce((n, e) => n + e.size, 0),
      arrived: v.arrived,
      identical: v.identical,
      duplicates: v.duplicates,
      removedCopies,
      extra: v.extra,
      missing: v.missing.length,
      orderViolations: violations,
      violationPairs,
      inversionsAllowed: inversions - violations,
      itemsWithFailedAttempts: failedItems.size,
      retryRounds,
      failedAtEnd: progress[0].failed,
      failedDetails,
      duplicateDetails,
      ...(o.debug ? { marks } : {}),
      reloadsDone,
      offlineDone,
      faultsInjected: srv.faults.log.length,
      requestsDecided: srv.faults.count,
      faultsByKind,
      pageErrors: pageErrors.slice(0, 10),
      ...(o.cluster ? { killed: srv.killed } : {}),
      queueSeconds: (queuedAt - t0) / 1000,
      drainSeconds: (drainedAt - queuedAt) / 1000,
      totalSeconds: (Date.now() - t0) / 1000,
    });
    await context.close();
  } finally {
    await browser.close();
    await srv.close();
  }
  return report;
}

export function reportMarkdown(r) {
  const rows = [
    ...(r.cluster ? [['servers', `3 behind haproxy (round robin), state in PostgreSQL, bytes in one shared data directory; ${(r.killed || []).filter((k) => k.signal).map((k) => `server ${k.server} ${k.signal} mid-run, started again after ${k.downMs} ms`).join('; ')}`]] : []),
    ['captures (screenshots + recordings)', `${r.captures} (${r.screenshots} + ${r.videos}), ${(r.bytes / 1048576).toFixed(1)} MiB`],
    ['tabs / reloads / offline toggles', `${r.tabs} / ${r.reloadsDone} / ${r.offlineDone}`],
    ...(r.cluster ? [] : [['request faults injected', `${r.faultsInjected} of ${r.requestsDecided} protocol requests (rate ${r.rate}, seed ${r.seed}): ` +
      Object.entries(r.faultsByKind).sort().map(([k, n]) => `${k} ${n}`).join(', ')]]),
    ['arrived', `${r.arrived} / ${r.captures}`],
    ['byte-identical (SHA-256)', `${r.identical} / ${r.captures}`],
    ['duplicates on the server', `${r.duplicates} (late second copies found and deleted by the client: ${r.removedCopies})`],
    ['unexpected captures', String(r.extra)],
    ['order violations', `${r.orderViolations} (${r.inversionsAllowed} allowed passes: an item in backoff lets the next go)`],
    ['items with a failed attempt / retry rounds needed', `${r.itemsWithFailedAttempts} / ${r.retryRounds}`],
    ['time', `${r.totalSeconds.toFixed(1)} s (queueing ${r.queueSeconds.toFixed(1)} s, draining after the last capture ${r.drainSeconds.toFixed(1)} s)`],
    ['page errors', r.pageErrors.length ? r.pageErrors.join('; ') : 'none'],
  ];
  return `# Upload chaos run${r.cluster ? ' against three servers' : ''}, ${r.startedAt}\n\n` +
    'Chromium (headless), one origin, tabs sharing the IndexedDB queue (Web Locks leader, BroadcastChannel followers), ' +
    (r.cluster
      ? 'three reference server processes behind haproxy, one SIGKILLed mid-run and started again (no injected faults), 64 KiB parts.\n\n| | |\n|---|---|\n'
      : 'the reference server with seeded fault injection (every kind, phases before/after), 64 KiB parts, ' +
        'client timeout shorter than the server stalls.\n\n| | |\n|---|---|\n') +
    rows.map(([k, v]) => `| ${k} | ${String(v).replace(/\|/g, '\\|')} |`).join('\n') + '\n';
}

async function main() {
  const args = process.argv.slice(2);
  const arg = (name, d) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? Number(args[i + 1]) : d;
  };
  const o = {
    cluster: args.includes('--cluster'),
    captures: arg('captures', 200), rate: arg('rate', 0.3), reloads: arg('reloads', 10), offline: arg('offline', 8),
    tabs: arg('tabs', 2), seed: arg('seed', 1), port: arg('port', 0), log: (m) => console.log(`chaos: ${m}`),
    debug: args.includes('--debug'),
  };
  console.log(o.cluster
    ? `chaos: three servers behind haproxy, one SIGKILLed mid-run; ${o.captures} captures, ${o.reloads} reloads, ${o.offline} offline toggles, ${o.tabs} tabs`
    : `chaos: ${o.captures} captures, ${o.rate * 100}% request faults, ${o.reloads} reloads, ${o.offline} offline toggles, ${o.tabs} tabs`);
  const r = await runChaos(o);
  const md = reportMarkdown(r);
  console.log(`\n${md}`);
  const dir = new URL('./results/', import.meta.url);
  await mkdir(dir, { recursive: true });
  const stamp = r.startedAt.replace(/[:.]/g, '-').slice(0, 19);
  await writeFile(new URL(`chaos-${stamp}.md`, dir), md);
  await writeFile(new URL(`chaos-${stamp}.json`, dir), `${JSON.stringify(r, null, 2)}\n`);
  console.log(`chaos: wrote bench/results/chaos-${stamp}.md`);
  const ok = r.identical === r.captures && r.duplicates === 0 && r.orderViolations === 0 && (!r.cluster || r.removedCopies === 0);
  process.exitCode = ok ? 0 : 1;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((e) => { console.error(e); process.exitCode = 1; });
}
