// Two servers (in this process) over one data directory and one PostgreSQL, taking turns on the chunks
// of one REST recording, as a round-robin proxy makes them: no chunk makes a server read the recording
// again to rebuild its SHA-256 (that was a read of the whole prefix per chunk), finalize answers
// sha256: null (also when retried), and the digest follows in the background, right.
import { rm } from 'node:fs/promises';
import { startPostgres } from '../../helpers/postgres.mjs';
import { assemblyStats } from '../../../examples/server/assembly.js';
import { startServer, tempDir, fakeWebm, sha256, json, initSession, sendChunk } from './helpers.mjs';

let pg;
let dataDir;
let servers = [];

beforeAll(async () => {
  pg = await startPostgres();
  const database = await pg.createDatabase('capturekit');
  dataDir = await tempDir('ck-shared-disk-');
  servers = [await startServer({ dataDir, database, publicUrl: 'http://capturekit.test' }), await startServer({ dataDir, database, publicUrl: 'http://capturekit.test' })];
}, 120000);

afterAll(async () => {
  for (const s of servers) await s.close();
  await pg?.destroy();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

test('chunks in order, alternating servers: no re-read of the prefix, finalize sha256 null, the digest right afterwards', async () => {
  const chunks = Array.from({ length: 8 }, (_, i) => fakeWebm(i === 7 ? 5000 : 256 * 1024, 300 + i));
  const whole = Buffer.concat(chunks);
  const sessionId = await initSession(servers[0].api);
  const reread = assemblyStats.rehashBytesRead;
  for (const [i, c] of chunks.entries()) {
    const res = await sendChunk(servers[i % 2].api, sessionId, i, c);
    expect(res.status).toBe(200);
  }
  const fin = await servers[0].api('/videos/finalize', json({ sessionId, totalChunks: chunks.length }));
  expect(fin.status).toBe(200);
  const answer = await fin.json();
  expect(assemblyStats.rehashBytesRead - reread).toBe(0);
  expect(answer).toMatchObject({ size: whole.length, sha256: null });
  for (const s of servers) {
    expect((await (await s.api(`/api/captures/${answer.id}`)).json()).sha256).toBe(sha256(whole));
    expect(sha256(Buffer.from(await (await s.api(`/api/captures/${answer.id}/file`)).arrayBuffer()))).toBe(sha256(whole));
  }
  expect(await (await servers[1].api('/videos/finalize', json({ sessionId, totalChunks: chunks.length }))).json()).toEqual(answer);
}, 120000);

test('one server alone keeps hashing on the way: finalize answers the digest', async () => {
  const chunks = Array.from({ length: 3 }, (_, i) => fakeWebm(i === 2 ? 999 : 128 * 1024, 400 + i));
  const sessionId = await initSession(servers[1].api);
  for (const [i, c] of chunks.entries()) expect((await sendChunk(servers[1].api, sessionId, i, c)).status).toBe(200);
  const answer = await (await servers[1].api('/videos/finalize', json({ sessionId, totalChunks: 3 }))).json();
  expect(answer.sha256).toBe(sha256(Buffer.concat(chunks)));
}, 60000);
