// A small chaos run (the full one is `npm run chaos`, bench/chaos.js): two Chromium tabs share one
// IndexedDB queue, 30% of protocol requests fail in every way the reference server can inject, the
// network drops, tabs reload mid-upload. Every capture must arrive byte-identical, once, in order.
import { runChaos } from '../../bench/chaos.js';

test('24 captures, 30% request faults, 2 reloads, 2 offline toggles, 2 tabs: all byte-identical, none twice, order kept', async () => {
  const r = await runChaos({ captures: 24, rate: 0.3, reloads: 2, offline: 2, tabs: 2, seed: 7, debug: true });
  expect(r.faultsInjected).toBeGreaterThan(5);
  expect({ arrived: r.arrived, identical: r.identical, duplicates: r.duplicateDetails, extra: r.extra, orderViolations: r.orderViolations, pageErrors: r.pageErrors })
    .toEqual({ arrived: 24, identical: 24, duplicates: [], extra: 0, orderViolations: 0, pageErrors: [] });
}, 300000);
