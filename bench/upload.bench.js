// Upload area: SHA-256, ChunkBuffer and QueueCore on the wasm build vs their peers, same run, same data.
// Data: bytes from a fixed LCG (s = s * 1103515245 + 12345, byte = s >> 16), as bench/native/upload_queue_bench.cpp.
//   SHA-256 of 16 MiB: capturekit wasm vs node:crypto (OpenSSL) vs WebCrypto subtle.digest vs native g++ -O3.
//   A 12 MB MediaRecorder-like stream (1 byte, 40 x 300,000 bytes, 0 bytes) into 5 MiB parts with checksums:
//     capturekit ChunkBuffer vs the usual JS approach (chunk arrays concatenated per part) + WebCrypto digest.
//   1,000 screenshots through nextAction/succeeded, and restore+serialize of a 100-item state.
import { execFileSync } from 'node:child_process';
import { createHash, webcrypto } from 'node:crypto';
import { init, ChunkBuffer, QueueCore, sha256Hex } from '../js-glue/index.js';
import { measure, measureAsync, table, fmt } from './timing.js';

function noise(n) {
  const v = new Uint8Array(n);
  let s = 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    v[i] = (s >>> 16) & 255;
  }
  return v;
}

function nativePeer() {
  const exe = new URL('../build/bench-native/upload_queue_bench', import.meta.url);
  try {
    return JSON.parse(execFileSync(exe.pathname, { encoding: 'utf8' }));
  } catch {
    return null;
  }
}

const hex = (buf) => Buffer.from(buf).toString('hex');

// The usual JS buffering (chunk list, combined when >= 5 MiB) with WebCrypto checksums, as JS would do it.
async function seedStyleParts(chunks, minPart) {
  const parts = [];
  let list = [];
  let size = 0;
  const emit = async () => {
    const bytes = new Uint8Array(size);
    let off = 0;
    for (const c of list) { bytes.set(c, off); off += c.length; }
    parts.push({ index: parts.length, bytes, sha256: hex(await webcrypto.subtle.digest('SHA-256', bytes)) });
    list = [];
    size = 0;
  };
  for (const c of chunks) {
    list.push(c);
    size += c.length;
    if (size >= minPart) await emit();
  }
  if (size > 0) await emit();
  return parts;
}

export default async function run({ report }) {
  await init();
  const native = nativePeer();

  // SHA-256
  const data = noise(16 << 20);
  const ref = createHash('sha256').update(data).digest('hex');
  if (sha256Hex(data) !== ref || hex(await webcrypto.subtle.digest('SHA-256', data)) !== ref) throw new Error('SHA-256 mismatch');
  const tWasm = measure(() => sha256Hex(data), { runs: 7 });
  const tNode = measure(() => createHash('sha256').update(data).digest('hex'), { runs: 7 });
  const tSubtle = await measureAsync(() => webcrypto.subtle.digest('SHA-256', data), { runs: 7 });
  const mbps = (ms) => fmt(16 * 1.048576 / (ms / 1000), 0);
  report('Upload: SHA-256 of 16 MiB (ms, MB/s)', table(
    ['', 'capturekit wasm', 'node:crypto (OpenSSL)', 'WebCrypto subtle.digest', 'native g++ -O3 (same C++)', 'wasm/native', 'wasm/WebCrypto'],
    [['ms', fmt(tWasm, 1), fmt(tNode, 1), fmt(tSubtle, 1), native ? fmt(native.sha256, 1) : 'n/a',
      native ? `${fmt(tWasm / native.sha256)}×` : 'n/a', `${fmt(tWasm / tSubtle)}×`],
     ['MB/s', mbps(tWasm), mbps(tNode), mbps(tSubtle), native ? mbps(native.sha256) : 'n/a', '', '']]) +
    '\n\nThe part checksum is computed while buffering (streaming), so a driver never hashes a part separately.' +
    (native ? '' : '\n\nNative peer missing: run `scripts/build.sh bench`.'));

  // ChunkBuffer on a MediaRecorder-shaped stream
  const chunk = noise(300000);
  const chunks = [chunk.subarray(0, 1), ...Array.from({ length: 40 }, () => chunk), new Uint8Array(0)];
  const viaWasm = () => {
    const cb = new ChunkBuffer();
    const parts = [];
    for (const c of chunks) parts.push(...cb.append(c));
    parts.push(...cb.flush());
    cb.dispose();
    return parts;
  };
  const a = viaWasm();
  const b = await seedStyleParts(chunks, 5 * 1024 * 1024);
  if (a.length !== 3 || a.some((p) => p.sha256 !== createHash('sha256').update(p.bytes).digest('hex'))) throw new Error('ChunkBuffer check failed');
  const tCb = measure(viaWasm, { runs: 7 });
  const tSeed = await measureAsync(() => seedStyleParts(chunks, 5 * 1024 * 1024), { runs: 7 });
  report('Upload: 12 MB MediaRecorder stream into 5 MiB parts with SHA-256 (ms)', table(
    ['capturekit ChunkBuffer (wasm)', 'seed-style JS concat + WebCrypto', 'native g++ -O3 ChunkBuffer', 'wasm/JS', 'wasm/native'],
    [[fmt(tCb, 1), fmt(tSeed, 1), native ? fmt(native.chunkBuffer, 1) : 'n/a', `${fmt(tCb / tSeed)}×`,
      native ? `${fmt(tCb / native.chunkBuffer)}×` : 'n/a']]) +
    `\n\nParts: capturekit ${a.map((p) => p.bytes.length).join(' + ')} bytes (exact 5 MiB parts); seed-style ` +
    `${b.map((p) => p.bytes.length).join(' + ')} (whole chunks, so sizes vary). Per 1 s of 2.5 Mbit/s video (~300 KB) ` +
    `the wasm path costs ~${fmt(tCb / 40, 2)} ms of main-thread time.`);

  // QueueCore decisions and persistence
  const q1000 = () => {
    const q = new QueueCore();
    for (let i = 0; i < 1000; i++) q.enqueue({ id: `s${i}`, kind: 'screenshot', size: 1000 });
    for (let i = 0; i < 1000; i++) q.succeeded(q.nextAction(i), 'https://cdn.example/x.png');
    q.dispose();
  };
  const big = new QueueCore();
  const zero = '0'.repeat(64);
  for (let i = 0; i < 100; i++) {
    if (i % 2) big.enqueue({ id: `item-${i}`, kind: 'screenshot', size: 100000, metadata: '{"filename":"screenshot.png"}' });
    else {
      big.enqueue({ id: `item-${i}`, kind: 'video', metadata: '{"filename":"recording.webm","fps":30}' });
      for (let p = 0; p < 10; p++) big.addPart(`item-${i}`, p, 5 << 20, zero);
    }
  }
  const state = big.serialize();
  big.dispose();
  const tQ = measure(q1000, { runs: 7 });
  const tRs = measure(() => { const q = QueueCore.restore(state); q.serialize(); q.dispose(); }, { runs: 21 });
  const tJson = measure(() => JSON.stringify(JSON.parse(state)), { runs: 21 });
  report('Upload: QueueCore decisions and persistence (ms)', table(
    ['', 'capturekit wasm', 'native g++ -O3', 'wasm/native', 'JSON.parse+stringify of the same text'],
    [['1,000 screenshots: enqueue + nextAction + succeeded', fmt(tQ, 2), native ? fmt(native.queue1000, 2) : 'n/a',
      native ? `${fmt(tQ / native.queue1000)}×` : 'n/a', ''],
     [`restore + serialize, 100 items / 500 parts (${state.length} bytes)`, fmt(tRs, 2),
      native ? fmt(native.restoreSerialize100, 2) : 'n/a', native ? `${fmt(tRs / native.restoreSerialize100)}×` : 'n/a', fmt(tJson, 2)]]) +
    `\n\nPer decision: ~${fmt(tQ / 2, 1)} µs (enqueue, nextAction and succeeded, with the JS-side validation and object shaping).`);
}
