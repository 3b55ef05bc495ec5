// The loader in Chromium: the SIMD build in a page and a Worker, and which module files a page fetches
// (the static server logs every request, the page's and its Workers'): a page that only uploads fetches
// the upload module and no other; a screenshot fetches the image module and no other.
import { launchBrowser, serveStatic, openPage } from './browser.mjs';

let browser, site;
const requests = [];
beforeAll(async () => {
  browser = await launchBrowser();
  site = await serveStatic({
    routes: {
      // A page of an app that queues uploads and takes no screenshot (its own server takes the POST).
      '/loader/upload-only.html': (req, res) => res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(`<!doctype html>
        <meta charset="utf-8"><script type="importmap">{ "imports": { "idb": "/node_modules/idb/build/index.js" } }</script>
        <script type="module">
          import * as ck from '/js-glue/index.js';
          window.ck = ck;
          window.ready = true;
        </script>`),
      '/loader/upload': (req, res) => {
        let n = 0;
        req.on('data', (c) => { n += c.length; });
        req.on('end', () => res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ url: `/loader/files/${n}` })));
      },
      '/loader/screenshot.html': (req, res) => res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(`<!doctype html>
        <meta charset="utf-8"><canvas width="64" height="32"></canvas>
        <script type="module">
          import * as ck from '/js-glue/index.js';
          window.ck = ck;
          const c = document.querySelector('canvas').getContext('2d');
          c.fillStyle = '#f00'; c.fillRect(0, 0, 32, 32); c.fillStyle = '#00f'; c.fillRect(32, 0, 32, 32);
          window.ready = true;
        </script>`),
    },
  });
  site.server.prependListener('request', (req) => requests.push(new URL(req.url, 'http://x').pathname));
});
afterAll(async () => { await browser?.close(); await site?.close(); });

const moduleFiles = (from) => requests.slice(from).filter((p) => p.startsWith('/dist/')).sort();

test('the page loads the SIMD module and flips pixels', async () => {
  const page = await openPage(browser, `${site.url}/tests/browser/smoke.html`);
  expect(await page.evaluate(() => window.ready)).toBe(true);
  const rows = await page.evaluate(() => {
    const img = { data: new Uint8ClampedArray([1, 1, 1, 1, 2, 2, 2, 2]), width: 1, height: 2 };
    return Array.from(window.ck.flipVertical(img).data);
  });
  expect(rows).toEqual([2, 2, 2, 2, 1, 1, 1, 1]);
  expect(page.errors).toEqual([]);
  await page.context().close();
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
  await page.context().close();
});

test('a page that only uploads fetches the upload module and no other wasm', async () => {
  const from = requests.length;
  const page = await openPage(browser, `${site.url}/loader/upload-only.html`);
  await page.waitForFunction(() => window.ready === true);
  expect(moduleFiles(from)).toEqual([]); // importing capturekit fetches no module
  const done = await page.evaluate(async () => {
    const { ck } = window;
    const up = ck.createUploader({ name: 'loader-upload-only', transport: ck.createMultipartTransport({ url: `${location.origin}/loader/upload` }) });
    await up.ready;
    const completed = new Promise((resolve) => up.addEventListener('itemcompleted', (e) => resolve(e.detail), { once: true }));
    await up.enqueueScreenshot(new Blob([new Uint8Array(3000).fill(7)], { type: 'image/png' }), { metadata: { from: 'loader test' } });
    const detail = await completed;
    const loaded = { image: ck.isImageLoaded(), upload: ck.isUploadLoaded(), video: ck.isVideoLoaded(), audio: ck.isAudioLoaded() };
    await up.close();
    return { result: detail.result, loaded };
  });
  expect(done.loaded).toEqual({ image: false, upload: true, video: false, audio: false });
  // The server got the multipart body with the 3,000 bytes in it.
  const result = typeof done.result === 'string' ? JSON.parse(done.result) : done.result;
  expect(Number(result.url.split('/').pop())).toBeGreaterThan(3000);
  expect(moduleFiles(from)).toEqual(['/dist/capturekit-upload.mjs', '/dist/capturekit-upload.wasm']);
  expect(page.errors).toEqual([]);
  await page.context().close();
});

test('a screenshot fetches the image module (one build) and no other wasm', async () => {
  const from = requests.length;
  const page = await openPage(browser, `${site.url}/loader/screenshot.html`);
  await page.waitForFunction(() => window.ready === true);
  expect(moduleFiles(from)).toEqual([]);
  const shot = await page.evaluate(async () => {
    const r = await window.ck.captureCanvas(document.querySelector('canvas'), { format: 'image/png' });
    return { width: r.width, height: r.height, png: Array.from(r.bytes.subarray(1, 4)), bytes: r.bytes.length };
  });
  expect(shot).toMatchObject({ width: 64, height: 32, png: [0x50, 0x4e, 0x47] });
  expect(moduleFiles(from)).toEqual(['/dist/capturekit-image-simd.mjs', '/dist/capturekit-image-simd.wasm']);
  expect(page.errors).toEqual([]);
  await page.context().close();
});
