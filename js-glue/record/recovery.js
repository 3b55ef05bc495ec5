// recoverRecordings(): called on page load, finds the recording journals (journal.js) that were never
// stopped — the tab crashed, was killed or reloaded — and turns each into a valid, seekable WebM
// (makeSeekable with allowTruncated: every complete frame up to the last stored range; Duration, Cues,
// SeekHead, known sizes), checks that the result parses (frames > 0, duration > 0), tells the app, and
// hands it to the uploader like any other recording.
//
//   const results = await recoverRecordings({ uploader, onrecovered(e) { if (!wanted(e)) e.discard(); } });
//
// Stored ranges are checked in seq order (contiguous seq, length, CRC-32, offsets without gaps); the first
// missing or corrupt range ends what is used: that range and every later one are reported in
// droppedRanges. A journal with no usable WebM (no EBML header, no complete frame, repair failed) is
// reported to onunrecoverable and kept until the app calls discard() on that report.
import { makeSeekable } from '../video/repair.js';
import { inspectWebm } from './frame-metadata.js';
import { crc32, defaultJournalStore, journalLockName, liveJournals } from './journal.js';

const W = 'recoverRecordings';
const EBML_MAGIC = [0x1A, 0x45, 0xDF, 0xA3];

/** Reads a journal's ranges: the usable prefix (as Blob parts, or one patched buffer if complete) and the dropped rest. */
async function readJournal(store, state) {
  const parts = [];
  const dropped = [];
  let expectSeq = 0;
  let size = 0;
  let broken = null;
  let patched = state.complete ? new Uint8Array(state.size) : null;
  let patches = 0;
  let head = null;
  await store.ranges(state.id, (seq, r) => {
    const len = r && r.bytes ? r.bytes.byteLength : 0;
    const offset = r ? r.offset : undefined;
    if (!broken) {
      let why = null;
      if (seq !== expectSeq) {
        broken = `range ${expectSeq} is missing`;
        for (let s = expectSeq; s < seq; s++) dropped.push({ seq: s, offset: null, bytes: 0, reason: 'missing' });
      } else if (!r || !(r.bytes instanceof ArrayBuffer) || len !== r.length) why = `stored with ${len} bytes, ${r ? r.length : '?'} expected`;
      else if (crc32(new Uint8Array(r.bytes)) !== r.crc) why = 'corrupt (CRC-32 mismatch)';
      else if (!Number.isInteger(offset) || offset > size || offset < 0) why = `offset ${offset} leaves a gap after ${size} bytes`;
      if (why) {
        broken = `range ${seq} is ${why}`;
        dropped.push({ seq, offset: Number.isInteger(offset) ? offset : null, bytes: len, reason: why });
        return;
      }
    }
    if (broken) {
      dropped.push({ seq, offset: Number.isInteger(offset) ? offset : null, bytes: len, reason: 'after a missing or corrupt range' });
      return;
    }
    expectSeq++;
    const u8 = new Uint8Array(r.bytes);
    if (patched) {
      patched.set(u8, offset);
      if (offset < size) patches++;
      size = Math.max(size, offset + len);
    } else if (offset < size) {
      patches++; // a header patch from finalize: the unpatched live stream is valid on its own
    } else {
      if (!head) head = u8.subarray(0, 4);
      parts.push(typeof Blob === 'function' ? new Blob([u8]) : u8);
      size += len;
    }
  });
  if (!broken && state.ranges > expectSeq) {
    broken = `ranges ${expectSeq}..${state.ranges - 1} are missing`;
    for (let s = expectSeq; s < state.ranges; s++) dropped.push({ seq: s, offset: null, bytes: 0, reason: 'missing' });
  }
  if (patched) {
    patched = patched.subarray(0, size);
    head = patched.subarray(0, 4);
  }
  return { input: patched ? [patched] : parts, size, dropped, broken, patches, head };
}

function isWebmHead(head) {
  return !!head && head.length === 4 && EBML_MAGIC.every((b, i) => head[i] === b);
}

const BUSY = Symbol('busy');
// Runs fn while holding the journal's Web Lock (held by the recording tab while it records, and by the
// tab recovering it, so two tabs loading at once do not both recover it); BUSY when another tab holds it.
function withJournalLock(id, fn) {
  const locks = typeof navigator === 'object' && navigator && navigator.locks;
  if (!locks) return fn();
  return locks.request(journalLockName(id), { ifAvailable: true }, (lock) => (lock ? fn() : BUSY));
}

/**
 * Recovers every journal that was never stopped (and complete ones that were kept and not handed over).
 * @param {object} [options]
 * @param {object} [options.store] the journal store (default: IndexedDB, or the in-memory one in Node)
 * @param {object} [options.uploader] an Uploader: recovered recordings are queued with startRecording/append/stop
 * @param {(e: object) => (boolean|void|Promise<boolean|void>)} [options.onrecovered] gets { recordingId,
 *   duration (s), frames, truncated, droppedRanges, droppedBytes, bytes, blob, metadata, journal (its state),
 *   discard(), keep() }; discard() or returning false: not uploaded, journal deleted; keep(): not uploaded,
 *   journal kept
 * @param {(e: object) => void} [options.onunrecoverable] gets { recordingId, reason, droppedRanges, journal,
 *   discard() }; the journal is deleted only if discard() is called
 * @param {object} [options.uploadMetadata] extra init fields for the upload
 * @returns {Promise<Array<object>>} one entry per journal looked at: { recordingId, status: 'uploaded' |
 *   'recovered' | 'discarded' | 'kept' | 'unrecoverable' | 'busy', ... }
 */
export async function recoverRecordings(options = {}) {
  if (options === null || typeof options !== 'object') throw new TypeError(`${W}: options must be an object`);
  const { store = defaultJournalStore(), uploader = null, onrecovered, onunrecoverable, uploadMetadata = {} } = options;
  for (const f of ['onrecovered', 'onunrecoverable']) {
    if (options[f] !== undefined && typeof options[f] !== 'function') throw new TypeError(`${W}: options.${f} must be a function`);
  }
  if (uploader !== null && typeof uploader.startRecording !== 'function') throw new TypeError(`${W}: options.uploader must be an Uploader`);
  await store.open();
  const results = [];
  for (const state of await store.states()) {
    const id = state.id;
    const r = liveJournals.has(id) ? BUSY : await withJournalLock(id, async () => {
      // another tab may have recovered it meanwhile: read the state again under the lock
      const now = (await store.states()).find((x) => x.id === id);
      return now ? recoverOne(store, now, { uploader, onrecovered, onunrecoverable, uploadMetadata }) : null;
    });
    if (r === BUSY) results.push({ recordingId: id, status: 'busy' });
    else if (r) results.push(r);
  }
  return results;
}

async function recoverOne(store, state, { uploader, onrecovered, onunrecoverable, uploadMetadata }) {
  const id = state.id;
  const t0 = typeof performance === 'object' ? performance.now() : Date.now();
  const j = await readJournal(store, state);
  const droppedBytes = j.dropped.reduce((n, d) => n + d.bytes, 0);
  const unrecoverable = async (reason) => {
    let discard = false;
    const e = { recordingId: id, reason, droppedRanges: j.dropped, droppedBytes, journal: state, discard() { discard = true; } };
    if (onunrecoverable) await onunrecoverable(e);
    if (discard) await store.remove(id);
    return { recordingId: id, status: 'unrecoverable', reason, droppedRanges: j.dropped, deleted: discard };
  };
  if (j.size === 0) return unrecoverable(j.broken ? `no usable bytes: ${j.broken}` : 'the recording stopped before its first byte was stored');
  if (!isWebmHead(j.head)) return unrecoverable('the stored bytes do not start with a WebM (EBML) header');
  let blob;
  let info;
  try {
    blob = await makeSeekable(j.input, { allowTruncated: true, type: state.recorder?.mimeType || 'video/webm', oninfo: (i) => { info = i; } });
  } catch (e) {
    return unrecoverable(`the stored bytes are not a recoverable WebM: ${e.message}`);
  }
  let summary;
  try {
    summary = await inspectWebm(blob, { frames: false });
  } catch (e) {
    return unrecoverable(`the recovered file does not parse: ${e.message}`);
  }
  const duration = summary.duration ?? info?.duration ?? 0;
  if (!(summary.videoFrames > 0) || !(duration > 0) || summary.truncated) {
    return unrecoverable(`the recovered file holds no playable video (${summary.videoFrames} frames, duration ${duration})`);
  }
  const ms = (typeof performance === 'object' ? performance.now() : Date.now()) - t0;
  let decision = 'upload';
  const event = {
    type: 'recordingrecovered',
    recordingId: id,
    duration,
    frames: summary.videoFrames,
    framesJournaled: state.frames,
    truncated: !!(info?.truncated) || j.dropped.length > 0,
    droppedRanges: j.dropped,
    droppedBytes: droppedBytes + (info?.droppedBytes || 0),
    bytes: blob.size,
    journaledBytes: j.size,
    blob,
    metadata: state.metadata,
    journal: state,
    recoveryMs: ms,
    discard() { decision = 'discard'; },
    keep() { decision = 'keep'; },
  };
  if (onrecovered) {
    const r = await onrecovered(event);
    if (r === false && decision === 'upload') decision = 'discard';
  }
  const base = { recordingId: id, duration, frames: event.frames, truncated: event.truncated, droppedRanges: j.dropped, bytes: blob.size, blob, recoveryMs: ms };
  if (decision === 'keep') return { ...base, status: 'kept' };
  if (decision === 'discard') {
    await store.remove(id);
    return { ...base, status: 'discarded' };
  }
  if (!uploader) {
    await store.remove(id);
    return { ...base, status: 'recovered' };
  }
  const md = state.metadata || {};
  const rec = await uploader.startRecording({
    filename: md.filename || `recovered-${id}.webm`, ...md, ...uploadMetadata,
    recovered: true, journalId: id, mimeType: blob.type || 'video/webm',
  });
  await rec.append(blob);
  await rec.stop({ duration });
  await store.remove(id);
  return { ...base, status: 'uploaded', itemId: rec.itemId };
}
