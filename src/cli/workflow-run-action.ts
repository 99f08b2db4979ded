import fs from 'node:fs';
import { closeAllLsp } from '../lsp/live.ts';
import { didYouMean } from '../config/did-you-mean.ts';
import { cliPlugins } from './cli-plugins.ts';
import { loadConfig } from '../config/load.ts';
import { EXIT, PantheonError } from '../errors.ts';
import { EventBus, type PantheonEvent } from '../events.ts';
import { openMcp } from '../core/mcp-servers.ts';
import { openRuntime } from '../run/runtime.ts';
import { checkInputs, stepItems } from '../workflow/inputs.ts';
import { Journal, journalPath, newRunId } from '../workflow/journal.ts';
import { runOwner } from '../workflow/run-lock.ts';
import { runWorkflow, type WorkflowRunResult } from '../workflow/run-workflow.ts';
import { joinOutputs } from '../workflow/task-state.ts';
import { requiredInputs, validateWorkflow, type ValidatedWorkflow } from '../workflow/validate.ts';
import type { WorkflowRunArgs } from './commands/workflow.ts';
import { printOut, printWarnings } from './print.ts';
import { JsonRenderer } from './render/json-renderer.ts';
import { WorkflowProgress, workflowSummaryLines } from './render/workflow-progress.ts';
import { watchLedger } from '../state/fallback-ledger.ts';

const INPUT_NAME = /^[A-Za-z0-9_-]+$/;

/** `--input key=value …` → inputs; a malformed or repeated one is a usage error naming it. */
export function parseInputs(given: readonly string[]): Record<string, string> {
  const inputs: Record<string, string> = {};
  for (const text of given) {
    const eq = text.indexOf('=');
    const name = eq < 0 ? text : text.slice(0, eq).trim();
    if (eq < 0 || !INPUT_NAME.test(name)) {
      throw new PantheonError('USAGE', `--input: expected key=value, found ${JSON.stringify(text)}.`, {
        hint: 'Give each input as --input name=value (letters, digits, _ and - in the name), e.g. --input task="add JWT auth".',
      });
    }
    if (Object.hasOwn(inputs, name)) {
      throw new PantheonError('USAGE', `--input: ${name} is given twice.`, { hint: 'Give each input once; a list input takes a JSON array or comma-separated text.' });
    }
    inputs[name] = text.slice(eq + 1);
  }
  return inputs;
}

/** Inputs the workflow does not use are probably typos: refused, with the names it does use. */
function checkUnused(wf: ValidatedWorkflow, inputs: Record<string, string>): void {
  const used = requiredInputs(wf);
  const unused = Object.keys(inputs).filter((name) => !used.includes(name));
  if (unused.length === 0) return;
  const [first] = unused as [string];
  throw new PantheonError('USAGE', `--input ${first}: workflow ${wf.name} has no input named ${JSON.stringify(first)}${didYouMean(first, used) || '.'}`, {
    hint: used.length ? `Its inputs: ${used.join(', ')}.` : `Workflow ${wf.name} takes no inputs.`,
  });
}

/** The outputs of the steps nothing else needs (the workflow's results), for stdout. */
function finalOutputs(wf: ValidatedWorkflow, result: WorkflowRunResult): string {
  const needed = new Set(wf.steps.flatMap((s) => s.needs));
  const sinks = wf.steps.filter((s) => !needed.has(s.id));
  const parts = sinks.flatMap((step) => {
    const tasks = result.tasks.filter((t) => t.stepID === step.id && t.status === 'success');
    if (tasks.length === 0) return [];
    const text = joinOutputs(tasks, step.forEach !== undefined).trim();
    return sinks.length > 1 ? [`## ${step.id}\n\n${text}`] : [text];
  });
  return parts.length ? `${parts.join('\n\n')}\n` : '';
}

/** The run id the events will carry as their sessionID: the resumed run's, or a fresh one. */
function runIdFor(journal: Journal, wf: ValidatedWorkflow, resume: string | undefined): string {
  if (resume === undefined) return newRunId();
  if (resume !== '') return resume;
  // The run --resume will pick: the newest unfinished one no live process is running.
  return journal.unfinishedRuns(wf.name).find((run) => runOwner(journal.path, run.id) === undefined)?.id ?? newRunId();
}

export async function workflowRun(args: WorkflowRunArgs): Promise<void> {
  const inputs = parseInputs(args.input);
  // The project's OpenCode plugins first: their `config` hooks may change the config (a workflow's agents), and the tasks get their tools and hooks.
  const projectPlugins = await cliPlugins(await loadConfig({ ...(args.config ? { configPath: args.config } : {}) }));
  const { loaded, plugins } = projectPlugins;
  const json = args.format === 'json';
  if (!json) printWarnings(loaded.warnings);
  const wf = validateWorkflow(loaded.config, args.name);
  checkUnused(wf, inputs);
  if (args.resume === undefined) {
    // A new run's inputs are checked before anything is written (a resumed run brings its own).
    checkInputs(wf, inputs);
    for (const step of wf.steps) stepItems(step, inputs);
  }
  if (args.resume !== undefined && !fs.existsSync(journalPath(process.env))) {
    // Nothing has ever run here: say so without creating the journal.
    throw new PantheonError('USAGE', args.resume === '' ? `No unfinished run of workflow ${wf.name} to resume.` : `No workflow run ${JSON.stringify(args.resume)}.`, {
      hint: `Start one with \`opencode workflow run ${wf.name}\`.`,
    });
  }
  const journal = Journal.open(process.env);
  const runId = runIdFor(journal, wf, args.resume);
  const bus = new EventBus(runId);
  const live = !json && Boolean(process.stderr.isTTY) && !process.env.NO_COLOR;
  const progress = json ? undefined : new WorkflowProgress({ err: process.stderr, live });
  const jsonOut = json ? new JsonRenderer(process.stdout) : undefined;
  let finish: Extract<PantheonEvent, { type: 'workflow_finish' }> | undefined;
  bus.subscribe((e) => {
    if (e.type === 'workflow_finish') finish = e;
    (progress ?? jsonOut)?.handle(e);
  });

  const controller = new AbortController();
  const onSignal = () => controller.abort(new PantheonError('CANCELLED', 'Interrupted.'));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const mcp = await openMcp(loaded.config, loaded.projectRoot);
  const watch = mcp?.watch((w) => bus.emit({ type: 'warning', code: w.code, message: w.message }));
  const runtime = await openRuntime(loaded.config, { noCache: !args.cache });
  await projectPlugins.serve({ runtime, ...(mcp ? { mcp } : {}), ...(args.config ? { configPath: args.config } : {}) });
  const unwatchState = watchLedger(runtime.ledger, (w) => bus.emit({ type: 'warning', code: w.code, message: w.message }));
  if (runtime.cacheUnavailable) bus.emit({ type: 'warning', code: 'CACHE_UNAVAILABLE', message: runtime.cacheUnavailable });
  try {
    const result = await runWorkflow({
      config: loaded.config,
      name: wf.name,
      inputs,
      runtime,
      bus,
      journal,
      runId,
      ...(args.resume === undefined ? {} : { resume: args.resume === '' ? true : args.resume }),
      signal: controller.signal,
      ...(args.timeout ? { timeoutMs: args.timeout } : {}),
      // Tasks run in parallel and unattended: `ask` is a denial unless --auto.
      workspace: { projectRoot: loaded.projectRoot, auto: args.auto, interactive: false, ...(watch ? { mcp: watch.tools, mcpInstructions: watch.instructions } : {}), ...(plugins ? { plugins } : {}) },
    });
    bus.emit({ type: 'done', usage: result.usage, status: result.status, ...(result.costUSD === undefined ? {} : { costUSD: result.costUSD }), ...(result.budgets ? { budgets: result.budgets } : {}) });
    if (finish) progress?.finish(workflowSummaryLines(finish));
    if (!json) printOut(finalOutputs(wf, result));
    process.exitCode = result.status === 'success' ? EXIT.ok : result.status === 'cancelled' ? EXIT.interrupted : EXIT.failed;
  } catch (error) {
    // Reported once by main (as JSON under --format json).
    progress?.stop();
    throw error;
  } finally {
    watch?.close();
    unwatchState();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    journal.close();
    await projectPlugins.close();
    await Promise.all([runtime.close(), mcp?.manager.shutdown(), closeAllLsp()]);
  }
}
