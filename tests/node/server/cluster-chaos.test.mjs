// The chaos run against three reference servers (bench/chaos.js --cluster, small): Chromium tabs sharing
// one IndexedDB upload queue, behind haproxy (round robin) in front of three server processes whose state
// is in one PostgreSQL and whose bytes are in one shared data directory; one server is SIGKILLed when half
// the captures are queued and started again on its port. Every capture arrives once, byte-identical, in
// order, and the client never had to find and delete a late copy (Idempotency-Keys did that work).
import { runChaos } from '../../../bench/chaos.js';

test('20 captures, 2 tabs, a reload, an offline toggle, one of three servers SIGKILLed and restarted: all byte-identical, none twice, no copy deleted, order kept', async () => {
  const r = await runChaos({ cluster: true, captures: 20, reloads: 1, offline: 1, tabs: 2, seed: 11, log: (m) => console.log(`chaos: ${m}`) });
  expect(r.killed.filter((k) => k.signal)).toEqual([{ server: 'b', signal: 'SIGKILL', downMs: 1500 }]);
  expect(r.killed.filter((k) => k.uncaught)).toEqual([]);
  expect({
    arrived: r.arrived, identical: r.identical, duplicates: r.duplicateDetails, removedCopies: r.removedCopies, extra: r.extra,
    orderViolations: r.orderViolations, failedAtEnd: r.failedAtEnd, pageErrors: r.pageErrors,
  }).toEqual({ arrived: 20, identical: 20, duplicates: [], removedCopies: 0, extra: 0, orderViolations: 0, failedAtEnd: 0, pageErrors: [] });
}, 600000);
