/**
 * Custom commands written as markdown files, where OpenCode reads them: `command/` and `commands/`
 * (any depth) in OpenCode's global config folder and in every `.opencode` folder of the project.
 * The YAML frontmatter holds the command's settings (description, agent, model, subtask), the body
 * is its template; the name is the path below the folder without `.md`. Each file becomes a config
 * layer of its own (`command.<name>`), labelled with its path, as markdown agents do.
 */
import path from 'node:path';
import { stat } from './fs-calls.ts';
import type { LoadContext } from './context.ts';
import { readMarkdown } from './markdown-agents.ts';
import type { LayerSource } from './read-layer.ts';

/** Markdown files read per folder at most (a runaway folder must not stall loading). */
const MAX_FILES = 1000;

async function commandSource(file: string, name: string, ctx: LoadContext): Promise<LayerSource | undefined> {
  const read = await readMarkdown(file, 'command', ctx);
  if (!read) return undefined;
  const data = Object.assign(Object.create(null) as Record<string, unknown>, { [name]: { ...read.settings, template: read.body.trim() } });
  return { kind: 'markdown-command', label: file, file, data: { command: data } };
}

/** The command sources of one config folder, files in name order. */
export async function markdownCommandSources(dir: string, ctx: LoadContext): Promise<LayerSource[]> {
  const exists = await stat(dir).then((s) => s.isDirectory(), () => false);
  if (!exists) return [];
  const { glob } = await import('tinyglobby');
  const files = (await glob(['{command,commands}/**/*.md'], { cwd: dir, dot: true, onlyFiles: true })).sort().slice(0, MAX_FILES);
  const sources = await Promise.all(
    files.map((rel) => {
      const unix = rel.split(path.sep).join('/');
      const name = unix.replace(/^commands?\//, '').replace(/\.md$/i, '');
      return commandSource(path.join(dir, rel), name, ctx);
    }),
  );
  return sources.filter((s): s is LayerSource => s !== undefined);
}
