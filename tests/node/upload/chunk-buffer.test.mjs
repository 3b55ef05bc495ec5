// ChunkBuffer and sha256Hex on the wasm build: part sizes, checksums judged by node:crypto, bad input,
// and memory that stays bounded over 10,000 appends.
import { createHash } from 'node:crypto';
import v8 from 'node:v8';
import vm from 'node:vm';
import { init, ChunkBuffer, sha256Hex, DEFAULT_MIN_PART_SIZE } from '../../../js-glue/index.js';
import { getUploadModule } from '../../../js-glue/upload.js';

beforeAll(() => init());

const sha = (bytes) => createHash('sha256').update(bytes).digest('hex');

function noise(n, seed) {
  const out = new Uint8Array(n);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    out[i] = x & 255;
  }
  return out;
}

function concat(arrays) {
  const total = arrays.reduce((n, a) => n + a.length, 0);
  const out = new Uint8Array(total);
  let off = 0;
  for (const a of arrays) { out.set(a, off); off += a.length; }
  return out;
}

// Feeds the chunks, flushes, and checks what every stream must satisfy.
function stream(minPartSize, chunks) {
  const cb = new ChunkBuffer({ minPartSize });
  try {
    const parts = [];
    for (const c of chunks) parts.push(...cb.append(c));
    parts.push(...cb.flush());
    parts.forEach((p, i) => {
      expect(p.index).toBe(i);
      expect(p.last).toBe(i === parts.length - 1);
      if (i < parts.length - 1) expect(p.bytes.length).toBe(minPartSize);
      else expect(p.bytes.length).toBeGreaterThanOrEqual(1);
      expect(p.sha256).toBe(sha(p.bytes));
    });
    const joined = Buffer.from(concat(parts.map((p) => p.bytes)));
    const input = Buffer.from(concat(chunks.map((c) => (c instanceof ArrayBuffer ? new Uint8Array(c) : new Uint8Array(c.buffer, c.byteOffset, c.byteLength)))));
    expect(joined.length).toBe(input.length);
    expect(joined.equals(input)).toBe(true);
    return parts;
  } finally {
    cb.dispose();
  }
}

test('a MediaRecorder-shaped stream (1-byte first chunk, 0-byte last) becomes exact parts', () => {
  const chunks = [noise(1, 1)];
  for (let i = 0; i < 30; i++) chunks.push(noise(30000 + 97 * i, i + 2));
  chunks.push(new Uint8Array(0));
  const total = chunks.reduce((n, c) => n + c.length, 0);
  const parts = stream(65536, chunks);
  expect(parts.length).toBe(Math.ceil(total / 65536));
  expect(parts.at(-1).bytes.length).toBe(total - 65536 * (parts.length - 1));
});

test('the default part size is 5 MiB and the last part carries the rest', () => {
  expect(DEFAULT_MIN_PART_SIZE).toBe(5 * 1024 * 1024);
  const cb = new ChunkBuffer();
  expect(cb.minPartSize).toBe(5 * 1024 * 1024);
  const parts = [];
  const all = [];
  for (let i = 0; i < 40; i++) {  // 40 x 300 KB = 12 MB, as a 40 s recording at 2.5 Mbit/s
    const c = noise(300000, i + 1);
    all.push(c);
    parts.push(...cb.append(c));
    expect(cb.bufferedBytes).toBeLessThanOrEqual(5 * 1024 * 1024);
  }
  expect(parts.map((p) => p.index)).toEqual([0, 1]);
  parts.push(...cb.flush());
  expect(parts.map((p) => p.bytes.length)).toEqual([5242880, 5242880, 12000000 - 2 * 5242880]);
  expect(parts.map((p) => p.sha256)).toEqual(parts.map((p) => sha(p.bytes)));
  expect(cb.totalBytes).toBe(12000000);
  expect(cb.partsEmitted).toBe(3);
  expect(cb.flushed).toBe(true);
  cb.dispose();
});

test('an exactly full part is held back until more bytes (or the flush) arrive', () => {
  const cb = new ChunkBuffer({ minPartSize: 10 });
  expect(cb.append(noise(10, 1))).toEqual([]);
  expect(cb.bufferedBytes).toBe(10);
  const [p0] = cb.append(noise(1, 2));
  expect(p0.index).toBe(0);
  expect(p0.last).toBe(false);
  const [p1] = cb.flush();
  expect(p1.bytes.length).toBe(1);
  expect(p1.last).toBe(true);
  cb.dispose();
});

test('one append larger than the scratch buffer splits into many parts', () => {
  const big = noise(3.5 * 1024 * 1024 + 3, 9);
  const parts = stream(1024 * 1024, [big]);
  expect(parts.map((p) => p.bytes.length)).toEqual([1048576, 1048576, 1048576, 524291]);
});

test('nothing, or only empty chunks, gives no part', () => {
  expect(stream(16, [])).toEqual([]);
  expect(stream(16, [new Uint8Array(0), new ArrayBuffer(0)])).toEqual([]);
});

test('chunks may be any ArrayBuffer view or an ArrayBuffer', () => {
  const base = noise(64, 3);
  const parts = stream(7, [base.buffer.slice(0, 5), new DataView(base.buffer, 5, 9), new Uint8ClampedArray(base.buffer, 14, 10),
    new Int16Array(base.buffer, 24, 8), base.subarray(40)]);
  expect(parts.length).toBe(Math.ceil(64 / 7));
});

test('sha256Hex matches the standard vectors', () => {
  expect(sha256Hex(new Uint8Array(0))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  expect(sha256Hex(new TextEncoder().encode('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  expect(sha256Hex(new Uint8Array(1000000).fill(97))).toBe('cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0');
  const n = noise(100003, 5);
  expect(sha256Hex(n)).toBe(sha(n));
});

test.each([
  [{ minPartSize: 0 }, RangeError, /minPartSize must be between 1 and 1073741824, got 0/],
  [{ minPartSize: 1.5 }, RangeError, /minPartSize must be an integer, got 1.5/],
  [{ minPartSize: 2 ** 31 }, RangeError, /minPartSize must be between/],
  [{ minPartSize: '5' }, TypeError, /minPartSize must be a number, got "5"/],
  [null, TypeError, /options must be an object/],
])('ChunkBuffer rejects bad options %#', (options, type, message) => {
  expect(() => new ChunkBuffer(options)).toThrow(type);
  expect(() => new ChunkBuffer(options)).toThrow(message);
});

test('bad chunks and misuse throw clear errors', () => {
  const cb = new ChunkBuffer({ minPartSize: 4 });
  expect(() => cb.append('abc')).toThrow(TypeError);
  expect(() => cb.append([1, 2, 3])).toThrow(/must be a Uint8Array, an ArrayBuffer view or an ArrayBuffer, got Array/);
  expect(() => cb.append(new Blob([new Uint8Array(3)]))).toThrow(/got Blob \(read it first/);
  expect(() => cb.append(null)).toThrow(/got null/);
  cb.append(new Uint8Array(3));
  expect(cb.flush().length).toBe(1);
  expect(() => cb.append(new Uint8Array(1))).toThrow(/append after flush/);
  expect(() => cb.flush()).toThrow(/flush called twice/);
  cb.dispose();
  cb.dispose();  // idempotent
  expect(cb.disposed).toBe(true);
  expect(() => cb.append(new Uint8Array(1))).toThrow(/ChunkBuffer.append: the buffer has been disposed/);
  expect(() => cb.totalBytes).toThrow(/disposed/);
  expect(() => sha256Hex('abc')).toThrow(TypeError);
});

test('using + Symbol.dispose frees the buffer', () => {
  let escaped;
  {
    const cb = new ChunkBuffer({ minPartSize: 4 });
    escaped = cb;
    cb[Symbol.dispose]();
  }
  expect(escaped.disposed).toBe(true);
});

test('10,000 appends keep the wasm heap bounded (one part buffered, parts copied out and freed)', () => {
  const M = getUploadModule();
  const minPartSize = 1024 * 1024;
  const cb = new ChunkBuffer({ minPartSize });
  const chunk = noise(16384, 4);
  let heapAfterWarmup = 0;
  let received = 0;
  for (let i = 0; i < 10000; i++) {
    const c = chunk.subarray(0, 1 + ((i * 7919) % chunk.length));
    for (const p of cb.append(c)) received += p.bytes.length;
    if (i === 499) heapAfterWarmup = M.HEAPU8.length;
  }
  for (const p of cb.flush()) received += p.bytes.length;
  expect(received).toBe(cb.totalBytes);
  expect(cb.totalBytes).toBeGreaterThan(75 * 1024 * 1024);  // ~78 MiB went through
  cb.dispose();
  expect(M.HEAPU8.length - heapAfterWarmup).toBeLessThanOrEqual(4 * minPartSize);
  // And 2,000 buffers created, used and disposed do not grow it either.
  const before = M.HEAPU8.length;
  for (let i = 0; i < 2000; i++) {
    const b = new ChunkBuffer({ minPartSize: 65536 });
    b.append(chunk);
    b.dispose();
  }
  expect(M.HEAPU8.length).toBe(before);
});

test('buffers dropped without dispose() are freed by the FinalizationRegistry', async () => {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc');
  const M = getUploadModule();
  const mib = noise(1024 * 1024, 7);
  const start = M.HEAPU8.length;
  // 20 rounds x 8 buffers each holding ~5 MiB natively (4 MiB buffered + the 1 MiB scratch) = 800 MiB
  // if nothing were freed.
  const four = concat([mib, mib, mib, mib]);
  for (let round = 0; round < 20; round++) {
    for (let i = 0; i < 8; i++) new ChunkBuffer({ minPartSize: 8 * 1024 * 1024 }).append(four);
    gc();
    // Finalization callbacks run as tasks of their own: a few turns of the event loop let them run
    // before the next round allocates (one turn was not always enough on a loaded machine).
    for (let turn = 0; turn < 5; turn++) await new Promise((r) => setTimeout(r, 2));
  }
  gc();
  await new Promise((r) => setTimeout(r, 10));
  expect(M.HEAPU8.length - start).toBeLessThan(256 * 1024 * 1024);
});
