/**
 * `opencode attach URL`: OpenCode's own command, run by OpenCode's binary (find-opencode.ts) with
 * the terminal handed over — its TUI attached to a running server, Pantheon's `opencode serve` or
 * OpenCode's. The flags OpenCode's `attach` knows are passed on as given; the credentials (from the
 * URL, `-u`/`-p`, else OPENCODE_SERVER_USERNAME/OPENCODE_SERVER_PASSWORD) travel in the TUI's
 * environment, never on its command line, and are never printed. The TUI's exit code is the command's.
 */
import { PantheonError } from '../../errors.ts';
import type { AttachTuiArgs } from '../commands/attach.ts';
import { oneValue } from '../one-value.ts';
import { safeLine } from '../terminal-text.ts';
import { requireOpenCode } from './find-opencode.ts';
import { attachSessionFlags, runTui } from './run-tui.ts';

/** The server's URL without its credentials (http or https; a bare host:port is taken as http), and the credentials it held. */
export function tuiAttachUrl(raw: string): { url: string; username?: string; password?: string } {
  const text = raw.trim();
  let url: URL | null = URL.parse(/^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`);
  if (url && ((url.protocol !== 'http:' && url.protocol !== 'https:') || !url.hostname || url.search || url.hash)) url = null;
  if (!url) {
    // Shown without whatever stood before an @ (a password).
    const shown = safeLine(text.replace(/\/\/[^/@]*@/, '//…@'), 200);
    throw new PantheonError('USAGE', `url: expected a server URL such as http://127.0.0.1:4096, found "${shown}".`, {
      hint: '`opencode serve` prints its URL when it starts; `opencode attach http://127.0.0.1:4096` attaches OpenCode\'s TUI to it.',
    });
  }
  let username: string | undefined;
  let password: string | undefined;
  try {
    username = url.username ? decodeURIComponent(url.username) : undefined;
    password = url.password ? decodeURIComponent(url.password) : undefined;
  } catch {
    // A stray % (a password written as it is): not shown, it may be the password.
    throw new PantheonError('USAGE', 'url: the user name or password in the URL is not valid percent-encoding.', {
      hint: 'Write a % in them as %25, or give them with --username/--password (or OPENCODE_SERVER_USERNAME/OPENCODE_SERVER_PASSWORD) instead.',
    });
  }
  url.username = '';
  url.password = '';
  return { url: url.toString().replace(/\/+$/, ''), ...(username !== undefined ? { username } : {}), ...(password !== undefined ? { password } : {}) };
}

/** OpenCode's `attach` flags, as given (`--dir` too: on a server elsewhere it is a path there). */
function attachFlags(args: AttachTuiArgs): string[] {
  const dir = oneValue(args.dir, '--dir', 'folder', 'Give one folder.');
  return [...(dir !== undefined ? ['--dir', dir] : []), ...attachSessionFlags(args)];
}

export async function tuiAttachAction(args: AttachTuiArgs): Promise<void> {
  const env = process.env;
  if (args.config !== undefined) {
    throw new PantheonError('USAGE', '--config cannot be used with attach: the server runs with its own config.', { hint: 'Start the server with `opencode serve --config PATH`, then attach to it.' });
  }
  const target = tuiAttachUrl(oneValue(args.url, 'url', 'server URL', 'Give one server URL.') ?? '');
  const flags = attachFlags(args);
  const bin = requireOpenCode(env, "`opencode attach` runs OpenCode's terminal UI");
  const username = oneValue(args.username, '--username', 'user name', 'Give one user name.') ?? target.username ?? env.OPENCODE_SERVER_USERNAME;
  const password = oneValue(args.password, '--password', 'password', 'Give one password.') ?? target.password ?? env.OPENCODE_SERVER_PASSWORD;
  const tuiEnv: NodeJS.ProcessEnv = { ...env };
  if (username) tuiEnv.OPENCODE_SERVER_USERNAME = username;
  if (password) tuiEnv.OPENCODE_SERVER_PASSWORD = password;
  const tui = runTui(bin, ['attach', target.url, ...flags], { cwd: process.cwd(), env: tuiEnv });
  // The terminal is the TUI's: a Ctrl-C is its to handle (it reaches it from the terminal); a SIGTERM or SIGHUP sent to this process is passed on.
  const onSignal = (signal: NodeJS.Signals): void => {
    if (signal !== 'SIGINT') tui.child.kill(signal);
  };
  const handlers = (['SIGINT', 'SIGTERM', 'SIGHUP'] as const).map((signal) => [signal, () => onSignal(signal)] as const);
  for (const [signal, handler] of handlers) process.on(signal, handler);
  try {
    process.exitCode = await tui.code;
  } finally {
    for (const [signal, handler] of handlers) process.off(signal, handler);
  }
}
