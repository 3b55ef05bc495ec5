// The TypeScript declarations that ship with the package compile, strictly, and describe the API as
// the README uses it (tests/node/types/usage.ts).
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

test('js-glue/index.d.ts and a usage file compile with tsc --strict', () => {
  let out = '';
  try {
    execFileSync('node', ['node_modules/typescript/bin/tsc', '--noEmit', '--strict', '--target', 'es2022',
      '--module', 'nodenext', '--moduleResolution', 'nodenext', '--lib', 'es2022,dom,dom.iterable', '--types', 'node',
      'js-glue/index.d.ts', 'tests/node/types/usage.ts'], { cwd: root, encoding: 'utf8' });
  } catch (e) {
    out = `${e.stdout || ''}${e.stderr || ''}` || String(e);
  }
  expect(out).toBe('');
}, 120000);
