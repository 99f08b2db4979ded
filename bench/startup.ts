/**
 * Start-up cost of the built CLI (bin/opencode.js → dist/; run `npm run build` first):
 * `opencode --help` against `node -e 0` on the same Node, and `config validate` of the seed's
 * configs in absolute ms. Median of RUNS runs after WARMUPS warm-ups (which also fill Node's
 * compile cache, as a user's second run would), peak RSS from /usr/bin/time.
 *
 *   npx node bench/startup.ts [--json] [--runs N]
 */
import fs from 'node:fs';
import path from 'node:path';
import { measureCases, tempProject, wallAndRss } from './support/measure.ts';
import type { CommandCase, RunResult } from './support/measure.ts';
import { against, runBench } from './support/report.ts';
import type { Row } from './support/report.ts';

const root = path.resolve(import.meta.dirname, '..');
const bin = path.join(root, 'bin', 'opencode.js');
const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 15;
const WARMUPS = 2;
const HELP_GOAL = 3;
const VALIDATE_GOAL_MS = 150;

function expectValid(name: string) {
  return (r: RunResult): void => {
    if (r.code !== 0 || !/valid/i.test(r.stdout)) throw new Error(`${name}: exit ${String(r.code)}\n${r.stdout}${r.stderr}`);
  };
}

async function body(): Promise<{ rows: Row[]; notes: string[] }> {
  if (!fs.existsSync(path.join(root, 'dist', 'cli', 'main.js'))) throw new Error('dist/ is missing: run `npm run build` first.');
  const tmp = tempProject('startup');
  try {
    const node = process.execPath;
    const at = { cwd: tmp.project, env: tmp.env };
    const seed = (n: number) => path.join(root, 'test', 'fixtures', 'seed', `section-${n}.json`);
    const cases: CommandCase[] = [
      { name: 'node -e 0', command: node, args: ['-e', '0'], ...at },
      {
        name: 'opencode --help',
        command: node,
        args: [bin, '--help'],
        ...at,
        check: (r) => {
          if (r.code !== 0 || !r.stdout.includes('Commands:')) throw new Error(`--help: exit ${String(r.code)}\n${r.stderr}`);
        },
      },
      { name: 'config validate section-11.json', command: node, args: [bin, 'config', 'validate', seed(11)], ...at, check: expectValid('section-11') },
      { name: 'config validate section-14.json', command: node, args: [bin, 'config', 'validate', seed(14)], ...at, check: expectValid('section-14') },
    ];
    process.stderr.write(`startup: ${cases.length} commands × (${WARMUPS} warm-ups + ${RUNS} runs) `);
    const [base, help, v11, v14] = await measureCases(cases, { runs: RUNS, warmups: WARMUPS });
    if (!base || !help || !v11 || !v14) throw new Error('startup: missing results');
    const helpRatio = help.wallMs.median / base.wallMs.median;
    const rows: Row[] = [
      { bench: 'startup', case: '`node -e 0` (baseline)', result: wallAndRss(base), figure: '1×', goal: '' },
      { bench: 'startup', case: '`opencode --help`', result: wallAndRss(help), figure: `${helpRatio.toFixed(2)}× node -e 0`, goal: `≤ ${HELP_GOAL}×`, ...against(helpRatio, HELP_GOAL) },
      ...[v11, v14].map((v): Row => ({
        bench: 'startup',
        case: `\`opencode ${v.name}\``,
        result: wallAndRss(v),
        figure: `${v.wallMs.median.toFixed(0)} ms (${(v.wallMs.median / base.wallMs.median).toFixed(2)}× node -e 0)`,
        goal: `≤ ${VALIDATE_GOAL_MS} ms`,
        ...against(v.wallMs.median, VALIDATE_GOAL_MS),
      })),
    ];
    const notes = [
      `startup: median of ${RUNS} runs after ${WARMUPS} warm-ups, interleaved; wall from spawn to exit; Node's compile cache warm; min–max --help ${help.wallMs.min.toFixed(0)}–${help.wallMs.max.toFixed(0)} ms, node -e 0 ${base.wallMs.min.toFixed(0)}–${base.wallMs.max.toFixed(0)} ms.`,
    ];
    return { rows, notes };
  } finally {
    tmp.cleanup();
  }
}

if (import.meta.main) await runBench(body);

export { body as startupBench };
