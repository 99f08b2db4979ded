/**
 * Agents and custom commands written as markdown files, where OpenCode reads them, in OpenCode's
 * global config folder and in every `.opencode` folder of the project: agents in `agent/` and
 * `agents/` (any depth) and `mode/` and `modes/` (primary agents), their frontmatter the agent's
 * settings (description, mode, model, temperature, tools, permission, …) and their body its
 * prompt; commands in `command/` and `commands/` (any depth), their frontmatter the command's
 * settings (description, agent, model, subtask) and their body its template. The name is the path
 * below the folder without `.md` (`agents/review/code.md` → `review/code`). Each file becomes a
 * config layer of its own (never substituted: OpenCode reads the body as written), labelled with
 * its path, so `agent show` names the file a value came from.
 */
import { stat } from './fs-calls.ts';
import { MAX_FILE_REF_BYTES, readTextFile, TextFileError } from './read-text.ts';
import path from 'node:path';
import type { LoadContext } from './context.ts';
import { describeType, isPlainObject } from './jsonc.ts';
import { AliasBudgetError, yamlParser, type LayerSource } from './read-layer.ts';

const FRONTMATTER = /^\uFEFF?---[ \t]*\r?\n([\s\S]*?)\r?\n---[ \t]*(?:\r?\n|$)/;
/** Markdown files read per folder at most (a runaway folder must not stall loading). */
const MAX_FILES = 1000;

/** Frontmatter and body of a markdown file. */
export function splitFrontmatter(text: string): { yaml: string; body: string } {
  const match = FRONTMATTER.exec(text);
  if (!match) return { yaml: '', body: text.replace(/^\uFEFF/, '') };
  return { yaml: match[1] ?? '', body: text.slice(match[0].length) };
}

function layerName(relative: string, prefixes: readonly string[]): string {
  const unix = relative.split(path.sep).join('/');
  const prefix = prefixes.find((p) => unix.startsWith(p));
  const rest = prefix ? unix.slice(prefix.length) : path.basename(unix);
  return rest.replace(/\.md$/i, '');
}

/**
 * A markdown file's frontmatter settings and body; undefined when it cannot be read (a folder, a
 * device, over 1 MiB, unreadable) or when its frontmatter does not parse (OpenCode skips such a
 * file; a warning says so, `code` naming what was skipped).
 */
async function readMarkdown(file: string, what: 'agent' | 'command', ctx: LoadContext): Promise<{ settings: Record<string, unknown>; body: string } | undefined> {
  const skipped = (message: string): undefined => {
    ctx.warnings.push({ code: `${what.toUpperCase()}_FILE_SKIPPED`, message, file });
    return undefined;
  };
  let text: string;
  try {
    // At most 1 MiB, as a `{file:}` prompt: the whole file is the prompt sent with every turn.
    text = await readTextFile(file, MAX_FILE_REF_BYTES);
  } catch (error) {
    // A file gone since the folder was listed is simply not there.
    if (error instanceof TextFileError && error.problem === 'missing') return undefined;
    return skipped(`the file ${error instanceof TextFileError ? error.reason : 'cannot be read'}; ${what} skipped`);
  }
  const { yaml, body } = splitFrontmatter(text);
  if (!yaml.trim()) return { settings: {}, body };
  let settings: unknown;
  try {
    settings = (await yamlParser())(file, yaml);
  } catch (error) {
    return skipped(`${frontmatterProblem(error)}; ${what} skipped`);
  }
  if (settings === null || settings === undefined) return { settings: {}, body };
  if (!isPlainObject(settings)) return skipped(`its frontmatter is ${describeType(settings)}, not \`key: value\` settings; ${what} skipped`);
  return { settings, body };
}

/** Why a frontmatter block does not parse, its lines counted in the file (the opening `---` is line 1). */
function frontmatterProblem(error: unknown): string {
  if (error instanceof AliasBudgetError) return `its frontmatter's ${error.message}`;
  if (error instanceof RangeError) return 'its frontmatter is nested too deeply';
  const e = error as { reason?: string; message?: string; mark?: { line: number; column: number } };
  if (e.mark) return `its frontmatter is not valid YAML at line ${e.mark.line + 2}, column ${e.mark.column + 1} (${e.reason ?? 'a syntax error'})`;
  const first = (e.message ?? String(error)).trim().split('\n')[0] ?? '';
  return `its frontmatter cannot be parsed (${first.replace(/\.$/, '')})`;
}

async function agentSource(file: string, name: string, primary: boolean, ctx: LoadContext): Promise<LayerSource | undefined> {
  const read = await readMarkdown(file, 'agent', ctx);
  if (!read) return undefined;
  const { settings, body } = read;
  const agent: Record<string, unknown> = { ...settings, prompt: body.trim() };
  if (primary) agent.mode = 'primary';
  const data = Object.assign(Object.create(null) as Record<string, unknown>, { [name]: agent });
  return { kind: 'markdown-agent', label: file, file, data: { agent: data } };
}

async function commandSource(file: string, name: string, ctx: LoadContext): Promise<LayerSource | undefined> {
  const read = await readMarkdown(file, 'command', ctx);
  if (!read) return undefined;
  const data = Object.assign(Object.create(null) as Record<string, unknown>, { [name]: { ...read.settings, template: read.body.trim() } });
  return { kind: 'markdown-command', label: file, file, data: { command: data } };
}

/** The markdown sources of one config folder: agents, then modes, then commands; files in name order. */
export async function markdownSources(dir: string, ctx: LoadContext): Promise<LayerSource[]> {
  const exists = await stat(dir).then((s) => s.isDirectory(), () => false);
  if (!exists) return [];
  const { glob } = await import('tinyglobby');
  const [agents, modes, commands] = await Promise.all([
    glob(['{agent,agents}/**/*.md'], { cwd: dir, dot: true, onlyFiles: true }),
    glob(['{mode,modes}/*.md'], { cwd: dir, dot: true, onlyFiles: true }),
    glob(['{command,commands}/**/*.md'], { cwd: dir, dot: true, onlyFiles: true }),
  ]);
  const files = [
    ...agents.sort().map((rel) => ({ rel, kind: 'agent' as const, prefixes: ['agent/', 'agents/'] })),
    ...modes.sort().map((rel) => ({ rel, kind: 'mode' as const, prefixes: ['mode/', 'modes/'] })),
    ...commands.sort().map((rel) => ({ rel, kind: 'command' as const, prefixes: ['command/', 'commands/'] })),
  ].slice(0, MAX_FILES);
  const sources = await Promise.all(
    files.map((f) => {
      const file = path.join(dir, f.rel);
      const name = layerName(f.rel, f.prefixes);
      return f.kind === 'command' ? commandSource(file, name, ctx) : agentSource(file, name, f.kind === 'mode', ctx);
    }),
  );
  return sources.filter((s): s is LayerSource => s !== undefined);
}
