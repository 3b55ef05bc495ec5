import { launchBrowser, serveStatic, openPage } from './browser.mjs';

let browser, site;
beforeAll(async () => { browser = await launchBrowser(); site = await serveStatic(); });
afterAll(async () => { await browser?.close(); await site?.close(); });

test('the page loads the SIMD module and flips pixels', async () => {
  const page = await openPage(browser, `${site.url}/tests/browser/smoke.html`);
  expect(await page.evaluate(() => window.ready)).toBe(true);
  const rows = await page.evaluate(() => {
    const img = { data: new Uint8ClampedArray([1, 1, 1, 1, 2, 2, 2, 2]), width: 1, height: 2 };
    return Array.from(window.ck.flipVertical(img).data);
  });
  expect(rows).toEqual([2, 2, 2, 2, 1, 1, 1, 1]);
  expect(page.errors).toEqual([]);
});

test('a Worker loads the module too', async () => {
  const page = await openPage(browser, `${site.url}/tests/browser/smoke.html`);
  const out = await page.evaluate(async () => {
    const src = `import * as ck from '${location.origin}/js-glue/index.js';
      await ck.init();
      postMessage(Array.from(ck.flipVertical({ data: new Uint8Array([1,1,1,1,2,2,2,2]), width: 1, height: 2 }).data));`;
    const w = new Worker(URL.createObjectURL(new Blob([src], { type: 'text/javascript' })), { type: 'module' });
    return new Promise((resolve, reject) => { w.onmessage = (e) => resolve(e.data); w.onerror = (e) => reject(e.message); });
  });
  expect(out).toEqual([2, 2, 2, 2, 1, 1, 1, 1]);
});
