// makeSeekable (wasm, streaming from disk) vs ts-ebml (Decoder + Reader + tools.makeMetadataSeekable, as
// its README / `ts-ebml -s` do) vs fix-webm-duration, on the same MediaRecorder-style file; plus the native
// -O3 peer (bench/native/video_repair_bench.cpp) and the Large4GB test (> 4 GiB, CK_LARGE_TESTS=1;
// CK_BENCH_SKIP_LARGE=1 leaves it out).
//
// Each tool runs in its own Node process (`node bench/repair.bench.js child <tool> ...`) so its peak RSS
// (process.resourceUsage().maxRSS) is its own. The input is made once per run: ffmpeg records 4 s of
// 1280x720 VP8 (4 Mbit/s, noise on testsrc2) + Opus, which video_repair_bench repeats with shifted
// timecodes into a file with unknown-size Segment and Clusters, no Cues and no Duration, as Chrome's
// MediaRecorder writes.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync, readFileSync, createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { table, fmt } from './timing.js';

const SELF = fileURLToPath(import.meta.url);
const ROOT = fileURLToPath(new URL('../', import.meta.url));
const NATIVE = join(ROOT, 'build/bench-native/video_repair_bench');
const GiB = 1024 ** 3;
const MiB = 1024 ** 2;
const CHILD_TIMEOUT_MS = 600_000;

// ---- child: one tool, one file; prints a JSON line ----

async function child([tool, input, output, extra]) {
  const t0 = performance.now();
  let note = '';
  if (tool === 'idle') {
    const { initVideo } = await import('../js-glue/index.js');
    await initVideo();
  } else if (tool === 'ours') {
    const { makeSeekable } = await import('../js-glue/index.js');
    const info = await makeSeekable(input, { output });
    note = `${info.cues} cues`;
  } else if (tool === 'tsebml') {
    const require = createRequire(import.meta.url);
    const { Decoder, Reader, tools } = require('ts-ebml');
    // ts-ebml 3.0.2's encoder returns Buffer.concat(...).buffer: in Node a small Buffer is a slice of
    // the shared 8 KiB pool, so makeMetadataSeekable hands back the whole pool (garbage headers; the
    // README recipe writes a broken file). Workaround: give concat an exactly sized ArrayBuffer.
    require('ts-ebml/lib/tools.js').concat = (list) => {
      const b = Buffer.concat(list);
      const out = Buffer.from(new ArrayBuffer(b.length));
      b.copy(out);
      return out;
    };
    const decoder = new Decoder();
    const reader = new Reader();
    reader.logging = false;
    reader.drop_default_duration = false;
    const buf = readFileSync(input);
    const elms = decoder.decode(buf);
    for (const elm of elms) reader.read(elm);
    reader.stop();
    const refinedMetadataBuf = tools.makeMetadataSeekable(reader.metadatas, reader.duration, reader.cues);
    const body = buf.subarray(reader.metadataSize);
    writeFileSync(output, Buffer.concat([Buffer.from(refinedMetadataBuf), body]));
    note = `${reader.cues.length} cues`;
  } else if (tool === 'fixwebm') {
    // fix-webm-duration reads the Blob with FileReader, which Node lacks: the smallest shim over
    // Blob.arrayBuffer() lets its own code run unchanged.
    globalThis.FileReader = class {
      readAsArrayBuffer(blob) {
        blob.arrayBuffer().then((b) => { this.result = b; this.onloadend(); });
      }
    };
    const fixWebmDuration = createRequire(import.meta.url)('fix-webm-duration');
    const { openAsBlob } = await import('node:fs');
    const blob = await openAsBlob(input, { type: 'video/webm' });
    const fixed = await fixWebmDuration(blob, Number(extra), { logger: false });
    if (fixed === blob) note = 'left the file unchanged';
    const out = createWriteStream(output);
    for await (const c of fixed.stream()) if (!out.write(c)) await new Promise((r) => out.once('drain', r));
    await new Promise((r, j) => out.end((e) => (e ? j(e) : r())));
  } else {
    throw new Error(`unknown tool ${tool}`);
  }
  const seconds = (performance.now() - t0) / 1000;
  console.log(JSON.stringify({ seconds, maxRssKiB: process.resourceUsage().maxRSS, note }));
}

if (process.argv[1] === SELF && process.argv[2] === 'child') {
  await child(process.argv.slice(3));
  process.exit(0);
}

// ---- parent ----

// Every tool starts on a quiet disk: the previous output is deleted and the kernel's dirty pages are
// flushed first (on this VM, a write that lands while the last run's gigabyte is still being written
// back stalls for a second or more, whoever made it).
function settle(args) {
  const out = args[2];
  if (out) rmSync(out, { force: true });
  spawnSync('sync');
}

function runChild(args, { heapMiB } = {}) {
  settle(args);
  const node = [...(heapMiB ? [`--max-old-space-size=${heapMiB}`] : []), SELF, 'child', ...args];
  const r = spawnSync(process.execPath, node, { encoding: 'utf8', timeout: CHILD_TIMEOUT_MS, maxBuffer: 1 << 20 });
  const last = (r.stdout || '').trim().split('\n').pop();
  if (r.status === 0 && last && last.startsWith('{')) return JSON.parse(last);
  const why = r.error ? (r.error.code === 'ETIMEDOUT' ? `timed out after ${CHILD_TIMEOUT_MS / 1000} s` : r.error.message)
    : r.signal ? `killed by ${r.signal}` : ((r.stderr || '').match(/(FATAL ERROR[^\n]*|RangeError[^\n]*|Error[^\n]*)/) || [`exit ${r.status}`])[0];
  return { failed: why.slice(0, 140) };
}

function probe(file, fraction = 0.5) {
  const pr = spawnSync('ffprobe', ['-v', 'quiet', '-show_entries', 'format=duration', '-of', 'csv=p=0', file], { encoding: 'utf8' });
  const d = pr.status === 0 ? Number(pr.stdout.trim()) : NaN;
  // Time for ffmpeg to seek to the middle and decode one frame: fast with Cues, a linear scan without.
  const mid = Number.isFinite(d) ? d * fraction : 60;
  const t0 = performance.now();
  const r = spawnSync('ffmpeg', ['-v', 'quiet', '-ss', String(mid), '-i', file, '-map', '0:v:0', '-frames:v', '1', '-f', 'null', '-'], { encoding: 'utf8', timeout: 300_000 });
  const seekMs = performance.now() - t0;
  return { duration: Number.isFinite(d) ? d : null, seekMs: r.status === 0 ? seekMs : null };
}

const mb = (bytes) => bytes / 1e6;
const mib = (kib) => kib / 1024;

export default async function run({ report }) {
  if (!existsSync(NATIVE)) throw new Error(`${NATIVE} missing: run scripts/build.sh bench`);
  const dir = mkdtempSync(join(tmpdir(), 'ck-bench-repair-'));
  try {
    const src = join(dir, 'src.webm');
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=30', '-f', 'lavfi', '-i', 'sine=sample_rate=48000',
      '-t', '4', '-vf', 'noise=alls=20:allf=t', '-c:v', 'libvpx', '-b:v', '4M', '-minrate', '4M', '-maxrate', '4M', '-g', '30',
      '-deadline', 'realtime', '-cpu-used', '8', '-c:a', 'libopus', '-b:a', '64k', '-f', 'webm', '-live', '1',
      '-cluster_time_limit', '1000', '-cluster_size_limit', '20M', src]);
    const make = (bytes) => {
      const file = join(dir, `mr-${Math.round(bytes / MiB)}MiB.webm`);
      const r = JSON.parse(execFileSync(NATIVE, ['make', src, file, String(bytes), '4000'], { encoding: 'utf8' }));
      return { file, size: statSync(file).size, durationMs: r.durationMs };
    };
    const out = join(dir, 'out.webm');
    const idle = runChild(['idle']);

    // Best of RUNS for the 1 GiB table: the fastest time, the largest peak RSS.
    const RUNS = 5; // this VM stalls writes now and then (for seconds): the best of 5 sees through most of it
    const best = (once) => {
      let b = null;
      for (let i = 0; i < RUNS; i++) {
        const r = once();
        if (r.failed) return r;
        b = b ? { ...(r.seconds < b.seconds ? r : b), maxRssKiB: Math.max(b.maxRssKiB, r.maxRssKiB) } : r;
      }
      return b;
    };
    const nativeOnce = (file) => {
      const n = JSON.parse(execFileSync(NATIVE, ['repair', file, out], { encoding: 'utf8' }));
      return { seconds: n.seconds, maxRssKiB: n.peakRssKiB, note: `${n.cues} cues`, clusters: n.clusters };
    };
    const probed = (r) => {
      const p = r.failed ? null : probe(out);
      rmSync(out, { force: true });
      return p;
    };

    // ts-ebml holds the whole file and every element in memory: smaller files first (one run each).
    const ladder = [];
    let tsGaveUp = null;
    for (const bytes of [64 * MiB, 256 * MiB]) {
      const f = make(bytes);
      const ts = runChild(['tsebml', f.file, out], { heapMiB: 8192 });
      const p = probed(ts);
      const ours = runChild(['ours', f.file, out]);
      rmSync(out, { force: true });
      rmSync(f.file, { force: true });
      ladder.push({ bytes: f.size, ts, ours, p });
      if (ts.failed) { tsGaveUp = ts.failed; break; }
      if (ts.seconds * (GiB / bytes) > 600) { tsGaveUp = `would take over 600 s at 1 GiB`; break; }
    }

    // ---- 1 GiB: every tool ----
    const big = make(GiB);
    const ours = best(() => runChild(['ours', big.file, out]));
    const oursP = probed(ours);
    const nat = best(() => nativeOnce(big.file));
    const natP = probed(nat);
    const fix = best(() => runChild(['fixwebm', big.file, out, String(big.durationMs)], { heapMiB: 8192 }));
    const fixP = probed(fix);
    const ts = tsGaveUp ? { failed: `not tried: ${tsGaveUp}` } : best(() => runChild(['tsebml', big.file, out], { heapMiB: 8192 }));
    const tsP = probed(ts);
    ladder.push({ bytes: big.size, ts, ours, p: tsP });
    const lastOk = [...ladder].reverse().find((l) => !l.ts.failed);
    const tsRate = lastOk ? mb(lastOk.bytes) / lastOk.ts.seconds : null;
    const row = (name, r, p) => {
      if (r.failed) return [name, `${fmt(mb(big.size), 0)} MB`, '—', '—', '—', '—', `failed: ${r.failed}`];
      const rate = mb(big.size) / r.seconds;
      return [name, `${fmt(mb(big.size), 0)} MB`, fmt(r.seconds, 2), fmt(rate, 0), fmt(mib(r.maxRssKiB), 0),
        tsRate ? `${fmt(rate / tsRate, 1)}×` : '—',
        `${!p || p.duration === null ? 'no duration' : `${fmt(p.duration, 2)} s`}; seek ${!p || p.seekMs === null ? 'failed' : `${fmt(p.seekMs, 0)} ms`}${r.note ? `; ${r.note}` : ''}`];
    };
    const rows = [
      row('capturekit makeSeekable (wasm, Node)', ours, oursP),
      row('capturekit native -O3 peer', nat, natP),
      row('ts-ebml 3.0.2 (Decoder + makeMetadataSeekable)', ts, tsP),
      row('fix-webm-duration 1.0.6 (FileReader shim)', fix, fixP),
    ];
    const minutes = `${Math.floor(big.durationMs / 60000)}:${String(Math.round((big.durationMs % 60000) / 1000)).padStart(2, '0')}`;
    report(`makeSeekable: repair a 1 GiB MediaRecorder-style WebM (VP8 720p 4 Mbit/s + Opus, ${minutes} min, ${nat.clusters || '?'} unknown-size Clusters)`,
      `Best of ${RUNS} runs per tool (time; peak RSS is the largest of the runs). Input and output on local disk (page cache warm; before each run the previous output is deleted and sync(1) flushes the dirty pages, so no run pays for the last one's writeback). ` +
      `MB/s = input bytes / wall time of both passes and the write. ` +
      `Peak RSS of the tool's own Node process (Node + video module alone: ${idle.failed ? '?' : fmt(mib(idle.maxRssKiB), 0)} MiB). ` +
      `"× ts-ebml" compares throughput with ts-ebml's${lastOk && lastOk.bytes !== big.size ? ` on the largest file it handled (${fmt(mb(lastOk.bytes), 0)} MB)` : ''}. ` +
      `The output column is ffprobe's duration and ` +
      `the time ffmpeg takes to seek to the middle and decode a frame (fast only with Cues). fix-webm-duration only writes a ` +
      `Duration (no Cues, sizes stay unknown) and must be told the duration; it runs in Node through a FileReader shim. ` +
      `ts-ebml runs with a workaround for a bug that makes its README recipe write a broken file in Node (see the script).\n\n` +
      table(['tool', 'input', 'time (s)', 'MB/s', 'peak RSS (MiB)', '× ts-ebml', 'output'], rows));

    report('makeSeekable vs ts-ebml by input size',
      'Same files for both (one run each below 1 GiB; the 1 GiB row repeats the table above). ts-ebml reads the whole file and ' +
      'decodes every element in memory (Node heap limit raised to 8 GiB); 1 GiB is not tried if it fails on a smaller file.\n\n' +
      table(['input', 'capturekit MB/s', 'capturekit peak RSS (MiB)', 'ts-ebml MB/s', 'ts-ebml peak RSS (MiB)', 'speed ratio', 'ts-ebml output'],
        ladder.map((l) => [
          `${fmt(mb(l.bytes), 0)} MB`,
          l.ours.failed ? l.ours.failed : fmt(mb(l.bytes) / l.ours.seconds, 0),
          l.ours.failed ? '—' : fmt(mib(l.ours.maxRssKiB), 0),
          l.ts.failed ? `failed: ${l.ts.failed}` : fmt(mb(l.bytes) / l.ts.seconds, 1),
          l.ts.failed ? '—' : fmt(mib(l.ts.maxRssKiB), 0),
          l.ts.failed || l.ours.failed ? '—' : `${fmt(l.ts.seconds / l.ours.seconds, 1)}×`,
          l.p ? `${l.p.duration === null ? 'no duration' : `${fmt(l.p.duration, 2)} s`}; seek ${l.p.seekMs === null ? 'failed' : `${fmt(l.p.seekMs, 0)} ms`}` : '—',
        ])));
    rmSync(big.file, { force: true });

    if (process.env.CK_BENCH_SKIP_LARGE !== '1') {
      // ---- > 4 GiB through the shipped wasm (64-bit offsets in a 32-bit module) ----
      const huge = make(4.5e9);
      const r = runChild(['ours', huge.file, out]);
      rmSync(huge.file, { force: true });
      const p = r.failed ? null : probe(out, 0.95);
      rmSync(out, { force: true });
      report('makeSeekable (wasm, Node) on a file over 4 GiB',
        'The same recording repeated to 4.5 GB (disk to disk). The seek goes to 95% of the duration, past the 4 GiB mark.\n\n' +
        table(['input', 'time (s)', 'MB/s', 'peak RSS (MiB)', 'output'], [[
          `${fmt(mb(huge.size), 0)} MB`,
          r.failed ? `failed: ${r.failed}` : fmt(r.seconds, 1),
          r.failed ? '—' : fmt(mb(huge.size) / r.seconds, 0),
          r.failed ? '—' : fmt(mib(r.maxRssKiB), 0),
          p ? `${fmt(p.duration, 2)} s (expected ${fmt(huge.durationMs / 1000, 0)} s); seek ${p.seekMs === null ? 'failed' : `${fmt(p.seekMs, 0)} ms`}; ${r.note}` : '—',
        ]]));
    }

    // ---- > 4 GiB: the native gtest Large4GB (ASan debug build), too slow for the test suite ----
    const tests = join(ROOT, 'build/native/video_tests');
    if (existsSync(tests) && process.env.CK_BENCH_SKIP_LARGE !== '1') {
      const r = spawnSync(tests, ['--gtest_filter=WebmRepairLarge.Large4GB'], { encoding: 'utf8', env: { ...process.env, CK_LARGE_TESTS: '1' }, timeout: 900_000 });
      const lines = (r.stdout || '').split('\n').filter((l) => l.startsWith('[ Large4GB ]')).map((l) => l.replace('[ Large4GB ] ', ''));
      const ok = r.status === 0 && /\[ {7}OK \]/.test(r.stdout || '');
      report('makeSeekable over 4 GiB (gtest WebmRepairLarge.Large4GB, native ASan+UBSan debug build)',
        `${ok ? 'PASSED' : `FAILED (exit ${r.status})`}. A 4.5 GB MediaRecorder-style file (640x360 VP8 20 Mbit/s + Opus, repeated) is ` +
        'repaired through the streaming API from disk to disk, then checked by ffprobe, ffmpeg seeks past the middle and the cue ' +
        `positions.\n\n${lines.map((l) => `- ${l}`).join('\n') || '(no output)'}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
