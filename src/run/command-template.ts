/**
 * OpenCode's custom commands (`command.<name>` in the config, or a markdown file in a `command/`
 * folder: config/markdown-layers.ts) as the message of a run (`opencode run --command NAME
 * [arguments]`), expanded as OpenCode expands them: `$1`…`$n` take the arguments in order (quotes
 * group words; the highest one takes the rest), `$ARGUMENTS` takes them all as given, and a
 * template that names neither gets them appended; each `` !`cmd` `` is replaced by the standard
 * output of `cmd`, run in the project folder by the config's `shell` (else $SHELL, else /bin/sh);
 * `@path` mentions of files in the project are attached as `--file` attaches them. The command's
 * `agent` and `model` win over the run's, as in OpenCode.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config/schema-types.ts';
import { PantheonError } from '../errors.ts';

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
function words(text: string): string[] {
  return (text.match(ARGUMENT) ?? []).map((w) => w.replace(/^["']|["']$/g, ''));
}

/** The template with its placeholders filled (OpenCode's rules, see the file's comment). */
export function fillTemplate(template: string, argumentsText: string): string {
  const args = words(argumentsText);
  const numbers = [...template.matchAll(PLACEHOLDER)].map((m) => Number(m[1]));
  const last = Math.max(0, ...numbers);
  let out = template.replace(PLACEHOLDER, (_, n: string) => {
    const i = Number(n) - 1;
    if (i >= args.length) return '';
    return Number(n) === last ? args.slice(i).join(' ') : (args[i] as string);
  });
  const named = template.includes('$ARGUMENTS');
  out = out.replaceAll('$ARGUMENTS', argumentsText);
  if (numbers.length === 0 && !named && argumentsText.trim()) out = `${out}\n\n${argumentsText}`;
  return out;
}

/** Standard output of `command` run by `shell` in `cwd` (non-zero exits included); a failure to run is said in the text. */
function shellOutput(command: string, shell: string, cwd: string, env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve) => {
    let out = '';
    let cut = false;
    const child = spawn(shell, ['-c', command], { cwd, env, stdio: ['ignore', 'pipe', 'ignore'], timeout: SHELL_TIMEOUT_MS });
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

/** The files `@path` mentions name that exist inside the project (at most MAX_MENTIONED_BYTES each). */
async function mentionedFiles(text: string, projectRoot: string): Promise<string[]> {
  const found: string[] = [];
  for (const match of text.matchAll(MENTION)) {
    const given = (match[1] as string).replace(/[.:]+$/, '');
    const file = path.resolve(projectRoot, given);
    const rel = path.relative(projectRoot, file);
    if (rel.startsWith('..') || path.isAbsolute(rel) || found.includes(file)) continue;
    const attachable = await fs.stat(file).then((s) => s.isFile() && s.size <= MAX_MENTIONED_BYTES, () => false);
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
  let message = fillTemplate(entry.template, argumentsText);
  const commandsToRun = [...message.matchAll(SHELL)].map((m) => m[1] as string);
  if (commandsToRun.length > 0) {
    const configured = (config as { shell?: unknown }).shell;
    const shell = (typeof configured === 'string' && configured) || env.SHELL || '/bin/sh';
    const outputs = await Promise.all(commandsToRun.map((c) => shellOutput(c, shell, projectRoot, env)));
    let i = 0;
    message = message.replace(SHELL, () => outputs[i++] ?? '');
  }
  message = message.trim();
  if (!message) throw new PantheonError('USAGE', `--command ${name}: the command's prompt is empty.`, { hint: 'Pass the arguments its template asks for.' });
  return {
    message,
    ...(typeof entry.agent === 'string' && entry.agent ? { agent: entry.agent } : {}),
    ...(typeof entry.model === 'string' && entry.model ? { model: entry.model } : {}),
    files: await mentionedFiles(message, projectRoot),
  };
}

