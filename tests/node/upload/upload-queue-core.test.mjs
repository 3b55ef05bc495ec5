// QueueCore on the wasm build: the chunked-upload and background-upload scenarios at small scale with simulated time,
// with real ChunkBuffer parts; bad input gives clear JS errors; memory stays flat.
import { init, ChunkBuffer, QueueCore, FAILURE_KINDS } from '../../../js-glue/index.js';
import { getUploadModule } from '../../../js-glue/upload.js';

beforeAll(() => init());

// Everything a test creates is disposed after it (Node 20 has no `using` declarations yet).
const live = [];
const track = (x) => { live.push(x); return x; };
afterEach(() => { while (live.length) live.pop().dispose(); });

const SHA = (i) => i.toString(16).padStart(64, '0');

function video(q, id, nParts, finished = true, size = 100) {
  q.enqueue({ id, kind: 'video', metadata: { fps: 30, codec: 'vp9' } });
  for (let i = 0; i < nParts; i++) q.addPart(id, i, size, SHA(i));
  if (finished) q.markRecordingFinished(id);
}

// Runs the queue with every request succeeding; returns "type:item[:part]" per action.
function drain(q, clock) {
  const log = [];
  for (let guard = 0; guard < 1000; guard++) {
    const a = q.nextAction(clock.now);
    if (a.type === 'wait') { clock.now = a.until; continue; }
    if (a.type === 'none') break;
    log.push(`${a.type}:${a.itemId}${a.type === 'uploadPart' ? `:${a.partIndex}` : ''}`);
    q.succeeded(a, a.type === 'init' ? `session-${a.itemId}` : a.type === 'uploadPart' ? '' : `url-${a.itemId}`);
  }
  return log;
}

test('a recording uploads ChunkBuffer parts while it records, then finalizes', () => {
  const q = track(new QueueCore({ jitter: 0 }));
  const cb = track(new ChunkBuffer({ minPartSize: 1000 }));
  q.enqueue({ id: 'rec', kind: 'video', metadata: '{"filename":"recording-1.webm"}' });
  const init = q.nextAction(0);
  expect(init).toEqual({ type: 'init', id: 1, itemId: 'rec', metadata: '{"filename":"recording-1.webm"}' });
  expect(q.nextAction(0)).toEqual({ type: 'busy', id: 1, busyWith: 'init', itemId: 'rec' });
  q.succeeded(init, 'abc123-def456');
  expect(q.nextAction(0)).toEqual({ type: 'none', reason: 'waitingForData' });
  const sent = [];
  const feed = (chunk) => { for (const p of cb.append(chunk)) q.addPart('rec', p); };
  feed(new Uint8Array(1));          // MediaRecorder's 1-byte first chunk
  feed(new Uint8Array(1500).fill(7));
  const a = q.nextAction(10);
  expect(a).toMatchObject({ type: 'uploadPart', itemId: 'rec', sessionId: 'abc123-def456', partIndex: 0, size: 1000 });
  expect(a.sha256).toMatch(/^[0-9a-f]{64}$/);
  feed(new Uint8Array(800).fill(9));  // more arrives while part 0 is in flight
  sent.push(a.partIndex);
  q.succeeded(a);
  const b = q.nextAction(20);
  sent.push(b.partIndex);
  q.succeeded(b);
  expect(q.nextAction(30)).toEqual({ type: 'none', reason: 'waitingForData' });
  feed(new Uint8Array(0));           // and the 0-byte last chunk
  for (const p of cb.flush()) q.addPart('rec', p);
  q.markRecordingFinished('rec');
  const c = q.nextAction(40);
  expect(c).toMatchObject({ type: 'uploadPart', partIndex: 2, size: 301 });
  q.succeeded(c);
  const fin = q.nextAction(50);
  expect(fin).toMatchObject({ type: 'finalize', itemId: 'rec', sessionId: 'abc123-def456', partCount: 3, size: 2301 });
  q.succeeded(fin, 'https://cdn.example/videos/abc123/recording.webm');
  expect(q.item('rec')).toMatchObject({ state: 'completed', result: 'https://cdn.example/videos/abc123/recording.webm',
    partCount: 3, confirmedParts: 3, size: 2301, uploadedBytes: 2301 });
  expect(q.summary()).toMatchObject({ completed: 1, percentage: 100, bytesTotal: 2301, bytesUploaded: 2301 });
});

test('server down: 1, 2, 4, 8, 16 s, then failed; retryFailed puts it back', () => {
  const q = track(new QueueCore({ jitter: 0 }));
  q.enqueue({ id: 'shot', kind: 'screenshot', size: 2048 });
  const clock = { now: 5000 };
  const waits = [];
  for (let k = 0; k < 5; k++) {
    const a = q.nextAction(clock.now);
    expect(a.type).toBe('uploadScreenshot');
    q.failed(a, 'server5xx', { now: clock.now, message: 'HTTP 503' });
    const w = q.nextAction(clock.now);
    waits.push(w.until - clock.now);
    clock.now = w.until;
  }
  expect(waits).toEqual([1000, 2000, 4000, 8000, 16000]);
  q.failed(q.nextAction(clock.now), 'server5xx', { now: clock.now, message: 'HTTP 500' });
  expect(q.item('shot')).toMatchObject({ state: 'failed', failures: 6, lastError: 'server5xx', lastErrorMessage: 'HTTP 500' });
  expect(q.summary().failed).toBe(1);
  expect(q.nextAction(clock.now)).toEqual({ type: 'none', reason: 'idle' });
  expect(q.retryFailed()).toBe(1);
  expect(q.nextAction(clock.now).type).toBe('uploadScreenshot');
});

test('jitter stays within +-20% and is the same for the same seed', () => {
  const run = (seed) => {
    const q = track(new QueueCore({ seed }));
    q.enqueue({ id: 'a', kind: 'screenshot', size: 1 });
    let now = 0;
    const waits = [];
    for (let k = 0; k < 5; k++) {
      q.failed(q.nextAction(now), 'timeout', { now });
      const w = q.nextAction(now);
      waits.push(w.until - now);
      now = w.until;
    }
    return waits;
  };
  const a = run(42);
  a.forEach((w, k) => {
    expect(w).toBeGreaterThanOrEqual(0.8 * 1000 * 2 ** k);
    expect(w).toBeLessThan(1.2 * 1000 * 2 ** k);
  });
  expect(run(42)).toEqual(a);
  expect(run(43)).not.toEqual(a);
});

test('network drop mid-upload: offline pauses without counting, online resumes at the same part', () => {
  const q = track(new QueueCore({ jitter: 0 }));
  video(q, 'v', 3);
  const clock = { now: 0 };
  q.succeeded(q.nextAction(0), 'sid');
  q.succeeded(q.nextAction(0));
  const p1 = q.nextAction(0);
  q.setOnline(false);
  q.failed(p1, 'network', { now: 0 });
  expect(q.item('v').failures).toBe(0);
  expect(q.nextAction(60000)).toEqual({ type: 'none', reason: 'offline' });
  expect(q.summary().isOnline).toBe(false);
  q.setOnline(true);
  expect(q.nextAction(60000)).toMatchObject({ type: 'uploadPart', partIndex: 1 });
  q.failed(q.peekAction(60000).id, 'offline', { now: 60000 });  // a failure of kind 'offline' also pauses
  expect(q.summary().isOnline).toBe(false);
  q.setOnline(true);
  clock.now = 60000;
  expect(drain(q, clock)).toEqual(['uploadPart:v:1', 'uploadPart:v:2', 'finalize:v']);
});

test('browser crash mid-upload: restore forgets the in-flight action and resumes at the first unconfirmed part', () => {
  const q = new QueueCore();
  video(q, 'v', 4);
  q.enqueue({ id: 's', kind: 'screenshot', size: 10, metadata: { note: 'caf\u00e9 "quoted"\n' } });
  q.succeeded(q.nextAction(0), 'sid');
  q.succeeded(q.nextAction(0));
  const p1 = q.nextAction(0);
  expect(p1.partIndex).toBe(1);
  const saved = q.serialize();
  q.dispose();  // the tab dies

  const r = track(QueueCore.restore(saved));
  expect(r.item('v')).toMatchObject({ state: 'pending', sessionId: 'sid', confirmedParts: 1 });
  expect(r.item('s').metadata).toBe('{"note":"caf\u00e9 \\"quoted\\"\\n"}');
  expect(() => r.succeeded(p1)).toThrow(/action 3 is not in flight/);
  const again = r.nextAction(1);
  expect(again).toMatchObject({ type: 'uploadPart', partIndex: 1 });
  expect(again.id).toBeGreaterThan(p1.id);
  r.succeeded(again);
  expect(drain(r, { now: 1 })).toEqual(['uploadPart:v:2', 'uploadPart:v:3', 'finalize:v', 'uploadScreenshot:s']);
  // Without anything in flight, the round trip is exact.
  expect(QueueCore.restore(r.serialize()).serialize()).toBe(r.serialize());
});

test('several items: a failing one does not block the others and is retried later (FIFO otherwise)', () => {
  const q = track(new QueueCore({ jitter: 0 }));
  video(q, 'v1', 1);
  video(q, 'v2', 1);
  q.enqueue({ id: 's3', kind: 'screenshot', size: 5 });
  const clock = { now: 0 };
  q.failed(q.nextAction(0), 'server5xx', { now: 0 });
  expect(q.summary().nextRetryAt).toBe(1000);
  expect(drain(q, clock)).toEqual(['init:v2', 'uploadPart:v2:0', 'finalize:v2', 'uploadScreenshot:s3',
    'init:v1', 'uploadPart:v1:0', 'finalize:v1']);
  expect(clock.now).toBe(1000);
});

test('401 asks for a token refresh, then retries without counting; a dead refresh token pauses for login', () => {
  const q = track(new QueueCore({ jitter: 0 }));
  q.enqueue({ id: 'a', kind: 'screenshot', size: 5 });
  q.failed(q.nextAction(0), 'unauthorized', { now: 0 });
  expect(q.summary().tokenRefreshNeeded).toBe(true);
  const r = q.nextAction(0);
  expect(r).toEqual({ type: 'refreshToken', id: 2 });
  q.succeeded(r);
  const again = q.nextAction(0);
  expect(again.type).toBe('uploadScreenshot');
  expect(q.item('a').failures).toBe(0);
  q.failed(again, 'unauthorized', { now: 0 });  // a second 401 right after a refresh counts
  expect(q.item('a').failures).toBe(1);
  q.failed(q.nextAction(0), 'unauthorized', { now: 0 });  // the refresh itself is rejected
  expect(q.nextAction(0)).toEqual({ type: 'none', reason: 'authRequired' });
  q.tokenUpdated();
  expect(q.nextAction(1000).type).toBe('uploadScreenshot');
});

test('an expired session re-initialises and resumes from what the server still has', () => {
  const q = track(new QueueCore({ jitter: 0 }));
  video(q, 'v', 3);
  q.succeeded(q.nextAction(0), 'old');
  q.succeeded(q.nextAction(0));
  q.succeeded(q.nextAction(0));
  q.failed(q.nextAction(0), 'sessionExpired', { now: 0 });
  expect(q.item('v')).toMatchObject({ sessionId: '', confirmedParts: 0, failures: 0 });
  const init = q.nextAction(0);
  expect(init.type).toBe('init');
  q.succeeded(init, 'new');
  q.serverHasParts('v', [0, 1]);
  expect(drain(q, { now: 0 })).toEqual(['uploadPart:v:2', 'finalize:v']);
});

test('summary and items report progress', () => {
  const q = track(new QueueCore({ jitter: 0 }));
  video(q, 'v', 4, false, 250);
  q.enqueue({ id: 's', kind: 'screenshot', size: 1000 });
  q.succeeded(q.nextAction(0), 'sid');
  q.succeeded(q.nextAction(0));
  q.nextAction(0);
  expect(q.summary()).toEqual({
    total: 2, pending: 1, initializing: 0, uploading: 1, finalizing: 0, completed: 0, failed: 0,
    bytesTotal: 2000, bytesUploaded: 250, percentage: 13, partsTotal: 4, partsConfirmed: 1,
    isOnline: true, hasSession: true, currentItemId: 'v', tokenRefreshNeeded: false, authRequired: false,
    busy: true, nextRetryAt: 0,
  });
  const items = q.items();
  expect(items.map((i) => [i.id, i.kind, i.state])).toEqual([['v', 'video', 'uploading'], ['s', 'screenshot', 'pending']]);
  expect(items[0].parts).toBeUndefined();
  expect(q.item('v').parts[1]).toEqual({ index: 1, size: 250, sha256: SHA(1), confirmed: false });
  expect(q.item('nope')).toBeUndefined();
});

test.each([
  [(q) => q.enqueue(null), TypeError, /item must be an object/],
  [(q) => q.enqueue({ id: '', kind: 'video' }), RangeError, /id must not be empty/],
  [(q) => q.enqueue({ id: 5, kind: 'video' }), TypeError, /id must be a string, got number/],
  [(q) => q.enqueue({ id: 'a', kind: 'audio' }), RangeError, /kind must be one of "screenshot", "video", got "audio"/],
  [(q) => q.enqueue({ id: 'a', kind: 'screenshot' }), TypeError, /size must be a number, got undefined/],
  [(q) => q.enqueue({ id: 'a', kind: 'screenshot', size: 0 }), RangeError, /size must be between 1/],
  [(q) => q.enqueue({ id: 'a', kind: 'video', size: 10 }), TypeError, /size is only for screenshots/],
  [(q) => q.enqueue({ id: 'a', kind: 'video', metadata: 7 }), TypeError, /metadata must be a JSON string or a plain object/],
  [(q) => q.enqueue({ id: 'x'.repeat(300), kind: 'video' }), RangeError, /item id is 300 bytes; the limit is 256/],
  [(q) => q.enqueue({ id: 'v', kind: 'video' }), Error, /item 'v' is already in the queue/],
  [(q) => q.addPart('v', 0, 10, SHA(0)), Error, /duplicate part index 0 for 'v'/],
  [(q) => q.addPart('v', 3, 10, SHA(3)), Error, /part index 3 of 'v' is out of order: expected 2/],
  [(q) => q.addPart('v', 2, 10, 'ABC'), TypeError, /sha256 must be 64 lowercase hex characters/],
  [(q) => q.addPart('v', 2, 0, SHA(2)), RangeError, /size must be between 1/],
  [(q) => q.addPart('v', -1, 10, SHA(2)), RangeError, /index must be between 0/],
  [(q) => q.addPart('nope', 0, 10, SHA(0)), Error, /no item 'nope' in the queue/],
  [(q) => { q.markRecordingFinished('v'); q.addPart('v', 2, 10, SHA(2)); }, Error, /part 2 of 'v' after markRecordingFinished/],
  [(q) => { q.markRecordingFinished('v'); q.markRecordingFinished('v'); }, Error, /already finished/],
  [(q) => q.serverHasParts('v', [0]), Error, /has no upload session yet/],
  [(q) => q.serverHasParts('v', 'all'), TypeError, /indices must be an array/],
  [(q) => q.succeeded(7), Error, /action 7 is not in flight \(nothing is\)/],
  [(q) => q.succeeded({}), TypeError, /action id must be a number/],
  [(q) => q.succeeded(q.nextAction(0), ''), Error, /init succeeded without a session id/],
  [(q) => q.failed(q.nextAction(0), 'teapot'), RangeError, /kind must be one of "network", "timeout"/],
  [(q) => q.failed(q.nextAction(0), 'network', { now: -1 }), RangeError, /now must be between 0/],
  [(q) => q.failed(q.nextAction(0), 'network', { retryAfterMs: 1.5 }), RangeError, /retryAfterMs must be an integer/],
  [(q) => q.nextAction(NaN), RangeError, /now must be a number, got NaN/],
  [(q) => { q.nextAction(0); q.remove('v'); }, Error, /remove: item 'v' has an action in flight/],
  [(q) => q.retryFailed('v'), Error, /item 'v' is pending, not failed/],
  [(q) => q.setOnline('yes'), TypeError, /online must be a boolean/],
  [(q) => q.restore('{"v":1,'), Error, /QueueCore.restore: upload state: JSON: expected a key string at offset 7/],
  [(q) => q.restore('{"v":9}'), Error, /unsupported version 9/],
  [(q) => q.restore(42), TypeError, /json must be a string/],
])('bad input throws a clear error %#', (fn, type, message) => {
  const q = track(new QueueCore());
  video(q, 'v', 2, false);
  let error;
  try { fn(q); } catch (e) { error = e; }
  expect(error).toBeInstanceOf(type);
  expect(error.message).toMatch(message);
});

test('bad options and use after dispose', () => {
  expect(() => new QueueCore({ maxRetry: 3 })).toThrow(/unknown option "maxRetry"/);
  expect(() => new QueueCore({ jitter: 2 })).toThrow(RangeError);
  expect(() => new QueueCore({ backoffBaseMs: 5000, backoffMaxMs: 1000 })).toThrow(/backoffMaxMs must be between 5000/);
  expect(() => new QueueCore({ seed: -1 })).toThrow(/seed must be between 0/);
  expect(() => QueueCore.restore('not json')).toThrow(/upload state: JSON: unexpected character 'n'/);
  const q = new QueueCore();
  const saved = q.serialize();
  q.dispose();
  q.dispose();
  expect(q.disposed).toBe(true);
  expect(() => q.nextAction(0)).toThrow(/QueueCore.nextAction: the queue has been disposed/);
  // A corrupt restore leaves the queue as it was.
  const r = track(QueueCore.restore(saved));
  r.enqueue({ id: 'keep', kind: 'screenshot', size: 3 });
  const before = r.serialize();
  for (let n = 0; n < before.length; n += 7) expect(() => r.restore(before.slice(0, n))).toThrow(/upload state/);
  expect(r.serialize()).toBe(before);
  expect(FAILURE_KINDS).toContain('checksumMismatch');
});

test('10,000 items through the queue (and 1,000 queues) leave the wasm heap flat', () => {
  const M = getUploadModule();
  const q = track(new QueueCore({ jitter: 0 }));
  let heapAfterWarmup = 0;
  for (let i = 0; i < 10000; i++) {
    const id = `item-${i}`;
    if (i % 2) q.enqueue({ id, kind: 'screenshot', size: 100 + i, metadata: { i } });
    else video(q, id, 2);
    if (i % 7 === 0) q.failed(q.nextAction(i), 'aborted', { now: i });
    drain(q, { now: i });
    q.serialize();
    q.summary();
    q.item(id);
    q.remove(id);
    if (i === 499) heapAfterWarmup = M.HEAPU8.length;
  }
  expect(q.summary().total).toBe(0);
  expect(M.HEAPU8.length).toBe(heapAfterWarmup);
  const before = M.HEAPU8.length;
  for (let i = 0; i < 1000; i++) {
    const r = new QueueCore();
    video(r, 'v', 3);
    r.nextAction(0);
    r.dispose();
  }
  expect(M.HEAPU8.length).toBe(before);
});
