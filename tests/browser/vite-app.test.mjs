// capturekit as an app consumes it: npm pack, install the tarball into a copy of examples/vite-app,
// build it with Vite 7, serve the built files and capture in Chromium. Proves the wasm files and the
// capture Worker resolve through a bundler.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchBrowser, serveStatic, openPage, ROOT } from './browser.mjs';
import { decodeWithPillow, exactBandErrors, bandMismatches } from './capture.helpers.mjs';

let work, app, browser, site;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'ck-vite-'));
  const [info] = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', work], { cwd: ROOT, encoding: 'utf8' }));
  app = join(work, 'app');
  cpSync(join(ROOT, 'examples/vite-app'), app, { recursive: true, filter: (src) => !/\/(node_modules|dist)(\/|$)/.test(src) });
  // The app's own node_modules gets the packed tarball and its dependencies, resolved as a user's
  // install resolves them (from the registry when the npm cache does not have them: a fresh machine's
  // cache is empty); Vite itself is the repository's.
  const pkg = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8'));
  delete pkg.devDependencies;
  pkg.dependencies = {};
  writeFileSync(join(app, 'package.json'), JSON.stringify(pkg, null, 2));
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', join(work, info.filename)], { cwd: app });
  execFileSync(process.execPath, [join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--logLevel', 'warn'], { cwd: app, stdio: 'pipe' });
}, 240000);

afterAll(async () => {
  await browser?.close();
  await site?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

test('the build emits the wasm builds and the capture Worker as assets', () => {
  expect(existsSync(join(app, 'node_modules/capturekit/js-glue/capture/worker.js'))).toBe(true);
  const assets = readdirSync(join(app, 'dist/assets'));
  expect(assets.filter((f) => /^capturekit-image.*\.wasm$/.test(f)).length).toBeGreaterThanOrEqual(2); // baseline + SIMD
  expect(assets.some((f) => /^worker-.*\.js$/.test(f))).toBe(true);
});

test('the built page captures its WebGL canvas through the bundled Worker and inline', async () => {
  browser = await launchBrowser();
  site = await serveStatic({ root: join(app, 'dist') });
  const page = await openPage(browser, `${site.url}/index.html`);
  const requests = [];
  page.on('request', (r) => requests.push(new URL(r.url()).pathname));
  await page.reload();
  await page.waitForFunction(() => window.appReady, null, { timeout: 30000 });
  const out = await page.evaluate(async () => [
    await window.app.capture({ format: 'image/png' }),
    await window.app.capture({ format: 'image/png', worker: false }),
    await window.app.capture({ format: 'image/jpeg', quality: 0.9 }),
  ]);
  const bands = await page.evaluate(() => window.app.BANDS);
  expect(out[0].timing.worker).toBe(true);
  expect(out[1].timing.worker).toBe(false);
  for (const r of out.slice(0, 2)) {
    expect([r.width, r.height]).toEqual([480, 270]);
    expect(exactBandErrors(decodeWithPillow(r.b64), bands)).toBe(0);
  }
  expect(bandMismatches(decodeWithPillow(out[2].b64), bands, { tol: 12 })).toEqual([]);
  // The wasm came from the bundle's assets, and the page and its Worker both loaded one.
  expect(requests.filter((p) => /^\/assets\/capturekit-image.*\.wasm$/.test(p)).length).toBeGreaterThanOrEqual(1);
  expect(requests.some((p) => /^\/assets\/worker-.*\.js$/.test(p))).toBe(true);
  expect(page.errors).toEqual([]);

  // The drop-in button from 'capturekit/web/capture-button.js' works in the bundle too.
  await page.locator('#shot').click();
  await page.locator('capture-review button.keep').click();
  await page.locator('#gallery img').waitFor();
});
