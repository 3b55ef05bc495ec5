// The reference server takes MP4 (an 'ftyp' box first) as it takes WebM: by a single request, by REST
// chunks + finalize and over tus; stored as video/mp4 with an .mp4 name, its facts (duration, codecs)
// read by capturekit's own MP4 reader (makeSeekable's first pass, in a thread), served with Range.
// The MP4 is written here by VideoWriter({ container: 'mp4' }) (VP9 + Opus, 60 frames, 2 s).
// Bad MP4: a cut-off copy and garbage after a valid 'ftyp' get a 422 that says why; hostile MP4 (a box
// size of 2^63, a moov that declares fifty million or four million samples) get the same, in a server
// process whose RSS stays bounded while it reads them and comes back after (as hostile-parsers.test.mjs
// measures it).
import { VideoWriter } from '../../../js-glue/index.js';
import { patternFrame } from '../video/video-fixtures.mjs';
import { ALICE, startServer, sha256, initSession, sendChunk, json } from './helpers.mjs';
import { startServerProcess } from './server-process.mjs';
import { startPostgres } from '../../helpers/postgres.mjs';
import { startS3rver } from '../../helpers/s3rver.mjs';

const MiB = 1024 * 1024;
// The MP4 reader takes at most 4,194,304 samples per table; a moov just under that (a few hundred bytes
// that declare four million samples) costs ~165 MiB in the reading thread, given back when it ends.
const MP4_RSS_MIB = 256;
const MP4_AFTER_MIB = 64;
const TUS = { 'tus-resumable': '1.0.0' };
const b64 = (s) => Buffer.from(s).toString('base64');

let srv;
let mp4;
beforeAll(async () => {
  srv = await startServer();
  const w = await VideoWriter.create({ codec: 'vp9', width: 160, height: 120, fps: 30, container: 'mp4', audio: { sampleRate: 48000, channels: 2 } });
  for (let i = 0; i < 60; i++) {
    w.addFrame(patternFrame(160, 120, i));
    w.addAudio(new Float32Array(1600 * 2).map((_, k) => 0.3 * Math.sin((2 * Math.PI * 440 * (i * 1600 + (k >> 1))) / 48000)));
  }
  const r = await w.finish();
  mp4 = Buffer.from(r.data);
}, 120_000);
afterAll(async () => { await srv?.close(); });

function videoForm(bytes, name = 'clip.mp4') {
  const form = new FormData();
  form.append('file', new Blob([bytes], { type: 'application/octet-stream' }), name);
  return form;
}

/** Downloaded whole, byte-identical, and a Range of it as a 206 with the right bytes. */
async function expectServed(id, data) {
  const whole = await srv.api(`/api/captures/${id}/file`);
  expect(whole.status).toBe(200);
  expect(whole.headers.get('content-type')).toMatch(/^video\/mp4/);
  expect(sha256(Buffer.from(await whole.arrayBuffer()))).toBe(sha256(data));
  const part = await srv.api(`/api/captures/${id}/file`, { headers: { range: 'bytes=100-1099' } });
  expect(part.status).toBe(206);
  expect(part.headers.get('content-range')).toBe(`bytes 100-1099/${data.length}`);
  expect(Buffer.from(await part.arrayBuffer()).equals(data.subarray(100, 1100))).toBe(true);
}

async function expectFacts(id) {
  const info = await (await srv.api(`/api/captures/${id}`)).json();
  expect(info).toMatchObject({ type: 'video', mimeType: 'video/mp4', size: mp4.length, sha256: sha256(mp4) });
  expect(info.filename).toMatch(/\.mp4$/);
  expect(info.video.codec).toBe('vp9');
  expect(info.video.source).toBe('capturekit');
  expect(info.video.duration).toBeCloseTo(2, 2);
  // (the MP4 reader's first pass reports no picture size: width and height stay null)
  expect([info.video.width, info.video.height]).toEqual([null, null]);
  return info;
}

test('a single request: stored as video/mp4, facts by the MP4 reader, served whole and by Range', async () => {
  const res = await srv.api('/api/capture/video', { method: 'POST', body: videoForm(mp4) });
  expect(res.status).toBe(200);
  const { data } = await res.json();
  await expectFacts(data.id);
  await expectServed(data.id, mp4);
}, 60_000);

test('REST chunks + finalize: the assembled MP4 is the same bytes, with its facts', async () => {
  const sessionId = await initSession(srv.api, { filename: undefined, codec: 'vp9', resolution: '160x120' });
  const part = Math.ceil(mp4.length / 3);
  let n = 0;
  for (let at = 0; at < mp4.length; at += part, n++) {
    const r = await sendChunk(srv.api, sessionId, n, mp4.subarray(at, at + part));
    expect(r.status).toBe(200);
  }
  const fin = await srv.api('/videos/finalize', json({ sessionId, totalChunks: n }));
  expect(fin.status).toBe(200);
  const { id } = await fin.json();
  await expectFacts(id);
  await expectServed(id, mp4);
}, 60_000);

test('tus: the finished upload becomes an MP4 capture with its facts', async () => {
  const create = await srv.api('/files/', { method: 'POST', headers: { ...TUS, 'upload-length': String(mp4.length), 'upload-metadata': `filename ${b64('tus.mp4')}` } });
  expect(create.status).toBe(201);
  const location = new URL(create.headers.get('location')).pathname;
  const done = await srv.api(location, { method: 'PATCH', headers: { ...TUS, 'upload-offset': '0', 'content-type': 'application/offset+octet-stream' }, body: mp4 });
  expect(done.status).toBe(204);
  const id = done.headers.get('capture-id');
  const info = await expectFacts(id);
  expect(info.filename).toBe('tus.mp4');
  await expectServed(id, mp4);
  const tusFile = await srv.api(location);
  expect(tusFile.headers.get('content-type')).toMatch(/^video\/mp4/);
}, 60_000);

/** A cut-off copy, and a valid 'ftyp' followed by garbage. */
function badMp4s() {
  const ftypSize = mp4.readUInt32BE(0);
  const garbage = Buffer.concat([mp4.subarray(0, ftypSize), Buffer.from('this is not a box at all, only text after the ftyp box'.repeat(20))]);
  return { truncated: mp4.subarray(0, Math.floor(mp4.length * 0.6)), garbage };
}

test.each(['truncated', 'garbage'])('a %s MP4 is a 422 that says the MP4 could not be read, by every route', async (which) => {
  const bytes = badMp4s()[which];
  const one = await srv.api('/api/capture/video', { method: 'POST', body: videoForm(bytes) });
  expect(one.status).toBe(422);
  expect((await one.json()).error ?? '').toMatch(/MP4 could not be read: .+/);

  const sessionId = await initSession(srv.api, { codec: 'vp9', resolution: '160x120' });
  expect((await sendChunk(srv.api, sessionId, 0, bytes)).status).toBe(200);
  const fin = await srv.api('/videos/finalize', json({ sessionId, totalChunks: 1 }));
  expect(fin.status).toBe(422);
  expect(JSON.stringify(await fin.json())).toMatch(/assembled MP4 could not be read/);

  const create = await srv.api('/files/', { method: 'POST', headers: { ...TUS, 'upload-length': String(bytes.length) } });
  const location = new URL(create.headers.get('location')).pathname;
  const done = await srv.api(location, { method: 'PATCH', headers: { ...TUS, 'upload-offset': '0', 'content-type': 'application/offset+octet-stream' }, body: bytes });
  expect(done.status).toBe(422);
  expect(await done.text()).toMatch(/MP4 could not be read/);
  const list = await (await srv.api('/api/captures')).json();
  expect(JSON.stringify(list)).not.toContain(sha256(bytes));
}, 60_000);

/** Hostile files: an 'ftyp', then a box whose 64-bit size is 2^63; the real file with its video's
 * stts and stsz declaring 50,000,000 (and 4,000,000) samples of one byte (nothing in the file to back them). */
function hostileMp4s() {
  const ftypSize = mp4.readUInt32BE(0);
  const huge = Buffer.alloc(16 + 64);
  huge.writeUInt32BE(1, 0);
  huge.write('free', 4, 'latin1');
  huge.writeBigUInt64BE(1n << 63n, 8);
  const bigBox = Buffer.concat([mp4.subarray(0, ftypSize), huge]);
  const many = Buffer.from(mp4);
  const stts = many.indexOf('stts', 0, 'latin1');
  many.writeUInt32BE(1, stts + 8); // one entry ...
  many.writeUInt32BE(50_000_000, stts + 12); // ... of fifty million samples
  const stsz = many.indexOf('stsz', 0, 'latin1');
  many.writeUInt32BE(1, stsz + 8); // every sample one byte ...
  many.writeUInt32BE(50_000_000, stsz + 12); // ... fifty million of them
  // just under the reader's cap (4,194,304 per table): the tables are built, then found to point
  // outside every mdat
  const underCap = Buffer.from(many);
  underCap.writeUInt32BE(4_000_000, stts + 12);
  underCap.writeUInt32BE(4_000_000, stsz + 12);
  return { bigBox, many, underCap };
}

describe('hostile MP4 in a server process', () => {
  let proc;
  beforeAll(async () => { proc = await startServerProcess({ heapMb: 1024 }); }, 60_000);
  afterAll(async () => { await proc?.stop(); });

  test.each(['bigBox', 'many', 'underCap'])('%s: a clear 422, the process alive, its RSS bounded', async (which) => {
    const bytes = hostileMp4s()[which];
    // warm up (the worker and the wasm load once) with the valid file
    expect((await proc.api('/api/capture/video', { method: 'POST', body: videoForm(mp4) }, ALICE)).status).toBe(200);
    const base = proc.rssBytes();
    let peak = base;
    const sampler = setInterval(() => { if (proc.alive()) peak = Math.max(peak, proc.rssBytes()); }, 20);
    let res;
    try {
      res = await proc.api('/api/capture/video', { method: 'POST', body: videoForm(bytes) });
    } finally {
      clearInterval(sampler);
    }
    expect(res.status).toBe(422);
    const { error } = await res.json();
    if (process.env.CK_HOSTILE_FIGURES) console.info(`${which}: ${error}; peak RSS +${((peak - base) / MiB).toFixed(0)} MiB`);
    expect(error).toMatch(/MP4 could not be read: .+/);
    expect(proc.alive()).toBe(true);
    expect((peak - base) / MiB).toBeLessThan(MP4_RSS_MIB);
    // the reading thread ended: its memory is the process's no longer
    let after = proc.rssBytes();
    for (let i = 0; i < 50 && (after - base) / MiB >= MP4_AFTER_MIB; i++) {
      await new Promise((r) => setTimeout(r, 100));
      after = proc.rssBytes();
    }
    if (process.env.CK_HOSTILE_FIGURES) console.info(`${which}: RSS after +${((after - base) / MiB).toFixed(0)} MiB`);
    expect((after - base) / MiB).toBeLessThan(MP4_AFTER_MIB);
  }, 60_000);
});

describe('every byte in the bucket (--s3-bytes, PostgreSQL state)', () => {
  let pg, s3, proc;
  beforeAll(async () => {
    [pg, s3] = await Promise.all([startPostgres(), startS3rver({ bucket: 'ck-mp4' })]);
    const db = await pg.createDatabase('capturekit');
    proc = await startServerProcess({ args: ['--database', db, '--s3-bytes', '--s3-bucket', s3.bucket, '--s3-endpoint', s3.endpoint,
      '--s3-region', s3.region, '--s3-access-key-id', s3.accessKeyId, '--s3-secret-access-key', s3.secretAccessKey, '--s3-force-path-style'] });
  }, 180_000);
  afterAll(async () => {
    await proc?.stop();
    await Promise.all([pg?.destroy(), s3?.close()]);
  });

  test('REST chunks + finalize: a whole MP4 is a capture with its facts, a cut-off one a 422', async () => {
    const send = async (bytes) => {
      const sessionId = await initSession(proc.api, { codec: 'vp9', resolution: '160x120' });
      expect((await sendChunk(proc.api, sessionId, 0, bytes)).status).toBe(200);
      return proc.api('/videos/finalize', json({ sessionId, totalChunks: 1 }));
    };
    const good = await send(mp4);
    expect(good.status).toBe(200);
    const { id } = await good.json();
    const info = await (await proc.api(`/api/captures/${id}`)).json();
    expect(info).toMatchObject({ mimeType: 'video/mp4', size: mp4.length, video: { codec: 'vp9' } });
    expect(info.video.duration).toBeCloseTo(2, 2);
    const file = Buffer.from(await (await proc.api(`/api/captures/${id}/file`)).arrayBuffer());
    expect(sha256(file)).toBe(sha256(mp4));
    const bad = await send(badMp4s().truncated);
    expect(bad.status).toBe(422);
    expect((await bad.json()).error).toMatch(/assembled MP4 could not be read: .+/);
  }, 120_000);
});
