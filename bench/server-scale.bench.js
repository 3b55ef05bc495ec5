// Reference server scaled out, on loopback: 1, 2 and 3 server processes behind haproxy (round robin),
// the state in one PostgreSQL, the bytes either in one shared data directory ("disk") or in a bucket
// (s3rver, --s3-bytes: "S3").
//   1. Upload throughput and per-chunk latency (p50/p99) of REST recordings (5 MiB chunks, 4 uploads at
//      once) against the peer in the same run: a raw fetch of the same multipart bodies to a plain
//      node:http sink that reads and drops them (what loopback HTTP itself costs).
//   2. Finalize and stop -> share URL (the last chunk + finalize) by recording length, through the proxy
//      with three servers: flat is the goal.
//   3. Server RSS per process under 20 concurrent uploads (three servers), against the same processes idle.
// The recordings are real Matroska files (ffmpeg, raw 160x120 video), so the server's video facts read
// them as they would a recording.
//   node bench/server-scale.bench.js      (or: node bench/run.js server-scale)
//   CK_BENCH_SCALE_SIZES=20,360,1024 (MiB, on disk)   CK_BENCH_SCALE_S3_SIZES=20,360 (s3rver stores and
//   concatenates every part on its own disk, so its 1 GiB runs take minutes; add 1024 to measure it)
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import { mkdtemp, open, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startPostgres } from '../tests/helpers/postgres.mjs';
import { startS3rver } from '../tests/helpers/s3rver.mjs';
import { startServerProcess } from '../tests/node/server/server-process.mjs';
import { startHaproxy } from '../tests/node/server/haproxy.mjs';
import { table, fmt } from './timing.js';

const MiB = 1024 * 1024;
const PART = 5 * MiB;
const TOKEN = 'alice-token-0123456789'; // server-process.mjs starts the servers with the test tokens
const sizesFrom = (v, d) => (v ? v.split(',').map(Number).filter((n) => n > 0) : d);
const DISK_SIZES = sizesFrom(process.env.CK_BENCH_SCALE_SIZES, [20, 360, 1024]);
const S3_SIZES = sizesFrom(process.env.CK_BENCH_SCALE_S3_SIZES, [20, 360]);
const THROUGHPUT_UPLOADS = 8; // recordings per measurement, 4 at a time
const PARALLEL = 4;
const RSS_UPLOADS = 20;
const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(p * s.length))]; };

function makeRecording(path, bytes) {
  const frame = 160 * 120 * 3 / 2;
  const frames = Math.ceil(bytes / (frame + 40));
  execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=30', '-frames:v', String(frames),
    '-c:v', 'rawvideo', '-pix_fmt', 'yuv420p', '-f', 'matroska', '-y', path]);
}

/** A recording file read chunk by chunk (bounded memory). */
async function recording(work, mib) {
  const path = join(work, `rec-${mib}.mkv`);
  makeRecording(path, mib * MiB);
  const size = (await stat(path)).size;
  const n = Math.ceil(size / PART);
  return {
    path, size, n,
    async chunk(i) {
      const fh = await open(path, 'r');
      try {
        const len = Math.min(PART, size - i * PART);
        const buf = Buffer.alloc(len);
        await fh.read(buf, 0, len, i * PART);
        return buf;
      } finally { await fh.close(); }
    },
  };
}

function chunkForm(sessionId, i, bytes) {
  const form = new FormData();
  form.append('sessionId', sessionId);
  form.append('chunkIndex', String(i));
  form.append('chunk', new Blob([bytes]), `chunk_${i}`);
  return form;
}

/** A plain node:http sink: reads the body, answers a small JSON. */
async function startSink() {
  const server = http.createServer((req, res) => {
    req.on('data', () => {});
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"received":true}'));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }) };
}

function client(base) {
  const api = (path, init = {}) => fetch(base + path, { ...init, headers: { authorization: `Bearer ${TOKEN}`, ...(init.headers || {}) } });
  const post = (path, body) => api(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return {
    api, post,
    async init() {
      const res = await post('/videos/init', { filename: 'bench.mkv' });
      if (res.status !== 200) throw new Error(`init: ${res.status} ${await res.text()}`);
      return (await res.json()).sessionId;
    },
    retries: 0,
    /** A chunk, sent again (as a client would) when its answer was a 5xx or the connection broke; retries counted. */
    async chunk(sessionId, i, bytes) {
      let last;
      for (let attempt = 0; attempt < 6; attempt++) {
        if (attempt > 0) { this.retries++; await new Promise((r) => setTimeout(r, 250)); }
        try {
          const res = await api('/videos/chunk', { method: 'POST', body: chunkForm(sessionId, i, bytes) });
          if (res.status === 200) { await res.arrayBuffer(); return; }
          last = `${res.status} ${await res.text()}`;
          if (res.status < 500) break;
        } catch (e) {
          last = `${e.message} (${e.cause?.code || ''})`;
        }
      }
      throw new Error(`chunk ${i}: ${last}`);
    },
    async finalize(sessionId, n) {
      const res = await post('/videos/finalize', { sessionId, totalChunks: n });
      const out = await res.json();
      if (res.status !== 200) throw new Error(`finalize: ${res.status} ${JSON.stringify(out)}`);
      return out;
    },
  };
}

/** `uploads` recordings, `parallel` at a time, each chunk in order; returns { mibps, latencies }. */
async function uploadMany(rec, uploads, parallel, sendChunk, initSession = async () => null, finish = async () => {}) {
  const latencies = [];
  let next = 0;
  const t0 = performance.now();
  const worker = async () => {
    while (next < uploads) {
      next++;
      const sid = await initSession();
      for (let i = 0; i < rec.n; i++) {
        const bytes = await rec.chunk(i);
        const c0 = performance.now();
        await sendChunk(sid, i, bytes);
        latencies.push(performance.now() - c0);
      }
      await finish(sid);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  const s = (performance.now() - t0) / 1000;
  return { mibps: (uploads * rec.size) / MiB / s, latencies };
}

async function startBackend(kind, pg, s3) {
  const db = await pg.createDatabase(`ck_${kind}`);
  const dataDir = await mkdtemp(join(tmpdir(), `ck-bench-scale-${kind}-`));
  const args = ['--database', db, '--quota-bytes', '0', '--retention-days', '0', '--max-chunk', '16MiB'];
  if (kind === 's3') {
    args.push('--s3-bytes', '--s3-bucket', s3.bucket, '--s3-endpoint', s3.endpoint, '--s3-region', s3.region,
      '--s3-access-key-id', s3.accessKeyId, '--s3-secret-access-key', s3.secretAccessKey, '--s3-force-path-style');
  }
  // disk: one shared data directory; S3: each its own (nothing of the bytes stays there)
  const procs = [];
  for (const name of ['a', 'b', 'c']) {
    procs.push(await startServerProcess({ args: [...args, '--server-id', name], dataDir: kind === 'disk' ? dataDir : undefined }));
  }
  return {
    procs,
    async stop() { await Promise.all(procs.map((p) => p.stop())); await rm(dataDir, { recursive: true, force: true }); },
  };
}

export default async function run({ report }) {
  const work = await mkdtemp(join(tmpdir(), 'ck-bench-scale-'));
  const [pg, s3] = await Promise.all([startPostgres(), startS3rver({ bucket: 'ck-bench-scale' })]);
  const sink = await startSink();
  const throughputRows = [];
  const finalizeRows = [];
  const rssRows = [];
  try {
    const small = await recording(work, 20);
    // the peer: the same multipart bodies, raw, to the sink
    const raw = await uploadMany(small, THROUGHPUT_UPLOADS, PARALLEL, (sid, i, bytes) => fetch(`${sink.url}/videos/chunk`, { method: 'POST', body: chunkForm('x', i, bytes) }).then((r) => r.arrayBuffer()));
    const rawP50 = pct(raw.latencies, 0.5);
    throughputRows.push(['raw fetch -> node:http sink (peer)', '-', fmt(raw.mibps, 1), fmt(rawP50, 1), fmt(pct(raw.latencies, 0.99), 1), '1.00', '1.00', '-']);
    for (const kind of ['disk', 's3']) {
      const backend = await startBackend(kind, pg, s3);
      try {
        for (const n of [1, 2, 3]) {
          const proxy = await startHaproxy(backend.procs.slice(0, n).map((p, i) => ({ name: 'abc'[i], port: Number(new URL(p.url).port) })));
          try {
            const c = client(proxy.url);
            await uploadMany(small, 2, 2, (sid, i, b) => c.chunk(sid, i, b), () => c.init(), (sid) => c.finalize(sid, small.n)); // warm-up
            const r = await uploadMany(small, THROUGHPUT_UPLOADS, PARALLEL, (sid, i, b) => c.chunk(sid, i, b), () => c.init(), (sid) => c.finalize(sid, small.n));
            throughputRows.push([`ours, ${kind}`, String(n), fmt(r.mibps, 1), fmt(pct(r.latencies, 0.5), 1), fmt(pct(r.latencies, 0.99), 1),
              fmt(r.mibps / raw.mibps, 3), fmt(pct(r.latencies, 0.5) / rawP50, 2), String(c.retries)]);
            if (n === 3) {
              // RSS per process: idle, then the peak while 20 uploads run at once
              const idle = backend.procs.map((p) => p.rssBytes());
              const peak = [...idle];
              const timer = setInterval(() => backend.procs.forEach((p, k) => { peak[k] = Math.max(peak[k], p.rssBytes()); }), 100);
              await uploadMany(small, RSS_UPLOADS, RSS_UPLOADS, (sid, i, b) => c.chunk(sid, i, b), () => c.init(), (sid) => c.finalize(sid, small.n));
              clearInterval(timer);
              backend.procs.forEach((p, k) => rssRows.push([kind, 'abc'[k], fmt(idle[k] / MiB, 0), fmt(peak[k] / MiB, 0), fmt(peak[k] / idle[k], 2)]));
              // finalize and stop -> URL by length
              for (const mib of kind === 'disk' ? DISK_SIZES : S3_SIZES) {
                const rec = mib === 20 ? small : await recording(work, mib);
                const fin = [];
                const stop = [];
                for (let k = 0; k < (mib >= 360 ? 2 : 3); k++) {
                  const sid = await c.init();
                  for (let i = 0; i < rec.n - 1; i++) await c.chunk(sid, i, await rec.chunk(i));
                  const last = await rec.chunk(rec.n - 1);
                  const t0 = performance.now();
                  await c.chunk(sid, rec.n - 1, last);
                  const t1 = performance.now();
                  const out = await c.finalize(sid, rec.n);
                  const t2 = performance.now();
                  if (out.size !== rec.size) throw new Error(`finalize size ${out.size} != ${rec.size}`);
                  fin.push(t2 - t1);
                  stop.push(t2 - t0);
                  await (await c.api(`/api/captures/${out.id}`)).arrayBuffer(); // facts and digest settle, untimed
                  await c.api(`/api/captures/${out.id}`, { method: 'DELETE' });
                }
                finalizeRows.push([kind, `${mib} MiB`, String(rec.n), fmt(pct(fin, 0.5), 1), fmt(pct(stop, 0.5), 1)]);
                if (rec !== small) await rm(rec.path, { force: true });
              }
            }
          } finally {
            await proxy.stop();
          }
        }
      } finally {
        await backend.stop();
      }
    }
  } finally {
    await sink.close();
    await Promise.all([pg.destroy(), s3.close()]);
    await rm(work, { recursive: true, force: true });
  }
  // flatness: each length's finalize against the smallest one's, per backend
  const base = {};
  for (const r of finalizeRows) base[r[0]] ??= Number(r[3]);
  for (const r of finalizeRows) r.push(fmt(Number(r[3]) / base[r[0]], 2));

  report('Reference server scaled out: REST upload throughput and chunk latency (loopback, 5 MiB chunks, 4 uploads at once, 20 MiB recordings)', `${table(
    ['path', 'servers behind haproxy', 'MiB/s', 'chunk p50 ms', 'chunk p99 ms', 'throughput / raw', 'p50 / raw p50', 'chunks sent again'],
    throughputRows,
  )}

State in PostgreSQL for every server count; "disk": the bytes in one shared data directory; "s3": every
byte in s3rver (--s3-bytes; a chunk of >= 5 MiB is a multipart part). The peer posts the same multipart
bodies with fetch to a node:http server that only reads them, in the same run.`);
  report('Reference server scaled out: finalize and stop -> URL by recording length (ms, median; three servers behind haproxy)', `${table(
    ['bytes', 'recording', 'chunks', 'finalize', 'stop -> URL (last chunk + finalize)', 'finalize / finalize at the smallest size'],
    finalizeRows,
  )}

S3 sizes: ${S3_SIZES.join(', ')} MiB (s3rver writes every part to its disk and concatenates them at
CompleteMultipartUpload itself, so its 1 GiB runs take minutes here; CK_BENCH_SCALE_S3_SIZES=20,360,1024 runs it).`);
  report('Reference server scaled out: RSS per server process, idle and under 20 concurrent uploads (MiB; three servers)', `${table(
    ['bytes', 'server', 'idle', 'peak under 20 uploads', 'peak / idle'],
    rssRows,
  )}`);
}

// Standalone: node bench/server-scale.bench.js writes bench/results/<date>-server-scale.md.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const sections = [];
  await run({ report: (title, body) => { sections.push(`## ${title}\n\n${body.trim()}\n`); console.log(`\n## ${title}\n\n${body.trim()}\n`); } });
  const os = await import('node:os');
  const date = new Date().toISOString().slice(0, 10);
  const header = `# capturekit benchmarks, ${date}\n\nMachine: ${os.cpus()[0]?.model || 'unknown CPU'}, ${os.cpus().length} cores, Node ${process.version}. ` +
    'Every table compares peers measured in the same run; ratios are ours / peer unless stated.\n\n';
  const out = new URL(`./results/${date}-server-scale.md`, import.meta.url);
  await writeFile(out, header + sections.join('\n'));
  console.log(`bench: wrote ${out.pathname}`);
  process.exit(0);
}
