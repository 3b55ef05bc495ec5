// Orphan recovery: an unfinished recording whose recorder went away (its tab closed or crashed; its
// recording lock is free) becomes what it stored: the parts, plus the chunks in its tail that no part
// holds yet, cut and hashed in wasm (wasm/upload/orphan_parts.h) exactly where the recorder's
// ChunkBuffer would have cut them. Then the recording is finished; the queue drops it when it holds no
// byte at all.
import { getUploadModule } from '../upload.js';
import { MAX_PART_SIZE } from './chunk-buffer.js';
import { alloc, takeBytes, throwLastError } from '../wasm-memory.js';

const TERMINAL = new Set(['completed', 'failed']);
const EMPTY_REASON = 'empty recording (its recorder went away before any byte was stored)';

/**
 * The parts the tail adds: [{ index, bytes, sha256 }] in the order to add them, and the recording's size.
 * @param {{minPartSize: number, firstPartLast: boolean, partCount: number, storedBytes: number}} layout
 * @param {{start: number, bytes: ArrayBuffer}[]} tail in the order the chunks were recorded
 */
export function cutOrphanParts(layout, tail) {
  const M = getUploadModule();
  const h = M.OrphanParts.create(layout);
  if (!h) throwLastError(M, 'cutOrphanParts');
  try {
    for (const { start, bytes } of tail) {
      const u8 = new Uint8Array(bytes);
      const ptr = alloc(M, Math.max(1, u8.byteLength), 'tail chunk');
      try {
        M.HEAPU8.set(u8, ptr);
        if (!h.add(start, ptr, u8.byteLength)) throwLastError(M, 'cutOrphanParts');
      } finally {
        M._free(ptr);
      }
    }
    if (!h.finish()) throwLastError(M, 'cutOrphanParts');
    const parts = [];
    for (let i = 0; i < h.readyCount(); i++) {
      parts.push({ index: h.readyIndex(i), sha256: h.readySha256(i), bytes: takeBytes(h.takeReadyBytes(i)) });
    }
    return { parts, recordingBytes: h.recordingBytes() };
  } finally {
    h.delete();
  }
}

/** Recovers every unfinished recording of the queue that no live recorder holds. */
export async function recoverOrphans(driver, ctx) {
  const unfinished = driver.core.items().filter((i) => i.kind === 'video' && !i.recordingFinished && !TERMINAL.has(i.state));
  let changed = false;
  for (const it of unfinished) {
    if (ctx.live.has(it.id)) continue;
    changed = (await ctx.leadership.whileRecordingUnheld(it.id, () => recover(driver, ctx, it.id))) || changed;
  }
  if (changed) await driver.drainInbox();
}

async function recover(driver, ctx, id) {
  const { store, events } = ctx;
  const item = driver.core.item(id);
  if (!item || item.recordingFinished) return false;
  // Parts (and their addPart events) are written in one transaction, so the inbox may hold a few more.
  await driver.drainInbox();
  const fresh = driver.core.item(id);
  if (!fresh || fresh.recordingFinished) return false;
  const info = (await store.itemInfo(id)) || {};
  const minPartSize = Number.isInteger(info.minPartSize) && info.minPartSize > 0 ? info.minPartSize : MAX_PART_SIZE;
  let cut = { parts: [], recordingBytes: fresh.size };
  try {
    cut = cutOrphanParts({ minPartSize, firstPartLast: fresh.firstPartLast, partCount: fresh.partCount, storedBytes: fresh.size },
      await store.tail(id));
  } catch (e) {
    events.emitError(e, 'recover', { itemId: id }); // the stored parts still upload
  }
  const ops = [...store.deleteTailOps(id)];
  for (const p of cut.parts) ops.push(...store.addPartOps(id, p));
  ops.push(store.eventOp({ type: 'finish', id, emptyReason: EMPTY_REASON }));
  await store.commit(ops);
  driver.inboxDirty = true;
  const hasPart0 = !fresh.firstPartLast || cut.parts.some((p) => p.index === 0);
  const parts = hasPart0 ? fresh.partCount - (fresh.firstPartLast ? 1 : 0) + cut.parts.length : 0;
  events.dispatchAll('recordingrecovered', { itemId: id, bytes: cut.recordingBytes, parts });
  return true;
}
