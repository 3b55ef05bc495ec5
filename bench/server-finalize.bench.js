// Reference server: finalize of a REST recording by its length, and stop -> share URL, on loopback.
//   ours: the server of examples/server (chunks assembled in place as they arrive; finalize checks,
//         truncates, fsyncs and links). The recording is streamed during recording (every chunk
//         uploaded before stop); "stop -> URL" is the last chunk's upload plus finalize, as the client
//         does them at stop. Two orders: in order, and part 0 last (capturekit's seekable streaming).
//   peers, same bytes, same run: the assemble-at-finalize path the server had before (every part
//         copied and hashed into a new file, then the video facts read from it; Storage.assemble +
//         readVideoFacts, which that finalize called), and a plain copy of the file (fs.copyFile + fsync).
// The recording is a real Matroska file (ffmpeg, raw 160x120 video, ~29 KB per frame: about the frame
// size of an 8 Mbit/s 30 fps recording), cut into 5 MiB chunks like capturekit's ChunkBuffer.
//   node bench/server-finalize.bench.js          (or: node bench/run.js server-finalize)
import { execFileSync } from 'node:child_process';
import { copyFile, mkdtemp, mkdir, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer } from '../examples/server/server.js';
import { Storage } from '../examples/server/storage.js';
import { readVideoFacts } from '../examples/server/video-facts.js';
import { table, fmt } from './timing.js';

const MiB = 1024 * 1024;
const PART = 5 * MiB;
const TOKEN = 'bench-token-0123456789';
const SIZES = [
  { label: '20 MiB', bytes: 20 * MiB, runs: 5 },
  { label: '360 MiB', bytes: 360 * MiB, runs: 3 },
  { label: '1 GiB', bytes: 1024 * MiB, runs: 3 },
];
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

function makeRecording(path, bytes) {
  const frame = 160 * 120 * 3 / 2;
  const frames = Math.ceil(bytes / (frame + 40));
  execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=30', '-frames:v', String(frames),
    '-c:v', 'rawvideo', '-pix_fmt', 'yuv420p', '-f', 'matroska', '-y', path]);
}

async function fsyncFile(path) {
  const fh = await open(path, 'r+');
  try { await fh.sync(); } finally { await fh.close(); }
}

export default async function run({ report }) {
  const work = await mkdtemp(join(tmpdir(), 'ck-bench-finalize-'));
  const app = createServer({ dataDir: join(work, 'data'), tokens: `${TOKEN}:bench`, static: false, quotaBytes: 0, retentionDays: 0 });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const base = `http://127.0.0.1:${app.server.address().port}`;
  const api = (path, init = {}) => fetch(base + path, { ...init, headers: { authorization: `Bearer ${TOKEN}`, ...(init.headers || {}) } });
  const post = (path, body) => api(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const chunk = async (sessionId, i, bytes) => {
    const form = new FormData();
    form.append('sessionId', sessionId);
    form.append('chunkIndex', String(i));
    form.append('chunk', new Blob([bytes]), `chunk_${i}`);
    const res = await api('/videos/chunk', { method: 'POST', body: form });
    if (res.status !== 200) throw new Error(`chunk ${i}: ${res.status} ${await res.text()}`);
    await res.arrayBuffer();
  };

  const rows = [];
  const stopRows = [];
  try {
    for (const size of SIZES) {
      const file = join(work, 'recording.mkv');
      makeRecording(file, size.bytes);
      const bytes = await readFile(file);
      const parts = [];
      for (let o = 0; o < bytes.length; o += PART) parts.push(bytes.subarray(o, Math.min(bytes.length, o + PART)));
      const n = parts.length;

      // ours, two orders: finalize alone, and stop -> URL (last chunk + finalize)
      const ours = { inOrder: [], seekable: [] };
      const stopToUrl = { inOrder: [], seekable: [] };
      for (const order of ['inOrder', 'seekable']) {
        for (let r = 0; r < size.runs; r++) {
          const init = await (await post('/videos/init', { filename: 'bench.mkv' })).json();
          const seq = order === 'inOrder' ? [...parts.keys()] : [...parts.keys()].slice(1).concat(0);
          for (const i of seq.slice(0, -1)) await chunk(init.sessionId, i, parts[i]);
          const t0 = performance.now();
          await chunk(init.sessionId, seq[n - 1], parts[seq[n - 1]]);
          const t1 = performance.now();
          const res = await post('/videos/finalize', { sessionId: init.sessionId, totalChunks: n });
          const out = await res.json();
          const t2 = performance.now();
          if (res.status !== 200 || out.size !== bytes.length) throw new Error(`finalize: ${res.status} ${JSON.stringify(out)}`);
          ours[order].push(t2 - t1);
          stopToUrl[order].push(t2 - t0);
          // the digest and facts that follow (waited for here, outside the timing), then the capture goes
          const info = await (await api(`/api/captures/${out.id}`)).json();
          if (info.size !== bytes.length || !info.sha256) throw new Error(`capture: ${JSON.stringify(info).slice(0, 300)}`);
          await api(`/api/captures/${out.id}`, { method: 'DELETE' });
        }
      }

      // the old path on the same bytes: part files -> Storage.assemble (copy + hash + fsync) -> facts
      const storage = new Storage(join(work, 'old'));
      await storage.prepare();
      await mkdir(join(work, 'old', 'parts'), { recursive: true });
      const partFiles = [];
      for (let i = 0; i < n; i++) {
        const p = join(work, 'old', 'parts', String(i));
        await writeFile(p, parts[i]);
        partFiles.push({ path: p });
      }
      const old = [];
      const copy = [];
      for (let r = 0; r < size.runs; r++) {
        const t0 = performance.now();
        const assembled = await storage.assemble(partFiles);
        const facts = await readVideoFacts(assembled.path);
        old.push(performance.now() - t0);
        if (assembled.size !== bytes.length || !facts) throw new Error('old path: wrong size or no facts');
        await rm(assembled.path);
        const c0 = performance.now();
        const dest = join(work, 'copy.mkv');
        await copyFile(file, dest);
        await fsyncFile(dest);
        copy.push(performance.now() - c0);
        await rm(dest);
      }
      await rm(join(work, 'old'), { recursive: true, force: true });
      await rm(file);

      const o = median(ours.inOrder);
      const s = median(ours.seekable);
      const p = median(old);
      const c = median(copy);
      rows.push([size.label, String(n), fmt(o, 1), fmt(s, 1), fmt(p, 1), fmt(c, 1), fmt(o / p, 4), fmt(s / p, 4), fmt(o / c, 4)]);
      stopRows.push([size.label, fmt(median(stopToUrl.inOrder), 1), fmt(median(stopToUrl.seekable), 1), fmt(median(stopToUrl.inOrder) - o + p, 1)]);
    }
  } finally {
    await app.close();
    await rm(work, { recursive: true, force: true });
  }

  report('Reference server: finalize of a REST recording by length (ms, median; loopback, page cache warm)', `${table(
    ['recording', 'chunks (5 MiB)', 'ours, in order', 'ours, part 0 last', 'old path: assemble + facts', 'plain copy + fsync', 'ours / old', 'ours part 0 last / old', 'ours / copy'],
    rows,
  )}

"ours" is the POST /videos/finalize round trip. The old path is what finalize did before in-place assembly,
run on the same bytes as part files in the same run. Part 0 last: the SHA-256 and video facts of the file
are computed after the answer (the capture's info waits for them).`);
  report('Reference server: stop -> share URL (ms, median): the last chunk upload + finalize', `${table(
    ['recording', 'ours, in order', 'ours, part 0 last (5 MiB part 0 at stop)', 'with the old finalize (last chunk + old path)'],
    stopRows,
  )}`);
}

// Standalone: node bench/server-finalize.bench.js writes bench/results/<date>-server-finalize.md.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const sections = [];
  await run({ report: (title, body) => { sections.push(`## ${title}\n\n${body.trim()}\n`); console.log(`\n## ${title}\n\n${body.trim()}\n`); } });
  const os = await import('node:os');
  const date = new Date().toISOString().slice(0, 10);
  const header = `# capturekit benchmarks, ${date}\n\nMachine: ${os.cpus()[0]?.model || 'unknown CPU'}, ${os.cpus().length} cores, Node ${process.version}. ` +
    'Every table compares peers measured in the same run; ratios are ours / peer for time (lower is better).\n\n';
  const out = new URL(`./results/${date}-server-finalize.md`, import.meta.url);
  await writeFile(out, header + sections.join('\n'));
  console.log(`bench: wrote ${out.pathname}`);
}
