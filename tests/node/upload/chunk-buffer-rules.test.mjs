// ChunkBuffer's part rules for stricter object stores on the wasm build (wasm/upload/chunk_buffer.h
// decides): store 'gcs' (every part but the last a multiple of 256 KiB), 'r2' (every part but the last
// of one size), 's3'; a minPartSize that breaks the store's rule is a clear Error from the core.
import { createHash } from 'node:crypto';
import { init } from '../../../js-glue/index.js';
import { ChunkBuffer, PART_RULES } from '../../../js-glue/upload/chunk-buffer.js';

beforeAll(() => init());

const KiB = 1024;
const MiB = 1024 * KiB;
const sha = (bytes) => createHash('sha256').update(bytes).digest('hex');

/** MediaRecorder-like chunks (a 1-byte first one, then a few hundred KB, some empty) of `total` bytes. */
function feed(cb, total, seed) {
  const parts = [];
  let x = seed * 2654435761 >>> 0 || 1;
  let sent = 0;
  const all = new Uint8Array(total);
  for (let i = 0; i < total; i++) { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; all[i] = x & 255; }
  let n = 1;
  while (sent < total) {
    const len = Math.min(n, total - sent);
    parts.push(...cb.append(all.subarray(sent, sent + len)));
    sent += len;
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    n = x % 9 === 0 ? 0 : 1 + (x % (400 * KiB));
  }
  parts.push(...cb.flush());
  cb.dispose();
  return { parts: parts.sort((a, b) => a.index - b.index), all };
}

test('PART_RULES: S3 and R2 5 MiB parts, GCS 8 MiB in multiples of 256 KiB', () => {
  expect(PART_RULES).toEqual({
    s3: { minPartSize: 5 * MiB, partSizeMultiple: 1 },
    r2: { minPartSize: 5 * MiB, partSizeMultiple: 1 },
    gcs: { minPartSize: 8 * MiB, partSizeMultiple: 256 * KiB },
  });
});

for (const [store, holdFirstPart] of [['gcs', false], ['gcs', true], ['r2', false], ['r2', true]]) {
  test(`store '${store}'${holdFirstPart ? ', part 0 held back' : ''}: every part but the last of one size${store === 'gcs' ? ', a multiple of 256 KiB' : ''}; the bytes and their SHA-256 intact`, () => {
    const cb = new ChunkBuffer({ store, holdFirstPart });
    expect(cb.minPartSize).toBe(PART_RULES[store].minPartSize);
    const total = 2 * PART_RULES[store].minPartSize + 123457;
    const { parts, all } = feed(cb, total, store.length + (holdFirstPart ? 10 : 0));
    expect(parts.length).toBe(3);
    let off = 0;
    for (const [i, p] of parts.entries()) {
      expect(p.index).toBe(i);
      if (i < parts.length - 1) {
        expect(p.bytes.length).toBe(parts[0].bytes.length);
        if (store === 'gcs') expect(p.bytes.length % (256 * KiB)).toBe(0);
      } else {
        expect(p.bytes.length).toBeLessThanOrEqual(parts[0].bytes.length);
      }
      expect(p.sha256).toBe(sha(p.bytes));
      expect(Buffer.from(p.bytes).equals(Buffer.from(all.subarray(off, off + p.bytes.length)))).toBe(true);
      off += p.bytes.length;
    }
    expect(off).toBe(total);
  });
}

test('a minPartSize that breaks the store\'s rule, and bad options: clear Errors', () => {
  expect(() => new ChunkBuffer({ store: 'gcs', minPartSize: 5 * MiB + 1 }))
    .toThrow(/minPartSize \(5242881 bytes\) must be a multiple of partSizeMultiple \(262144 bytes.*e\.g\. 5242880 or 5505024/);
  expect(() => new ChunkBuffer({ partSizeMultiple: 256 * KiB, minPartSize: 100 })).toThrow(/must be a multiple of partSizeMultiple/);
  expect(() => new ChunkBuffer({ store: 'azure' })).toThrow(/store must be one of 's3', 'r2', 'gcs', got "azure"/);
  expect(() => new ChunkBuffer({ partSizeMultiple: 0 })).toThrow(/partSizeMultiple/);
  expect(() => new ChunkBuffer({ partSizeMultiple: 1.5 })).toThrow(/partSizeMultiple/);
  const ok = new ChunkBuffer({ store: 'gcs', minPartSize: 512 * KiB }); // a multiple: fine
  expect(ok.minPartSize).toBe(512 * KiB);
  ok.dispose();
  const s3 = new ChunkBuffer({ minPartSize: 5 * MiB + 1 }); // S3 and R2: any size
  s3.dispose();
});
