/**
 * `bash {command, timeout?, description?, workdir?}`: runs a command line in the project root (or
 * `workdir`) with bash (or /bin/sh), stdout and stderr interleaved, at most ~30 KB of output (the
 * start and the end, with a note), a timeout in milliseconds (default 120 000, at most 600 000)
 * that kills the whole process group. Governed by `permission.bash` (patterns match each command).
 */
import path from 'node:path';
import { authorize } from '../permissions/authorize.ts';
import { statIfExists } from './fs-util.ts';
import { resolveToolPath } from './resolve-path.ts';
import { runShell, shellPath } from './run-shell.ts';
import { scratchDir } from './scratch-dir.ts';
import { ToolError } from './tool-error.ts';
import { formatBytes } from './truncate.ts';
import { opencodeDescription, opencodeParameters } from './opencode-tools.ts';
import type { BuiltinTool, ToolContext } from './types.ts';

export const BASH_DEFAULT_TIMEOUT_MS = 120_000;
export const BASH_MAX_TIMEOUT_MS = 600_000;
export const BASH_HEAD_BYTES = 20 * 1024;
export const BASH_TAIL_BYTES = 10 * 1024;
/** The line count OpenCode's description names with the byte bound (Pantheon cuts by bytes only). */
export const BASH_MAX_LINES = 2000;

interface BashInput {
  command: string;
  timeout?: number;
  description?: string;
  workdir?: string;
}

/** The notes this tool's answer may end with (below), after a blank line, one a line. */
const NOTES = /\n\n((?:\((?:Output cut: |Timed out after |exit code |killed by |The shell exited; )[^\n]*\)(?:\n|$))+)$/;

/**
 * OpenCode's `bash` metadata besides the output, read back from this tool's answer: the exit code
 * (0 when no note gives another; null when the command was killed) and whether output was cut.
 */
export function bashFacts(output: string): { exit: number | null; truncated: boolean } {
  const notes = NOTES.exec(output)?.[1] ?? '';
  const code = /^\(exit code (-?\d+)\)$/m.exec(notes);
  const killed = /^\((?:Timed out after |killed by )/m.test(notes);
  return { exit: code ? Number(code[1]) : killed ? null : 0, truncated: notes.includes('(Output cut: ') };
}

/** The values OpenCode fills into its `bash` description, as Pantheon's bash runs. */
function bashDescriptionValues(): Record<string, string | number> {
  return {
    OS: process.platform,
    SHELL: path.basename(shellPath()),
    TMPDIR: scratchDir(),
    TIMEOUT_MS: BASH_DEFAULT_TIMEOUT_MS,
    MAX_LINES: BASH_MAX_LINES,
    MAX_BYTES: BASH_HEAD_BYTES + BASH_TAIL_BYTES,
  };
}

export const bashTool: BuiltinTool<BashInput> = {
  name: 'bash',
  get description() {
    return opencodeDescription('bash', bashDescriptionValues());
  },
  get parameters() {
    return opencodeParameters('bash');
  },
  inputSchema: {
    type: 'object',
    properties: {
      command: { type: 'string', minLength: 1, description: 'The command line to run.' },
      timeout: { type: 'integer', minimum: 1, maximum: BASH_MAX_TIMEOUT_MS, description: `Timeout in milliseconds (default ${BASH_DEFAULT_TIMEOUT_MS}).` },
      description: { type: 'string', description: 'What the command does, in a few words (shown to the user).' },
      workdir: { type: 'string', description: 'Folder to run in, relative to the project root (default: the root).' },
    },
    required: ['command'],
    additionalProperties: false,
  },
  async run(input: BashInput, ctx: ToolContext): Promise<string> {
    const cwd = await resolveToolPath(ctx, 'bash', input.workdir);
    if (!(await statIfExists(cwd.abs))?.isDirectory()) throw new ToolError('bash', `workdir ${cwd.rel} is not a folder.`);
    const question = `Run \`${input.command}\`${input.description ? ` (${input.description})` : ''}${cwd.rel === '.' ? '' : ` in ${cwd.rel}`}?`;
    await authorize(ctx, { key: 'bash', subject: input.command, question });
    // The plugins' variables (`shell.env`), set over the environment after its credentials were left out: a plugin that injects a key means the command to have it.
    const extraEnv = ctx.shellEnv ? await ctx.shellEnv(cwd.abs, ctx.toolCallId) : undefined;
    const timeoutMs = input.timeout ?? BASH_DEFAULT_TIMEOUT_MS;
    const result = await runShell(input.command, {
      cwd: cwd.abs,
      ...(ctx.env ? { env: ctx.env } : {}),
      ...(ctx.secrets ? { secrets: ctx.secrets } : {}),
      ...(extraEnv ? { extraEnv } : {}),
      timeoutMs,
      ...(ctx.signal ? { signal: ctx.signal } : {}),
      headBytes: BASH_HEAD_BYTES,
      tailBytes: BASH_TAIL_BYTES,
    });
    if (result.aborted) throw new ToolError('bash', 'cancelled: the command and everything it started were killed.');
    const notes: string[] = [];
    if (result.omittedBytes > 0) {
      notes.push(
        `(Output cut: ${formatBytes(result.omittedBytes)} left out of the middle. Redirect the output to a file and read it with read and offset/limit, or filter it with grep, head or tail.)`,
      );
    }
    if (result.timedOut) notes.push(`(Timed out after ${timeoutMs} ms: the command and everything it started were killed.)`);
    else if (result.exitCode !== null && result.exitCode !== 0) notes.push(`(exit code ${result.exitCode})`);
    else if (result.signal) notes.push(`(killed by ${result.signal})`);
    if (result.leftRunning) notes.push('(The shell exited; processes it started in the background are still running and their output is not shown.)');
    const body = result.output.trimEnd();
    return [body === '' ? '(no output)' : body, ...(notes.length ? ['', ...notes] : [])].join('\n');
  },
};
