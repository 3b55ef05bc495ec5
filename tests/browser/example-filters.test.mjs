// The first example page, served by the reference server as `npm start` serves it: it loads the SIMD
// module, applies every filter, and the JPEG/PNG it saves decode with Pillow to the pixels it showed.
import { createServer } from '../../examples/server/server.js';
import { launchBrowser, openPage } from './browser.mjs';
import { tempDir, pillowJudge } from '../node/image/helpers.mjs';

let browser, app, url, dir, tmp;
beforeAll(async () => {
  tmp = tempDir(); dir = tmp.dir;
  app = createServer({ dataDir: `${dir}/data`, tokens: 'test-token:tester', retentionDays: 0 });
  await app.listen({ port: 0, host: '127.0.0.1' });
  url = `http://127.0.0.1:${app.server.address().port}`;
  browser = await launchBrowser();
});
afterAll(async () => { await browser?.close(); await app?.close(); tmp?.cleanup(); });

test('/ leads to the filters page, which runs every filter and saves JPEG and PNG that decode', async () => {
  const page = await openPage(browser, `${url}/`);
  await page.waitForSelector('body[data-ready="true"]');
  expect(await page.textContent('#variant')).toBe('SIMD build');

  // Turn every filter on.
  await page.evaluate(() => {
    const set = (id, v) => { const el = document.getElementById(id); if (el.type === 'checkbox') el.checked = v; else el.value = v; };
    set('crop', 10); set('fit', 640); set('brightness', 10); set('contrast', 20); set('saturation', -30);
    set('blur', 2); set('wmimage', true); set('wmtext', 'hello'); set('wmopacity', 70);
    window.demo.apply();
  });
  const shown = await page.evaluate(() => {
    const r = window.demo.result;
    return { width: r.width, height: r.height, data: Array.from(r.data) };
  });
  // 1280x720 cropped by 10% per side → 1024x576, fitted into 640 → 640x360.
  expect([shown.width, shown.height]).toEqual([640, 360]);

  for (const [format, floor] of [['image/jpeg', 30], ['image/png', Infinity]]) {
    const bytes = await page.evaluate(async (f) => { await window.demo.save(f); return Array.from(window.lastSaved.bytes); }, format);
    const verdict = pillowJudge(dir, Uint8Array.from(bytes),
      { data: Uint8Array.from(shown.data), width: shown.width, height: shown.height }, format.slice(6));
    expect(verdict.format).toBe(format === 'image/jpeg' ? 'JPEG' : 'PNG');
    expect([verdict.width, verdict.height]).toEqual([640, 360]);
    if (floor === Infinity) expect(verdict.exact).toBe(true);
    else expect(verdict.psnr).toBeGreaterThan(floor);
  }
  expect(page.errors).toEqual([]);
});
