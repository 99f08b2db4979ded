/**
 * `list {path?}`: the files and folders under a folder (default the project root) as an indented
 * tree, skipping `.git`, `node_modules` and `.gitignore`d entries, at most 200 entries.
 */
import { authorize } from '../permissions/authorize.ts';
import { statIfExists } from './fs-util.ts';
import { ignoreGlobs } from './ignore.ts';
import { resolveToolPath } from './resolve-path.ts';
import { resultCount } from './result-count.ts';
import { ToolError } from './tool-error.ts';
import type { BuiltinTool, ToolContext } from './types.ts';
import { byCodeUnit } from '../icu-free.ts';

export const LIST_LIMIT = 200;

/** How many entries an answer of this tool reports (its first line is the folder; an empty one says "(empty)"). */
export function listCount(output: string): { count: number; truncated: boolean } {
  return resultCount(output, /\(Showing \d+ of (\d+) entries,/, { none: /\n {2}\(empty\)$/, header: 1 });
}

interface ListInput {
  path?: string;
}

interface Node {
  dirs: Map<string, Node>;
  files: string[];
}

function insert(root: Node, entry: string): void {
  const isDir = entry.endsWith('/');
  const parts = entry.replace(/\/$/, '').split('/');
  let node = root;
  parts.forEach((part, i) => {
    if (i === parts.length - 1 && !isDir) {
      node.files.push(part);
      return;
    }
    let next = node.dirs.get(part);
    if (!next) {
      next = { dirs: new Map(), files: [] };
      node.dirs.set(part, next);
    }
    node = next;
  });
}

function render(node: Node, depth: number, out: string[]): void {
  const pad = '  '.repeat(depth);
  for (const name of [...node.dirs.keys()].sort()) {
    out.push(`${pad}${name}/`);
    render(node.dirs.get(name) as Node, depth + 1, out);
  }
  for (const name of node.files.sort()) out.push(`${pad}${name}`);
}

/** Shallow entries first, then alphabetical: a capped listing shows the top of the tree. */
function byDepth(a: string, b: string): number {
  const da = a.replace(/\/$/, '').split('/').length;
  const db = b.replace(/\/$/, '').split('/').length;
  return da - db || byCodeUnit(a, b);
}

export const listTool: BuiltinTool<ListInput> = {
  name: 'list',
  description:
    'List the files and folders under a folder (default: the project root) as an indented tree; folders end with "/". ' +
    `Skips .git, node_modules and .gitignore'd entries; at most ${LIST_LIMIT} entries (list a subfolder or use glob for more).`,
  inputSchema: {
    type: 'object',
    properties: { path: { type: 'string', description: 'The folder to list, relative to the project root (default ".").' } },
    additionalProperties: false,
  },
  async run(input: ListInput, ctx: ToolContext): Promise<string> {
    const target = await resolveToolPath(ctx, 'list', input.path);
    await authorize(ctx, { key: 'list', subject: target.rel });
    const stat = await statIfExists(target.abs);
    if (!stat) throw new ToolError('list', `folder not found: ${target.rel}`);
    if (!stat.isDirectory()) throw new ToolError('list', `${target.rel} is a file, not a folder; use read to see it.`);
    const { glob } = await import('tinyglobby');
    const entries = await glob('**', {
      cwd: target.abs,
      dot: true,
      onlyFiles: false,
      followSymbolicLinks: false,
      ignore: await ignoreGlobs(ctx.projectRoot, target.abs),
      ...(ctx.signal ? { signal: ctx.signal } : {}),
    });
    entries.sort(byDepth);
    const shown = entries.slice(0, LIST_LIMIT);
    const tree: Node = { dirs: new Map(), files: [] };
    for (const entry of shown) insert(tree, entry);
    const out = [`${target.abs}/`];
    render(tree, 1, out);
    if (entries.length === 0) out.push('  (empty)');
    if (entries.length > shown.length) {
      out.push('', `(Showing ${shown.length} of ${entries.length} entries, shallowest first. List a subfolder, or use glob, to see the rest.)`);
    }
    return out.join('\n');
  },
};
