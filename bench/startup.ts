/**
 * Start-up cost of the built CLI (bin/opencode.js → dist/; run `npm run build` first):
 * `opencode --help` against `node -e 0` on the same Node, and `config validate` of the seed's
 * configs in absolute ms. Median of RUNS runs after WARMUPS warm-ups (which also fill Node's
 * compile cache, as a user's second run would), peak RSS and CPU time from /usr/bin/time; and
 * `opencode serve` from spawn to its readiness line (the same start-up work, issue #13).
 *
 *   npx node bench/startup.ts [--json] [--runs N | --quick]
 */
import path from 'node:path';
import { measureCases, median, runsFromArgv, tempProject, wallCpuRss } from './support/measure.ts';
import type { CommandCase, RunResult } from './support/measure.ts';
import { against, assertBuilt, runBench } from './support/report.ts';
import type { Row } from './support/report.ts';
import { startServe } from './support/serve-process.ts';

const root = path.resolve(import.meta.dirname, '..');
const bin = path.join(root, 'bin', 'opencode.js');
const RUNS = runsFromArgv(15, 5);
const WARMUPS = 2;
const HELP_GOAL = 3;
const VALIDATE_GOAL_MS = 100;
const SERVE_GOAL_MS = 300;

function expectValid(name: string) {
  return (r: RunResult): void => {
    if (r.code !== 0 || !/valid/i.test(r.stdout)) throw new Error(`${name}: exit ${String(r.code)}\n${r.stdout}${r.stderr}`);
  };
}

async function body(): Promise<{ rows: Row[]; notes: string[] }> {
  assertBuilt(root);
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
    process.stderr.write(`startup: serve spawn → ready × (${WARMUPS} warm-ups + ${RUNS}) `);
    const ready: number[] = [];
    for (let i = 0; i < WARMUPS + RUNS; i++) {
      const served = await startServe(at);
      if (i >= WARMUPS) ready.push(served.readyMs);
      await served.stop();
      process.stderr.write('.');
    }
    process.stderr.write('\n');
    const serveMs = median(ready);
    const rows: Row[] = [
      { bench: 'startup', case: '`node -e 0` (baseline)', result: wallCpuRss(base), figure: '1×', goal: '' },
      { bench: 'startup', case: '`opencode --help`', result: wallCpuRss(help), figure: `${helpRatio.toFixed(2)}× node -e 0`, goal: `≤ ${HELP_GOAL}×`, ...against(helpRatio, HELP_GOAL) },
      ...[v11, v14].map((v): Row => ({
        bench: 'startup',
        case: `\`opencode ${v.name}\``,
        result: wallCpuRss(v),
        figure: `${v.wallMs.median.toFixed(0)} ms (${(v.wallMs.median / base.wallMs.median).toFixed(2)}× node -e 0)`,
        goal: `≤ ${VALIDATE_GOAL_MS} ms`,
        ...against(v.wallMs.median, VALIDATE_GOAL_MS),
      })),
      {
        bench: 'startup',
        case: '`opencode serve`: spawn → readiness line',
        result: `${serveMs.toFixed(0)} ms (min ${Math.min(...ready).toFixed(0)}, max ${Math.max(...ready).toFixed(0)})`,
        figure: `${serveMs.toFixed(0)} ms (${(serveMs / base.wallMs.median).toFixed(2)}× node -e 0)`,
        goal: `≤ ${SERVE_GOAL_MS} ms`,
        ...against(serveMs, SERVE_GOAL_MS),
      },
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
