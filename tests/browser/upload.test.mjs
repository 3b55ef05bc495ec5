// The uploader end to end in Chromium against the reference server: a canvas recorded with MediaRecorder
// uploads while recording, the network goes offline and back (context.setOffline), the page reloads
// mid-upload (real IndexedDB resumes it), a second tab follows (Web Locks + BroadcastChannel); at the end
// every capture on the server is byte-identical to what was captured (SHA-256), none twice, in order,
// and ffprobe reads the assembled WebM files. Also: <upload-indicator> states and its retry button.
import { useServerAndBrowser } from './server-and-browser.mjs';
import { verifyServer, captureBytes, tempFile, ffprobe, realWebmBytes, sha256 } from '../node/upload/uploader.helpers.mjs';

const env = useServerAndBrowser();

async function openApp(context, query = {}) {
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(String(e)));
  await page.goto(env.srv.page({ part: String(128 * 1024), ...query }));
  await page.evaluate(() => window.appReady);
  return page;
}

const indicatorText = (page) => page.evaluate(() => document.querySelector('upload-indicator').text);
// The indicator draws on the uploader's 'progress' events: wait until it shows `text`.
async function indicatorShows(page, text) {
  try {
    await page.waitForFunction((t) => document.querySelector('upload-indicator').text === t, text, { timeout: 20000 });
  } catch {
    expect(await indicatorText(page)).toBe(text);
  }
}

test('canvas recording uploads while recording; offline and back; reload mid-upload; a second tab; all byte-identical, once, in order', async () => {
  const context = await env.browser.newContext();
  try {
    const a = await openApp(context);
    expect(await a.evaluate(() => app.uploader.role)).toBe('leader');

    // 1. A canvas recorded with MediaRecorder: parts reach the server while the recorder still runs.
    const r1 = await a.evaluate(() => app.recordCanvas(3000));
    expect(r1.partsDuring).toBeGreaterThan(0);
    expect(r1.parts).toBeGreaterThan(r1.partsDuring);
    // Byte progress within parts (XMLHttpRequest upload events in a page).
    const prog = await a.evaluate((id) => app.events.filter((e) => e.type === 'uploadprogress' && e.detail.itemId === id).map((e) => e.detail), r1.id);
    expect(prog.length).toBeGreaterThanOrEqual(r1.parts);
    expect(prog.every((d) => d.loaded <= d.total && d.itemBytesUploaded <= d.itemBytesTotal)).toBe(true);

    // 2. Offline: screenshots queue locally; the indicator says so; back online they go.
    await context.setOffline(true);
    const offlineShots = [];
    for (let i = 1; i <= 2; i++) offlineShots.push(await a.evaluate((s) => app.shot(s), i));
    await a.waitForFunction(() => app.uploader.getProgress().state === 'offline');
    expect(await indicatorText(a)).toMatch(/^Offline — \d+ waiting/);
    await context.setOffline(false);
    await a.evaluate(() => app.uploader.whenIdle());
    await indicatorShows(a, '✓ 3 uploaded');

    // 3. Reload mid-upload: chunk requests are slowed so the reload lands between parts.
    env.srv.delays['/videos/chunk'] = 150;
    const r2 = await a.evaluate(() => app.recordCanvas(2500));
    await a.waitForFunction((id) => app.events.filter((e) => e.type === 'partuploaded' && e.detail.itemId === id).length >= 2, r2.id);
    const before = await a.evaluate((id) => app.events.filter((e) => e.type === 'partuploaded' && e.detail.itemId === id).length, r2.id);
    expect(before).toBeLessThan(r2.parts);
    await a.reload();
    await a.evaluate(() => window.appReady);
    delete env.srv.delays['/videos/chunk'];
    expect(await a.evaluate(() => app.uploader.role)).toBe('leader');

    // 4. A second tab: it queues, the first tab uploads, the second sees progress and completion.
    const b = await openApp(context);
    expect(await b.evaluate(() => app.uploader.role)).toBe('follower');
    const bShots = [];
    for (let i = 10; i <= 11; i++) bShots.push(await b.evaluate((s) => app.shot(s), i));
    const webm = realWebmBytes();
    // A real WebM fed through the recording stream API (base64: a big array argument would stall the test process).
    const fed = await b.evaluate((b64) => app.feed(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)), 50000), webm.toString('base64'));
    expect(fed.sha256).toBe(sha256(webm));
    const pb = await b.evaluate(() => app.uploader.whenIdle());
    expect(pb).toMatchObject({ pending: 0, failed: 0, isLeader: false });
    const pa = await a.evaluate(() => app.uploader.whenIdle());
    expect(pa).toMatchObject({ pending: 0, failed: 0, isLeader: true });
    expect(await b.evaluate(() => app.events.filter((e) => e.type === 'itemcompleted').length)).toBeGreaterThanOrEqual(3);
    expect(await b.evaluate(() => app.events.filter((e) => e.type === 'uploaderror').length)).toBe(0);

    const expected = [r1, ...offlineShots, r2, ...bShots, fed];
    const v = await verifyServer(env.srv, expected);
    expect({ arrived: v.arrived, identical: v.identical, duplicates: v.duplicates, extra: v.extra })
      .toEqual({ arrived: expected.length, identical: expected.length, duplicates: 0, extra: 0 });
    // Order: the server created the captures in capture order.
    const serverOrder = [...v.captures].sort((x, y) => (x.createdAt < y.createdAt ? -1 : x.createdAt > y.createdAt ? 1 : 0)).map((c) => c.metadata.clientUploadId);
    expect(serverOrder).toEqual(expected.map((e) => e.id));
    for (const r of [r1, r2, fed]) {
      const info = ffprobe(await tempFile(await captureBytes(env.srv, v.byClient.get(r.id)[0])));
      expect(info.codec).toBe('vp8');
      expect(info.width).toBe(320);
      expect(info.packets).toBeGreaterThan(30);
    }
    // Nothing is left in IndexedDB after finalize (retain 'finalized').
    const left = await a.evaluate(async () => Object.fromEntries(await Promise.all(['parts', 'tail', 'screenshots', 'inbox']
      .map(async (s) => [s, (await app.uploader.store.getAll(s)).length]))));
    expect(left).toEqual({ parts: 0, tail: 0, screenshots: 0, inbox: 0 });
    expect([...a.errors, ...b.errors]).toEqual([]);
  } finally {
    await context.close();
  }
});

test('<upload-indicator>: uploading, N failed with a retry button that brings the failed uploads back', async () => {
  const context = await env.browser.newContext();
  try {
    env.srv.setFaults({ rate: 1, kinds: ['500'], routes: ['screenshot'], phase: 'before' });
    const page = await openApp(context, { name: 'indicator', retries: '1', base: '20' });
    await page.evaluate(() => Promise.all([app.shot(40), app.shot(41)]));
    await indicatorShows(page, '✓ 0 uploaded · 2 failed');
    expect(await page.evaluate(() => document.querySelector('upload-indicator').getAttribute('failed'))).toBe('2');
    const retryVisible = () => page.evaluate(() => !document.querySelector('upload-indicator').shadowRoot.querySelector('button').hidden);
    expect(await retryVisible()).toBe(true);
    env.srv.setFaults({ rate: 0 });
    await page.evaluate(() => document.querySelector('upload-indicator').shadowRoot.querySelector('button').click());
    await page.waitForFunction(() => app.uploader.getProgress().uploaded === 2);
    await page.evaluate(() => app.uploader.whenIdle());
    await indicatorShows(page, '✓ 2 uploaded');
    expect(await retryVisible()).toBe(false);
    // While a recording is being fed, the indicator is busy.
    await page.evaluate(async () => {
      const rec = await app.uploader.startRecording({ filename: 'x.webm' });
      window.openRec = rec;
      await rec.append(new Uint8Array([0x1a, 0x45, 0xdf, 0xa3, 1, 2, 3]));
    });
    await page.waitForFunction(() => ['waitingForData', 'uploading'].includes(document.querySelector('upload-indicator').getAttribute('state')));
    expect(await indicatorText(page)).toMatch(/^(Recording|Uploading)… \(1 pending\)/);
    await page.evaluate(async () => { await window.openRec.stop(); await app.uploader.whenIdle(); });
    await indicatorShows(page, '✓ 3 uploaded');
    expect(page.errors).toEqual([]);
  } finally {
    env.srv.setFaults({ rate: 0 });
    await context.close();
  }
});

test('a tab closed mid-recording: the leading tab recovers what that tab stored (Web Locks tell it the recorder is gone)', async () => {
  const context = await env.browser.newContext();
  try {
    const a = await openApp(context, { name: 'orphan' });
    const b = await openApp(context, { name: 'orphan' });
    expect(await b.evaluate(() => app.uploader.role)).toBe('follower');
    const webm = realWebmBytes();
    const cut = 300000; // the tab goes away after this many bytes: 2 parts of 128 KiB and a tail
    const started = await b.evaluate(async (b64) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const rec = await app.uploader.startRecording({ filename: 'cut.webm', session: 'e2e' });
      for (let o = 0; o < bytes.length; o += 50000) await rec.append(bytes.subarray(o, o + 50000));
      return { id: rec.itemId, parts: rec.partsStored };
    }, webm.subarray(0, cut).toString('base64'));
    expect(started.parts).toBe(2);
    const recovered = a.evaluate((id) => new Promise((resolve) => {
      app.uploader.addEventListener('recordingrecovered', (e) => { if (e.detail.itemId === id) resolve(e.detail); });
    }), started.id);
    await b.close(); // no stop(): the recorder is gone with its tab
    expect(await recovered).toEqual({ itemId: started.id, bytes: cut, parts: 3 });
    await a.evaluate(() => app.uploader.whenIdle());
    const v = await verifyServer(env.srv, [{ id: started.id, sha256: sha256(webm.subarray(0, cut)), size: cut }]);
    expect([v.arrived, v.identical, v.duplicates]).toEqual([1, 1, 0]);
    expect(a.errors).toEqual([]);
  } finally {
    await context.close();
  }
});
