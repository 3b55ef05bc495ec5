// The TypeScript declarations that ship with the package (js-glue/index.d.ts) compile, strictly, describe
// the API as the README uses it (tests/node/types/usage.ts), and match the runtime: every export of
// js-glue/index.js is declared, as the same kind (class, function, value), with a parameter list that takes
// the function's length in arguments and requires no more (a class: its constructor; its static and
// declared prototype methods too), and nothing is declared that the module does not export. The check is a TypeScript file generated from
// the module's exports and compiled against the declarations, so the TypeScript compiler judges it.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as ck from '../../js-glue/index.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const outDir = fileURLToPath(new URL('../../build/types-check/', import.meta.url));

function tsc(files) {
  try {
    execFileSync('node', ['node_modules/typescript/bin/tsc', '--noEmit', '--strict', '--target', 'es2022',
      '--module', 'nodenext', '--moduleResolution', 'nodenext', '--lib', 'es2022,dom,dom.iterable', '--types', 'node',
      ...files], { cwd: root, encoding: 'utf8' });
    return '';
  } catch (e) {
    return `${e.stdout || ''}${e.stderr || ''}` || String(e);
  }
}

const isClass = (v) => typeof v === 'function' && /^class\b/.test(Function.prototype.toString.call(v));
const kindOf = (v) => (isClass(v) ? 'class' : typeof v === 'function' ? 'function' : 'value');
const methods = (o) => Object.getOwnPropertyNames(o)
  .filter((n) => n !== 'constructor' && typeof Object.getOwnPropertyDescriptor(o, n).value === 'function');

/**
 * The TypeScript that states what the runtime module is; it compiles only if index.d.ts says the same.
 * Returns { text, names }: names[i] is what line i + 1 checks. Prototype methods are checked when they
 * are declared (a method the declarations leave out is internal); `_`-prefixed ones are internal too.
 */
export function exportsCheck(mod) {
  const q = JSON.stringify;
  const lines = [
    `import * as ck from '${root}js-glue/index.js';`,
    'type Req<P extends readonly unknown[], N extends unknown[] = []> = P extends readonly [unknown, ...infer R] ? Req<R, [...N, 0]> : N["length"];',
    'type Total<P extends readonly unknown[]> = number extends P["length"] ? 1000 : Required<P>["length"];',
    'type Build<N extends number, A extends unknown[] = []> = A["length"] extends N ? A : A["length"] extends 1000 ? A : Build<N, [...A, 0]>;',
    'type AtLeast<A extends number, B extends number> = Build<A> extends [...Build<B>, ...unknown[]] ? true : false;',
    // L arguments fit a declared parameter list when it requires at most L of them and takes at least L.
    'type Fit<P extends readonly unknown[], L extends number> = AtLeast<L, Req<P>> extends true ? (AtLeast<Total<P>, L> extends true ? L : `declared ${Req<P>}..${Total<P>} parameters`) : `declared ${Req<P>}..${Total<P>} parameters`;',
    'type Kind<T> = T extends abstract new (...a: any) => any ? "class" : T extends (...a: any) => any ? "function" : T extends { prototype: object } ? "class" : "value";',
    // A class declared with a private constructor is made by a static factory: its constructor's parameters are internal.
    'type Arity<T, L extends number> = T extends abstract new (...a: infer P) => any ? Fit<P, L> : T extends (...a: infer P) => any ? Fit<P, L> : T extends { prototype: object } ? L : "no call";',
    'type Inst<C> = C extends { prototype: infer I } ? I : never;',
    'type MethodKind<C, M> = M extends keyof Inst<C> ? Kind<Inst<C>[M]> : any;',
    'type MethodArity<C, M, L extends number> = M extends keyof Inst<C> ? Arity<Inst<C>[M], L> : any;',
  ];
  const names = lines.map(() => '(preamble)');
  const add = (name, line) => { lines.push(line); names.push(name); };
  const exported = Object.keys(mod).sort();
  // Declared exports and runtime exports are the same set: an object literal with every runtime name,
  // typed by the declared names (a missing one and an extra one are both errors).
  add('(the set of exports)', `export const everyExport: Record<keyof typeof ck, true> = { ${exported.map((n) => `${n}: true`).join(', ')} };`);
  exported.forEach((n, i) => {
    const v = mod[n];
    const kind = kindOf(v);
    const L = kind === 'value' ? 0 : v.length;
    add(n, `export const e${i}: readonly [Kind<typeof ck.${n}>, Arity<typeof ck.${n}, ${L}>] = [${q(kind)}, ${kind === 'value' ? '"no call"' : L}] as const;`);
    if (kind !== 'class') return;
    for (const s of methods(v).filter((m) => !m.startsWith('_'))) {
      add(`${n}.${s}`, `export const e${i}_s_${s}: readonly [Kind<typeof ck.${n}.${s}>, Arity<typeof ck.${n}.${s}, ${v[s].length}>] = ["function", ${v[s].length}] as const;`);
    }
    for (const m of methods(v.prototype).filter((x) => !x.startsWith('_'))) {
      const pl = v.prototype[m].length;
      add(`${n}.prototype.${m}`, `export const e${i}_p_${m}: readonly [MethodKind<typeof ck.${n}, ${q(m)}>, MethodArity<typeof ck.${n}, ${q(m)}, ${pl}>] = ["function", ${pl}] as const;`);
    }
  });
  return { text: `${lines.join('\n')}\n`, names };
}

/** tsc's errors on a generated check, as "name: message" lines. */
function drift(file, mod) {
  const { text, names } = exportsCheck(mod);
  mkdirSync(outDir, { recursive: true });
  writeFileSync(`${outDir}${file}`, text);
  return tsc([`${outDir}${file}`]).split('\n').filter((l) => /error TS/.test(l)).map((l) => {
    const m = /\((\d+),\d+\): error TS\d+: (.*)$/.exec(l);
    return m ? `${names[Number(m[1]) - 1]}: ${m[2]}` : l;
  });
}

test('js-glue/index.d.ts and a usage file compile with tsc --strict', () => {
  expect(tsc(['js-glue/index.d.ts', 'tests/node/types/usage.ts'])).toBe('');
}, 120000);

test('every runtime export is declared as the same kind with the same required parameters, and nothing else is', () => {
  // A drift reads: "name: Type '[\"function\", 2]' is not assignable to ..." (declared kind and arity vs the runtime's).
  expect(drift('exports.ts', ck)).toEqual([]);
}, 120000);

test('the check catches an undeclared export, a wrong kind and a wrong arity', () => {
  const fake = {
    ...ck,
    notDeclaredAnywhere: () => {},
    flipVertical: (a, b) => [a, b], // declared with one required parameter
    MAX_SIDE: () => 0,              // declared as a number
  };
  const found = drift('exports-drifted.ts', fake);
  const named = (n) => found.filter((l) => l.startsWith(`${n}: `));
  expect(named('(the set of exports)').join()).toMatch(/notDeclaredAnywhere/);
  expect(named('flipVertical').length).toBeGreaterThanOrEqual(1);
  expect(named('MAX_SIDE').length).toBeGreaterThanOrEqual(1);
  expect(found.length).toBeGreaterThanOrEqual(3);
}, 120000);
