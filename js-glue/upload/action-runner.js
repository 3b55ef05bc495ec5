// What each of the UploadQueue's actions does: init / uploadPart / finalize / uploadScreenshot /
// refreshToken with the transport and the stored bytes, then succeeded() or failed() back to the queue,
// the storage changes the outcome brings (a confirmed part's bytes with retain 'confirmed', a completed
// item's data unless retain is 'keep') persisted with the state, and the events apps see.
import { UploadError } from './transports/http.js';
import { parseMetadata } from './limits.js';

/** Runs action `a` (from driver.core.nextAction) to its end; never throws for a failed upload. */
export async function performAction(driver, ctx, a) {
  const { o, store, events, token } = ctx;
  const core = driver.core;
  const controller = new AbortController();
  driver.inflight = { controller, action: a };
  ctx.publish();
  const ops = [];
  const after = [];
  let failedWith = null;
  try {
    const info = a.itemId ? (await store.itemInfo(a.itemId)) || {} : {};
    const rc = await driver.requestContext(a.size || 0, controller.signal);
    const t = o.transport;
    switch (a.type) {
      case 'init': {
        const item = core.item(a.itemId);
        const r = await t.init({ ...rc, itemId: a.itemId, metadata: parseMetadata(a.metadata), recordingFinished: item.recordingFinished, totalSize: item.size });
        if (!r || typeof r.sessionId !== 'string' || !r.sessionId) throw new UploadError('malformed', 'init: the transport returned no session id');
        core.succeeded(a, r.sessionId);
        if (Array.isArray(r.parts) && r.parts.length) core.acceptServerPartList(a.itemId, r.parts);
        break;
      }
      case 'uploadPart': {
        const rec = await store.part(a.itemId, a.partIndex);
        if (!rec) throw new UploadError('client4xx', `part ${a.partIndex} of ${a.itemId} is no longer stored locally (retain: '${o.retain}')`);
        const item = core.item(a.itemId);
        const partSizes = item.parts.map((p) => p.size);
        let offset = 0;
        for (let i = 0; i < a.partIndex; i++) offset += partSizes[i];
        const bytes = new Uint8Array(rec.bytes);
        const base = item.uploadedBytes;
        await t.uploadPart({
          ...rc, itemId: a.itemId, sessionId: a.sessionId, index: a.partIndex, bytes, sha256: a.sha256, size: bytes.byteLength,
          offset, partSizes, totalSize: item.size, recordingFinished: item.recordingFinished,
          onProgress: (loaded, total) => {
            // The request body has protocol framing around the part: report the share of the part's bytes.
            const n = Math.round(bytes.byteLength * (total > 0 ? Math.min(1, loaded / total) : 1));
            events.dispatchAll('uploadprogress', { itemId: a.itemId, partIndex: a.partIndex, loaded: n, total: bytes.byteLength, itemBytesUploaded: base + n, itemBytesTotal: item.size });
          },
        });
        core.succeeded(a);
        if (o.retain === 'confirmed') ops.push(store.deletePartOp(a.itemId, a.partIndex));
        after.push(() => events.dispatchAll('partuploaded', { itemId: a.itemId, partIndex: a.partIndex, size: bytes.byteLength }));
        break;
      }
      case 'finalize': {
        const item = core.item(a.itemId);
        const r = await t.finalize({
          ...rc, itemId: a.itemId, sessionId: a.sessionId, partCount: a.partCount, partSizes: item.parts.map((p) => p.size),
          totalSize: item.size, metadata: parseMetadata(a.metadata), finalMetadata: info.finalMetadata || {},
        });
        core.succeeded(a, (r && r.result) || '');
        completed(ctx, a.itemId, 'video', (r && r.result) || '', ops, after);
        break;
      }
      case 'uploadScreenshot': {
        const shot = await store.screenshot(a.itemId);
        if (!shot) throw new UploadError('client4xx', `the bytes of screenshot ${a.itemId} are no longer stored locally`);
        const maybeSent = !!info.maybeSent;
        const sentAt = info.sentAt || 0;
        // Recorded before the first byte leaves: if the answer is lost (or the tab dies), the next attempt
        // asks the server first (after the last attempt had time to land) instead of storing it twice.
        await store.commit([store.itemInfoOp(a.itemId, { ...info, maybeSent: true, sentAt: Date.now() })]);
        const saveItemData = async (data) => {
          const cur = (await store.itemInfo(a.itemId)) || info;
          await store.commit([store.itemInfoOp(a.itemId, { ...cur, maybeSent: true, transport: { ...(cur.transport || {}), ...data } })]);
        };
        const r = await t.uploadScreenshot({
          ...rc, itemId: a.itemId, bytes: new Uint8Array(shot.bytes), filename: shot.filename, mimeType: shot.mimeType,
          metadata: parseMetadata(a.metadata), maybeSent, sentAt, itemData: info.transport || {}, saveItemData,
          onProgress: (loaded, total) => {
            const size = shot.bytes.byteLength;
            const n = Math.round(size * (total > 0 ? Math.min(1, loaded / total) : 1));
            events.dispatchAll('uploadprogress', { itemId: a.itemId, partIndex: -1, loaded: n, total: size, itemBytesUploaded: n, itemBytesTotal: size });
          },
        });
        core.succeeded(a, (r && r.result) || '');
        completed(ctx, a.itemId, 'screenshot', (r && r.result) || '', ops, after);
        break;
      }
      case 'refreshToken': {
        if (!o.refreshToken) {
          throw new UploadError('unauthorized', 'the server rejected the token and there is no refreshToken() to get another');
        }
        const tok = await o.refreshToken();
        if (typeof tok !== 'string' || !tok) throw new UploadError('unauthorized', 'refreshToken() gave no token');
        token.set(tok);
        core.succeeded(a);
        break;
      }
      default:
        throw new Error(`capturekit: unknown action ${a.type}`);
    }
  } catch (e) {
    failedWith = failed(ctx, core, a, e, controller.signal.aborted, after);
  } finally {
    driver.inflight = null;
  }
  try {
    await driver.persist(ops);
  } catch (e) {
    events.emitError(e, 'persist');
  }
  for (const f of after) f();
  ctx.publish();
  if (failedWith && failedWith.kind === 'offline') ctx.sync.register();
}

// A completed item's local data goes unless retain is 'keep' (the queue itself trims old completed items).
function completed(ctx, itemId, kind, result, ops, after) {
  if (ctx.o.retain !== 'keep') ops.push(...ctx.store.removeItemOps(itemId));
  let parsed = null;
  try { parsed = result ? JSON.parse(result) : null; } catch { parsed = null; }
  after.push(() => ctx.events.dispatchAll('itemcompleted', { itemId, kind, result: parsed ?? result }));
}

// Reports a failure to the queue (with the server's part list when the error carries one) and queues
// the events; returns the UploadError.
function failed(ctx, core, a, e, aborted, after) {
  const { o, events } = ctx;
  const err = e instanceof UploadError ? e
    : aborted ? new UploadError('aborted', String(e && e.message || e), { cause: e })
      : new UploadError('malformed', `unexpected error: ${e && e.message || e}`, { cause: e });
  if (!(e instanceof UploadError) && !aborted) events.emitError(e, a.type);
  const before = a.itemId ? core.item(a.itemId)?.state : null;
  core.failed(a, err.kind, { now: o.now(), retryAfterMs: Math.max(0, Math.round(err.retryAfterMs || 0)), message: String(err.message).slice(0, 1000) });
  if (Array.isArray(err.serverParts) && a.itemId && core.item(a.itemId)) {
    try { core.acceptServerPartList(a.itemId, err.serverParts); } catch (x) { events.emitError(x, 'serverHasParts'); }
  }
  const it = a.itemId ? core.item(a.itemId) : null;
  const detail = { itemId: a.itemId || null, action: a.type, partIndex: a.partIndex ?? -1, kind: err.kind, status: err.status, message: err.message, failures: it ? it.failures : 0 };
  after.push(() => events.dispatchAll('uploaderror', detail));
  if (it && it.state === 'failed' && before !== 'failed') after.push(() => events.dispatchAll('itemfailed', { ...detail, state: 'failed' }));
  if (a.type === 'refreshToken' && core.summary().authRequired) after.push(() => events.dispatchAll('authrequired', { message: err.message }));
  return err;
}
