/**
 * The instruction files a `read` brings in, as OpenCode's read does: for the file read, each folder
 * from its own up to the project root (the root itself left out: its file is in the system prompt)
 * gives the first of `AGENTS.md`, `CLAUDE.md` (unless OPENCODE_DISABLE_CLAUDE_CODE[_PROMPT] is set)
 * and `CONTEXT.md` it holds, innermost first, unless that file is the one read or is already in the
 * session's context (the system prompt's instruction files, and those earlier reads brought in:
 * `ToolContext.loadedInstructions`). Each is added after the file's text as OpenCode words it:
 *
 *     <system-reminder>
 *     Instructions from: /abs/sub/AGENTS.md
 *     <its text>
 *
 *     Instructions from: /abs/AGENTS.md-of-a-folder-further-up
 *     …
 *     </system-reminder>
 *
 * and listed in the part's `metadata.loaded`. Unlike OpenCode, a file whose real path is outside
 * the project (a symlink leading elsewhere) is passed over, each is cut at 50 KB, and one read
 * brings in at most 100 KB of them (the folders further up come with a later read).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { realpathNearest, isInside } from './resolve-path.ts';
import { MAX_OUTPUT_BYTES, byteLength, formatBytes } from './truncate.ts';

/** Bytes of one instruction file kept at most, and of all those one read brings in. */
export const MAX_INSTRUCTION_BYTES = MAX_OUTPUT_BYTES;
export const MAX_READ_INSTRUCTION_BYTES = 2 * MAX_OUTPUT_BYTES;

export interface NestedInstruction {
  file: string;
  content: string;
}

const INSTRUCTION_NAMES = ['AGENTS.md', 'CLAUDE.md', 'CONTEXT.md'];

/** The names looked for in each folder, in OpenCode's order. */
function instructionNames(env: NodeJS.ProcessEnv): string[] {
  const noClaude = Boolean(env.OPENCODE_DISABLE_CLAUDE_CODE || env.OPENCODE_DISABLE_CLAUDE_CODE_PROMPT);
  return INSTRUCTION_NAMES.filter((name) => !(noClaude && name === 'CLAUDE.md'));
}

/** The first instruction file `dir` holds (a dangling link is none). */
async function findIn(dir: string, names: readonly string[]): Promise<string | undefined> {
  for (const name of names) {
    const file = path.join(dir, name);
    if (await fs.stat(file).then(() => true, () => false)) return file;
  }
  return undefined;
}

/** At most `max` bytes of `file` as text (cut at a line's end), and its size; undefined when it is not a regular file. */
async function readCapped(file: string, max: number): Promise<{ text: string; size: number } | undefined> {
  const handle = await fs.open(file, 'r').catch(() => undefined);
  if (!handle) return undefined;
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) return undefined;
    const buffer = Buffer.alloc(Math.min(stat.size, max));
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    const text = buffer.subarray(0, bytesRead).toString('utf8');
    if (bytesRead >= stat.size) return { text, size: stat.size };
    // Cut short: at the end of its last whole line (or of its last whole character).
    const lineEnd = text.lastIndexOf('\n');
    return { text: lineEnd > 0 ? text.slice(0, lineEnd + 1) : text.replace(/\uFFFD+$/, ''), size: stat.size };
  } finally {
    await handle.close();
  }
}

/**
 * The instruction files reading `file` brings in (see the file's comment), each claimed in `loaded`
 * as it is taken, so that the same session's other reads (those of the same step included) leave it out.
 */
export async function nestedInstructions(file: string, projectRoot: string, loaded: Set<string>, env: NodeJS.ProcessEnv): Promise<NestedInstruction[]> {
  const root = path.resolve(projectRoot);
  const target = path.resolve(file);
  if (!isInside(root, target)) return [];
  const names = instructionNames(env);
  const realRoot = await realpathNearest(root);
  const found: { file: string; text: string; size: number }[] = [];
  let budget = MAX_READ_INSTRUCTION_BYTES;
  for (let dir = path.dirname(target); dir !== root && isInside(root, dir); dir = path.dirname(dir)) {
    const candidate = await findIn(dir, names);
    if (candidate === undefined || candidate === target || loaded.has(candidate)) continue;
    // A link that leads out of the project is not read (the read tool itself would have to ask).
    if (!isInside(realRoot, await realpathNearest(candidate).catch(() => '/'))) continue;
    const read = await readCapped(candidate, MAX_INSTRUCTION_BYTES);
    if (read === undefined) continue;
    const bytes = byteLength(read.text);
    if (found.length > 0 && bytes > budget) break;
    budget -= bytes;
    found.push({ file: candidate, ...read });
  }
  // Claimed only now, all at once: two reads running side by side do not both bring one in.
  const out: NestedInstruction[] = [];
  for (const { file: taken, text, size } of found) {
    if (loaded.has(taken)) continue;
    loaded.add(taken);
    if (!text) continue;
    const cut = byteLength(text) < size ? `${text.endsWith('\n') ? '' : '\n'}\n(${path.basename(taken)} cut at ${formatBytes(byteLength(text))} of ${formatBytes(size)}; read it for the rest.)` : '';
    out.push({ file: taken, content: `Instructions from: ${taken}\n${text}${cut}` });
  }
  return out;
}

/** The instructions as the read tool adds them after the file's text (nothing when there are none). */
export function instructionReminder(found: readonly NestedInstruction[]): string {
  return found.length ? `\n\n<system-reminder>\n${found.map((f) => f.content).join('\n\n')}\n</system-reminder>` : '';
}

const REMINDER_START = '</content>\n\n<system-reminder>\n';
const HEADER = 'Instructions from: ';

/**
 * The instruction files a read of `file` brought in, read back from its answer: the reminder's
 * `Instructions from:` lines that name an instruction file of a folder between the file and the
 * project root, each further up than the one before (a line an instruction file's own text holds
 * cannot name one further in).
 */
export function loadedByRead(output: string, file: string, projectRoot: string): string[] {
  const at = output.indexOf(REMINDER_START);
  if (at < 0 || !output.endsWith('\n</system-reminder>')) return [];
  const lines = output.slice(at + REMINDER_START.length, -'\n</system-reminder>'.length).split('\n');
  const root = path.resolve(projectRoot);
  const loaded: string[] = [];
  let dir = path.dirname(path.resolve(file));
  for (const [i, line] of lines.entries()) {
    // A block starts the reminder, or follows the one before after an empty line.
    if (!line.startsWith(HEADER) || (i > 0 && lines[i - 1] !== '')) continue;
    const named = line.slice(HEADER.length);
    const folder = path.dirname(named);
    if (!path.isAbsolute(named) || !INSTRUCTION_NAMES.includes(path.basename(named))) continue;
    // In this folder (the first) or one further up, inside the root but not the root itself.
    if (folder === root || !isInside(root, folder) || !isInside(folder, dir) || (loaded.length > 0 && folder === dir)) continue;
    loaded.push(named);
    dir = folder;
  }
  return loaded;
}
