/**
 * What importing one module costs a fresh process: median wall of
 * `node -e "enableCompileCache(); await import(SPEC)"` minus the same with nothing imported,
 * interleaved, compile cache warm (as bin/opencode.js runs). A diagnostic for missed start-up
 * goals, not part of run-all. Specifiers starting with `./` are relative to the repository root.
 *
 *   npx node bench/import-costs.ts [--runs N] [SPEC …]
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { measureCases } from './support/measure.ts';
import type { CommandCase } from './support/measure.ts';

const root = path.resolve(import.meta.dirname, '..');
const argv = process.argv.slice(2);
const runsAt = argv.indexOf('--runs');
const RUNS = runsAt >= 0 ? Number(argv[runsAt + 1]) : 11;
const given = argv.filter((a, i) => a !== '--runs' && argv[i - 1] !== '--runs');
const SPECS = given.length
  ? given
  : [
      'yargs',
      'string-width',
      './dist/config/load.js',
      'ajv',
      'cosmiconfig',
      './dist/cli/run-action.js',
      './dist/run/run-task.js',
      './dist/run/runtime.js',
      'ai',
      '@ai-sdk/openai-compatible',
      'keyv',
      'node:sqlite',
      'p-queue',
      'fetch()',
    ];

function code(spec: string): string {
  const head = "import('node:module').then((m) => m.default.enableCompileCache?.())";
  if (spec === '') return `${head};`;
  // `fetch()`: the cost of the first fetch call (Node loads its HTTP client lazily), to a closed port.
  if (spec === 'fetch()') return `${head}.then(() => fetch('http://127.0.0.1:9/').catch(() => 0));`;
  const target = spec.startsWith('./') ? pathToFileURL(path.join(root, spec)).href : spec;
  return `${head}.then(() => import(${JSON.stringify(target)}));`;
}

const cases: CommandCase[] = ['', ...SPECS].map((spec) => ({
  name: spec || '(nothing)',
  command: process.execPath,
  args: ['--input-type=module', '-e', code(spec)],
  cwd: root,
}));
process.stderr.write(`import-costs: ${cases.length} cases × (2 warm-ups + ${RUNS} runs) `);
const stats = await measureCases(cases, { runs: RUNS, warmups: 2 });
const base = stats[0]?.wallMs.median ?? 0;
const lines = stats
  .slice(1)
  .sort((a, b) => b.wallMs.median - a.wallMs.median)
  .map((s) => `| +${(s.wallMs.median - base).toFixed(0)} ms | ${s.rssMiB === undefined ? 'n/a' : `${s.rssMiB.toFixed(0)} MiB`} | \`${s.name}\` |`);
process.stdout.write(['', `baseline (nothing imported): ${base.toFixed(0)} ms`, '', '| import cost | peak RSS | module |', '|---:|---:|---|', ...lines, ''].join('\n'));
