// Crash recovery (issue 6): RecordingJournal stores every range of a real wasm recording (createRecorder
// in Node, inline libvpx) before it goes on; the stream is "killed" at several points (a copy of the
// journal store taken right then, as if the tab died), and recoverRecordings() must turn each copy into a
// valid, seekable WebM holding every frame up to the last stored cluster. Judges: ffprobe (-count_frames,
// packet positions of the complete file), ffmpeg (framemd5 against the complete file, -ss seek), mkvinfo
// (Cues), and the reference server for the upload.
import { execFileSync, spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { init, readFrameMetadata } from '../../../js-glue/index.js';
import { createJournaledRecorder, createMemoryJournalStore, RecordingJournal, recoverRecordings } from '../../../js-glue/index.js';
import { createUploader } from '../../../js-glue/upload/uploader.js';
import { createMemoryStore } from '../../../js-glue/upload/store-memory.js';
import { createRestTransport } from '../../../js-glue/upload/transports/rest.js';
import { patternFrame, probe, tempDir } from '../video/video-fixtures.mjs';
import { startServer, TOKEN, captureBytes } from '../upload/uploader.helpers.mjs';

const W = 96;
const H = 64;
const N = 60;
const FPS = 30;
const KEY = 10; // a cluster per keyframe: 6 clusters
let dir;
let full;            // the complete file (rec.stop())
let fullPackets;     // [{pos, size}] of the complete file, from ffprobe
let snapshots = [];  // { afterRange, size, store } taken right after each range was journaled
let firstStore;      // the journal right after open (before the first byte)

function cloneStore(src) {
  const s = createMemoryJournalStore();
  for (const [id, st] of src.journals) s.journals.set(id, structuredClone(st));
  for (const [id, m] of src.rangeMap) s.rangeMap.set(id, new Map([...m].map(([k, v]) => [k, { ...v, bytes: v.bytes.slice(0) }])));
  return s;
}

const file = (name, bytes) => { const p = join(dir, name); writeFileSync(p, bytes); return p; };
const blobBytes = async (b) => new Uint8Array(await b.arrayBuffer());
const framemd5 = (p, n) => execFileSync('ffmpeg', ['-v', 'error', '-i', p, ...(n ? ['-frames:v', String(n)] : []), '-f', 'framemd5', '-'], { encoding: 'utf8' })
  .split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(',').pop().trim());

beforeAll(async () => {
  await init();
  dir = tempDir('ck-journal-');
  const store = createMemoryJournalStore();
  let size = 0;
  let ranges = 0;
  const rec = await createJournaledRecorder(null, { backend: 'wasm', size: { width: W, height: H }, fps: FPS, keyframeInterval: KEY,
    ondata: (bytes, offset) => { // called only after the journal stored the range
      ranges++;
      size = Math.max(size, offset + bytes.length);
      snapshots.push({ afterRange: ranges, offset, size, store: cloneStore(store) });
    } }, { store, metadata: { filename: 'journal-test.webm' } });
  firstStore = cloneStore(store);
  for (let i = 0; i < N; i++) {
    await rec.ready;
    rec.addFrame(patternFrame(W, H, i), { metadata: { frameNumber: i + 1, pose: { position: { x: i, y: 1.6, z: 0 } } } });
  }
  await rec.stop();
  expect(store.journals.size).toBe(0); // stopped normally: the journal is gone
  // the complete file is what the app's ondata saw: rebuild it from the last snapshot's ranges
  const last = snapshots[snapshots.length - 1].store;
  const [state] = await last.states();
  const out = new Uint8Array(state.size);
  await last.ranges(state.id, (seq, x) => out.set(new Uint8Array(x.bytes), x.offset));
  full = file('full.webm', out);
  expect(probe(full).frames).toBe(N);
  const j = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'packet=pos,size', '-of', 'json', full], { encoding: 'utf8' }));
  fullPackets = j.packets.map((p) => ({ pos: Number(p.pos), size: Number(p.size) }));
  expect(fullPackets.length).toBe(N);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Frames whose data lies wholly within the first `bytes` bytes of the complete file. */
const framesWithin = (bytes) => fullPackets.filter((p) => p.pos + p.size <= bytes).length;

async function recoverOnly(store) {
  const events = [];
  const unrec = [];
  const results = await recoverRecordings({ store, onrecovered: (e) => { events.push(e); }, onunrecoverable: (e) => { unrec.push(e); } });
  return { results, events, unrec };
}

async function checkPlayable(blob, expectFrames, name) {
  const p = file(name, await blobBytes(blob));
  const pr = probe(p);
  expect(pr.frames).toBe(expectFrames);
  expect(pr.duration).toBeCloseTo(expectFrames / FPS, 1);
  // the decoded frames are exactly the complete file's first frames
  expect(framemd5(p)).toEqual(framemd5(full, expectFrames));
  // seekable: Cues present, and a seek to the middle decodes
  expect(execFileSync('mkvinfo', [p], { encoding: 'utf8' })).toMatch(/\+ Cues/);
  const mid = (expectFrames / FPS / 2).toFixed(3);
  const r = spawnSync('ffmpeg', ['-v', 'error', '-ss', mid, '-i', p, '-f', 'framemd5', '-'], { encoding: 'utf8' });
  expect(r.status).toBe(0);
  expect(r.stderr).toBe('');
  expect(r.stdout.split('\n').filter((l) => l && !l.startsWith('#')).length).toBeGreaterThan(0);
  return p;
}

test('the range stream: a header, then whole clusters (what the cut points below rely on)', () => {
  expect(snapshots[0].offset).toBe(0);
  expect(snapshots.length).toBeGreaterThan(N / KEY);
});

test('killed before the first byte: reported as unrecoverable, kept until the app discards it', async () => {
  const store = firstStore;
  let { results, unrec, events } = await recoverOnly(store);
  expect(events).toEqual([]);
  expect(results).toEqual([expect.objectContaining({ status: 'unrecoverable', deleted: false })]);
  expect(unrec[0].reason).toMatch(/before its first byte/);
  expect(store.journals.size).toBe(1);
  results = await recoverRecordings({ store, onunrecoverable: (e) => e.discard() });
  expect(results[0]).toMatchObject({ status: 'unrecoverable', deleted: true });
  expect(store.journals.size).toBe(0);
});

test('killed after the header only (no complete cluster): unrecoverable, nothing to upload', async () => {
  const store = cloneStore(snapshots[0].store);
  const { results, unrec } = await recoverOnly(store);
  expect(results[0].status).toBe('unrecoverable');
  expect(unrec[0].reason).toMatch(/no playable video|not a recoverable WebM/);
});

test.each([
  ['right after the first cluster', 1],
  ['right after the third cluster', 3],
  ['right after the last cluster, before finalize', 'lastAppend'],
])('killed %s: every frame of the stored clusters, playable and seekable', async (_, which) => {
  const appends = snapshots.filter((s, i) => i === 0 || s.offset >= snapshots[i - 1].size);
  const snap = which === 'lastAppend' ? appends[appends.length - 2] /* before the cues */ : appends[which];
  const want = framesWithin(snap.size);
  expect(want).toBeGreaterThan(0);
  const store = cloneStore(snap.store);
  const { results, events } = await recoverOnly(store);
  expect(results).toEqual([expect.objectContaining({ status: 'recovered' })]);
  const e = events[0];
  expect(e).toMatchObject({ frames: want, droppedRanges: [], metadata: { filename: 'journal-test.webm' } });
  expect(e.duration).toBeCloseTo(want / FPS, 2);
  expect(e.framesJournaled).toBeGreaterThanOrEqual(want - 1); // counted when the range was stored
  await checkPlayable(e.blob, want, `cut-${which}.webm`);
  expect(store.journals.size).toBe(0);
  // the per-frame metadata (the XR poses' place) of every recovered frame is in the file
  expect(readFrameMetadata(await blobBytes(e.blob)).map((m) => m.metadata)).toEqual(
    Array.from({ length: want }, (_, i) => ({ frameNumber: i + 1, pose: { position: { x: i, y: 1.6, z: 0 } } })));
});

test('a journal kept after a normal stop (keep: true) is handed over whole: the finished file, patches applied', async () => {
  const store = createMemoryJournalStore();
  const rec = await createJournaledRecorder(null, { backend: 'wasm', size: { width: W, height: H }, fps: FPS, keyframeInterval: KEY }, { store, keep: true });
  for (let i = 0; i < 25; i++) {
    await rec.ready;
    rec.addFrame(patternFrame(W, H, i));
  }
  const r = await rec.stop();
  expect(r.frames).toBe(25);
  expect(probe(file('kept-direct.webm', r.data)).frames).toBe(25); // no ondata: rebuilt from the journal
  const [state] = await store.states();
  expect(state).toMatchObject({ complete: true, frames: 25 });
  const { events } = await recoverOnly(store);
  expect(events[0]).toMatchObject({ frames: 25, truncated: false, droppedRanges: [] });
  await checkPlayable(events[0].blob, 25, 'kept.webm');
  expect(store.journals.size).toBe(0);
});

test('killed mid-part (a range cut short: a partial cluster): the complete frames in it are kept', async () => {
  const appends = snapshots.filter((s, i) => i === 0 || s.offset >= snapshots[i - 1].size);
  const snap = appends[3];
  const store = cloneStore(snap.store);
  const [state] = await store.states();
  const m = store.rangeMap.get(state.id);
  const lastSeq = Math.max(...m.keys());
  const r = m.get(lastSeq);
  const keep = Math.floor(r.length / 2);
  const cut = new Uint8Array(r.bytes).slice(0, keep);
  const { crc32 } = await import('../../../js-glue/record/journal.js');
  m.set(lastSeq, { ...r, length: keep, bytes: cut.buffer, crc: crc32(cut) });
  const want = framesWithin(r.offset + keep);
  expect(want).toBeGreaterThan(framesWithin(r.offset));
  const { events } = await recoverOnly(store);
  expect(events[0]).toMatchObject({ frames: want, truncated: true });
  await checkPlayable(events[0].blob, want, 'cut-mid.webm');
});

test.each(['corrupt', 'missing'])('a %s range in the middle: the contiguous prefix is recovered, the rest reported', async (kind) => {
  const appends = snapshots.filter((s, i) => i === 0 || s.offset >= snapshots[i - 1].size);
  const snap = appends[4];
  const store = cloneStore(snap.store);
  const [state] = await store.states();
  const m = store.rangeMap.get(state.id);
  const bad = 2; // the second cluster
  const badOffset = m.get(bad).offset;
  if (kind === 'corrupt') {
    const b = new Uint8Array(m.get(bad).bytes);
    b[b.length >> 1] ^= 0x55;
  } else {
    m.delete(bad);
  }
  const want = framesWithin(badOffset);
  const { events } = await recoverOnly(store);
  const e = events[0];
  expect(e.frames).toBe(want);
  expect(e.truncated).toBe(true);
  expect(e.droppedRanges[0]).toMatchObject({ seq: bad, reason: kind === 'corrupt' ? expect.stringMatching(/CRC-32/) : 'missing' });
  expect(e.droppedRanges.map((d) => d.seq)).toEqual([...Array(state.ranges - bad).keys()].map((i) => i + bad));
  await checkPlayable(e.blob, want, `bad-${kind}.webm`);
});

test('a journal of garbage: unrecoverable, never uploaded, kept until discarded', async () => {
  const store = createMemoryJournalStore();
  const j = await RecordingJournal.open({ store, id: 'garbage' });
  await j.write(new Uint8Array(5000).fill(7), 0);
  // the page "dies": forget that this page owns it
  const { liveJournals } = await import('../../../js-glue/record/journal.js');
  liveJournals.delete('garbage');
  const srv = await startServer();
  const up = createUploader({ name: 'garbage', transport: createRestTransport({ baseUrl: srv.url }), store: createMemoryStore(), token: TOKEN, locks: null, channel: null, onlineEvents: null });
  try {
    const results = await recoverRecordings({ store, uploader: up });
    expect(results).toEqual([expect.objectContaining({ recordingId: 'garbage', status: 'unrecoverable', deleted: false })]);
    expect(results[0].reason).toMatch(/EBML/);
    expect(up.items()).toEqual([]);
    expect(store.journals.size).toBe(1);
  } finally {
    await up.close();
    await srv.close();
  }
});

test('a journal being written in this page is left alone (busy)', async () => {
  const store = createMemoryJournalStore();
  const j = await RecordingJournal.open({ store });
  const results = await recoverRecordings({ store });
  expect(results).toEqual([{ recordingId: j.id, status: 'busy' }]);
  await j.remove();
  expect(await recoverRecordings({ store })).toEqual([]);
});

test('recovered recordings go to the upload queue and arrive on the reference server; discard() keeps them out', async () => {
  const appends = snapshots.filter((s, i) => i === 0 || s.offset >= snapshots[i - 1].size);
  const srv = await startServer();
  const up = createUploader({ name: 'recovery', transport: createRestTransport({ baseUrl: srv.url }), store: createMemoryStore(), token: TOKEN, locks: null, channel: null, onlineEvents: null, minPartSize: 64 * 1024 });
  try {
    // discarded: not uploaded, journal deleted
    let store = cloneStore(appends[2].store);
    let results = await recoverRecordings({ store, uploader: up, onrecovered: (e) => e.discard() });
    expect(results[0].status).toBe('discarded');
    expect(store.journals.size).toBe(0);
    // uploaded
    store = cloneStore(appends[3].store);
    const want = framesWithin(appends[3].size);
    results = await recoverRecordings({ store, uploader: up });
    expect(results[0]).toMatchObject({ status: 'uploaded', frames: want });
    await up.runUntilIdle({ timeoutMs: 60000 });
    const res = await fetch(`${srv.url}/api/captures`, { headers: { authorization: `Bearer ${TOKEN}` } });
    const { captures } = await res.json();
    expect(captures.length).toBe(1);
    expect(captures[0]).toMatchObject({ filename: 'journal-test.webm', type: 'video', metadata: { recovered: true } });
    expect(captures[0].video.duration).toBeCloseTo(want / FPS, 2);
    const bytes = await captureBytes(srv, captures[0]);
    expect(bytes.equals(Buffer.from(await blobBytes(results[0].blob)))).toBe(true);
    const pr = probe(file('server.webm', bytes));
    expect(pr.frames).toBe(want);
    expect(store.journals.size).toBe(0);
  } finally {
    await up.close();
    await srv.close();
  }
});

test('bad arguments are clear errors', async () => {
  await expect(recoverRecordings(null)).rejects.toThrow(TypeError);
  await expect(recoverRecordings({ store: createMemoryJournalStore(), onrecovered: 5 })).rejects.toThrow(/onrecovered must be a function/);
  await expect(recoverRecordings({ store: createMemoryJournalStore(), uploader: {} })).rejects.toThrow(/Uploader/);
  await expect(RecordingJournal.open({ store: {} })).rejects.toThrow(TypeError);
  const j = await RecordingJournal.open({ store: createMemoryJournalStore() });
  await expect(j.write(new Uint8Array(4), 10)).rejects.toThrow(RangeError);
  await expect(j.write('abc', 0)).rejects.toThrow(TypeError);
  await j.remove();
  await expect(j.write(new Uint8Array(4), 0)).rejects.toThrow(/closed/);
  await expect(createJournaledRecorder(null, { backend: 'mediarecorder' }, { store: createMemoryJournalStore() })).rejects.toThrow(/repair: false/);
});
