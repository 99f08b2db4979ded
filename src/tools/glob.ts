/**
 * `glob {pattern, path?}`: files matching a glob (tinyglobby) under a folder (default the project
 * root), newest first, at most 100, skipping `.git`, `node_modules` and `.gitignore`d files.
 */
import path from 'node:path';
import { authorize } from '../permissions/authorize.ts';
import { statIfExists } from './fs-util.ts';
import { ignoreGlobs } from './ignore.ts';
import { displayPath, resolveToolPath } from './resolve-path.ts';
import { resultCount } from './result-count.ts';
import { ToolError } from './tool-error.ts';
import { opencodeDescription, opencodeParameters } from './opencode-tools.ts';
import type { BuiltinTool, ToolContext } from './types.ts';

export const GLOB_LIMIT = 100;

/** How many files an answer of this tool reports (all of them, not only those shown), and whether it shows fewer. */
export function globCount(output: string): { count: number; truncated: boolean } {
  return resultCount(output, /\(Showing the \d+ most recently modified of (\d+) files\./, { none: /^No files found\./ });
}

interface GlobInput {
  pattern: string;
  path?: string;
}

/**
 * Stars in one path segment (`**` alone is a segment of its own, not counted): a name is matched by
 * a backtracking regular expression, `*a*a*a*b` as `[^/]*?a[^/]*?a[^/]*?a[^/]*?b`, in time of the name's
 * length to the power of its stars (four took 1.5 s on a 200-character name; six, minutes).
 */
export const MAX_SEGMENT_STARS = 3;

/** A pattern may not climb out of the folder it searches (use `path` for that), nor put over MAX_SEGMENT_STARS `*` in one name. */
export function checkPattern(tool: string, pattern: string): void {
  if (path.isAbsolute(pattern) || pattern.split('/').includes('..')) {
    throw new ToolError(tool, `pattern "${pattern}" must be relative and stay inside the folder searched; pass the folder as "path" instead.`);
  }
  for (const segment of pattern.split('/')) {
    if (segment === '**') continue;
    const stars = segment.split(/\*+/).length - 1;
    if (stars > MAX_SEGMENT_STARS) {
      throw new ToolError(tool, `pattern ${JSON.stringify(pattern.slice(0, 200))} has ${stars} "*" in one name; at most ${MAX_SEGMENT_STARS} are taken (more make matching a long file name take hours): use fewer, e.g. "*part*", and narrow the results with grep.`);
    }
  }
}

/** Files under `dir` matching `patterns`, as absolute paths. */
export async function findFiles(ctx: ToolContext, dir: string, patterns: string[]): Promise<string[]> {
  const { glob } = await import('tinyglobby');
  return glob(patterns, {
    cwd: dir,
    absolute: true,
    dot: true,
    onlyFiles: true,
    followSymbolicLinks: false,
    ignore: await ignoreGlobs(ctx.projectRoot, dir),
    ...(ctx.signal ? { signal: ctx.signal } : {}),
  });
}

export async function searchFolder(ctx: ToolContext, tool: string, input: string | undefined): Promise<{ abs: string; rel: string }> {
  const target = await resolveToolPath(ctx, tool, input);
  const stat = await statIfExists(target.abs);
  if (!stat) throw new ToolError(tool, `folder not found: ${target.rel}`);
  if (!stat.isDirectory()) throw new ToolError(tool, `${target.rel} is a file; "path" must be a folder.`);
  return target;
}

export const globTool: BuiltinTool<GlobInput> = {
  name: 'glob',
  get description() {
    return opencodeDescription('glob');
  },
  get parameters() {
    return opencodeParameters('glob');
  },
  inputSchema: {
    type: 'object',
    properties: {
      pattern: { type: 'string', minLength: 1, description: 'The glob pattern, relative to path.' },
      path: { type: 'string', description: 'The folder to search in (default: the project root).' },
    },
    required: ['pattern'],
    additionalProperties: false,
  },
  async run(input: GlobInput, ctx: ToolContext): Promise<string> {
    checkPattern('glob', input.pattern);
    const dir = await searchFolder(ctx, 'glob', input.path);
    await authorize(ctx, { key: 'glob', subject: input.pattern });
    const files = await findFiles(ctx, dir.abs, [input.pattern]);
    if (files.length === 0) return 'No files found.';
    const stamped = await Promise.all(
      // A file removed since the search sorts last.
      files.map(async (file) => ({ file, mtime: (await statIfExists(file))?.mtimeMs ?? 0 })),
    );
    stamped.sort((a, b) => b.mtime - a.mtime || (a.file < b.file ? -1 : 1));
    const shown = stamped.slice(0, GLOB_LIMIT).map((s) => displayPath(ctx, s.file));
    if (stamped.length > GLOB_LIMIT) {
      shown.push('', `(Showing the ${GLOB_LIMIT} most recently modified of ${stamped.length} files. Use a narrower pattern or path to see the others.)`);
    }
    return shown.join('\n');
  },
};
