import path from 'node:path';
import { PantheonError } from '../errors.ts';
import type { ConfigLayer, LayerKind } from './layer.ts';
import type { LoadContext } from './context.ts';
import { readlink } from './fs-calls.ts';
import { asConfigObject, parseConfigText } from './jsonc.ts';
import { formatJsonPath, type JsonPath } from './json-path.ts';
import { createLocator } from './json-position.ts';
import { mapOhMyOpencode } from './oh-my-opencode.ts';
import { MAX_CONFIG_BYTES, readTextFile, TextFileError } from './read-text.ts';
import { DEPTH_HINT, FORBIDDEN_KEY_HINT, structureProblem } from './structure-guard.ts';
import { substituteValues } from './substitute.ts';
import { thousands } from '../icu-free.ts';

/** A config source found on disk (or given in memory), before substitution and mapping. */
export interface LayerSource {
  kind: LayerKind;
  label: string;
  file?: string;
  /** The file's text when positions in it can be computed (JSON/JSONC, not YAML). */
  text?: string;
  data: Record<string, unknown>;
  /** Where `data` sits inside the file (`['opencode']` for package.json). */
  pathPrefix?: JsonPath;
}

function isYaml(file: string): boolean {
  return /\.ya?ml$/i.test(file);
}

/** A YAML text whose aliases (`*name`) expand to more values than its length allows; `message` completes "its …". */
export class AliasBudgetError extends Error {}

/**
 * cosmiconfig's YAML parser (imported only when YAML is met): a text's value, or js-yaml's own
 * error (`mark` says where), or an AliasBudgetError. Aliases share a value instead of writing it
 * out: a few hundred bytes of aliases of aliases stand for billions of values, which every later
 * step would walk one by one. A document without aliases holds fewer values than characters.
 */
export async function yamlParser(): Promise<(file: string, text: string) => unknown> {
  const { defaultLoaders } = await import('cosmiconfig');
  return (file, text) => {
    const data: unknown = defaultLoaders['.yaml'](file, text);
    const most = 2 * text.length + 10_000;
    if (valuesOver(data, most)) throw new AliasBudgetError(`YAML aliases expand to more than ${thousands(most)} values`);
    return data;
  };
}

/** cosmiconfig's YAML loader for a config file: its top-level object, or a PantheonError naming the file. */
export async function yamlLoader(): Promise<(file: string, text: string) => Record<string, unknown>> {
  const parse = await yamlParser();
  return (file, text) => {
    let data: unknown;
    try {
      data = parse(file, text);
    } catch (error) {
      if (error instanceof AliasBudgetError) {
        throw new PantheonError('CONFIG_PARSE', `${file}: its ${error.message}.`, { hint: 'Write the values out, or use fewer aliases of aliases (`*name`).' });
      }
      throw loaderError(error, file);
    }
    return asConfigObject(data, file);
  };
}

/** Parses YAML with cosmiconfig's loader. */
export async function parseYaml(text: string, file: string): Promise<Record<string, unknown>> {
  return (await yamlLoader())(file, text);
}

/** True when walking `value` (iteratively, aliases and cycles followed) meets more than `most` values. */
function valuesOver(value: unknown, most: number): boolean {
  const stack: unknown[] = [value];
  let seen = 0;
  while (stack.length > 0) {
    const next = stack.pop();
    if (++seen > most) return true;
    if (next !== null && typeof next === 'object') for (const child of Object.values(next)) stack.push(child);
  }
  return false;
}

/**
 * A loader error from cosmiconfig (YAML, or its own JSON reading) as CONFIG_PARSE with
 * file:line:col where known; PantheonErrors pass through.
 */
export function loaderError(error: unknown, file: string): unknown {
  if (error instanceof PantheonError) return error;
  // The YAML parser recurses per level of nesting.
  if (error instanceof RangeError) return new PantheonError('CONFIG_PARSE', `${file}: cannot be parsed: it is nested too deeply.`, { hint: DEPTH_HINT, cause: error });
  const e = error as { reason?: string; message?: string; mark?: { line: number; column: number } };
  const lastLine = (e.message ?? String(error)).trim().split('\n').slice(-1)[0] ?? '';
  if (e.mark) {
    return new PantheonError('CONFIG_PARSE', `${file}:${e.mark.line + 1}:${e.mark.column + 1}: invalid YAML: ${e.reason ?? lastLine}.`, {
      hint: 'Check the indentation and quoting around that spot.',
      cause: error,
    });
  }
  return new PantheonError('CONFIG_PARSE', `${file}: cannot be parsed: ${lastLine.replace(/\.$/, '')}.`, {
    hint: 'Fix the syntax of that file.',
    cause: error,
  });
}

/**
 * Refuses a source with a key that names the object prototype or nesting deeper than MAX_DEPTH:
 * one sentence naming the file (line:column where known) and the JSON path.
 */
function checkStructure(source: LayerSource): void {
  const problem = structureProblem(source.data);
  if (!problem) return;
  const position = source.text === undefined ? undefined : createLocator()(source.text, [...(source.pathPrefix ?? []), ...problem.path]);
  const where = source.file ? (position ? `${source.file}:${position.line}:${position.col}` : source.file) : source.label;
  throw new PantheonError('CONFIG_INVALID', `${where}: ${formatJsonPath(problem.path)}: ${problem.message}.`, {
    hint: problem.kind === 'key' ? FORBIDDEN_KEY_HINT : DEPTH_HINT,
  });
}

/**
 * Substitutes values, maps oh-my-opencode layers (by kind: a preset that happens to be named
 * oh-my-opencode is Pantheon-shaped) and records where package.json data sits.
 */
export async function buildLayer(source: LayerSource, ctx: LoadContext): Promise<ConfigLayer> {
  checkStructure(source);
  // A markdown agent's body is its prompt as written (OpenCode substitutes nothing there).
  if (source.kind === 'markdown-agent' || source.kind === 'markdown-command') return { kind: source.kind, label: source.label, data: source.data, ...(source.file ? { file: source.file } : {}) };
  const data = await substituteValues(source.data, {
    file: source.file,
    text: source.text,
    label: source.label,
    baseDir: source.file ? path.dirname(source.file) : ctx.cwd,
    env: ctx.env,
    warnings: ctx.warnings,
    pathPrefix: source.pathPrefix,
    fileCache: ctx.fileCache,
  });
  const layer: ConfigLayer = { kind: source.kind, label: source.label, data };
  if (source.file) layer.file = source.file;
  if (source.text !== undefined) layer.text = source.text;
  if (source.kind === 'global-oh-my-opencode' || source.kind === 'project-oh-my-opencode') {
    const mapped = mapOhMyOpencode(data);
    layer.data = mapped.data;
    layer.sourcePaths = mapped.sourcePaths;
    for (const skip of mapped.ignored) {
      ctx.warnings.push({ code: 'OMO_IGNORED', message: `${skip.reason}; ignored.`, file: source.file, path: formatJsonPath(skip.path) });
    }
  } else if (source.pathPrefix?.length) {
    layer.sourcePaths = new Map([['', source.pathPrefix]]);
  }
  return layer;
}

/** Parses a config file's text by its name: YAML, package.json#opencode, or JSONC. */
export async function parseSource(file: string, text: string, kind: LayerKind, label: string): Promise<LayerSource> {
  if (isYaml(file)) return { kind, label, file, data: await parseYaml(text, file) };
  const parsed = parseConfigText(text, file);
  if (path.basename(file) === 'package.json') {
    return { kind, label, file, text, data: asConfigObject(parsed.opencode, `${file}#opencode`), pathPrefix: ['opencode'] };
  }
  return { kind, label, file, text, data: parsed };
}

/** The error for a config file that exists but cannot be read (a FIFO, a device, too large, no permission). */
export function unreadableConfig(file: string, error: TextFileError): PantheonError {
  return new PantheonError('CONFIG_NOT_FOUND', `Cannot read ${file}: it ${error.reason}.`, {
    hint: /symbolic link/.test(error.reason)
      ? 'Point the link at the config file itself (ls -l shows where it leads).'
      : error.problem === 'unreadable'
        ? 'Check the file permissions.'
        : `A config file must be a regular file of at most ${MAX_CONFIG_BYTES / 1024 / 1024} MiB.`,
    cause: error,
  });
}

/** Where a symbolic link at `file` leads; undefined when `file` is not one. */
async function linkTarget(file: string): Promise<string | undefined> {
  return readlink(file).then(
    (target) => target,
    () => undefined,
  );
}

/**
 * Reads a config file's text; undefined when it does not exist or is a folder. A folder, or a
 * symbolic link to nothing, under a config file's name is skipped as OpenCode skips it, with a
 * warning in `ctx` (a dotfiles link left behind when its file moved drops a whole config silently otherwise).
 */
export async function readIfExists(file: string, ctx: LoadContext): Promise<string | undefined> {
  try {
    return await readTextFile(file, MAX_CONFIG_BYTES);
  } catch (error) {
    if (!(error instanceof TextFileError)) throw error;
    if (error.problem !== 'missing' && error.problem !== 'directory') throw unreadableConfig(file, error);
    const target = error.problem === 'missing' ? await linkTarget(file) : undefined;
    if (error.problem === 'directory' || target !== undefined) {
      const what = target === undefined ? 'a folder, not a file' : `a symbolic link to ${target}, which does not exist`;
      ctx.warnings.push({ code: 'CONFIG_FILE_SKIPPED', message: `${what}; config file skipped`, file });
    }
    return undefined;
  }
}

/** The first of `names` that exists in `dir`, read (a folder or a link to nothing under one of them is a warning in `ctx`). */
export async function readFirst(dir: string, names: readonly string[], ctx: LoadContext): Promise<{ file: string; text: string } | undefined> {
  for (const name of names) {
    const file = path.join(dir, name);
    const text = await readIfExists(file, ctx);
    if (text !== undefined) return { file, text };
  }
  return undefined;
}

/**
 * Reads, parses and substitutes a config file the user named; `missing` builds the error when it is
 * absent, or a folder, with what it is (`does not exist`, `is a folder, not a file`).
 */
export async function readFileLayer(
  file: string,
  kind: LayerKind,
  label: string,
  ctx: LoadContext,
  missing: (what: string) => PantheonError,
): Promise<ConfigLayer> {
  let text: string;
  try {
    text = await readTextFile(file, MAX_CONFIG_BYTES);
  } catch (error) {
    if (!(error instanceof TextFileError)) throw error;
    if (error.problem === 'missing') throw missing('does not exist');
    if (error.problem === 'directory') throw missing('is a folder, not a file');
    throw unreadableConfig(file, error);
  }
  return buildLayer(await parseSource(file, text, kind, label), ctx);
}
