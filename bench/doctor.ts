/**
 * `opencode doctor` wall time (the built CLI): `doctor --check config` on a project with three
 * providers, and a full `doctor` whose three providers are scripted servers on 127.0.0.1 and whose
 * one MCP server is the real `mcp-server-memory` over stdio. Median of RUNS runs after WARMUPS
 * warm-ups, interleaved with `node -e 0` and `config validate` of the same config.
 *
 *   npx node bench/doctor.ts [--json] [--runs N]
 */
import fs from 'node:fs';
import path from 'node:path';
import { startScriptedServer } from '../test/support/openai-server.ts';
import { measureCases, tempProject, wallAndRss } from './support/measure.ts';
import type { CommandCase, RunResult } from './support/measure.ts';
import { against, assertBuilt, runBench } from './support/report.ts';
import type { Row } from './support/report.ts';

const root = path.resolve(import.meta.dirname, '..');
const bin = path.join(root, 'bin', 'opencode.js');
const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 10;
const WARMUPS = 2;
const CONFIG_GOAL_MS = 200;
const FULL_GOAL_MS = 2000;
const KEY = 'sk-bench-doctor-0123456789';

function expectExit0(name: string, pattern: RegExp) {
  return (r: RunResult): void => {
    if (r.code !== 0 || !pattern.test(r.stdout)) throw new Error(`${name}: exit ${String(r.code)}\n${r.stdout}${r.stderr}`);
  };
}

async function body(): Promise<{ rows: Row[]; notes: string[] }> {
  assertBuilt(root);
  const servers = await Promise.all(['a', 'b', 'c'].map(() => startScriptedServer({ apiKey: KEY, models: { 'up-model': {} } })));
  const tmp = tempProject('doctor');
  try {
    const [a, b, c] = servers.map((s) => s.url);
    const provider = (url: string | undefined) => ({ options: { baseURL: url, apiKey: KEY }, models: { m: { id: 'up-model' } } });
    const config = {
      model: 'alpha/m',
      fallbacks: ['beta/m', 'gamma/m'],
      provider: { alpha: provider(a), beta: provider(b), gamma: provider(c) },
      mcp: {
        memory: {
          type: 'local',
          command: [path.join(root, 'node_modules', '.bin', 'mcp-server-memory')],
          environment: { MEMORY_FILE_PATH: path.join(tmp.root, 'memory.jsonl') },
        },
      },
    };
    fs.writeFileSync(path.join(tmp.project, 'opencode.json'), JSON.stringify(config, null, 2));
    const node = process.execPath;
    const at = { cwd: tmp.project, env: tmp.env };
    const cases: CommandCase[] = [
      { name: 'node -e 0', command: node, args: ['-e', '0'], ...at },
      { name: 'config validate', command: node, args: [bin, 'config', 'validate'], ...at, check: expectExit0('config validate', /^valid/) },
      { name: 'doctor --check config', command: node, args: [bin, 'doctor', '--check', 'config'], ...at, check: expectExit0('doctor --check config', /\n\d+ ok, 0 warnings, 0 failures\n$/) },
      { name: 'doctor (3 providers, 1 MCP server)', command: node, args: [bin, 'doctor'], ...at, check: expectExit0('doctor', /ok +memory +\d+ tools[\s\S]*\n\d+ ok, \d+ warnings?, 0 failures\n$/) },
    ];
    process.stderr.write(`doctor: ${cases.length} commands × (${WARMUPS} warm-ups + ${RUNS} runs) `);
    const [base, validate, configOnly, full] = await measureCases(cases, { runs: RUNS, warmups: WARMUPS });
    if (!base || !validate || !configOnly || !full) throw new Error('doctor: missing results');
    const rows: Row[] = [
      { bench: 'doctor', case: '`node -e 0` (baseline)', result: wallAndRss(base), figure: `${base.wallMs.median.toFixed(0)} ms`, goal: '' },
      { bench: 'doctor', case: '`opencode config validate` (same config, for comparison)', result: wallAndRss(validate), figure: `${validate.wallMs.median.toFixed(0)} ms`, goal: '' },
      {
        bench: 'doctor',
        case: '`opencode doctor --check config`',
        result: wallAndRss(configOnly),
        figure: `${configOnly.wallMs.median.toFixed(0)} ms`,
        goal: `≤ ${CONFIG_GOAL_MS} ms`,
        ...against(configOnly.wallMs.median, CONFIG_GOAL_MS),
      },
      {
        bench: 'doctor',
        case: '`opencode doctor` (3 scripted providers, 1 MCP server)',
        result: wallAndRss(full),
        figure: `${full.wallMs.median.toFixed(0)} ms`,
        goal: `≤ ${FULL_GOAL_MS} ms`,
        ...against(full.wallMs.median, FULL_GOAL_MS),
      },
    ];
    const notes = [
      `doctor: median of ${RUNS} runs after ${WARMUPS} warm-ups, interleaved; wall from spawn to exit; min–max --check config ${configOnly.wallMs.min.toFixed(0)}–${configOnly.wallMs.max.toFixed(0)} ms, full ${full.wallMs.min.toFixed(0)}–${full.wallMs.max.toFixed(0)} ms. The full run starts mcp-server-memory (a Node process) and stops it again, which dominates its time.`,
    ];
    return { rows, notes };
  } finally {
    tmp.cleanup();
    await Promise.all(servers.map((s) => s.close()));
  }
}

if (import.meta.main) await runBench(body);

export { body as doctorBench };
