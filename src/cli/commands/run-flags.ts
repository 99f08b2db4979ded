/**
 * `opencode run`'s flags and how they are read: shared by the full CLI (commands/run.ts) and the
 * attach bundle (src/cli/attach-main.ts), which must not import the local run's code.
 */
import type { Argv, CommandModule } from 'yargs';
import { PantheonError } from '../../errors.ts';

export interface RunArgs {
  message?: string[];
  agent?: string;
  model?: string;
  /** `--variant`: the head model with this variant (OpenCode's flag). */
  variant?: string;
  /** `--title`: the title of a session this run starts. */
  title?: string;
  /** `--share` (OpenCode's session sharing): not available; said on stderr. */
  share?: boolean;
  /** `--command NAME`: the config's command of that name, the message its arguments. */
  command?: string;
  file?: string[];
  format: 'default' | 'json';
  config?: string;
  cache: boolean;
  timeout?: number;
  auto: boolean;
  continue?: boolean;
  session?: string;
  /** `--fork`: continue a copy of the session (with --continue or --session). */
  fork?: boolean;
  /** `--attach URL`: send the run to a running `opencode serve`. */
  attach?: string;
  /** `--dir PATH`: the project folder (on the server, with --attach). */
  dir?: string;
  /** `-u/--username`, `-p/--password`: HTTP Basic auth for --attach (default OPENCODE_SERVER_USERNAME or opencode, OPENCODE_SERVER_PASSWORD). */
  username?: string;
  password?: string;
  /** `--thinking`: show the model's reasoning blocks (hidden by default). */
  thinking?: boolean;
  debug: boolean;
}

/** The longest `--timeout`, as for `options.timeout` in the schema: 24 h. */
const MAX_TIMEOUT_MS = 86_400_000;

/** `--timeout MS`: a whole number of milliseconds from 1 to 24 h. */
export function parseTimeout(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const text = String(Array.isArray(value) ? value[value.length - 1] : value).trim();
  const ms = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(ms) || ms <= 0 || ms > MAX_TIMEOUT_MS) {
    const shown = text.length > 40 ? `${text.slice(0, 39)}…` : text;
    throw new PantheonError('USAGE', `--timeout: expected a whole number of milliseconds from 1 to 86,400,000 (24 h), found ${JSON.stringify(shown)}.`, {
      hint: 'For example --timeout 60000.',
    });
  }
  return ms;
}

/** What `--share` gets: OpenCode publishes the session on opencode.ai; there is no such service here. */
export const SHARE_NOTE = 'note: --share publishes a session on OpenCode\'s service, which Pantheon does not have; the session stays on this machine (`opencode session show <id>`)\n';

/** A text flag's value, refused when it is empty. */
function nonEmpty(value: string | undefined, flag: string, what: string, example: string): string | undefined {
  if (value === undefined) return undefined;
  if (value.trim() === '') throw new PantheonError('USAGE', `${flag}: expected ${what}, found nothing.`, { hint: `For example ${example}.` });
  return value;
}

/** `run`'s flags: shared by the full CLI and the attach bundle (src/cli/attach-main.ts), so both parse alike. */
export const runCommandLine = {
  command: 'run [message..]',
  describe: 'Run an agent on a message and stream its answer',
  builder: (y: Argv) =>
    y
      .positional('message', { type: 'string', array: true, describe: 'The message; piped or redirected stdin (at most 8 MiB) is appended' })
      .option('agent', { alias: 'a', type: 'string', describe: 'Agent to run (default: default_agent)' })
      .option('model', { alias: 'm', type: 'string', describe: 'provider/model[:variant]: replaces the head of the agent\'s chain' })
      .option('variant', { type: 'string', describe: 'The head model\'s variant (as provider/model:variant; e.g. high, max)' })
      .option('title', { type: 'string', describe: 'Title of the session this run starts (default: the message)' })
      .option('command', { type: 'string', describe: 'Run the config\'s command of this name (command.<name>, .opencode/command/<name>.md); the message is its arguments' })
      .option('share', { type: 'boolean', describe: 'OpenCode\'s session sharing: not available here (the run goes on)' })
      // not `array: true`, which would swallow the message after `--file x`; repeats collect into an array
      .option('file', { alias: 'f', type: 'string', describe: 'Attach a file (text inline, at most 1 MiB; images as file parts, at most 20 MiB); repeatable: -f a.ts -f b.png' })
      .option('format', { choices: ['default', 'json'] as const, default: 'default' as const, describe: 'default: text; json: one event per line' })
      .option('cache', { type: 'boolean', default: true, describe: 'Use the response cache (--no-cache to skip it)' })
      .option('timeout', { type: 'string', describe: 'Per-attempt timeout in ms (no response or no progress for this long)' })
      .option('auto', { type: 'boolean', default: false, describe: 'Approve tool calls whose permission is "ask" without asking' })
      .option('continue', { alias: 'c', type: 'boolean', describe: "Continue this project's latest session" })
      .option('session', { alias: 's', type: 'string', describe: 'Continue the session with this id' })
      .option('fork', { type: 'boolean', describe: 'Continue a copy of that session (with --continue or --session); the original stays as it was' })
      .option('attach', { type: 'string', describe: 'Send the run to a running `opencode serve` at this URL (password from OPENCODE_SERVER_PASSWORD); rendered as a local run' })
      .option('dir', { type: 'string', describe: 'Project folder to run in (with --attach: the folder on the server; default: the working directory)' })
      .option('username', { alias: 'u', type: 'string', describe: 'With --attach: the server\'s Basic auth user (default: OPENCODE_SERVER_USERNAME, else opencode)' })
      .option('password', { alias: 'p', type: 'string', describe: 'With --attach: the server\'s password (default: OPENCODE_SERVER_PASSWORD); never printed' })
      .option('thinking', { type: 'boolean', describe: 'Show the model\'s reasoning blocks ("Thinking: …"; hidden by default)' })
      .option('port', { type: 'string', describe: 'OpenCode\'s port for the run\'s own server: refused, a local run starts no server (use `opencode serve --port N` and --attach)' })
      .option('interactive', { alias: 'i', type: 'boolean', describe: 'OpenCode\'s interactive mode: refused, Pantheon has no terminal UI (OpenCode\'s TUI attaches to `opencode serve`)' })
      .conflicts('continue', 'session')
      .example('$0 run --agent oracle "Review this design for scaling problems"', '')
      .example('git diff | $0 run -a momus "Review this change"', '')
      .example('$0 run -c "And the error handling?"', '')
      .example('$0 run --attach http://127.0.0.1:4096 "Summarise the open issues"', 'Run on a server started with `opencode serve`'),
} satisfies Omit<CommandModule, 'handler'>;

/** OpenCode's `run --port` and `--interactive`: nothing here does what they do, so they are refused with what to do instead. */
function refuseOpenCodeOnly(args: Record<string, unknown>): void {
  if (args.port !== undefined) {
    throw new PantheonError('USAGE', '--port: Pantheon\'s `opencode run` starts no server of its own, so there is no port to choose.', {
      hint: 'Start one with `opencode serve --port 4096`, then send the run to it with `opencode run --attach http://127.0.0.1:4096 "…"`.',
    });
  }
  if (args.interactive) {
    throw new PantheonError('USAGE', '--interactive: Pantheon has no interactive terminal mode; `opencode run` sends one message and prints the answer.', {
      hint: 'Go on with `opencode run -c "…"`, or run OpenCode\'s TUI against `opencode serve` (`<opencode> attach http://127.0.0.1:4096`).',
    });
  }
}

/** The parsed flags as a run takes them (the last of repeated single-value flags), and `--attach`'s URL if given. */
export function runArgsOf(args: Record<string, unknown>): { run: RunArgs; attach: string | undefined } {
  const timeout = parseTimeout(args.timeout);
  const file = args.file === undefined ? undefined : [args.file].flat().map((f) => nonEmpty(String(f), '--file', 'a file path', '--file notes.md') as string);
  const last = (v: unknown) => (v === undefined ? undefined : String([v].flat().pop()));
  // A flag given without its value (`--agent` at the end of the line) is an empty string: said, not taken as unset.
  const session = nonEmpty(last(args.session), '--session', 'a session id', '--session ses_01jzq4w7 (`opencode session list` shows them)');
  const agent = nonEmpty(last(args.agent), '--agent', 'an agent name', '--agent oracle');
  const model = nonEmpty(last(args.model), '--model', 'a model such as provider/model', '--model nvidia-nim/qwen-3.5-397b');
  const dir = nonEmpty(last(args.dir), '--dir', 'a folder', '--dir ../other-project');
  const attach = nonEmpty(last(args.attach), '--attach', 'a server URL', '--attach http://127.0.0.1:4096');
  refuseOpenCodeOnly(args);
  if (args.fork && !args.continue && args.session === undefined) {
    throw new PantheonError('USAGE', '--fork: there is no session to copy.', { hint: 'Use it with --continue or --session ID.' });
  }
  const variant = nonEmpty(last(args.variant), '--variant', 'a variant name', '--variant high');
  const title = nonEmpty(last(args.title), '--title', 'a title', '--title "JWT auth"');
  const command = nonEmpty(last(args.command), '--command', 'a command name', '--command review');
  // What follows `--` is message text however it looks (`opencode run -- --help me`): yargs leaves it in `_`, after the command's name.
  const afterDashes = Array.isArray(args._) ? args._.slice(1).map(String) : [];
  const message = [...((args.message as string[] | undefined) ?? []), ...afterDashes];
  const username = nonEmpty(last(args.username), '--username', 'a user name', '--username opencode');
  const password = nonEmpty(last(args.password), '--password', 'a password', '-p "$OPENCODE_SERVER_PASSWORD"');
  const run = { ...(args as unknown as RunArgs), ...(message.length ? { message } : {}), timeout, file, session, agent, model, variant, title, command, username, password, ...(dir === undefined ? {} : { dir }) };
  for (const key of ['session', 'agent', 'model', 'variant', 'title', 'command', 'username', 'password'] as const) if (run[key] === undefined) delete run[key];
  return { run, attach };
}

