/**
 * `bash {command, timeout?, description?, workdir?}`: runs a command line in the project root (or
 * `workdir`) with bash (or /bin/sh), stdout and stderr interleaved, a timeout in milliseconds
 * (default 120 000, at most 600 000) that kills the whole process group. Governed by
 * `permission.bash` (patterns match each command). Output over 2000 lines or 51 200 bytes is
 * answered as OpenCode answers it: its last lines, after a note naming the file that holds all of
 * it (tool-output.ts).
 */
import path from 'node:path';
import { authorize } from '../permissions/authorize.ts';
import { statIfExists } from './fs-util.ts';
import { resolveToolPath } from './resolve-path.ts';
import { runShell, shellPath, type SpillFile } from './run-shell.ts';
import { scratchDir } from './scratch-dir.ts';
import { ToolError } from './tool-error.ts';
import { formatBytes } from './truncate.ts';
import { newToolOutputFile, TOOL_OUTPUT_FILE_CAP, TOOL_OUTPUT_MAX_BYTES, TOOL_OUTPUT_MAX_LINES } from './tool-output.ts';
import { opencodeDescription, opencodeParameters } from './opencode-tools.ts';
import type { BuiltinTool, ToolContext } from './types.ts';

export const BASH_DEFAULT_TIMEOUT_MS = 120_000;
export const BASH_MAX_TIMEOUT_MS = 600_000;
/** The end of the output kept in memory, as OpenCode's (twice the answer's byte bound). */
const BASH_TAIL_BYTES = 2 * TOOL_OUTPUT_MAX_BYTES;
/** OpenCode's note before a cut answer: its last lines follow. */
const TRUNCATED = '...output truncated...\n\n';

interface BashInput {
  command: string;
  timeout?: number;
  description?: string;
  workdir?: string;
}

/** The notes this tool's answer may end with (below), after a blank line, one a line. */
const NOTES = /\n\n((?:\((?:The saved file |The full output |Timed out after |exit code |killed by |The shell exited; )[^\n]*\)(?:\n|$))+)$/;

/**
 * OpenCode's `bash` metadata besides the output, read back from this tool's answer: the exit code
 * (0 when no note gives another; null when the command was killed), whether output was cut and
 * the file holding all of it.
 */
export function bashFacts(output: string): { exit: number | null; truncated: boolean; outputPath?: string } {
  const notes = NOTES.exec(output)?.[1] ?? '';
  const code = /^\(exit code (-?\d+)\)$/m.exec(notes);
  const killed = /^\((?:Timed out after |killed by )/m.test(notes);
  const truncated = output.startsWith(TRUNCATED);
  const saved = truncated ? /^Full output saved to: ([^\n]+)\n/.exec(output.slice(TRUNCATED.length))?.[1] : undefined;
  return { exit: code ? Number(code[1]) : killed ? null : 0, truncated, ...(saved ? { outputPath: saved } : {}) };
}

/**
 * The end of `text` as OpenCode's bash answers it: the last `maxLines` lines within `maxBytes`
 * (a single longer line: its last `maxBytes`, from a character's start); `cut` when that is not all.
 */
export function tailCut(text: string, maxLines: number, maxBytes: number): { text: string; cut: boolean } {
  const lines = text.split('\n');
  if (lines.length <= maxLines && Buffer.byteLength(text, 'utf8') <= maxBytes) return { text, cut: false };
  const kept: string[] = [];
  let bytes = 0;
  for (let i = lines.length - 1; i >= 0 && kept.length < maxLines; i--) {
    const line = lines[i] as string;
    const size = Buffer.byteLength(line, 'utf8') + (kept.length > 0 ? 1 : 0);
    if (bytes + size > maxBytes) {
      if (kept.length === 0) {
        const raw = Buffer.from(line, 'utf8');
        let from = Math.max(0, raw.length - maxBytes);
        while (from < raw.length && ((raw[from] as number) & 0xc0) === 0x80) from++;
        kept.push(raw.subarray(from).toString('utf8'));
      }
      break;
    }
    kept.unshift(line);
    bytes += size;
  }
  return { text: kept.join('\n'), cut: true };
}

/** Saves an output held whole in memory (cut by lines, not bytes) as OpenCode does; the path, or why not. */
function saveWhole(text: string): Promise<SpillFile> {
  return new Promise((resolve) => {
    let file: ReturnType<typeof newToolOutputFile>;
    try {
      file = newToolOutputFile();
    } catch (error) {
      resolve({ path: '', bytes: 0, error: (error as NodeJS.ErrnoException).code ?? (error as Error).message });
      return;
    }
    file.stream.once('error', (error: NodeJS.ErrnoException) => resolve({ path: file.path, bytes: 0, error: error.code ?? error.message }));
    file.stream.end(text, () => resolve({ path: file.path, bytes: Buffer.byteLength(text, 'utf8') }));
  });
}

/** The values OpenCode fills into its `bash` description, as Pantheon's bash runs. */
function bashDescriptionValues(): Record<string, string | number> {
  return {
    OS: process.platform,
    SHELL: path.basename(shellPath()),
    TMPDIR: scratchDir(),
    TIMEOUT_MS: BASH_DEFAULT_TIMEOUT_MS,
    MAX_LINES: TOOL_OUTPUT_MAX_LINES,
    MAX_BYTES: TOOL_OUTPUT_MAX_BYTES,
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
      tailBytes: BASH_TAIL_BYTES,
      spillAfterBytes: TOOL_OUTPUT_MAX_BYTES,
      spill: newToolOutputFile,
      spillCapBytes: TOOL_OUTPUT_FILE_CAP,
    });
    if (result.aborted) throw new ToolError('bash', 'cancelled: the command and everything it started were killed.');
    const notes: string[] = [];
    const end = tailCut(result.output.trimEnd(), TOOL_OUTPUT_MAX_LINES, TOOL_OUTPUT_MAX_BYTES);
    const saved = result.file ?? (end.cut ? await saveWhole(result.output) : undefined);
    if (saved?.error) notes.push(`(The full output could not be saved${saved.path ? ` to ${saved.path}` : ''}: ${saved.error}.)`);
    else if (saved && saved.bytes < result.totalBytes) {
      notes.push(`(The saved file holds the first ${formatBytes(saved.bytes)} of the ${formatBytes(result.totalBytes)} of output: a file is capped at ${formatBytes(TOOL_OUTPUT_FILE_CAP)}.)`);
    }
    if (result.timedOut) notes.push(`(Timed out after ${timeoutMs} ms: the command and everything it started were killed.)`);
    else if (result.exitCode !== null && result.exitCode !== 0) notes.push(`(exit code ${result.exitCode})`);
    else if (result.signal) notes.push(`(killed by ${result.signal})`);
    if (result.leftRunning) notes.push('(The shell exited; processes it started in the background are still running and their output is not shown.)');
    let body = end.text === '' ? '(no output)' : end.text;
    if (saved) body = `${TRUNCATED}${saved.path && !saved.error ? `Full output saved to: ${saved.path}\n\n` : ''}${body}`;
    return [body, ...(notes.length ? ['', ...notes] : [])].join('\n');
  },
};
