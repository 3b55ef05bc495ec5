// The uploader's stored queue and the decisions the C++ queue makes for it: a corrupt stored state keeps
// every item that still reads (and says so), an empty recording leaves the queue, a server's part list
// may name parts the item does not have, completed items are trimmed, item ids follow the C++ limit,
// and a transport's declared capabilities choose how a seekable recording is sent.
import { init, QueueCore } from '../../../js-glue/index.js';
import { createUploader } from '../../../js-glue/upload/uploader.js';
import { createMemoryStore } from '../../../js-glue/upload/store-memory.js';
import { uploadLimits } from '../../../js-glue/upload/limits.js';
import { cutOrphanParts } from '../../../js-glue/upload/orphan-recovery.js';
import { ChunkBuffer } from '../../../js-glue/upload/chunk-buffer.js';
import { once } from './uploader.helpers.mjs';

beforeAll(() => init());
const live = [];
afterEach(async () => {
  while (live.length) await live.pop()();
});

let seq = 0;
// A transport that answers at once and records what it was asked.
function fakeTransport(capabilities) {
  const calls = [];
  return {
    name: 'fake',
    supports: { video: true, screenshot: true },
    ...(capabilities ? { capabilities } : {}),
    calls,
    init: async (ctx) => { calls.push({ op: 'init', itemId: ctx.itemId, metadata: ctx.metadata }); return { sessionId: `s-${ctx.itemId}`, parts: [7, -1] }; },
    uploadPart: async (ctx) => { calls.push({ op: 'part', itemId: ctx.itemId, index: ctx.index }); return {}; },
    listParts: async () => [0, 99],
    finalize: async (ctx) => { calls.push({ op: 'finalize', itemId: ctx.itemId }); return { result: '' }; },
    uploadScreenshot: async (ctx) => { calls.push({ op: 'shot', itemId: ctx.itemId }); return { result: '{"url":"/u"}' }; },
  };
}

function uploader(o = {}) {
  const up = createUploader({
    name: `s${++seq}`, transport: o.transport || fakeTransport(), store: o.store || createMemoryStore(), locks: null, channel: null,
    onlineEvents: null, minPartSize: 1024, queue: { backoffBaseMs: 5, backoffMaxMs: 20, jitter: 0 }, persistStorage: false,
    ...o,
  });
  live.push(() => up.close());
  return up;
}

async function until(f, ms = 5000) {
  const t0 = Date.now();
  while (!(await f())) {
    if (Date.now() - t0 > ms) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('a corrupt stored queue keeps every item that still reads, keeps the text aside and says what was lost', async () => {
  const store = createMemoryStore();
  const offline = uploader({ store, isOnline: () => false, name: 'corrupt' });
  await offline.ready;
  for (const id of ['one', 'two', 'three']) await offline.enqueueScreenshot(new Uint8Array([1, 2, 3]), { id });
  await until(async () => JSON.parse((await store.get('meta', 'queue')) || '{"items":[]}').items.length === 3);
  await offline.close();

  const json = await store.get('meta', 'queue');
  const broken = json.replace('{"id":"two","kind":"screenshot"', '{"id":"two","kind":"photo"');
  await store.batch([{ type: 'put', store: 'meta', key: 'queue', value: broken }]);

  const transport = fakeTransport();
  const up = uploader({ store, transport, name: 'corrupt' });
  const errors = [];
  up.addEventListener('error', (e) => errors.push(e.detail));
  await up.ready;
  expect(errors).toHaveLength(1);
  expect(errors[0].where).toBe('restore');
  expect(errors[0].message).toMatch(/the stored upload queue did not read as a whole \(upload state: items\[1\]\.kind: unknown kind "photo"\); kept 2 item\(s\)/);
  expect(errors[0].itemsKept).toBe(2);
  await up.whenIdle();
  expect(transport.calls.map((c) => c.itemId)).toEqual(['one', 'three']);
  const kept = (await store.getAll('meta')).filter((e) => String(e.key).startsWith('queue.corrupt.'));
  expect(kept.map((e) => e.value)).toEqual([broken]);
});

test('QueueCore.restoreReadable: a truncated state keeps the items before the cut; an unreadable one gives an empty queue', async () => {
  const q = new QueueCore();
  for (const id of ['a', 'b', 'c']) q.enqueue({ id, kind: 'screenshot', size: 10 });
  const text = q.serialize();
  q.dispose();
  const cut = QueueCore.restoreReadable(text.slice(0, text.indexOf('{"id":"c"') + 12));
  expect(cut.error).toMatch(/^upload state: JSON: /);
  expect(cut.queue.items().map((i) => i.id)).toEqual(['a', 'b']);
  expect(cut.itemsKept).toBe(2);
  const none = QueueCore.restoreReadable('not json');
  expect(none.queue.items()).toEqual([]);
  expect(none.error).toMatch(/unexpected character 'n'/);
  const whole = QueueCore.restoreReadable(text);
  expect([whole.error, whole.itemsKept, whole.dropped]).toEqual(['', 3, []]);
  for (const r of [cut, none, whole]) r.queue.dispose();
  expect(() => QueueCore.restoreReadable(42)).toThrow(/json must be a string/);
});

test('the queue decides: an empty recording leaves, a part list with parts the item lacks is tolerated, completed items are trimmed', () => {
  const q = new QueueCore({ keepCompleted: 1 });
  q.enqueue({ id: 'empty', kind: 'video' });
  expect(q.finishRecording('empty')).toBe('removed');
  expect(q.item('empty')).toBeUndefined();
  const cb = new ChunkBuffer({ minPartSize: 4 });
  const parts = [...cb.append(new Uint8Array(10)), ...cb.flush()];
  cb.dispose();
  q.enqueue({ id: 'v', kind: 'video' });
  for (const p of parts) q.addPart('v', p);
  expect(q.finishRecording('v')).toBe('finished');
  expect(q.acceptServerPartList('v', [0])).toBe(1); // no session yet: the list is ignored
  const init = q.nextAction(0);
  q.succeeded(init, 'sid');
  expect(q.acceptServerPartList('v', [2, 5, 2, -3])).toBe(3);
  expect(q.item('v').parts.map((p) => p.confirmed)).toEqual([false, false, true]);
  expect(() => q.acceptServerPartList('v', [1.5])).toThrow(/indices\[0\] must be an integer/);
  expect(() => new QueueCore({ keepCompleted: -1 })).toThrow(/keepCompleted must be between 0/);
  for (let i = 0; i < 3; i++) q.succeeded(q.nextAction(0)); // parts 0 and 1, then finalize
  q.enqueue({ id: 's', kind: 'screenshot', size: 3 });
  q.succeeded(q.nextAction(0), 'url');
  expect(q.items().map((i) => [i.id, i.state])).toEqual([['s', 'completed']]);
  q.dispose();
});

test('an empty recording leaves the queue through the uploader, with its reason', async () => {
  const up = uploader();
  await up.ready;
  const removed = once(up, 'itemremoved');
  const rec = await up.startRecording({ filename: 'nothing.webm' });
  await rec.stop();
  expect(await removed).toEqual({ itemId: rec.itemId, reason: 'empty recording' });
  await up.whenIdle();
  expect(up.items()).toEqual([]);
  expect(await up.store.getAll('items')).toEqual([]);
});

test('item ids: the C++ limit in UTF-8 bytes, one message for every entry point', async () => {
  const up = uploader();
  await up.ready;
  const max = uploadLimits().maxItemIdBytes;
  expect(max).toBe(256);
  await expect(up.enqueueScreenshot(new Uint8Array([1]), { id: 'a'.repeat(max) })).resolves.toBe('a'.repeat(max));
  await expect(up.enqueueScreenshot(new Uint8Array([1]), { id: 'b'.repeat(max + 1) }))
    .rejects.toThrow(new RangeError('enqueueScreenshot: id is 257 bytes as UTF-8; the upload queue takes at most 256'));
  await expect(up.startRecording({}, { id: 'é'.repeat(129) })).rejects.toThrow(/startRecording: id is 258 bytes as UTF-8/);
  await expect(up.startRecording({}, { id: '' })).rejects.toThrow(TypeError);
  await expect(up.enqueueScreenshot(new Uint8Array([1]), { metadata: { s: 'é'.repeat(40000) } }))
    .rejects.toThrow(/metadata is 80008 bytes as JSON; the limit is 65536/);
  await up.whenIdle();
});

test('a seekable recording: part 0 last where the transport takes parts out of order, the server finishes it where not', async () => {
  const outOfOrder = fakeTransport({ appendOnly: false, partsOutOfOrder: true });
  const a = uploader({ transport: outOfOrder });
  await a.ready;
  const r1 = await a.startRecording({ filename: 'a.webm' }, { seekable: true });
  expect(r1.seekable).toBe(true);
  await r1.append(new Uint8Array(3000).fill(1));
  await r1.stop();
  await a.whenIdle();
  expect(outOfOrder.calls.filter((c) => c.op === 'part').map((c) => c.index)).toEqual([1, 2, 0]);
  expect(outOfOrder.calls[0].metadata.capturekitFinalize).toBeUndefined();

  const appendOnly = fakeTransport({ appendOnly: true, partsOutOfOrder: false });
  const b = uploader({ transport: appendOnly });
  await b.ready;
  const r2 = await b.startRecording({ filename: 'b.webm' }, { seekable: true });
  expect(r2.seekable).toBe(false);
  await r2.append(new Uint8Array(3000).fill(2));
  await r2.stop();
  await b.whenIdle();
  expect(appendOnly.calls[0].metadata.capturekitFinalize).toBe('seekable');
  expect(appendOnly.calls.filter((c) => c.op === 'part').map((c) => c.index)).toEqual([0, 1, 2]);
});

test('cutOrphanParts cuts a stored tail where the recorder would have cut it', () => {
  const all = new Uint8Array(2500).map((_, i) => i * 7);
  const cb = new ChunkBuffer({ minPartSize: 1000 });
  const want = [...cb.append(all), ...cb.flush()];
  cb.dispose();
  const { parts, recordingBytes } = cutOrphanParts({ minPartSize: 1000, firstPartLast: false, partCount: 1, storedBytes: 1000 },
    [{ start: 900, bytes: all.slice(900, 2000).buffer }, { start: 2000, bytes: all.slice(2000).buffer }]);
  expect(recordingBytes).toBe(2500);
  expect(parts.map((p) => [p.index, p.sha256])).toEqual(want.slice(1).map((p) => [p.index, p.sha256]));
  expect(() => cutOrphanParts({ minPartSize: 0, firstPartLast: false, partCount: 0, storedBytes: 0 }, [])).toThrow(/minPartSize/);
});
