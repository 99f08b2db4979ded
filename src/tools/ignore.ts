/**
 * What `list`, `glob` and `grep` skip: `.git`, `node_modules` and the simple entries of the
 * root `.gitignore` (plain names and paths, with or without a trailing `/`; negations and nested
 * `.gitignore` files are not read).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { isMissing } from './fs-util.ts';

export const ALWAYS_IGNORED = ['**/.git/**', '**/node_modules/**'];

function toGlobs(line: string): string[] {
  let entry = line.trim();
  if (entry === '' || entry.startsWith('#') || entry.startsWith('!')) return [];
  entry = entry.replace(/\\(.)/g, '$1');
  const dirOnly = entry.endsWith('/');
  if (dirOnly) entry = entry.replace(/\/+$/, '');
  const anchored = entry.includes('/');
  entry = entry.replace(/^\/+/, '');
  if (entry === '' || entry === '**') return [];
  const base = anchored ? entry : `**/${entry}`;
  return dirOnly ? [`${base}/**`] : [base, `${base}/**`];
}

/** Globs for tinyglobby's `ignore`, from `.gitignore` in `root` (none when it has none). */
export async function gitignoreGlobs(root: string): Promise<string[]> {
  let text: string;
  try {
    text = await fs.readFile(path.join(root, '.gitignore'), 'utf8');
  } catch (error) {
    if (isMissing(error)) return [];
    throw error;
  }
  return text.split(/\r?\n/).flatMap(toGlobs);
}

/** The ignore list for a search under `root` (the project root's `.gitignore` applies inside it). */
export async function ignoreGlobs(projectRoot: string, searchRoot: string): Promise<string[]> {
  const rel = path.relative(projectRoot, searchRoot);
  if (rel.startsWith('..') || path.isAbsolute(rel)) return [...ALWAYS_IGNORED];
  const globs = await gitignoreGlobs(projectRoot);
  if (rel === '') return [...ALWAYS_IGNORED, ...globs];
  // Re-anchor root-anchored entries to the search folder; drop the ones that lie elsewhere.
  const prefix = `${rel.split(path.sep).join('/')}/`;
  const local = globs.flatMap((g) => (g.startsWith('**/') ? [g] : g.startsWith(prefix) ? [g.slice(prefix.length)] : []));
  return [...ALWAYS_IGNORED, ...local];
}
