/**
 * Workflow fan-out: a 200-item `forEach` step through the workflow engine (runWorkflow, in this
 * process, over the default SQLite ledger and the SQLite journal in a temp XDG dir) against the
 * scripted server, whose model allows 20 requests per 2000 ms and answers at once. From the
 * server's log: over-limit starts (most starts in any 2000 ms window, against 20), requests
 * received and refused; from the run: makespan (workflow start → end) ÷ ideal, where
 * ideal = (ceil(200/20) − 1) × 2000 ms + one task's time (a 1-item run of the same workflow
 * against an unlimited model, measured first); and this process's peak RSS.
 *
 *   npx node bench/workflow-fanout.ts [--json]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Config } from '../src/config/schema-types.ts';
import { EventBus } from '../src/events.ts';
import { openRuntime } from '../src/run/runtime.ts';
import { Journal } from '../src/workflow/journal.ts';
import { runWorkflow } from '../src/workflow/run-workflow.ts';
import type { WorkflowRunResult } from '../src/workflow/run-workflow.ts';
import { startScriptedServer } from '../test/support/openai-server.ts';
import { median } from './support/measure.ts';
import { against, runBench } from './support/report.ts';
import type { Row } from './support/report.ts';

const TASKS = 200;
const MAX_REQUESTS = 20;
const WINDOW_MS = 2000;
const RATE_IDEAL_MS = (Math.ceil(TASKS / MAX_REQUESTS) - 1) * WINDOW_MS;
const MAKESPAN_GOAL = 1.05;
const KEY = 'sk-bench-0123456789';
const ANSWER = 'done';
const XDG = ['XDG_DATA_HOME', 'XDG_CACHE_HOME', 'XDG_CONFIG_HOME'] as const;

const mib = (kib: number): string => `${(kib / 1024).toFixed(0)} MiB`;

function fanoutConfig(baseURL: string): Config {
  const limit = { maxRequests: MAX_REQUESTS, windowMs: WINDOW_MS };
  return {
    model: 'local/limited',
    provider: { local: { options: { baseURL, apiKey: KEY }, models: { limited: { rateLimit: limit }, free: {} } } },
    cache: { enabled: false },
    agent: { worker: {} },
    workflow: {
      fan: { steps: [{ id: 'item', agent: 'worker', prompt: 'Handle {{item}}', forEach: '{{input.items}}' }] },
      warm: { steps: [{ id: 'item', agent: 'worker', model: 'local/free', prompt: 'Handle {{item}}', forEach: '{{input.items}}' }] },
    },
  } as Config;
}

async function body(): Promise<{ rows: Row[]; notes: string[] }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pantheon-bench-fanout-'));
  const saved = Object.fromEntries(XDG.map((k) => [k, process.env[k]]));
  const env: NodeJS.ProcessEnv = { XDG_DATA_HOME: path.join(dir, 'data'), XDG_CACHE_HOME: path.join(dir, 'cache'), XDG_CONFIG_HOME: path.join(dir, 'config') };
  for (const k of XDG) process.env[k] = env[k];
  const server = await startScriptedServer({
    apiKey: KEY,
    default: { type: 'text', text: ANSWER },
    models: { limited: { rateLimit: { maxRequests: MAX_REQUESTS, windowMs: WINDOW_MS } } },
  });
  try {
    process.stderr.write(`workflow-fanout: ${TASKS} tasks at ${MAX_REQUESTS}/${WINDOW_MS} ms (about ${RATE_IDEAL_MS / 1000} s)\n`);
    const config = fanoutConfig(server.url);
    const runtime = await openRuntime(config, { env, noCache: true });
    const journal = Journal.open(env);
    try {
      const run = (name: string, items: string[]): Promise<WorkflowRunResult> =>
        runWorkflow({ config, name, inputs: { items: items.join(',') }, runtime, bus: new EventBus('ses_bench'), journal, env });
      // One task alone, against the unlimited model: warms the engine and gives one task's time.
      const warm = await run('warm', ['item-warm']);
      if (warm.status !== 'success') throw new Error(`workflow-fanout: the 1-task run ended ${warm.status}: ${warm.tasks[0]?.error ?? ''}`);
      const taskMs = warm.endedAt - warm.startedAt;
      const ideal = RATE_IDEAL_MS + taskMs;
      server.reset();

      const rssBefore = process.resourceUsage().maxRSS;
      const result = await run(
        'fan',
        Array.from({ length: TASKS }, (_, i) => `item-${i}`),
      );
      const rssPeak = process.resourceUsage().maxRSS;

      const log = server.log.filter((e) => e.model === 'limited');
      const stats = server.stats();
      const busiest = stats.maxStartsInWindow('limited', WINDOW_MS);
      const refused = stats.models.limited?.overLimit ?? 0;
      const ok = log.filter((e) => e.status === 200).length;
      const succeeded = result.tasks.filter((t) => t.status === 'success').length;
      const starts = log.map((e) => e.startedAt).sort((a, b) => a - b);
      const startSpan = (starts.at(-1) ?? 0) - (starts[0] ?? 0);
      const makespan = result.endedAt - result.startedAt;
      const ratio = makespan / ideal;
      const serviceMs = median(log.map((e) => (e.endedAt ?? e.startedAt) - e.startedAt));
      const overLimit = Math.max(0, busiest - MAX_REQUESTS);
      const allOk = log.length === TASKS && ok === TASKS && refused === 0 && succeeded === TASKS && result.retries === 0;
      const label = `${TASKS} tasks at ${MAX_REQUESTS}/${WINDOW_MS} ms`;
      const rows: Row[] = [
        {
          bench: 'workflow fan-out',
          case: `${label}: requests`,
          result: `${log.length} received, ${ok} answered 200, ${refused} refused (429); ${succeeded} tasks succeeded, ${result.retries} retries, status ${result.status}`,
          figure: `${ok}/${TASKS} ok`,
          goal: `${TASKS} ok, 0 refused, 0 retries`,
          ...(allOk ? { met: true } : { met: false, miss: `${TASKS - ok} not ok, ${refused} refused, ${result.retries} retries` }),
        },
        {
          bench: 'workflow fan-out',
          case: `${label}: over-limit starts`,
          result: `at most ${busiest} starts in any ${WINDOW_MS} ms window (server clock); first → last start ${startSpan} ms (rate floor ${RATE_IDEAL_MS} ms)`,
          figure: String(overLimit),
          goal: '0',
          ...(overLimit === 0 ? { met: true } : { met: false, miss: `${busiest} in a window` }),
        },
        {
          bench: 'workflow fan-out',
          case: `${label}: makespan`,
          result: `${makespan} ms workflow start → end (ideal ${ideal} ms = ${RATE_IDEAL_MS} + ${taskMs} for one task); tasks' waitedMs sums to ${(result.waitedMs / 1000).toFixed(1)} s`,
          figure: `${ratio.toFixed(3)}× ideal`,
          goal: `≤ ${MAKESPAN_GOAL}×`,
          ...against(ratio, MAKESPAN_GOAL),
        },
        {
          bench: 'workflow fan-out',
          case: `${label}: peak RSS`,
          result: `${mib(rssPeak)} peak (${mib(rssBefore)} peak before the run, same process)`,
          figure: `${(rssPeak / rssBefore).toFixed(2)}× before`,
          goal: '',
        },
      ];
      const notes = [
        `workflow fan-out: one \`forEach\` step over ${TASKS} items (comma-separated input) run by runWorkflow in the bench's process, default SQLite ledger and journal in a temp XDG dir, cache off; the provider's model is configured at {maxRequests: ${MAX_REQUESTS}, windowMs: ${WINDOW_MS}} and the scripted server enforces the same window (429 beyond it) and answers "${ANSWER}" at once (median ${serviceMs} ms per request on the server). Ideal makespan = (ceil(${TASKS}/${MAX_REQUESTS}) − 1) × ${WINDOW_MS} ms (the last batch's wait) + one task's time, measured as a 1-item run of the same workflow against an unlimited model just before (${taskMs} ms). Peak RSS is process.resourceUsage().maxRSS of this process, which also hosts the scripted server; "before" is the same figure just before the ${TASKS}-task run (after the 1-item run).`,
      ];
      return { rows, notes };
    } finally {
      journal.close();
      await runtime.close();
    }
  } finally {
    await server.close();
    for (const k of XDG) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) await runBench(body);

export { body as workflowFanoutBench };
