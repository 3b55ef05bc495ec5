// The package as users get it: npm pack, install the tarball into an empty project, import it from
// Node and run one operation. Proves the wasm files travel inside the package and resolve from there.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync, readdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
let work;

beforeAll(() => { work = mkdtempSync(join(tmpdir(), 'ck-pack-')); });
afterAll(() => { rmSync(work, { recursive: true, force: true }); });

test('npm pack → install the tarball → import and use it from Node', () => {
  const out = execFileSync('npm', ['pack', '--json', '--pack-destination', work], { cwd: root, encoding: 'utf8' });
  const [info] = JSON.parse(out);
  const files = info.files.map((f) => f.path);
  for (const f of ['dist/capturekit-image.wasm', 'dist/capturekit-image-simd.wasm', 'dist/capturekit-image.mjs',
    'dist/capturekit-image-simd.mjs', 'dist/capturekit-upload.wasm', 'dist/capturekit-upload.mjs', 'js-glue/index.js', 'js-glue/loader.js']) {
    expect(files).toContain(f);
  }
  // Nothing from the build trees, tests or third-party sources.
  expect(files.filter((f) => /^(build|tests|\.cache|wasm|node_modules)\//.test(f))).toEqual([]);

  const app = join(work, 'app');
  execFileSync('mkdir', ['-p', app]);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', type: 'module', private: true }));
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', join(work, info.filename)], { cwd: app });
  expect(existsSync(join(app, 'node_modules/capturekit/dist/capturekit-image-simd.wasm'))).toBe(true);

  writeFileSync(join(app, 'main.js'), `
    import * as ck from 'capturekit';
    await ck.init();
    const img = { data: new Uint8Array([1,1,1,1, 2,2,2,2]), width: 1, height: 2 };
    const flipped = ck.flipVertical(img);
    const result = { simd: ck.isSimd(), flipped: Array.from(flipped.data) };
    result.png = Array.from(ck.encodePng(img).slice(0, 8));
    console.log(JSON.stringify(result));
  `);
  const result = JSON.parse(execFileSync('node', ['main.js'], { cwd: app, encoding: 'utf8' }));
  expect(result.simd).toBe(true);
  expect(result.flipped).toEqual([2, 2, 2, 2, 1, 1, 1, 1]);
  expect(result.png).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  expect(readdirSync(join(app, 'node_modules/capturekit/dist')).filter((f) => f.endsWith('.wasm')).length).toBeGreaterThanOrEqual(2);
}, 180000);
