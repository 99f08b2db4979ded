import fs from 'node:fs';
import { didYouMean } from '../config/did-you-mean.ts';
import { loadConfig } from '../config/load.ts';
import { PantheonError } from '../errors.ts';
import { relativeTime } from '../session/relative-time.ts';
import { Journal, journalPath, type RunRecord } from '../workflow/journal.ts';
import { runOwner } from '../workflow/run-lock.ts';
import { summarize } from '../workflow/run-workflow.ts';
import { joinOutputs, type TaskState } from '../workflow/task-state.ts';
import { requiredInputs, validateWorkflow, type ValidatedWorkflow } from '../workflow/validate.ts';
import type { WorkflowListArgs, WorkflowShowArgs, WorkflowValidateArgs } from './commands/workflow.ts';
import { oneValue } from './one-value.ts';
import { printErr, printJson, printOut, printWarnings } from './print.ts';
import { seconds, workflowSummaryLines } from './render/workflow-progress.ts';
import { table } from './table.ts';

const RECENT_RUNS = 10;

/** The journal when it exists; listing and showing never create it. */
function openJournal(): Journal | undefined {
  return fs.existsSync(journalPath(process.env)) ? Journal.open(process.env) : undefined;
}

interface RunSummary extends RunRecord {
  tasks: { total: number; success: number; failed: number };
}

function runSummary(journal: Journal, run: RunRecord): RunSummary {
  const { tasks } = journal.getRun(run.id);
  return { ...run, tasks: { total: tasks.length, success: tasks.filter((t) => t.status === 'success').length, failed: tasks.filter((t) => t.status === 'failed').length } };
}

type Listed = { name: string; description?: string; concurrency?: number; inputs: string[]; steps: { id: string; agent: string; needs: string[]; forEach?: string; model?: string }[] } | { name: string; error: string };

function listed(config: Parameters<typeof validateWorkflow>[0], name: string): Listed {
  let wf: ValidatedWorkflow;
  try {
    wf = validateWorkflow(config, name);
  } catch (error) {
    return { name, error: error instanceof Error ? error.message : String(error) };
  }
  return {
    name,
    ...(wf.description === undefined ? {} : { description: wf.description }),
    ...(wf.concurrency === undefined ? {} : { concurrency: wf.concurrency }),
    inputs: requiredInputs(wf),
    steps: wf.steps.map((s) => ({
      id: s.id,
      agent: s.agent,
      needs: s.needs,
      ...(s.forEach === undefined ? {} : { forEach: s.forEach.kind === 'input' ? `{{input.${s.forEach.name}}}` : `${s.forEach.items.length} items` }),
      ...(s.model === undefined ? {} : { model: s.model }),
    })),
  };
}

/** A run's status for people: a run marked running that no live process runs was interrupted (a crash, `kill -9`). */
function statusText(run: RunRecord): string {
  if (run.status !== 'running') return run.status;
  const owner = runOwner(journalPath(process.env), run.id);
  return owner === undefined ? 'interrupted' : owner > 0 ? `running (process ${owner})` : 'running';
}

function listText(workflows: readonly Listed[], runs: readonly RunSummary[], now: number): string {
  if (workflows.length === 0) return 'No workflows in the config. Declare one under "workflow" in opencode.json (see docs/workflows.md).\n';
  const blocks = workflows.map((wf) => {
    if ('error' in wf) return `${wf.name}  (invalid) ${wf.error}`;
    const head = `${wf.name}${wf.description ? `  ${wf.description}` : ''}`;
    const meta = [`inputs: ${wf.inputs.length ? wf.inputs.join(', ') : 'none'}`, wf.concurrency === undefined ? undefined : `concurrency ${wf.concurrency}`].filter(Boolean).join(' · ');
    const rows = wf.steps.map((s) => [
      `  ${s.id}`,
      s.agent + (s.model ? ` (${s.model})` : ''),
      [s.forEach ? `for each of ${s.forEach}` : '', s.needs.length ? `after ${s.needs.join(', ')}` : ''].filter(Boolean).join(' · '),
    ]);
    return [head, `  ${meta}`, table(rows)].join('\n');
  });
  const out = [blocks.join('\n\n')];
  if (runs.length) {
    const rows = runs.map((r) => [r.id, r.workflow, statusText(r), relativeTime(r.startedAt, now), `${r.tasks.success}/${r.tasks.total} tasks`]);
    out.push(`Recent runs\n${table([['RUN', 'WORKFLOW', 'STATUS', 'STARTED', 'DONE'], ...rows])}`);
  }
  return `${out.join('\n\n')}\n`;
}

/** `opencode workflow list [--json]`: the config's workflows and the latest runs. */
export async function workflowList(args: WorkflowListArgs): Promise<void> {
  const loaded = await loadConfig({ ...(args.config ? { configPath: args.config } : {}) });
  if (!args.json) printWarnings(loaded.warnings);
  const workflows = Object.keys(loaded.config.workflow ?? {})
    .sort()
    .map((name) => listed(loaded.config, name));
  const journal = openJournal();
  const runs: RunSummary[] = [];
  // A damaged run (a row that is not JSON) is reported and left out; the others are listed.
  const problems: string[] = [];
  try {
    const listedRuns = journal?.listRunsChecked() ?? { runs: [], damaged: [] };
    problems.push(...listedRuns.damaged.map((e) => e.message));
    for (const run of listedRuns.runs.slice(0, RECENT_RUNS)) {
      try {
        runs.push(runSummary(journal as Journal, run));
      } catch (error) {
        if (!(error instanceof PantheonError)) throw error;
        problems.push(error.message);
      }
    }
  } finally {
    journal?.close();
  }
  if (args.json) printJson({ workflows, runs, ...(problems.length ? { problems } : {}) }, 2);
  else {
    if (problems.length) printErr(problems.map((p) => `warning: ${p}\n`).join(''));
    printOut(listText(workflows, runs, Date.now()));
  }
}

/**
 * `opencode workflow validate [NAME] [--json]`: the config loads (its checks cover every workflow:
 * agents, needs, cycles, placeholders; a problem is exit 2 naming the file, the step's field and the
 * name), then each workflow (or the one named) is checked as `workflow run` checks it before any step.
 */
export async function workflowValidate(args: WorkflowValidateArgs): Promise<void> {
  const loaded = await loadConfig({ ...(args.config ? { configPath: args.config } : {}) });
  if (!args.json) printWarnings(loaded.warnings);
  const names = args.name === undefined ? Object.keys(loaded.config.workflow ?? {}).sort() : [args.name];
  const checked = names.map((name) => validateWorkflow(loaded.config, name));
  if (args.json) {
    printJson({ workflows: checked.map((wf) => ({ name: wf.name, steps: wf.steps.length, inputs: requiredInputs(wf) })) }, 2);
    return;
  }
  if (checked.length === 0) return printOut('No workflows in the config. Declare one under "workflow" in opencode.json (see docs/workflows.md).\n');
  const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
  printOut(checked.map((wf) => `${wf.name}: ok (${plural(wf.steps.length, 'step')}; inputs: ${requiredInputs(wf).join(', ') || 'none'})\n`).join(''));
}

interface StepRow {
  id: string;
  agent: string;
  tasks: TaskState[];
}

function stepsOf(tasks: readonly TaskState[]): StepRow[] {
  const steps = new Map<string, StepRow>();
  for (const task of tasks) {
    const step = steps.get(task.stepID) ?? { id: task.stepID, agent: task.agent, tasks: [] };
    step.tasks.push(task);
    steps.set(task.stepID, step);
  }
  return [...steps.values()];
}

const sum = (tasks: readonly TaskState[], pick: (t: TaskState) => number) => tasks.reduce((n, t) => n + pick(t), 0);

function taskTime(t: TaskState): number {
  return t.startedAt !== undefined && t.endedAt !== undefined ? t.endedAt - t.startedAt : 0;
}

function stepTime(tasks: readonly TaskState[]): string {
  const starts = tasks.flatMap((t) => (t.startedAt === undefined ? [] : [t.startedAt]));
  const ends = tasks.flatMap((t) => (t.endedAt === undefined ? [] : [t.endedAt]));
  return starts.length && ends.length ? seconds(Math.max(...ends) - Math.min(...starts)) : '-';
}

function stepStatus(tasks: readonly TaskState[]): string {
  const counts = new Map<string, number>();
  for (const t of tasks) counts.set(t.status, (counts.get(t.status) ?? 0) + 1);
  if (counts.size === 1) return tasks[0]?.status ?? 'empty';
  return [...counts].map(([status, n]) => `${n} ${status}`).join(', ');
}

function cost(tasks: readonly TaskState[]): string {
  const priced = tasks.filter((t) => t.costUSD !== undefined);
  return priced.length ? `$${sum(priced, (t) => t.costUSD ?? 0).toFixed(4)}` : '-';
}

function showText(run: RunRecord, tasks: readonly TaskState[]): string {
  const started = new Date(run.startedAt);
  const wallMs = (run.endedAt ?? Math.max(run.startedAt, ...tasks.map((t) => t.endedAt ?? 0))) - run.startedAt;
  const lines = [
    `${run.id}  workflow ${run.workflow}  ${statusText(run)}`,
    `started ${started.toISOString().replace('T', ' ').slice(0, 19)} UTC`,
  ];
  const inputs = Object.entries(run.inputs);
  if (inputs.length) lines.push(`inputs  ${inputs.map(([k, v]) => `${k}=${JSON.stringify(v.length > 80 ? `${v.slice(0, 79)}…` : v)}`).join(' ')}`);
  const head = ['STEP', 'AGENT', 'STATUS', 'TASKS', 'ATTEMPTS', 'RETRIES', 'FALLBACKS', 'TOKENS IN/OUT', 'COST', 'TIME', 'MODELS'];
  const rows = stepsOf(tasks).map((s) => [
    s.id,
    s.agent,
    stepStatus(s.tasks),
    `${s.tasks.filter((t) => t.status === 'success').length}/${s.tasks.length}`,
    String(sum(s.tasks, (t) => t.attempts ?? 0)),
    String(sum(s.tasks, (t) => t.retries)),
    String(sum(s.tasks, (t) => t.fallbacks)),
    `${sum(s.tasks, (t) => t.usage.inputTokens)}/${sum(s.tasks, (t) => t.usage.outputTokens)}`,
    cost(s.tasks),
    stepTime(s.tasks),
    [...new Set(s.tasks.flatMap((t) => t.models))].join(', ') || '-',
  ]);
  lines.push('', table([head, ...rows], new Set([3, 4, 5, 6, 7, 8, 9])));
  const notable = tasks.filter((t) => t.status === 'failed' || (t.index !== undefined && (t.retries > 0 || t.fallbacks > 0)));
  if (notable.length) {
    lines.push('', 'Tasks with failures, retries or fallbacks:');
    for (const t of notable) {
      const what = [t.status, `${t.attempts ?? 0} attempts`, t.retries ? `${t.retries} retries` : '', t.fallbacks ? `${t.fallbacks} fallbacks` : '', seconds(taskTime(t))].filter(Boolean).join(', ');
      lines.push(`  ${t.taskID.slice(run.id.length + 1)}  ${what}${t.error ? `\n    ${t.error}` : ''}`);
    }
  }
  const finish = { type: 'workflow_finish' as const, runId: run.id, workflow: run.workflow, status: run.status === 'running' ? ('cancelled' as const) : run.status, timestamp: 0, sessionID: run.id };
  const [summary] = workflowSummaryLines({ ...finish, ...summarize(tasks, wallMs) });
  lines.push('', summary ?? '');
  if (run.status !== 'success') lines.push(`resume: opencode workflow run ${run.workflow} --resume ${run.id}`);
  lines.push(`outputs: opencode workflow show ${run.id} --output STEP`);
  return `${lines.join('\n')}\n`;
}

/** `opencode workflow show RUN_ID [--json] [--output STEP]`. */
export async function workflowShow(args: WorkflowShowArgs): Promise<void> {
  const output = oneValue(args.output, '--output', 'step', 'Give --output once; `workflow show RUN_ID` shows every step.');
  const journal = openJournal();
  if (!journal) throw new PantheonError('USAGE', `No workflow run ${JSON.stringify(args.runId)}: nothing has run yet.`, { hint: 'Start one with `opencode workflow run NAME`.' });
  try {
    const { run, tasks } = journal.getRun(args.runId);
    if (output !== undefined) {
      const steps = [...new Set(tasks.map((t) => t.stepID))];
      const own = tasks.filter((t) => t.stepID === output);
      if (own.length === 0) {
        throw new PantheonError('USAGE', `--output: run ${run.id} has no step ${JSON.stringify(output)}${didYouMean(output, steps) || '.'}`, { hint: `Its steps: ${steps.join(', ')}.` });
      }
      const text = joinOutputs(own, own[0]?.index !== undefined);
      printOut(text.endsWith('\n') || text === '' ? text : `${text}\n`);
      return;
    }
    if (args.json) printJson({ ...run, tasks }, 2);
    else printOut(showText(run, tasks));
  } finally {
    journal.close();
  }
}
