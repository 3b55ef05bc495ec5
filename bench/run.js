// npm run bench: runs every bench/*.bench.js (or the ones named on the command line) in one process,
// one after the other, and writes their tables to bench/results/<date>.md (<date>-<names>.md for a
// partial run) and to stdout.
//   node bench/run.js [name ...]     e.g. node bench/run.js codecs pixels
import { readdir, writeFile, mkdir } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import os from 'node:os';

const dir = new URL('./', import.meta.url);
const only = process.argv.slice(2);
const files = (await readdir(dir)).filter((f) => f.endsWith('.bench.js'))
  .filter((f) => only.length === 0 || only.includes(f.replace('.bench.js', ''))).sort();

// The native -O3 peers (bench/native) are built once up front.
execFileSync('bash', ['scripts/build.sh', 'bench'], { cwd: new URL('../', import.meta.url), stdio: 'inherit' });

const sections = [];
const report = (title, table) => {
  sections.push(`## ${title}\n\n${table.trim()}\n`);
  console.log(`\n## ${title}\n\n${table.trim()}\n`);
};
for (const f of files) {
  console.log(`bench: ${f}`);
  const mod = await import(new URL(f, dir));
  try {
    await mod.default({ report });
  } catch (e) {
    report(`${f} failed`, `\`\`\`\n${e.stack || e}\n\`\`\``);
  }
}

const date = new Date().toISOString().slice(0, 10);
const cpu = os.cpus()[0]?.model || 'unknown CPU';
const header = `# capturekit benchmarks, ${date}\n\nMachine: ${cpu}, ${os.cpus().length} cores, Node ${process.version}. ` +
  `Every table compares peers measured in the same run; ratios are ours / peer for time (lower is better) unless stated.\n\n`;
await mkdir(new URL('./results/', import.meta.url), { recursive: true });
// A run of only some benchmarks gets its own file, so it never replaces the day's full report.
const out = new URL(`./results/${date}${only.length ? `-${only.join('-')}` : ''}.md`, import.meta.url);
await writeFile(out, header + sections.join('\n'));
console.log(`bench: wrote ${out.pathname}`);
