// web/upload-sw.js in Chromium: captures queued while offline are uploaded by the service worker's
// Background Sync after the page is closed (the sync event is dispatched through the DevTools protocol,
// as Chromium would when connectivity returns). The worker is bundled with esbuild, as an app bundles
// its service worker; it runs the same Uploader against the page's IndexedDB.
import * as esbuild from 'esbuild';
import { fileURLToPath } from 'node:url';
import { launchBrowser } from './browser.mjs';
import { startBrowserServer, verifyServer, realWebmBytes, sha256 } from '../node/upload/uploader.helpers.mjs';

let browser;
let srv;

beforeAll(async () => {
  const out = await esbuild.build({
    entryPoints: [fileURLToPath(new URL('../../web/upload-sw.js', import.meta.url))],
    bundle: true, format: 'esm', platform: 'browser', write: false, logLevel: 'silent',
  });
  const bundle = out.outputFiles[0].text;
  srv = await startBrowserServer({
    routes: { '/upload-sw.js': (request, reply) => reply.type('text/javascript; charset=utf-8').header('cache-control', 'no-store').send(bundle) },
  });
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await srv?.close();
});

async function waitFor(fn, { timeoutMs = 60000, what = 'condition' } = {}) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

test('offline captures finish uploading in the service worker after the page is closed (Background Sync)', async () => {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(srv.page({ name: 'bgsync', sw: '/upload-sw.js?wasm=/dist/capturekit-upload.wasm', part: String(128 * 1024) }));
    await page.evaluate(() => window.appReady);
    expect(await page.evaluate(() => 'sync' in app.registration)).toBe(true);

    await context.setOffline(true);
    const shots = [];
    for (let i = 1; i <= 3; i++) shots.push(await page.evaluate((s) => app.shot(s), 50 + i));
    const webm = realWebmBytes();
    const fed = await page.evaluate((b64) => app.feed(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)), 64000), webm.toString('base64'));
    expect(fed.sha256).toBe(sha256(webm));
    await page.waitForFunction(() => app.uploader.getProgress().state === 'offline');
    const tags = await page.evaluate(() => app.registration.sync.getTags());
    expect(tags).toContain('capturekit-upload:bgsync');
    await page.close(); // nothing was uploaded; the page is gone
    expect((await srv.api('/api/captures')).count).toBe(0);
    await context.setOffline(false);

    // Chromium fires 'sync' when it sees connectivity return; here DevTools dispatches it.
    const blank = await context.newPage();
    const cdp = await context.newCDPSession(blank);
    const registrations = [];
    cdp.on('ServiceWorker.workerRegistrationUpdated', (e) => registrations.push(...e.registrations));
    await cdp.send('ServiceWorker.enable');
    const reg = await waitFor(() => registrations.find((r) => r.scopeURL === `${srv.url}/` && !r.isDeleted), { what: 'the service worker registration' });
    await cdp.send('ServiceWorker.dispatchSyncEvent', { origin: srv.url, registrationId: reg.registrationId, tag: 'capturekit-upload:bgsync', lastChance: false });

    const expected = [...shots, fed];
    await waitFor(async () => (await srv.api('/api/captures')).count >= expected.length, { what: 'the uploads' });
    const v = await verifyServer(srv, expected);
    expect({ arrived: v.arrived, identical: v.identical, duplicates: v.duplicates, extra: v.extra })
      .toEqual({ arrived: 4, identical: 4, duplicates: 0, extra: 0 });
    expect(errors).toEqual([]);

    // A page opened afterwards finds nothing pending (the worker persisted the queue state).
    const again = await context.newPage();
    await again.goto(srv.page({ name: 'bgsync' }));
    await again.evaluate(() => window.appReady);
    expect(await again.evaluate(() => app.uploader.whenIdle())).toMatchObject({ pending: 0, failed: 0, uploaded: 4 });
    // The worker's own log: a run that led (no page held the lock) and ended idle.
    const runs = await again.evaluate(() => app.uploader.store.get('meta', 'sync.log'));
    expect(runs.some((r) => r.leader && r.idle && r.uploaded === 4)).toBe(true);
  } finally {
    await context.close();
  }
});
