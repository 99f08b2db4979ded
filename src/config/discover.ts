import path from 'node:path';
import type { LoadContext } from './context.ts';
import { readUtf8, stat } from './fs-calls.ts';
import { globalConfigFolder } from './home.ts';
import { asConfigObject, parseJsonc } from './jsonc.ts';
import { markdownSources } from './markdown-layers.ts';
import { OH_MY_OPENCODE_FILES, OH_MY_OPENCODE_NAMES } from './oh-my-opencode.ts';
import { loaderError, parseSource, readFirst, unreadableConfig, yamlLoader, type LayerSource } from './read-layer.ts';
import { checkTextFile, MAX_CONFIG_BYTES, stripBom, TextFileError } from './read-text.ts';

/** Project config file names, in the order tried within one folder. */
export const PROJECT_FILES = [
  'opencode.json',
  'opencode.jsonc',
  '.opencoderc',
  '.opencoderc.json',
  '.opencoderc.yaml',
  '.opencoderc.yml',
  'package.json',
];
export const GLOBAL_FILES = ['opencode.json', 'opencode.jsonc'];
/** Config files OpenCode reads in each `.opencode` folder, in order (later wins). */
export const OPENCODE_DIR_FILES = ['opencode.json', 'opencode.jsonc'];
export const PANTHEON_FILES = ['pantheon.json', 'pantheon.jsonc'];

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

/** The nearest folder at or above `cwd` holding `.git` (a folder, or a file in worktrees). */
export async function findGitRoot(cwd: string): Promise<string | undefined> {
  let dir = cwd;
  for (;;) {
    if (await exists(path.join(dir, '.git'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** Folders searched for project files: `cwd` up to the git root; only `cwd` outside a repository. */
export function searchDirs(cwd: string, gitRoot: string | undefined): string[] {
  if (!gitRoot) return [cwd];
  const dirs = [cwd];
  let dir = cwd;
  while (dir !== gitRoot) {
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
    dirs.push(dir);
  }
  return dirs;
}

/**
 * cosmiconfig reads whatever it finds: refuse first (by type and size, without opening them) the
 * project files in `dir` that are FIFOs, devices (`opencode.json -> /dev/zero`) or too large.
 * Resolves with which of PROJECT_FILES are there (as files).
 */
async function checkCandidates(dir: string): Promise<boolean[]> {
  return Promise.all(
    PROJECT_FILES.map(async (name) => {
      const file = path.join(dir, name);
      try {
        await checkTextFile(file, MAX_CONFIG_BYTES);
        return true;
      } catch (error) {
        if (!(error instanceof TextFileError)) throw error;
        if (error.problem !== 'missing' && error.problem !== 'directory') throw unreadableConfig(file, error);
        return false;
      }
    }),
  );
}

/** Where cosmiconfig looks for its own settings, in the working directory (they can add places to search). */
const COSMICONFIG_META = ['package.json', 'package.yaml', '.config'];

/**
 * The nearest project file when it is an OpenCode one (`opencode.json`, `opencode.jsonc`: nearly
 * every project) and cosmiconfig could find nothing else — no file of another form (`.opencoderc*`,
 * `package.json`) before it, no settings of cosmiconfig's own in the working directory, no `$import`
 * in it, not empty — so loading cosmiconfig (~10 ms of `run`'s start) would only confirm it.
 * `ask` when cosmiconfig has to decide; undefined when no folder holds a project file at all.
 */
async function nearestWithoutCosmiconfig(dirs: readonly string[]): Promise<LayerSource | undefined | 'ask'> {
  const cwd = process.cwd();
  const meta = await Promise.all(COSMICONFIG_META.map((name) => exists(path.join(cwd, name))));
  if (meta.some(Boolean)) return 'ask';
  for (const dir of dirs) {
    const first = (await checkCandidates(dir)).indexOf(true);
    if (first < 0) continue;
    const name = PROJECT_FILES[first] as string;
    if (!OPENCODE_PROJECT_FILES.includes(name)) return 'ask';
    const file = path.join(dir, name);
    let text: string;
    let data: unknown;
    try {
      text = stripBom(await readUtf8(file));
      data = text.trim() === '' ? undefined : parseJsonc(text, file);
    } catch {
      // Unreadable, or not valid JSONC: cosmiconfig's way (skip it, or report it as before).
      return 'ask';
    }
    // cosmiconfig skips an empty file or a `null`, and merges the files a `$import` names.
    if (data === undefined || data === null || (typeof data === 'object' && Object.hasOwn(data, '$import'))) return 'ask';
    return { kind: 'project', label: file, file, text, data: asConfigObject(data, file) };
  }
  return undefined;
}

/** The nearest project file, found with cosmiconfig (module `opencode`); JSON goes through our JSONC parser. */
export async function findProjectFile(dirs: readonly string[]): Promise<LayerSource | undefined> {
  const known = await nearestWithoutCosmiconfig(dirs);
  if (known !== 'ask') return known;
  const { cosmiconfig } = await import('cosmiconfig');
  const texts = new Map<string, string>();
  const jsonc = (filepath: string, content: string): unknown => {
    const text = stripBom(content);
    texts.set(filepath, text);
    return parseJsonc(text, filepath);
  };
  const yaml = await yamlLoader();
  const fail = (error: unknown, where: string): unknown => loaderError(error, (error as { filepath?: string }).filepath ?? where);
  let explorer;
  try {
    // cosmiconfig reads its own settings from process.cwd() (package.json#cosmiconfig) here.
    explorer = cosmiconfig('opencode', {
      searchPlaces: PROJECT_FILES,
      loaders: { '.json': jsonc, '.jsonc': jsonc, noExt: jsonc, '.yaml': yaml, '.yml': yaml },
      searchStrategy: 'none',
      cache: false,
    });
  } catch (error) {
    throw fail(error, process.cwd());
  }
  for (const dir of dirs) {
    await checkCandidates(dir);
    let found;
    try {
      found = await explorer.search(dir);
    } catch (error) {
      throw fail(error, dir);
    }
    if (!found) continue;
    const file = found.filepath;
    if (path.basename(file) === 'package.json') {
      const data = asConfigObject(found.config, `${file}#opencode`);
      return { kind: 'project', label: `${file}#opencode`, file, text: texts.get(file), data, pathPrefix: ['opencode'] };
    }
    const text = texts.get(file);
    const source: LayerSource = { kind: 'project', label: file, file, data: asConfigObject(found.config, file) };
    if (text !== undefined) source.text = text;
    return source;
  }
  return undefined;
}

async function firstSource(dir: string, names: readonly string[], kind: LayerSource['kind'], ctx: LoadContext): Promise<LayerSource | undefined> {
  const hit = await readFirst(dir, names, ctx);
  return hit && parseSource(hit.file, hit.text, kind, hit.file);
}

async function globalSources(ctx: LoadContext): Promise<LayerSource[]> {
  const dir = globalConfigFolder(ctx.env);
  const [main, omo, markdown] = await Promise.all([
    firstSource(dir, GLOBAL_FILES, 'global', ctx),
    firstSource(dir, OH_MY_OPENCODE_NAMES, 'global-oh-my-opencode', ctx),
    markdownSources(dir, ctx),
  ]);
  return [main, omo, ...markdown].filter((s): s is LayerSource => s !== undefined);
}

/** Each `.opencode` folder from the git root down to `cwd`: its opencode.json[c], then its markdown agents and commands. */
async function opencodeDirSources(dirs: readonly string[], ctx: LoadContext): Promise<LayerSource[]> {
  const found = await Promise.all(
    [...dirs].reverse().map(async (dir) => {
      const folder = path.join(dir, '.opencode');
      const files = await Promise.all(OPENCODE_DIR_FILES.map((name) => firstSource(folder, [name], 'opencode-dir', ctx)));
      return [...files.filter((s): s is LayerSource => s !== undefined), ...(await markdownSources(folder, ctx))];
    }),
  );
  return found.flat();
}

/** OpenCode's own project file names, in the order OpenCode merges them (a later one wins). */
export const OPENCODE_PROJECT_FILES = ['opencode.jsonc', 'opencode.json'];

/**
 * Every opencode.jsonc and opencode.json from the git root down to `cwd`, merged as OpenCode merges
 * them: all `.jsonc` files outermost first, then all `.json` files outermost first. A monorepo's root
 * file and a package's own file both apply, the nearer one winning where they disagree.
 */
async function openCodeProjectFiles(dirs: readonly string[], ctx: LoadContext): Promise<LayerSource[]> {
  const outermostFirst = [...dirs].reverse();
  const found = await Promise.all(
    OPENCODE_PROJECT_FILES.flatMap((name) => outermostFirst.map((dir) => firstSource(dir, [name], 'project', ctx))),
  );
  return found.filter((s): s is LayerSource => s !== undefined);
}

/**
 * The project layers: OpenCode's files (above), then — when the nearest project file is one of the
 * other forms Pantheon also reads (`.opencoderc*`, `package.json#opencode`) — that file on top.
 */
async function projectFileSources(dirs: readonly string[], ctx: LoadContext): Promise<{ layers: LayerSource[]; nearest?: LayerSource }> {
  const [nearest, openCode] = await Promise.all([findProjectFile(dirs), openCodeProjectFiles(dirs, ctx)]);
  const nearestIsOpenCode = nearest?.file !== undefined && OPENCODE_PROJECT_FILES.includes(path.basename(nearest.file));
  return { layers: nearest && !nearestIsOpenCode ? [...openCode, nearest] : openCode, nearest };
}

async function projectSources(dirs: readonly string[], ctx: LoadContext): Promise<LayerSource[]> {
  const [{ layers, nearest: project }, opencodeDirs] = await Promise.all([projectFileSources(dirs, ctx), opencodeDirSources(dirs, ctx)]);
  const home = project?.file ? path.dirname(project.file) : ctx.cwd;
  const omo = await firstSource(home, OH_MY_OPENCODE_FILES, 'project-oh-my-opencode', ctx);
  let pantheon: LayerSource | undefined;
  for (const dir of project?.file ? [home] : dirs) {
    pantheon = await firstSource(dir, PANTHEON_FILES, 'pantheon', ctx);
    if (pantheon) break;
  }
  return [...layers, ...opencodeDirs, omo, pantheon].filter((s): s is LayerSource => s !== undefined);
}

export interface Discovered {
  /** The git root, or `cwd` outside a repository. */
  projectRoot: string;
  /**
   * Lowest first: global file, global oh-my-opencode, global markdown agents, project files, each
   * `.opencode` folder's opencode.json[c] and markdown agents, project oh-my-opencode, pantheon.json.
   */
  sources: LayerSource[];
}

/** Finds the global and project config files (layers 3–5), read and parsed, nothing written. */
export async function discover(ctx: LoadContext): Promise<Discovered> {
  const gitRoot = await findGitRoot(ctx.cwd);
  const [global, project] = await Promise.all([globalSources(ctx), projectSources(searchDirs(ctx.cwd, gitRoot), ctx)]);
  return { projectRoot: gitRoot ?? ctx.cwd, sources: [...global, ...project] };
}
