// libvpx's DSP functions that the SIMD build runs as our own wasm SIMD128 code (wasm/video/vpx_simd)
// against libvpx's C versions, function by function, in the check program the SIMD wasm build makes
// (tests/wasm/vpx_simd_check.c). Whole-encoder equality is in video-writer.test.mjs.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

const check = new URL('../../../build/wasm-simd/vpx_simd_check.cjs', import.meta.url).pathname;
const routing = readFileSync(new URL('../../../wasm/video/vpx_simd/vpx_simd_rtcd.h', import.meta.url), 'utf8');

test('every routed libvpx function computes what its C version computes', () => {
  if (!existsSync(check)) throw new Error(`${check} missing: scripts/build.sh wasm builds it`);
  let out;
  try {
    out = execFileSync(process.execPath, [check], { encoding: 'utf8' });
  } catch (e) {
    throw new Error(`vpx_simd_check failed:\n${e.stdout}${e.stderr}`);
  }
  const lines = out.trim().split('\n');
  expect(lines.filter((l) => !l.startsWith('ok '))).toEqual(['ok: 0 failing']);
  // Every function the routing header re-points has its own line.
  const routed = [...routing.matchAll(/^#define (\w+) \1_wasm$/gm)].map((m) => m[1]);
  expect(routed.length).toBeGreaterThan(30);
  const checked = new Set(lines.map((l) => l.split(' ')[1]));
  expect(routed.filter((n) => !checked.has(n))).toEqual([]);
});
