/**
 * Resolves a path argument against the project root. A path outside the root — by `..`, by an
 * absolute path, or through a symlink (the real path of the target, or of its nearest existing
 * parent, is checked) — needs `permission.external_directory`, matched against that real path.
 */
import { inScratchDir } from './scratch-dir.ts';
import { inToolOutputDir } from './tool-output.ts';
import fs from 'node:fs/promises';
import path from 'node:path';
import { authorize } from '../permissions/authorize.ts';
import { isMissing } from './fs-util.ts';
import type { ToolContext } from './types.ts';

export interface ResolvedPath {
  /** Absolute path as written (resolved against the root, symlinks not followed). */
  abs: string;
  /** Where it really leads: symlinks followed as far as the path exists. */
  real: string;
  /** Relative to the project root with `/` separators (`.` for the root itself). */
  rel: string;
  /** Outside the project root (lexically or through a symlink). */
  external: boolean;
}

export function isInside(root: string, p: string): boolean {
  const rel = path.relative(root, p);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}

async function linkTarget(p: string): Promise<string | undefined> {
  try {
    return await fs.readlink(p);
  } catch (error) {
    // Not a symlink (EINVAL) or not there (ENOENT): nothing to follow.
    if (isMissing(error) || (error as NodeJS.ErrnoException).code === 'EINVAL') return undefined;
    throw error;
  }
}

/** The real path of `p`, or of its nearest existing parent joined with the rest; dangling links are followed. */
export async function realpathNearest(p: string, hops = 0): Promise<string> {
  const rest: string[] = [];
  let current = p;
  for (;;) {
    try {
      return path.join(await fs.realpath(current), ...rest);
    } catch (error) {
      if (!isMissing(error)) throw error;
      const target = hops < 40 ? await linkTarget(current) : undefined;
      if (target !== undefined) return realpathNearest(path.join(path.resolve(path.dirname(current), target), ...rest), hops + 1);
      const parent = path.dirname(current);
      if (parent === current) return path.join(current, ...rest);
      rest.unshift(path.basename(current));
      current = parent;
    }
  }
}

const realRoots = new Map<string, Promise<string>>();

function realRoot(root: string): Promise<string> {
  let known = realRoots.get(root);
  if (!known) {
    known = realpathNearest(root);
    realRoots.set(root, known);
  }
  return known;
}

/** How to show a path to the model: relative inside the project, absolute outside. */
export function displayPath(ctx: ToolContext, abs: string): string {
  const root = path.resolve(ctx.projectRoot);
  if (!isInside(root, abs)) return abs;
  const rel = path.relative(root, abs).split(path.sep).join('/');
  return rel === '' ? '.' : rel;
}

/** Resolves `input` (default: the root) for `tool`; asks `external_directory` when it leaves the root. */
export async function resolveToolPath(ctx: ToolContext, tool: string, input: string | undefined): Promise<ResolvedPath> {
  const root = path.resolve(ctx.projectRoot);
  const abs = path.resolve(root, input ?? '.');
  const real = await realpathNearest(abs);
  const external = !isInside(root, abs) || !isInside(await realRoot(root), real);
  // OpenCode's scratch folder (scratch-dir.ts) and the saved outputs of cut answers (tool-output.ts) are approved already.
  if (external && !(await inScratchDir(real)) && !inToolOutputDir(real)) {
    const via = real !== abs && isInside(root, abs) ? ` (through the symlink ${displayPath(ctx, abs)})` : '';
    await authorize(ctx, { key: 'external_directory', tool, subject: real, note: `is outside the project root ${root}${via}` });
  }
  return { abs, real, rel: displayPath(ctx, abs), external };
}
