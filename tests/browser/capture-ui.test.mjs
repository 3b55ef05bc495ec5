// <capture-button> and <capture-review> in Chromium: the review step comes before anything is kept
// or saved; Keep fires 'capture' (and downloads with a timestamped name), Discard fires
// 'capturediscard' and saves nothing.
import { readFile } from 'node:fs/promises';
import { launchBrowser, serveStatic, openPage } from './browser.mjs';
import { decodeWithPillow, pixel } from './capture.helpers.mjs';

let browser, site;
beforeAll(async () => { browser = await launchBrowser(); site = await serveStatic(); });
afterAll(async () => { await browser?.close(); await site?.close(); });

async function uiPage() {
  const page = await openPage(browser, `${site.url}/tests/browser/pages/capture-ui.html`, { contextOptions: { acceptDownloads: true } });
  await page.waitForFunction(() => window.ready);
  page.downloads = [];
  page.on('download', (d) => page.downloads.push(d));
  return page;
}

test('review → Keep: the capture event fires and the file downloads with a timestamped name', async () => {
  const page = await uiPage();
  await page.locator('#reviewed').click();
  const review = page.locator('capture-review[open]');
  await review.waitFor();
  // Under review: shown, nothing kept or saved yet.
  await expect(page.locator('capture-review img').getAttribute('src')).resolves.toMatch(/^blob:/);
  await expect(page.locator('capture-review .info').textContent()).resolves.toMatch(/120 × 80 · image\/png/);
  expect(await page.evaluate(() => window.events)).toEqual([]);
  expect(page.downloads).toHaveLength(0);
  const link = await page.locator('capture-review a').getAttribute('download');
  expect(link).toMatch(/^screenshot_\d{8}_\d{6}\.png$/);

  const download = page.waitForEvent('download');
  await page.locator('capture-review button.keep').click();
  const d = await download;
  expect(d.suggestedFilename()).toMatch(/^screenshot_\d{8}_\d{6}\.png$/);
  const saved = await readFile(await d.path());
  const events = await page.evaluate(() => window.events);
  expect(events.map((e) => e.type)).toEqual(['reviewkeep', 'capture']);
  expect(events[1]).toMatchObject({ target: 'reviewed', width: 120, height: 80, bytes: saved.length });
  expect(Buffer.from(await page.evaluate(() => window.lastBytes))).toEqual(saved);
  const img = decodeWithPillow(saved);
  expect(pixel(img, 60, 10)).toEqual([255, 0, 0, 255]); // red on top
  expect(pixel(img, 60, 70)).toEqual([0, 0, 255, 255]);
  expect(await page.locator('capture-review').getAttribute('open')).toBeNull();
  expect(page.errors).toEqual([]);
  await page.context().close();
});

test('review → Discard (button or Escape): nothing is kept or saved', async () => {
  const page = await uiPage();
  await page.locator('#reviewed').click();
  await page.locator('capture-review[open]').waitFor();
  await page.locator('capture-review button.discard').click();
  await page.locator('#reviewed').click();
  await page.locator('capture-review[open]').waitFor();
  await page.keyboard.press('Escape');
  await page.waitForFunction(() => window.events.length === 4);
  const events = await page.evaluate(() => window.events);
  expect(events.map((e) => `${e.target}:${e.type}`)).toEqual(['capture-review:reviewdiscard', 'reviewed:capturediscard', 'capture-review:reviewdiscard', 'reviewed:capturediscard']);
  await page.waitForTimeout(200);
  expect(page.downloads).toHaveLength(0);
  await page.context().close();
});

test('the download link in the review saves the same file', async () => {
  const page = await uiPage();
  await page.locator('#reviewed').click();
  await page.locator('capture-review[open]').waitFor();
  const download = page.waitForEvent('download');
  await page.locator('capture-review a').click();
  const d = await download;
  expect(d.suggestedFilename()).toMatch(/^screenshot_\d{8}_\d{6}\.png$/);
  const png = decodeWithPillow(await readFile(await d.path()));
  expect([png.width, png.height]).toEqual([120, 80]);
  await page.locator('capture-review button.discard').click();
  await page.context().close();
});

test('without review the capture event fires at once (attributes become options)', async () => {
  const page = await uiPage();
  await page.locator('#direct').click();
  await page.waitForFunction(() => window.events.length === 1);
  const [e] = await page.evaluate(() => window.events);
  expect(e).toMatchObject({ type: 'capture', target: 'direct', width: 120, height: 80, thumb: 32 });
  const jpeg = decodeWithPillow(Buffer.from(await page.evaluate(() => window.lastBytes)));
  expect(jpeg.format).toBe('JPEG');
  await page.context().close();
});

test('a failing capture fires captureerror and the button stays usable', async () => {
  const page = await uiPage();
  await page.locator('#broken').click();
  await page.waitForFunction(() => window.events.length === 1);
  const [e] = await page.evaluate(() => window.events);
  expect(e).toMatchObject({ type: 'captureerror', target: 'broken' });
  expect(e.error).toMatch(/no target canvas/);
  expect(await page.evaluate(() => document.getElementById('broken').shadowRoot.querySelector('button').disabled)).toBe(false);
  const before = await page.evaluate(() => window.frames);
  await page.waitForFunction((b) => window.frames > b + 2, before);
  await page.context().close();
});

test('capture() can be called from code and returns the kept result', async () => {
  const page = await uiPage();
  const r = await page.evaluate(async () => {
    const btn = document.getElementById('direct');
    const result = await btn.capture();
    return { w: result.width, type: result.blob.type, kind: result.metadata.source.kind };
  });
  expect(r).toEqual({ w: 120, type: 'image/jpeg', kind: 'webgl2' });
  await page.context().close();
});
