// REST recordings assembled in place while their chunks arrive (examples/server/assembly.js): out of
// order, across restarts, across a SIGKILL between two steps of a chunk's store, and a finalize that
// reads no byte of the recording. Real servers on 127.0.0.1 (in this process, or as their own process).
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startServer, tempDir, fakeWebm, sha256, initSession, sendChunk, json } from './helpers.mjs';
import { startServerProcess } from './server-process.mjs';
import { assemblyStats } from '../../../examples/server/assembly.js';

async function download(api, id) {
  const res = await api(`/api/captures/${id}/file`);
  expect(res.status).toBe(200);
  return Buffer.from(await res.arrayBuffer());
}

/** A recording cut like capturekit's ChunkBuffer: every part `size` bytes but the last. */
function recording(total, size, seed = 1) {
  const bytes = fakeWebm(total, seed);
  const parts = [];
  for (let o = 0; o < total; o += size) parts.push(bytes.subarray(o, Math.min(total, o + size)));
  return { bytes, parts };
}

async function send(api, sessionId, parts, order) {
  for (const i of order) {
    const res = await sendChunk(api, sessionId, i, parts[i]);
    expect([i, res.status]).toEqual([i, 200]);
    expect(await res.json()).toMatchObject({ received: true, chunkIndex: i, duplicate: false });
  }
}

async function finalize(api, sessionId, n) {
  const res = await api('/videos/finalize', json({ sessionId, totalChunks: n }));
  expect(res.status).toBe(200);
  return res.json();
}

describe('in one process', () => {
  let srv;
  beforeAll(async () => { srv = await startServer(); });
  afterAll(() => srv.close());

  test('in order: each chunk is written into the recording once; finalize reads 64 bytes whatever the length', async () => {
    for (const [total, size] of [[3 * 65536 + 100, 65536], [40 * 65536 + 7, 65536]]) {
      const { bytes, parts } = recording(total, size, total);
      const sessionId = await initSession(srv.api);
      const before = { ...assemblyStats };
      await send(srv.api, sessionId, parts, parts.map((_, i) => i));
      expect(assemblyStats.chunkBytesRead - before.chunkBytesRead).toBe(total); // each byte copied in once
      const f0 = assemblyStats.finalizeBytesRead;
      const out = await finalize(srv.api, sessionId, parts.length);
      expect(assemblyStats.finalizeBytesRead - f0).toBe(64); // the head, for the magic-bytes check
      expect(out.sha256).toBe(sha256(bytes)); // hashed on the way in
      expect(out.size).toBe(total);
      expect(sha256(await download(srv.api, out.id))).toBe(sha256(bytes));
    }
  });

  test('part 0 last (seekable streaming): written in place, finalize reads nothing more; the digest follows', async () => {
    const { bytes, parts } = recording(9 * 40000 + 123, 40000, 21);
    const sessionId = await initSession(srv.api);
    const order = [...parts.keys()].slice(1).concat(0);
    const before = { ...assemblyStats };
    await send(srv.api, sessionId, parts, order);
    // every chunk went straight to its place: nothing waited
    expect(await readdir(join(srv.dataDir, 'uploads', 'alice', sessionId, 'waiting')).catch(() => [])).toEqual([]);
    expect(assemblyStats.chunkBytesRead - before.chunkBytesRead).toBe(bytes.length);
    const out = await finalize(srv.api, sessionId, parts.length);
    expect(assemblyStats.finalizeBytesRead - before.finalizeBytesRead).toBe(64);
    expect([null, sha256(bytes)]).toContain(out.sha256); // computed after the answer
    // the list waits for it too
    const listed = (await (await srv.api('/api/captures?type=video')).json()).captures.find((c) => c.id === out.id);
    expect(listed).toMatchObject({ sha256: sha256(bytes), size: bytes.length });
    const info = await (await srv.api(`/api/captures/${out.id}`)).json();
    expect(info.sha256).toBe(sha256(bytes));
    expect(info.size).toBe(bytes.length);
    expect(sha256(await download(srv.api, out.id))).toBe(sha256(bytes));
    const shared = await fetch(out.url);
    expect(shared.headers.get('etag')).toBe(`"${sha256(bytes)}"`);
  });

  test('a gap in the middle: later chunks wait until it closes, then join the recording in order', async () => {
    const { bytes, parts } = recording(6 * 30000 + 5, 30000, 5);
    const sessionId = await initSession(srv.api);
    const dir = join(srv.dataDir, 'uploads', 'alice', sessionId);
    await send(srv.api, sessionId, parts, [0, 3, 2, 5]);
    expect((await readdir(join(dir, 'waiting'))).sort()).toEqual([2, 3, 5].map((i) => `${i}.${sha256(parts[i])}`).sort());
    expect(await (await srv.api(`/videos/${sessionId}/chunks`)).json()).toEqual({ chunks: [0, 2, 3, 5], state: 'open' });
    await send(srv.api, sessionId, parts, [1]); // closes the gap: 1, 2, 3 are placed, 5 still waits for 4
    expect(await readdir(join(dir, 'waiting'))).toEqual([`5.${sha256(parts[5])}`]);
    // a duplicate of a placed chunk is still recognised, and different bytes for it are 409
    expect(await (await sendChunk(srv.api, sessionId, 2, parts[2])).json()).toMatchObject({ duplicate: true });
    expect((await sendChunk(srv.api, sessionId, 2, parts[3])).status).toBe(409);
    await send(srv.api, sessionId, parts, [4, 6]);
    const f0 = assemblyStats.finalizeBytesRead;
    const out = await finalize(srv.api, sessionId, parts.length);
    expect(assemblyStats.finalizeBytesRead - f0).toBe(64);
    expect(out.sha256).toBe(sha256(bytes)); // chunk 0 came first: hashed on the way in
    expect(sha256(await download(srv.api, out.id))).toBe(sha256(bytes));
    expect(await readdir(dir)).toEqual(['session.json']);
  });

  test('uneven chunks out of order fall back to one copy at finalize, still byte-identical', async () => {
    const parts = [fakeWebm(5000, 3), Buffer.from('second, longer than the first one? no'), Buffer.from('x'.repeat(9000))];
    const sessionId = await initSession(srv.api);
    await send(srv.api, sessionId, parts, [2, 1, 0]);
    // 2 came first and starts the run at 2 * 9000; 1 and 0 are not 9000 bytes long, so they wait
    expect((await readdir(join(srv.dataDir, 'uploads', 'alice', sessionId, 'waiting'))).length).toBe(2);
    const f0 = assemblyStats.finalizeBytesRead;
    const out = await finalize(srv.api, sessionId, 3);
    expect(assemblyStats.finalizeBytesRead - f0).toBe(Buffer.concat(parts).length);
    expect(out.sha256).toBe(sha256(Buffer.concat(parts)));
    expect(sha256(await download(srv.api, out.id))).toBe(sha256(Buffer.concat(parts)));
  });
});

test('a restart between chunks: the recording continues in place and is still hashed on the way', async () => {
  const dataDir = await tempDir();
  const { bytes, parts } = recording(8 * 50000 + 11, 50000, 9);
  let srv = await startServer({ dataDir });
  const inOrder = await initSession(srv.api);
  const seekable = await initSession(srv.api);
  const gap = await initSession(srv.api);
  await send(srv.api, inOrder, parts, [0, 1, 2]);
  await send(srv.api, seekable, parts, [1, 2, 3]);
  await send(srv.api, gap, parts, [0, 2, 4]);
  await srv.close({ keepData: true });

  srv = await startServer({ dataDir });
  const r0 = assemblyStats.rehashBytesRead;
  await send(srv.api, inOrder, parts, [3, 4, 5, 6, 7, 8]);
  expect(assemblyStats.rehashBytesRead - r0).toBe(3 * 50000); // the assembled prefix, read once
  await send(srv.api, seekable, parts, [4, 5, 6, 7, 8, 0]);
  await send(srv.api, gap, parts, [1, 3, 5, 6, 7, 8]);
  await srv.close({ keepData: true });

  srv = await startServer({ dataDir });
  for (const sessionId of [inOrder, seekable, gap]) {
    const out = await finalize(srv.api, sessionId, parts.length);
    if (sessionId !== seekable) expect(out.sha256).toBe(sha256(bytes));
    expect(sha256(await download(srv.api, out.id))).toBe(sha256(bytes));
    expect((await (await srv.api(`/api/captures/${out.id}`)).json()).sha256).toBe(sha256(bytes));
  }
  await srv.close();
});

test('a session stored by the layout before in-place assembly (chunks as parts/ files) is finished', async () => {
  const dataDir = await tempDir();
  let srv = await startServer({ dataDir });
  const sessionId = await initSession(srv.api);
  await srv.close({ keepData: true });
  const { bytes, parts } = recording(5 * 1000 + 17, 1000, 4);
  const partsDir = join(dataDir, 'uploads', 'alice', sessionId, 'parts');
  await mkdir(partsDir, { recursive: true });
  for (const i of [0, 1, 3]) await writeFile(join(partsDir, `${i}.${sha256(parts[i])}`), parts[i]);
  srv = await startServer({ dataDir });
  expect(await (await srv.api(`/videos/${sessionId}/chunks`)).json()).toEqual({ chunks: [0, 1, 3], state: 'open' });
  await send(srv.api, sessionId, parts, [2, 4, 5]);
  expect(await (await sendChunk(srv.api, sessionId, 3, parts[3])).json()).toMatchObject({ duplicate: true });
  // the old chunks joined the recording in place
  expect((await stat(join(dataDir, 'uploads', 'alice', sessionId, 'data'))).size).toBe(bytes.length);
  const out = await finalize(srv.api, sessionId, parts.length);
  expect(sha256(await download(srv.api, out.id))).toBe(sha256(bytes));
  await srv.close();
});

describe('SIGKILL between two steps of a chunk store (own process, same data dir after)', () => {
  const { bytes, parts } = recording(6 * 70000 + 99, 70000, 13);

  // Starts a server process that kills itself at `point` of chunk `index`, sends `order` to it, and
  // expects the connection to die on the chunk that triggers it. Returns the data dir and session.
  async function crashAt(point, index, order) {
    const dataDir = await tempDir('ck-crash-');
    const srv = await startServerProcess({ dataDir, env: { CAPTUREKIT_CRASH_POINT: `${point}:${index}` } });
    const sessionId = await initSession(srv.api);
    let died = false;
    for (const i of order) {
      let res;
      try {
        res = await sendChunk(srv.api, sessionId, i, parts[i]);
      } catch {
        died = true;
        break;
      }
      expect([i, res.status]).toEqual([i, 200]);
    }
    if (!died) await srv.stop(); // a server that did not crash is not left running
    expect(died).toBe(true);
    expect(await srv.exited).toMatchObject({ signal: 'SIGKILL' });
    return { dataDir, sessionId };
  }

  async function finish(dataDir, sessionId, order, { expectDuplicate = [] } = {}) {
    const srv = await startServerProcess({ dataDir });
    try {
      const listed = (await (await srv.api(`/videos/${sessionId}/chunks`)).json()).chunks;
      for (const i of order) {
        const res = await sendChunk(srv.api, sessionId, i, parts[i]);
        expect([i, res.status]).toEqual([i, 200]);
        expect([i, (await res.json()).duplicate]).toEqual([i, expectDuplicate.includes(i)]);
      }
      const out = await finalize(srv.api, sessionId, parts.length);
      expect(sha256(await download(srv.api, out.id))).toBe(sha256(bytes));
      return listed;
    } finally {
      await srv.stop();
    }
  }

  test('after the bytes are written, before the chunk is recorded: the chunk was not acknowledged and is sent again', async () => {
    const { dataDir, sessionId } = await crashAt('placed', 2, [0, 1, 2, 3]);
    // the file holds chunk 2's bytes past the recorded end; the resend overwrites them
    const listed = await finish(dataDir, sessionId, [2, 3, 4, 5, 6]);
    expect(listed).toEqual([0, 1]);
  });

  test('after the chunk is recorded, before the answer: the resend is a duplicate', async () => {
    const { dataDir, sessionId } = await crashAt('marked', 3, [1, 2, 3, 4]);
    const listed = await finish(dataDir, sessionId, [3, 4, 5, 6, 0], { expectDuplicate: [3] });
    expect(listed).toEqual([1, 2, 3]);
  });

  test('while a closed gap is copied in: the waiting chunks are in the file, their copies not yet removed', async () => {
    const { dataDir, sessionId } = await crashAt('drained', 1, [0, 2, 3, 1]);
    const listed = await finish(dataDir, sessionId, [1, 4, 5, 6], { expectDuplicate: [1] });
    expect(listed).toEqual([0, 1, 2, 3]);
  });
});

