import type { ModelMessage } from 'ai';
import { resolveAgent } from '../agents/resolve-agent.ts';
import { loadConfig } from '../config/load.ts';
import { EXIT, PantheonError, isPantheonError } from '../errors.ts';
import { EventBus } from '../events.ts';
import { openSession, sessionAfter, type OpenedSession } from '../run/run-session.ts';
import { runTask } from '../run/run-task.ts';
import { openRuntime } from '../run/runtime.ts';
import { UsageTally } from '../run/usage-tally.ts';
import { SessionStore } from '../session/store.ts';
import { trimNote } from '../session/trim.ts';
import type { RunArgs } from './commands/run.ts';
import { openMcp } from './open-mcp.ts';
import { printWarnings } from './print.ts';
import { JsonRenderer } from './render/json-renderer.ts';
import { RunStats } from './render/summary.ts';
import { TextRenderer } from './render/text-renderer.ts';
import { readPipedStdin } from './stdin.ts';

async function saveSession(store: SessionStore, opened: OpenedSession, projectRoot: string, outcome: Parameters<typeof sessionAfter>[2]): Promise<void> {
  if (outcome.turn.length === 0) return;
  await store.save(sessionAfter(opened, projectRoot, outcome, Date.now())).catch((error: unknown) => {
    process.stderr.write(`warning: the session was not saved: ${error instanceof Error ? error.message : String(error)}\n`);
  });
}

export async function runAction(args: RunArgs): Promise<void> {
  const piped = await readPipedStdin();
  const message = [(args.message ?? []).join(' '), piped].filter((s) => s && s.trim()).join('\n\n');
  if (!message.trim()) {
    throw new PantheonError('USAGE', 'run: no message given.', { hint: 'Pass it as an argument (opencode run "…") or pipe it on stdin.' });
  }
  const loaded = await loadConfig({ ...(args.config ? { configPath: args.config } : {}) });
  const json = args.format === 'json';
  if (!json) printWarnings(loaded.warnings);
  const store = SessionStore.open(process.env);
  const opened = await openSession(store, { ...(args.session ? { id: args.session } : {}), continue: args.continue, projectRoot: loaded.projectRoot });
  if (opened.nothingToContinue) process.stderr.write('note: no earlier session in this project; starting a new one\n');
  const bus = new EventBus(opened.id);
  const stats = new RunStats();
  bus.subscribe((e) => stats.handle(e));
  const live = Boolean(process.stderr.isTTY) && !process.env.NO_COLOR;
  const text = json ? undefined : new TextRenderer({ out: process.stdout, err: process.stderr, live });
  const jsonOut = json ? new JsonRenderer(process.stdout) : undefined;
  bus.subscribe((e) => (text ?? jsonOut)?.handle(e));

  const controller = new AbortController();
  const onSignal = () => controller.abort(new PantheonError('CANCELLED', 'Interrupted.'));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const interactive = Boolean(process.stdin.isTTY && process.stderr.isTTY);
  const confirm = interactive ? (await import('../permissions/ask.ts')).ttyConfirm({ signal: controller.signal }) : undefined;
  const mcp = await openMcp(loaded.config, loaded.projectRoot, bus);
  const runtime = await openRuntime(loaded.config, { noCache: !args.cache });
  const tally = new UsageTally();
  const turn: ModelMessage[] = [];
  const agent = args.agent ?? opened.previous?.agent;
  try {
    const result = await runTask({
      config: loaded.config,
      runtime,
      bus,
      message,
      ...(agent ? { agent } : {}),
      ...(args.model ? { model: args.model } : {}),
      ...(args.file ? { files: args.file } : {}),
      ...(args.timeout ? { timeoutMs: args.timeout } : {}),
      signal: controller.signal,
      workspace: { projectRoot: loaded.projectRoot, auto: args.auto, interactive, ...(confirm ? { confirm } : {}), ...(mcp ? { mcp: mcp.tools } : {}) },
      history: (opened.previous?.messages ?? []) as ModelMessage[],
      onHistoryTrimmed: (dropped, context) => process.stderr.write(`note: ${trimNote(dropped, context)}\n`),
      turn,
      tally,
    });
    await saveSession(store, opened, loaded.projectRoot, { agent: result.agent, turn, usage: result.usage, costUSD: result.costUSD, servedBy: result.servedBy });
    bus.emit({
      type: 'done',
      agent: result.agent,
      taskID: result.taskID,
      usage: result.usage,
      status: 'success',
      ...(result.costUSD === undefined ? {} : { costUSD: result.costUSD }),
      byAgent: result.byAgent,
      byProvider: result.byProvider,
    });
    text?.finish(stats.line({ status: 'done', usage: result.usage, costUSD: result.costUSD, servedBy: result.servedBy, sessionID: opened.id, byAgent: result.byAgent }));
  } catch (error) {
    const cancelled = controller.signal.aborted || (isPantheonError(error) && error.code === 'CANCELLED');
    const failure = cancelled ? new PantheonError('CANCELLED', 'Interrupted; in-flight requests were aborted.') : error;
    const code = isPantheonError(failure) ? failure.code : 'INTERNAL';
    const usage = { ...tally.usage };
    // A recorded turn means the agent resolved before the failure, so resolving it again cannot throw.
    if (turn.length) await saveSession(store, opened, loaded.projectRoot, { agent: resolveAgent(loaded.config, agent).name, turn, usage, costUSD: tally.costUSD, servedBy: tally.servedBy });
    bus.emit({ type: 'error', code, message: failure instanceof Error ? failure.message : String(failure) });
    bus.emit({
      type: 'done',
      usage,
      status: cancelled ? 'cancelled' : 'failed',
      ...(tally.costUSD === undefined ? {} : { costUSD: tally.costUSD }),
      byAgent: tally.byAgent(),
      byProvider: tally.byProvider(),
    });
    // A usage or config error (exit 2) is reported on its own; a summary line would only add noise.
    const usageError = isPantheonError(failure) && failure.exitCode === EXIT.usage;
    if (!usageError) {
      text?.finish(stats.line({ status: cancelled ? 'cancelled' : 'failed', usage, costUSD: tally.costUSD, servedBy: tally.servedBy, ...(turn.length ? { sessionID: opened.id } : {}), byAgent: tally.byAgent() }));
    }
    if (json) {
      process.exitCode = isPantheonError(failure) ? failure.exitCode : 1;
      return;
    }
    throw failure;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await Promise.all([runtime.close(), mcp?.manager.shutdown()]);
  }
}
