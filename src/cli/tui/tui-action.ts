/**
 * `opencode [project]`: Pantheon has no terminal UI of its own, so it starts OpenCode's, attached
 * to a Pantheon server started for it — every request the TUI makes then goes through Pantheon's
 * scheduler. The server is `opencode serve` in a child process (its messages go to a log file of
 * its own, server-log.ts, not over the TUI's screen), on 127.0.0.1 and a free port, behind a
 * password made for the session (unless OPENCODE_SERVER_PASSWORD is set), tied to this process by a
 * pipe on its stdin (cli/parent-pipe.ts: it stops when this process ends, even by SIGKILL); the TUI
 * is OpenCode's `attach` (find-opencode.ts says which binary) with the terminal handed over. When
 * the TUI exits, the server is stopped and the TUI's exit code is the command's.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PantheonError } from '../../errors.ts';
import type { TuiArgs } from '../commands/tui.ts';
import { oneValue } from '../one-value.ts';
import { hangupLine, PARENT_PIPE_ENV } from '../parent-pipe.ts';
import { printErr } from '../print.ts';
import { parsePort } from '../serve-action.ts';
import { safeLine } from '../terminal-text.ts';
import { requireOpenCode } from './find-opencode.ts';
import { attachSessionFlags, runTui } from './run-tui.ts';
import { openServerLog } from './server-log.ts';

/** How long the server may take to say it listens. */
const SERVER_START_MS = 60_000;

/** What the TUI is not told (OpenCode's `attach` has no such flag), said once on stderr. */
const NOT_PASSED: readonly (keyof TuiArgs)[] = ['prompt', 'auto', 'mdns', 'mdns-domain'];

function projectDir(value: unknown): string {
  const given = oneValue(value, 'project', 'project path', 'Give one project folder.');
  const dir = path.resolve(given ?? '.');
  if (!fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory()) {
    throw new PantheonError('USAGE', `project: expected a folder, found "${safeLine(given ?? dir, 200)}" (no such folder).`, { hint: '`opencode [project]` starts OpenCode\'s TUI in that folder; `opencode --help` lists the commands.' });
  }
  return dir;
}

/** OPENCODE_CONFIG_CONTENT with `--model` and `--agent` on top (the TUI starts with the config's model and default agent). */
async function configContent(args: TuiArgs, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const model = oneValue(args.model, '--model', 'model', 'Give one model.');
  const agent = oneValue(args.agent, '--agent', 'agent', 'Give one agent.');
  if (model === undefined && agent === undefined) return env.OPENCODE_CONFIG_CONTENT;
  const { parse } = await import('jsonc-parser');
  const base = env.OPENCODE_CONFIG_CONTENT ? (parse(env.OPENCODE_CONFIG_CONTENT) as unknown) : {};
  const layer = base !== null && typeof base === 'object' && !Array.isArray(base) ? { ...(base as Record<string, unknown>) } : {};
  if (model !== undefined) layer.model = model;
  if (agent !== undefined) layer.default_agent = agent;
  return JSON.stringify(layer);
}


function serverArgs(args: TuiArgs): string[] {
  const out = ['serve'];
  const port = oneValue(args.port, '--port', 'port', 'Give one port.');
  // Checked here, as `serve` checks it: a usage error before anything starts.
  if (port !== undefined) out.push('--port', String(parsePort(port)));
  const hostname = oneValue(args.hostname, '--hostname', 'address', 'Give one address.');
  if (hostname !== undefined) out.push('--hostname', hostname);
  for (const origin of Array.isArray(args.cors) ? args.cors : args.cors === undefined ? [] : [args.cors]) out.push('--cors', String(origin));
  if (args.config) out.push('--config', args.config);
  return out;
}

/** Starts the server (`spawned` is told its process at once); resolves with its URL once it listens. Its stderr goes to `log`. */
function startServer(argv: string[], cwd: string, env: NodeJS.ProcessEnv, spawned: (child: ChildProcess) => void): Promise<{ child: ChildProcess; url: string }> {
  const { file: log, fd } = openServerLog(env);
  // stdin: the pipe that ties the server to this process (only this process holds its other end).
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1] ?? '', ...argv], { cwd, env: { ...env, [PARENT_PIPE_ENV]: '1' }, stdio: ['pipe', 'pipe', fd] });
  fs.closeSync(fd);
  // The server gone first (it failed to start): writing nothing, this process need not hear of it.
  child.stdin?.on('error', () => undefined);
  spawned(child);
  return new Promise((resolve, reject) => {
    let out = '';
    const failed = (why: string): void => {
      clearTimeout(timer);
      child.kill('SIGTERM');
      const said = fs.readFileSync(log, 'utf8').trim().split('\n').slice(-3).join(' | ');
      reject(new PantheonError('SERVER_UNREACHABLE', `The Pantheon server for OpenCode's TUI did not start: ${why}${said ? ` (${safeLine(said, 400)})` : ''}.`, { hint: `Its messages are in ${log}; \`opencode serve\` in the project shows the problem.` }));
    };
    const timer = setTimeout(() => failed(`it did not listen within ${SERVER_START_MS / 1000} s`), SERVER_START_MS);
    child.once('error', (error) => failed(error.message));
    child.once('exit', (code, signal) => failed(`it exited (${String(code ?? signal)})`));
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const url = /^opencode server listening on (http:\/\/\S+)$/m.exec(out)?.[1];
      if (!url) return;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      child.stdout?.removeAllListeners('data');
      child.stdout?.resume();
      resolve({ child, url });
    });
  });
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

/** SIGTERM (the server finishes turns in flight), then SIGKILL if it is still there after `graceMs`. */
async function stop(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited(child);
  clearTimeout(timer);
}

export async function tuiAction(args: TuiArgs): Promise<void> {
  const env = process.env;
  const project = projectDir(args.project);
  const bin = requireOpenCode(env, "`opencode` alone starts OpenCode's terminal UI");
  const ignored = NOT_PASSED.filter((k) => args[k] !== undefined && args[k] !== false);
  if (ignored.length) printErr(`note: ${ignored.map((k) => `--${k}`).join(', ')} ${ignored.length > 1 ? 'are' : 'is'} not passed on: OpenCode's TUI attached to a server has no such flag.\n`);
  const password = env.OPENCODE_SERVER_PASSWORD || randomBytes(24).toString('base64url');
  const content = await configContent(args, env);
  const serverEnv = { ...env, OPENCODE_SERVER_PASSWORD: password, ...(content !== undefined ? { OPENCODE_CONFIG_CONTENT: content } : {}) };
  let server: ChildProcess | undefined;
  let tui: ChildProcess | undefined;
  let ended: NodeJS.Signals | undefined;
  // Handled from before the server is started: a signal while it starts stops it too (it would be left running otherwise).
  const onSignal = (signal: NodeJS.Signals): void => {
    // The terminal is the TUI's once it runs: a Ctrl-C it does not take (before it sets raw mode) ends it, and then the server.
    if (signal === 'SIGINT' && tui) return;
    ended ??= signal;
    tui?.kill(signal);
    server?.kill(signal);
  };
  const handlers = (['SIGINT', 'SIGTERM', 'SIGHUP'] as const).map((signal) => [signal, () => onSignal(signal)] as const);
  for (const [signal, handler] of handlers) process.on(signal, handler);
  const endedBy = (signal: NodeJS.Signals): void => {
    process.exitCode = 128 + (os.constants.signals[signal] ?? 0);
  };
  try {
    let url: string;
    try {
      ({ url } = await startServer(serverArgs(args), project, serverEnv, (child) => (server = child)));
    } catch (error) {
      if (ended) return endedBy(ended);
      throw error;
    }
    if (ended) return endedBy(ended);
    const tuiEnv = { ...env, OPENCODE_SERVER_PASSWORD: password, OPENCODE_SERVER_USERNAME: env.OPENCODE_SERVER_USERNAME || 'opencode' };
    const running = runTui(bin, ['attach', url, '--dir', project, ...attachSessionFlags(args)], { cwd: project, env: tuiEnv });
    tui = running.child;
    // Should this process be killed (SIGKILL: nothing here runs), the server hangs the TUI up as it stops.
    if (tui.pid !== undefined) server?.stdin?.write(hangupLine(tui.pid));
    process.exitCode = await running.code;
  } finally {
    if (server) await stop(server);
    for (const [signal, handler] of handlers) process.off(signal, handler);
  }
}
