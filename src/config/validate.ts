/**
 * Validates a merged config against the generated schema (OpenCode's schema for OpenCode's keys,
 * schema/config.json for Pantheon's; the precompiled validator in ./generated/) and then across
 * its parts, and reports every problem at once, each pointing at the file (and line:column) that
 * set the offending value. Keys OpenCode ignores and refs a run could not use are warnings.
 */
import { PantheonError } from '../errors.ts';
import { crossCheckProblems, type Findings } from './cross-checks.ts';
import { configSchema, validateConfig } from './generated/config-validator.ts';
import { formatJsonPath } from './json-path.ts';
import type { JsonPath, TextPosition } from './json-path.ts';
import { createLocator, pathExists } from './json-position.ts';
import type { ConfigLayer, ConfigWarning } from './layer.ts';
import { schemaProblems } from './schema-problems.ts';
import { DEPTH_HINT, FORBIDDEN_KEY_HINT, structureProblem } from './structure-guard.ts';
import type { Problem } from './schema-problems.ts';
import type { Config } from './schema-types.ts';
import { unknownKeys } from './unknown-keys.ts';
import { thousands } from '../icu-free.ts';

const HINT = 'Fix the fields above; `opencode config validate` re-checks.';
/** Problems listed in one report; the rest are counted. */
export const MAX_PROBLEMS_SHOWN = 50;

/**
 * For a config with a prototype key or nested deeper than MAX_DEPTH (possible only from a library
 * caller: the loader refuses such sources), just that, since walking it further is unsafe.
 */
function unsafeStructure(config: unknown): Findings | undefined {
  const unsafe = structureProblem(config);
  if (!unsafe) return undefined;
  return { errors: [{ path: unsafe.path, message: unsafe.message, hint: unsafe.kind === 'key' ? FORBIDDEN_KEY_HINT : DEPTH_HINT }], warnings: [] };
}

function unique(problems: Problem[]): Problem[] {
  const seen = new Set<string>();
  return problems.filter((problem) => {
    const key = `${JSON.stringify(problem.path)}\u0000${problem.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Schema problems and typos of Pantheon's keys, or (when there are none) cross-reference problems; and the warnings. */
function collectProblems(config: unknown): Findings {
  const unsafe = unsafeStructure(config);
  if (unsafe) return unsafe;
  const valid = validateConfig(config);
  const unknown = unknownKeys(config, configSchema);
  // concat, not push(...): a list may hold more items than a call takes arguments.
  let errors = (valid ? [] : schemaProblems(validateConfig.errors ?? [], config, configSchema)).concat(unknown.errors);
  let warnings = unknown.warnings;
  if (errors.length === 0) {
    const cross = crossCheckProblems(config as Config);
    errors = errors.concat(cross.errors);
    warnings = warnings.concat(cross.warnings);
  }
  return { errors: unique(errors), warnings: unique(warnings) };
}

function describePath(path: JsonPath): string {
  return path.length === 0 ? '(top level)' : formatJsonPath(path);
}

/**
 * Every problem of a config as `path: what was expected, found what` lines, without file
 * positions (for library users and tests). An empty list means the config is valid.
 */
export function validateConfigObject(config: unknown): string[] {
  return collectProblems(config).errors.map((p) => `${describePath(p.path)}: ${p.message}`);
}

/** The warnings of a config (keys OpenCode ignores, refs a run could not use), as for `validateConfigObject`. */
export function configWarningsOf(config: unknown): string[] {
  return collectProblems(config).warnings.map((p) => `${describePath(p.path)}: ${p.message}`);
}

interface Placed {
  line: string;
  /** `file:line:col`, or the layer's label, or undefined when no layer holds the path. */
  at?: string;
  layer: number;
  source?: string;
  position?: TextPosition;
}

/** The path in a layer's source text: through `sourcePaths` for mapped layers (longest mapped prefix). */
function sourcePath(layer: ConfigLayer, path: JsonPath): JsonPath {
  if (!layer.sourcePaths) return path;
  for (let length = path.length; length >= 0; length -= 1) {
    const mapped = layer.sourcePaths.get(path.slice(0, length).join('/'));
    if (mapped) return [...mapped, ...path.slice(length)];
  }
  return path;
}

/**
 * Finds the layer responsible for a problem: the highest-precedence layer whose data holds the
 * path or, failing that, its nearest ancestor (a missing key is blamed on the object lacking it).
 */
function place(problem: Problem, layers: readonly ConfigLayer[], locate: ReturnType<typeof createLocator>): Placed {
  const text = `${describePath(problem.path)}: ${problem.message}`;
  for (let length = problem.path.length; length >= 0; length -= 1) {
    const prefix = problem.path.slice(0, length);
    for (let i = layers.length - 1; i >= 0; i -= 1) {
      const layer = layers[i]!;
      if (!pathExists(layer.data, prefix)) continue;
      const source = layer.file ?? layer.label;
      const position = layer.text === undefined ? undefined : locate(layer.text, sourcePath(layer, prefix));
      const at = position && layer.file ? `${source}:${position.line}:${position.col}` : source;
      return { line: `${at} ${text}`, at, layer: i, source, ...(position ? { position } : {}) };
    }
  }
  return { line: text, layer: layers.length };
}

function plural(n: number, noun: string): string {
  return `${thousands(n)} ${noun}${n === 1 ? '' : 's'}`;
}

function placeAll(problems: Problem[], layers: readonly ConfigLayer[]): (Placed & { index: number; problem: Problem })[] {
  const locate = createLocator();
  const placed = problems.map((problem, index) => ({ index, problem, ...place(problem, layers, locate) }));
  return placed.sort(
    (a, b) =>
      a.layer - b.layer ||
      (a.position?.line ?? Infinity) - (b.position?.line ?? Infinity) ||
      (a.position?.col ?? Infinity) - (b.position?.col ?? Infinity) ||
      a.index - b.index,
  );
}

/**
 * Validates the merged config; on any problem throws one `CONFIG_INVALID` error whose details
 * list every problem as `file:line:col path: message`, ordered by layer (lowest precedence first),
 * then line. `layers` are in precedence order, lowest first, as merged. Returns the warnings,
 * placed the same way.
 */
export function validateLayers(merged: Record<string, unknown>, layers: ConfigLayer[]): ConfigWarning[] {
  const { errors: problems, warnings } = collectProblems(merged);
  if (problems.length === 0) {
    return placeAll(warnings, layers).map((p) => ({
      code: 'CONFIG_WARNING',
      message: p.problem.message,
      ...(p.at ? { file: p.at } : {}),
      path: describePath(p.problem.path),
    }));
  }
  const placed = placeAll(problems, layers);
  const sources = new Set(placed.flatMap((p) => (p.source === undefined ? [] : [p.source])));
  const where = sources.size > 0 ? ` in ${plural(sources.size, 'file')}` : '';
  const hints = [...new Set(problems.flatMap((p) => (p.hint ? [p.hint] : [])))];
  const details = placed.slice(0, MAX_PROBLEMS_SHOWN).map((p) => p.line);
  const more = placed.length - details.length;
  if (more > 0) details.push(`… and ${plural(more, 'more problem')} (the first ${MAX_PROBLEMS_SHOWN} are listed)`);
  throw new PantheonError('CONFIG_INVALID', `Invalid config: ${plural(problems.length, 'problem')}${where}.`, {
    details,
    hint: [...hints, HINT].join(' '),
  });
}
