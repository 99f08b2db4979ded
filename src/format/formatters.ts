/**
 * OpenCode's formatters: after `edit` or `write` changes a file, the formatters that take its
 * extension run on it, one after the other. As in OpenCode 1.18, the config's `formatter` turns
 * them on: absent or `false`, none; `true`, the built-ins (builtin-formatters.ts) a project has;
 * an object, the built-ins with its entries over them — `{"disabled": true}` drops one (ruff's or
 * uv's drops both), `command` (with `$FILE`), `environment` and `extensions` change one or add one
 * by a new name. A formatter runs in the project root with the environment and its own variables,
 * no input, its output dropped, at most FORMAT_TIMEOUT_MS (then killed with its children); one that
 * fails is a `--debug` note, never the tool's failure.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { safeLine } from '../cli/terminal-text.ts';
import { debugNote } from '../debug-note.ts';
import { formatDuration } from '../doctor/words.ts';
import { BUILTIN_FORMATTERS, type BuiltinFormatter, type FormatterContext } from './builtin-formatters.ts';

/** One formatter as OpenCode's `GET /formatter` lists it. */
export interface FormatterStatus {
  name: string;
  extensions: string[];
  enabled: boolean;
}

interface Entry {
  disabled?: boolean;
  command?: string[];
  environment?: Record<string, string>;
  extensions?: string[];
}

/** How long one formatter may run on one file. */
export const FORMAT_TIMEOUT_MS = 30_000;

/** The formatters a `formatter` setting turns on (none for absent or `false`). */
export function configuredFormatters(setting: unknown): BuiltinFormatter[] {
  if (setting !== true && (setting === null || typeof setting !== 'object')) return [];
  const byName = new Map(BUILTIN_FORMATTERS.map((f) => [f.name, f]));
  if (setting === true) return [...byName.values()];
  const entries = setting as Record<string, Entry>;
  for (const [name, entry] of Object.entries(entries)) {
    if (entry.disabled || ((name === 'ruff' || name === 'uv') && (entries.ruff?.disabled || entries.uv?.disabled))) {
      byName.delete(name);
      if (name === 'ruff' || name === 'uv') byName.delete(name === 'ruff' ? 'uv' : 'ruff');
      continue;
    }
    const builtin = byName.get(name);
    const command = entry.command;
    byName.set(name, {
      name,
      extensions: entry.extensions ?? builtin?.extensions ?? [],
      ...(entry.environment || builtin?.environment ? { environment: { ...builtin?.environment, ...entry.environment } } : {}),
      command: command ? async () => [...command] : (builtin?.command ?? (async () => undefined)),
    });
  }
  return [...byName.values()];
}

function note(text: string): void {
  debugNote(`formatter: ${safeLine(text)}`);
}

/** Runs one formatter's command line; resolves with why it failed, or undefined. */
export function runFormatter(argv: string[], cwd: string, env: NodeJS.ProcessEnv, signal: AbortSignal | undefined, timeoutMs = FORMAT_TIMEOUT_MS): Promise<string | undefined> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve('cancelled');
    const [program, ...args] = argv as [string, ...string[]];
    const child = spawn(program, args, { cwd, env, stdio: 'ignore', detached: process.platform !== 'win32', windowsHide: true });
    let why: string | undefined;
    const kill = (reason: string): void => {
      why ??= reason;
      try {
        if (child.pid !== undefined && process.platform !== 'win32') process.kill(-child.pid, 'SIGKILL');
        else child.kill('SIGKILL');
      } catch {
        // Gone already.
      }
    };
    const timer = setTimeout(() => kill(`no end after ${formatDuration(timeoutMs)} (killed)`), timeoutMs);
    const onAbort = (): void => kill('cancelled');
    signal?.addEventListener('abort', onAbort, { once: true });
    const done = (reason: string | undefined): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve(reason);
    };
    child.once('error', (error) => done((error as NodeJS.ErrnoException).code === 'ENOENT' ? `${program} not found` : error.message));
    child.once('exit', (code, killedBy) => done(why ?? (code === 0 ? undefined : code === null ? `ended by ${killedBy ?? 'a signal'}` : `exit code ${code}`)));
  });
}

/** A project's formatters under one config. */
export class Formatters {
  readonly #formatters: readonly BuiltinFormatter[];
  readonly #projectRoot: string;
  readonly #env: NodeJS.ProcessEnv;
  /** Command lines found, by formatter and folder (a formatter not found is looked for again next time, as a program may be installed meanwhile). */
  readonly #found = new Map<string, string[]>();

  constructor(formatters: readonly BuiltinFormatter[], projectRoot: string, env: NodeJS.ProcessEnv) {
    this.#formatters = formatters;
    this.#projectRoot = projectRoot;
    this.#env = env;
  }

  async #command(formatter: BuiltinFormatter, directory: string): Promise<string[] | undefined> {
    const key = `${formatter.name}\u0000${directory}`;
    const known = this.#found.get(key);
    if (known) return known;
    const ctx: FormatterContext = { directory, projectRoot: this.#projectRoot, env: this.#env };
    const command = await formatter.command(ctx).catch(() => undefined);
    if (command?.length) this.#found.set(key, command);
    return command?.length ? command : undefined;
  }

  /** Every formatter of the config, and whether it is found in the project. */
  async status(): Promise<FormatterStatus[]> {
    return Promise.all(this.#formatters.map(async (f) => ({ name: f.name, extensions: [...f.extensions], enabled: (await this.#command(f, this.#projectRoot)) !== undefined })));
  }

  /** Runs the formatters that take `file` (absolute) on it; the names of those that ran without failing. */
  async format(file: string, signal?: AbortSignal): Promise<string[]> {
    const extension = path.extname(file);
    const ran: string[] = [];
    for (const formatter of this.#formatters) {
      if (!formatter.extensions.includes(extension)) continue;
      const command = await this.#command(formatter, path.dirname(file));
      if (!command) continue;
      const argv = command.map((arg) => arg.replaceAll('$FILE', file));
      const failed = await runFormatter(argv, this.#projectRoot, { ...this.#env, ...formatter.environment }, signal);
      if (failed) note(`${formatter.name} on ${path.relative(this.#projectRoot, file)}: ${failed}`);
      else ran.push(formatter.name);
      if (signal?.aborted) break;
    }
    return ran;
  }
}

const projects = new WeakMap<object, Map<string, Formatters>>();

/** The formatters of a project under `config` (kept while the config is), or undefined when its `formatter` turns none on. */
export function formattersOf(config: { formatter?: unknown }, projectRoot: string, env: NodeJS.ProcessEnv): Formatters | undefined {
  const formatters = configuredFormatters(config.formatter);
  if (formatters.length === 0) return undefined;
  let byRoot = projects.get(config);
  if (!byRoot) projects.set(config, (byRoot = new Map()));
  let found = byRoot.get(projectRoot);
  if (!found) byRoot.set(projectRoot, (found = new Formatters(formatters, projectRoot, env)));
  return found;
}
