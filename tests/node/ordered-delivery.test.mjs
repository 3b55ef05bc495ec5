// OrderedDelivery: the one place where VideoWriter, WebmMuxer and the recorder hand streamed ranges to
// the app's ondata. Its callers' tests cover it through real encodes; these pin the edge cases.
import { OrderedDelivery } from '../../js-glue/ordered-delivery.js';

const bytes = (n, v = n) => new Uint8Array(n).fill(v);
const tick = () => new Promise((r) => setTimeout(r, 0));

test('synchronous ondata: every range at once, in order', () => {
  const calls = [];
  const d = new OrderedDelivery((b, off) => { calls.push([b.length, off]); }, () => { throw new Error('no failure expected'); });
  d.push(bytes(3), 0);
  d.push(bytes(5), 3);
  d.push(bytes(2), 0);
  expect(calls).toEqual([[3, 0], [5, 3], [2, 0]]);
  expect(d.pendingBytes).toBe(0);
});

test('a promise from ondata holds the next call back until it settles', async () => {
  const calls = [];
  const releases = [];
  const d = new OrderedDelivery((b, off) => {
    calls.push(off);
    return new Promise((r) => releases.push(r));
  }, () => { throw new Error('no failure expected'); });
  d.push(bytes(4), 0);
  d.push(bytes(6), 4);
  d.push(bytes(1), 10);
  expect(calls).toEqual([0]);
  expect(d.pendingBytes).toBe(11);
  releases[0]();
  await tick();
  expect(calls).toEqual([0, 4]);
  expect(d.pendingBytes).toBe(7);
  let settled = false;
  const s = d.settled().then(() => { settled = true; });
  releases[1]();
  await tick();
  expect(settled).toBe(false); // the third range is now under way
  releases[2]();
  await s;
  expect(calls).toEqual([0, 4, 10]);
  expect(d.pendingBytes).toBe(0);
});

test('a throw stops delivery, drops the queue and is reported once', async () => {
  const failures = [];
  const calls = [];
  let release;
  const d = new OrderedDelivery((b, off) => {
    calls.push(off);
    if (off === 0) return new Promise((r) => { release = r; });
    throw new Error('disk full');
  }, (e) => failures.push(e.message));
  d.push(bytes(2), 0);
  d.push(bytes(2), 2);
  d.push(bytes(2), 4);
  release();
  await d.settled();
  expect(calls).toEqual([0, 2]);
  expect(failures).toEqual(['disk full']);
  expect(d.stopped).toBe(true);
  expect(d.pendingBytes).toBe(0);
  d.push(bytes(2), 6);
  expect(calls).toEqual([0, 2]);
});

test('a rejection stops delivery and is reported once', async () => {
  const failures = [];
  const d = new OrderedDelivery(async (b, off) => {
    if (off === 2) throw new Error('quota');
  }, (e) => failures.push(e.message));
  d.push(bytes(2), 0);
  d.push(bytes(2), 2);
  d.push(bytes(2), 4);
  await d.settled();
  await tick();
  expect(failures).toEqual(['quota']);
  expect(d.pendingBytes).toBe(0);
});

test.each(['resolves', 'rejects'])('stop() while a call is under way: when it later %s, nothing more is delivered or reported and pendingBytes stays 0', async (how) => {
  const failures = [];
  const calls = [];
  let settle;
  const d = new OrderedDelivery((b, off) => {
    calls.push(off);
    return new Promise((res, rej) => { settle = how === 'resolves' ? res : () => rej(new Error('late')); });
  }, (e) => failures.push(e));
  d.push(bytes(8), 0);
  d.push(bytes(8), 8);
  d.stop();
  expect(d.pendingBytes).toBe(0);
  settle();
  await d.settled();
  expect(calls).toEqual([0]);
  expect(failures).toEqual([]);
  expect(d.pendingBytes).toBe(0);
});
