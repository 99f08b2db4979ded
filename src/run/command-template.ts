/**
 * OpenCode's custom commands (`command.<name>` in the config, or a markdown file in a `command/`
 * folder: config/markdown-layers.ts) as the message of a run (`opencode run --command NAME
 * [arguments]`), expanded as OpenCode expands them: `$1`…`$n` take the arguments in order (quotes
 * group words; the highest one takes the rest), `$ARGUMENTS` takes them all as given, and a
 * template that names neither gets them appended; each `` !`cmd` `` of the template is replaced by
 * the standard output of `cmd`, run in the project folder by the config's `shell` (else $SHELL,
 * else /bin/sh); `@path` mentions of files in the project are attached as `--file` attaches them.
 * The command's `agent` and `model` win over the run's, as in OpenCode.
 *
 * Unlike OpenCode (which fills the placeholders first and then runs every `` !`…` `` of the
 * result), the arguments are never read for shell blocks, and never pasted into one: the template
 * is cut into its text and its own shell blocks first. The text gets the arguments; a shell block
 * gets them as the shell's own variables, `$1`…`$n` its positional parameters (the same values the
 * text gets) and `$ARGUMENTS` an environment variable, so `` !`git show "$1"` `` shows the commit
 * named and an argument like `x; rm -rf ~` is one word, never code. A mention that leads out of the
 * project (`..`, an absolute path, or a symlink whose target is elsewhere) is left as text: nothing
 * outside is attached (the model's `read` of it asks `external_directory`, as any read outside does).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config/schema-types.ts';
import { PantheonError } from '../errors.ts';
import { isInside } from '../tools/resolve-path.ts';

export interface ExpandedCommand {
  message: string;
  agent?: string;
  model?: string;
  /** Files the template mentions (`@src/auth.ts`), inside the project. */
  files: string[];
}

interface CommandEntry {
  template?: unknown;
  agent?: unknown;
  model?: unknown;
}

/** Longest a `` !`cmd` `` may run, and the most of its output kept. */
const SHELL_TIMEOUT_MS = 60_000;
const MAX_SHELL_OUTPUT = 1024 * 1024;
/** Largest file an `@path` mention attaches (a larger one stays a mention in the text). */
const MAX_MENTIONED_BYTES = 16 * 1024 * 1024;

const ARGUMENT = /"[^"]*"|'[^']*'|[^\s"']+/g;
const PLACEHOLDER = /\$(\d+)/g;

/** The placeholders a template takes, as OpenCode's command list shows them: `$1`, `$2`, …, then `$ARGUMENTS`. */
export function hintsOf(template: string): string[] {
  const numbers = [...new Set([...template.matchAll(PLACEHOLDER)].map((m) => Number(m[1])))].sort((a, b) => a - b);
  const hints = numbers.map((n) => `$${n}`);
  if (template.includes('$ARGUMENTS')) hints.push('$ARGUMENTS');
  return hints;
}
const SHELL = /!`([^`]+)`/g;
const MENTION = /(?<![\w`@])@([\w./~-][^\s`'",;()<>]*)/g;

/** The arguments as words: quoted groups kept together, their quotes taken off. */
export function words(text: string): string[] {
  return (text.match(ARGUMENT) ?? []).map((w) => w.replace(/^["']|["']$/g, ''));
}

/** The template cut at its own `` !`cmd` `` blocks: text at even places, the commands at odd ones. */
function pieces(template: string): string[] {
  return template.split(SHELL);
}

/** What each placeholder of `template` stands for, given the arguments. */
interface Arguments {
  /** As given (`$ARGUMENTS`). */
  text: string;
  /** `$1`…`$last` (the highest one numbered in the template takes the rest). */
  positional: string[];
  /** The template names a placeholder somewhere (else the arguments are appended). */
  named: boolean;
}

function argumentsOf(template: string, argumentsText: string): Arguments {
  const args = words(argumentsText);
  const numbers = [...template.matchAll(PLACEHOLDER)].map((m) => Number(m[1]));
  const last = Math.max(0, ...numbers);
  const positional: string[] = [];
  for (let n = 1; n <= last; n++) positional.push(n > args.length ? '' : n === last ? args.slice(n - 1).join(' ') : (args[n - 1] as string));
  return { text: argumentsText, positional, named: numbers.length > 0 || template.includes('$ARGUMENTS') };
}

/** Text of the template with its placeholders filled (one pass: an argument's own `$1` stays as written). */
function fillText(text: string, args: Arguments): string {
  return text.replace(/\$ARGUMENTS|\$(\d+)/g, (_, n: string | undefined) => (n === undefined ? args.text : (args.positional[Number(n) - 1] ?? '')));
}

/** The template with its placeholders filled (OpenCode's rules, see the file's comment); its shell blocks as written. */
export function fillTemplate(template: string, argumentsText: string): string {
  const args = argumentsOf(template, argumentsText);
  let out = pieces(template)
    .map((piece, i) => (i % 2 === 0 ? fillText(piece, args) : `!\`${piece}\``))
    .join('');
  if (!args.named && argumentsText.trim()) out = `${out}\n\n${argumentsText}`;
  return out;
}

/**
 * Standard output of `command` run by `shell` in `cwd` (non-zero exits included); a failure to run is
 * said in the text. The arguments are the shell's: `$1`… its positional parameters (`$10` and up
 * written `${10}` for it, as the template means them), `$ARGUMENTS` in its environment.
 */
function shellOutput(command: string, shell: string, cwd: string, env: NodeJS.ProcessEnv, args: Arguments): Promise<string> {
  return new Promise((resolve) => {
    let out = '';
    let cut = false;
    const script = command.replace(/\$(\d{2,})/g, '$${$1}');
    const child = spawn(shell, ['-c', script, path.basename(shell), ...args.positional], { cwd, env: { ...env, ARGUMENTS: args.text }, stdio: ['ignore', 'pipe', 'ignore'], timeout: SHELL_TIMEOUT_MS });
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      if (out.length + chunk.length > MAX_SHELL_OUTPUT) {
        out += chunk.slice(0, MAX_SHELL_OUTPUT - out.length);
        cut = true;
        child.kill();
      } else out += chunk;
    });
    child.on('error', (error) => resolve(`Error executing command: ${error.message}`));
    child.on('close', (_code, signal) => {
      if (cut) resolve(`${out}\n[output cut at ${MAX_SHELL_OUTPUT} bytes]`);
      else if (signal && !out) resolve(`Error executing command: stopped (${signal}) after ${SHELL_TIMEOUT_MS / 1000} s`);
      else resolve(out);
    });
  });
}

/**
 * The real path of `file` when it and where it leads (symlinks followed) are inside the project,
 * else undefined: what a mention may attach, and what is read for it.
 */
export async function realFileInProject(file: string, projectRoot: string): Promise<string | undefined> {
  if (!isInside(path.resolve(projectRoot), file)) return undefined;
  const [real, realRoot] = await Promise.all([fs.realpath(file).catch(() => undefined), fs.realpath(projectRoot).catch(() => path.resolve(projectRoot))]);
  return real !== undefined && isInside(realRoot, real) ? real : undefined;
}

/**
 * The files `@path` mentions name that exist inside the project (at most MAX_MENTIONED_BYTES each),
 * as mentioned; one outside, by its path or through a symlink, stays a mention in the text.
 */
async function mentionedFiles(text: string, projectRoot: string): Promise<string[]> {
  const found: string[] = [];
  for (const match of text.matchAll(MENTION)) {
    const given = (match[1] as string).replace(/[.:]+$/, '');
    const file = path.resolve(projectRoot, given);
    if (found.includes(file)) continue;
    const real = await realFileInProject(file, projectRoot);
    const attachable = real !== undefined && (await fs.stat(real).then((s) => s.isFile() && s.size <= MAX_MENTIONED_BYTES, () => false));
    if (attachable) found.push(file);
  }
  return found;
}

/** `opencode run --command NAME`: the command's message, agent, model and mentioned files. */
export async function expandCommand(config: Readonly<Config>, name: string, argumentsText: string, projectRoot: string, env: NodeJS.ProcessEnv = process.env): Promise<ExpandedCommand> {
  const commands = (config.command ?? {}) as Record<string, CommandEntry | undefined>;
  const entry = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!entry) {
    const names = Object.keys(commands).sort();
    throw new PantheonError('USAGE', `--command: no command named "${name}".`, {
      hint: names.length ? `Commands: ${names.join(', ')}.` : 'Define one under "command" in opencode.json, or as a markdown file in .opencode/command/.',
    });
  }
  if (typeof entry.template !== 'string' || !entry.template.trim()) {
    throw new PantheonError('CONFIG_INVALID', `command.${name}.template: expected the command's prompt text.`, { hint: 'Give the template, e.g. "Review $ARGUMENTS".' });
  }
  // The template's own shell blocks only: the arguments fill its text and are the blocks' variables.
  const args = argumentsOf(entry.template, argumentsText);
  const parts = pieces(entry.template);
  const commandsToRun = parts.filter((_, i) => i % 2 === 1);
  let outputs: string[] = [];
  if (commandsToRun.length > 0) {
    const configured = (config as { shell?: unknown }).shell;
    const shell = (typeof configured === 'string' && configured) || env.SHELL || '/bin/sh';
    outputs = await Promise.all(commandsToRun.map((c) => shellOutput(c, shell, projectRoot, env, args)));
  }
  let message = parts.map((piece, i) => (i % 2 === 0 ? fillText(piece, args) : (outputs[(i - 1) / 2] ?? ''))).join('');
  if (!args.named && argumentsText.trim()) message = `${message}\n\n${argumentsText}`;
  message = message.trim();
  if (!message) throw new PantheonError('USAGE', `--command ${name}: the command's prompt is empty.`, { hint: 'Pass the arguments its template asks for.' });
  return {
    message,
    ...(typeof entry.agent === 'string' && entry.agent ? { agent: entry.agent } : {}),
    ...(typeof entry.model === 'string' && entry.model ? { model: entry.model } : {}),
    files: await mentionedFiles(message, projectRoot),
  };
}

