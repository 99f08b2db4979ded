/**
 * OpenCode's TUI in a child process with the terminal handed over, for `opencode [project]`
 * (tui-action.ts) and `opencode attach URL` (tui-attach.ts). Its password travels in its
 * environment (OPENCODE_SERVER_PASSWORD, which OpenCode's `attach` reads when it is given no
 * `--password`), never on its command line, where any user of the machine could read it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { PantheonError } from '../../errors.ts';
import { oneValue } from '../one-value.ts';
import { safeLine } from '../terminal-text.ts';

export interface RunningTui {
  child: ChildProcess;
  /** Its exit code (130 for a SIGINT, 1 for another signal); rejects when it could not be started. */
  code: Promise<number>;
}

export function runTui(bin: string, argv: readonly string[], options: { cwd: string; env: NodeJS.ProcessEnv }): RunningTui {
  const child = spawn(bin, argv, { cwd: options.cwd, env: options.env, stdio: 'inherit' });
  const code = new Promise<number>((resolve, reject) => {
    child.once('error', (error) => reject(new PantheonError('USAGE', `OpenCode's TUI could not be started (${safeLine(bin)}): ${safeLine(error.message)}.`, { hint: 'Check PANTHEON_OPENCODE_BIN, or the opencode found on the PATH.' })));
    child.once('exit', (exit, signal) => resolve(exit ?? (signal === 'SIGINT' ? 130 : 1)));
  });
  return { child, code };
}

/** OpenCode's global flags, given to this command, for the TUI too: `--print-logs`, `--log-level` (`--pure` travels as OPENCODE_PURE). */
export function globalFlags(args: { 'print-logs'?: unknown; 'log-level'?: unknown }): string[] {
  const out: string[] = [];
  if (args['print-logs'] === true) out.push('--print-logs');
  const level = Array.isArray(args['log-level']) ? args['log-level'].at(-1) : args['log-level'];
  if (typeof level === 'string' && level !== '') out.push('--log-level', level.toUpperCase());
  return out;
}

/** The session flags of OpenCode's `attach`, as given: `-c`, `-s`, `--fork`, `--mini`, `--no-replay`, `--replay-limit N` (a number), then the global ones. */
export function attachSessionFlags(args: {
  continue?: unknown;
  session?: unknown;
  fork?: unknown;
  mini?: unknown;
  replay?: unknown;
  'replay-limit'?: unknown;
  'print-logs'?: unknown;
  'log-level'?: unknown;
}): string[] {
  const out: string[] = [];
  if (args.continue) out.push('--continue');
  const session = oneValue(args.session, '--session', 'session id', 'Give one session.');
  if (session !== undefined) out.push('--session', session);
  if (args.fork) out.push('--fork');
  if (args.mini) out.push('--mini');
  if (args.replay === false) out.push('--no-replay');
  const limit = oneValue(args['replay-limit'], '--replay-limit', 'number', 'Give one limit.');
  if (limit !== undefined) {
    if (!/^\d+$/.test(limit.trim())) throw new PantheonError('USAGE', `--replay-limit: expected a number of messages, found "${safeLine(limit, 80)}".`, { hint: 'For example --replay-limit 50 (with --mini).' });
    out.push('--replay-limit', limit.trim());
  }
  return [...out, ...globalFlags(args)];
}
