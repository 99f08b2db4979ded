import { randomUUID } from 'node:crypto';
import { loadConfig } from '../config/load.ts';
import { EXIT, PantheonError, isPantheonError } from '../errors.ts';
import { EventBus } from '../events.ts';
import { runTask } from '../run/run-task.ts';
import { openRuntime } from '../run/runtime.ts';
import type { RunArgs } from './commands/run.ts';
import { printWarnings } from './print.ts';
import { JsonRenderer } from './render/json-renderer.ts';
import { RunStats } from './render/summary.ts';
import { TextRenderer } from './render/text-renderer.ts';
import { readPipedStdin } from './stdin.ts';

export async function runAction(args: RunArgs): Promise<void> {
  const piped = await readPipedStdin();
  const message = [(args.message ?? []).join(' '), piped].filter((s) => s && s.trim()).join('\n\n');
  if (!message.trim()) {
    throw new PantheonError('USAGE', 'run: no message given.', { hint: 'Pass it as an argument (opencode run "…") or pipe it on stdin.' });
  }
  const loaded = await loadConfig({ ...(args.config ? { configPath: args.config } : {}) });
  const json = args.format === 'json';
  if (!json) printWarnings(loaded.warnings);
  const sessionID = `ses_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
  const bus = new EventBus(sessionID);
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
  const runtime = await openRuntime(loaded.config, { noCache: !args.cache });
  try {
    const result = await runTask({
      config: loaded.config,
      runtime,
      bus,
      message,
      ...(args.agent ? { agent: args.agent } : {}),
      ...(args.model ? { model: args.model } : {}),
      ...(args.file ? { files: args.file } : {}),
      ...(args.timeout ? { timeoutMs: args.timeout } : {}),
      signal: controller.signal,
    });
    bus.emit({ type: 'done', agent: result.agent, taskID: result.taskID, usage: result.usage, status: 'success', ...(result.costUSD === undefined ? {} : { costUSD: result.costUSD }) });
    text?.finish(stats.line('done', result.usage, result.costUSD, result.servedBy));
  } catch (error) {
    const cancelled = controller.signal.aborted || (isPantheonError(error) && error.code === 'CANCELLED');
    const failure = cancelled ? new PantheonError('CANCELLED', 'Interrupted; in-flight requests were aborted.') : error;
    const code = isPantheonError(failure) ? failure.code : 'INTERNAL';
    bus.emit({ type: 'error', code, message: failure instanceof Error ? failure.message : String(failure) });
    bus.emit({ type: 'done', usage: { inputTokens: 0, outputTokens: 0 }, status: cancelled ? 'cancelled' : 'failed' });
    // A usage or config error (exit 2) is reported on its own; a summary line would only add noise.
    const usage = isPantheonError(failure) && failure.exitCode === EXIT.usage;
    if (!usage) text?.finish(stats.line(cancelled ? 'cancelled' : 'failed', { inputTokens: 0, outputTokens: 0 }, undefined, []));
    if (json) {
      process.exitCode = isPantheonError(failure) ? failure.exitCode : 1;
      return;
    }
    throw failure;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await runtime.close();
  }
}
