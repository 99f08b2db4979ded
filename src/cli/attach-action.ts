/**
 * `opencode run --attach URL`: the run goes to a running `opencode serve` (its config, scheduler,
 * MCP servers and sessions) and its events come back and are rendered exactly as a local run
 * renders them — the answer on stdout, retries/fallbacks/waits on stderr (or NDJSON under
 * `--format json`), the summary line, the same exit codes. Ctrl-C cancels the turn on the server.
 * Nothing heavy is loaded here: no config, no AI SDK.
 */
import { EXIT, PantheonError, type ErrorCode } from '../errors.ts';
import type { PantheonEvent, Usage, UsageBreakdown } from '../events.ts';
import { abortRun, attachTarget, frames, postRun, readFiles } from './attach/attach-request.ts';
import { JsonRenderer } from './render/json-renderer.ts';
import { RunStats } from './render/summary.ts';
import { TextRenderer } from './render/text-renderer.ts';
import { SHARE_NOTE, type RunArgs } from './commands/run-flags.ts';
import { printErr, printWarnings } from './print.ts';
import { runMessage } from './run-message.ts';

interface EndFrame {
  status: 'success' | 'failed' | 'cancelled';
  sessionID: string;
  saved: boolean;
  usage?: Usage;
  costUSD?: number;
  servedBy?: string[];
  byAgent?: Record<string, UsageBreakdown>;
  error?: { code: string; message: string; hint?: string; details?: string[]; exitCode?: number };
}

interface StartFrame {
  sessionID: string;
  nothingToContinue: boolean;
  warnings?: { file?: string; path?: string; message: string }[];
}

/** Flags a server cannot honour for a client: refused with a sentence rather than ignored. */
function refuseLocalOnly(args: RunArgs): void {
  if (args.config !== undefined) {
    throw new PantheonError('USAGE', '--config cannot be used with --attach: the server runs with its own config.', {
      hint: 'Start the server with `opencode serve --config PATH` instead, or run without --attach.',
    });
  }
}

function errorOf(end: EndFrame): PantheonError {
  const e = end.error ?? { code: 'INTERNAL', message: `The turn ended ${end.status}.` };
  return new PantheonError(e.code as ErrorCode, e.message, { ...(e.hint ? { hint: e.hint } : {}), details: e.details ?? [], ...(e.exitCode === undefined ? {} : { exitCode: e.exitCode }) });
}

export async function attachAction(args: RunArgs & { attach: string }): Promise<void> {
  refuseLocalOnly(args);
  if (args.share) printErr(SHARE_NOTE);
  const directory = args.dir ?? process.cwd();
  // -u/-p (OpenCode's) stand in for OPENCODE_SERVER_USERNAME/PASSWORD; credentials in the URL still come first.
  const env = { ...process.env, ...(args.username === undefined ? {} : { OPENCODE_SERVER_USERNAME: args.username }), ...(args.password === undefined ? {} : { OPENCODE_SERVER_PASSWORD: args.password }) };
  const target = attachTarget(args.attach, env, directory);
  const message = await runMessage(args);
  const files = args.file?.length ? await readFiles(args.file, process.cwd()) : [];
  const json = args.format === 'json';
  const stats = new RunStats();
  const live = Boolean(process.stderr.isTTY) && !process.env.NO_COLOR;
  const text = json ? undefined : new TextRenderer({ out: process.stdout, err: process.stderr, live, thinking: Boolean(args.thinking) });
  const jsonOut = json ? new JsonRenderer(process.stdout, { thinking: Boolean(args.thinking) }) : undefined;

  const request = new AbortController();
  let sessionID: string | undefined;
  let interrupted = false;
  const onSignal = (): void => {
    interrupted = true;
    // The server cancels the turn and the stream ends with it; before the turn is known, leave.
    if (sessionID) void abortRun(target, sessionID);
    else request.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let end: EndFrame | undefined;
  try {
    const response = await postRun(
      target,
      {
        message,
        ...(args.agent ? { agent: args.agent } : {}),
        ...(args.model ? { model: args.model } : {}),
        ...(args.command ? { command: args.command } : {}),
        ...(args.variant ? { variant: args.variant } : {}),
        ...(args.title ? { title: args.title } : {}),
        ...(args.session ? { sessionID: args.session } : {}),
        ...(args.continue ? { continue: true } : {}),
        ...(args.fork ? { fork: true } : {}),
        ...(files.length ? { files } : {}),
        ...(args.auto ? { auto: true } : {}),
        ...(args.cache === false ? { noCache: true } : {}),
        ...(args.timeout ? { timeoutMs: args.timeout } : {}),
      },
      request.signal,
    );
    for await (const frame of frames(response, target)) {
      if (frame.event) {
        const e = frame.event as PantheonEvent;
        stats.handle(e);
        (text ?? jsonOut)?.handle(e);
      } else if (frame.start) {
        const start = frame.start as StartFrame;
        sessionID = start.sessionID;
        if (interrupted) void abortRun(target, sessionID);
        if (!json) {
          // The server's warnings, shown as a local run shows its own (made safe, repeated ones counted).
          printWarnings(start.warnings ?? []);
        }
        if (start.nothingToContinue) printErr('note: no earlier session in this project; starting a new one\n');
      } else if (frame.note) {
        const note = frame.note as { dropped: number; contextTokens: number };
        const { trimNote } = await import('../session/trim.ts');
        printErr(`note: ${trimNote(note.dropped, note.contextTokens)}\n`);
      } else if (frame.end) {
        end = frame.end as EndFrame;
      }
    }
  } catch (error) {
    // Ctrl-C before the server named the turn: the request was dropped (the server cancels the turn).
    if (interrupted && request.signal.aborted) throw new PantheonError('CANCELLED', 'Interrupted.');
    throw error;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  if (!end) {
    if (interrupted) throw new PantheonError('CANCELLED', 'Interrupted.');
    throw new PantheonError('SERVER_UNREACHABLE', `The server at ${target.shown} ended the stream before the turn ended.`, { hint: 'It may have stopped; the turn is saved there if it got that far.' });
  }
  const failure = end.status === 'success' ? undefined : errorOf(end);
  // As in a local run: a usage or config error (exit 2) is reported on its own, without a summary line.
  if (!(failure && failure.exitCode === EXIT.usage)) {
    text?.finish(
      stats.line({
        status: end.status === 'success' ? 'done' : end.status,
        usage: end.usage ?? { inputTokens: 0, outputTokens: 0 },
        costUSD: end.costUSD,
        servedBy: end.servedBy ?? [],
        ...(end.status === 'success' || end.saved ? { sessionID: end.sessionID } : {}),
        ...(end.byAgent ? { byAgent: end.byAgent } : {}),
      }),
    );
  }
  if (!failure) return;
  if (json) {
    process.exitCode = failure.exitCode;
    return;
  }
  throw failure;
}
