import { PantheonError } from '../errors.ts';
import type { ConfigWarning } from './layer.ts';
import { resolveUserPath } from './home.ts';
import { emptyRecord } from './merge.ts';
import { excerpt } from './excerpt.ts';
import { fileAt, formatJsonPath, locateJsonPath, type JsonPath } from './json-path.ts';
import { MAX_FILE_REF_BYTES, readTextFile, sizeText, TextFileError } from './read-text.ts';

export interface SubstituteContext {
  /** The config file holding the values; relative `{file:}` paths resolve against its folder. */
  file?: string;
  /** Its text, to give line:column in errors. */
  text?: string;
  /** Used in messages when there is no file (e.g. `command-line flags`). */
  label: string;
  /** Folder for relative `{file:}` paths. */
  baseDir: string;
  env: NodeJS.ProcessEnv;
  warnings: ConfigWarning[];
  /** Where the data sits inside the file (`['opencode']` for package.json). */
  pathPrefix?: JsonPath;
  /** Files already read during this load. */
  fileCache?: Map<string, Promise<string>>;
}

const ENV_REF = /\{env:([^}]+)\}|\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;
const FILE_REF = /\{file:([^}]+)\}/g;

/** A string value holding `{file:}` references, to be filled in once the files are read. */
interface PendingRef {
  holder: Record<string, unknown> | unknown[];
  key: string | number;
  value: string;
  at: JsonPath;
}

/** Substitutes environment references; each unset one is one warning, however often the value repeats it. */
function substituteEnv(value: string, at: () => JsonPath, ctx: SubstituteContext): string {
  const unset = new Map<string, number>();
  const out = value.replace(ENV_REF, (whole: string, braced: string | undefined, dollar: string | undefined) => {
    const name = (braced ?? dollar ?? '').trim();
    const found = ctx.env[name];
    if (found !== undefined) return found;
    unset.set(whole, (unset.get(whole) ?? 0) + 1);
    return '';
  });
  for (const [whole, count] of unset) {
    ctx.warnings.push({
      code: 'ENV_UNSET',
      message: `${excerpt(whole)} names an environment variable that is not set; using an empty string.`,
      file: ctx.file ?? ctx.label,
      path: formatJsonPath(at()),
      ...(count > 1 ? { count } : {}),
    });
  }
  return out;
}

/**
 * Copies `value` (which passed the structure guard: bounded depth, no prototype keys) into
 * prototype-less objects, substituting environment references in strings on the way (synchronously:
 * configs can be large) and noting strings with `{file:}` references in `pending`.
 */
function copy(value: unknown, at: JsonPath, ctx: SubstituteContext, pending: PendingRef[]): unknown {
  if (Array.isArray(value)) {
    const out: unknown[] = new Array(value.length);
    for (let i = 0; i < value.length; i++) {
      at.push(i);
      out[i] = visit(value[i], out, i, at, ctx, pending);
      at.pop();
    }
    return out;
  }
  if (value !== null && typeof value === 'object') {
    const out = emptyRecord();
    for (const key of Object.keys(value)) {
      at.push(key);
      out[key] = visit((value as Record<string, unknown>)[key], out, key, at, ctx, pending);
      at.pop();
    }
    return out;
  }
  return value;
}

function visit(
  value: unknown,
  holder: PendingRef['holder'],
  key: string | number,
  at: JsonPath,
  ctx: SubstituteContext,
  pending: PendingRef[],
): unknown {
  if (typeof value !== 'string') return copy(value, at, ctx, pending);
  if (!value.includes('{')) return value;
  const substituted = substituteEnv(value, () => [...at], ctx);
  if (substituted.includes('{file:')) pending.push({ holder, key, value: substituted, at: [...at] });
  return substituted;
}

async function readRef(target: string, ref: string, at: JsonPath, ctx: SubstituteContext): Promise<string> {
  const cache = ctx.fileCache ?? (ctx.fileCache = new Map());
  let read = cache.get(target);
  if (!read) {
    read = readTextFile(target, MAX_FILE_REF_BYTES);
    cache.set(target, read);
  }
  try {
    return (await read).replace(/(\r?\n)+$/, '');
  } catch (error) {
    const where = ctx.file ? fileAt(ctx.file, ctx.text ? locateJsonPath(ctx.text, at) : undefined) : ctx.label;
    const why = error instanceof TextFileError ? error.reason : `cannot be read (${(error as Error).message})`;
    const problem = error instanceof TextFileError ? error.problem : 'unreadable';
    const relative = ctx.file
      ? 'A {file:…} path is relative to the config file that contains it; `~` means your home folder.'
      : 'A {file:…} path given on the command line is relative to the working directory; `~` means your home folder.';
    const hint =
      problem === 'missing' || problem === 'unreadable'
        ? relative
        : `{file:…} reads a regular file of at most ${sizeText(MAX_FILE_REF_BYTES)} (a prompt, a key, instructions).`;
    throw new PantheonError('CONFIG_FILE_REF', `${where}: ${formatJsonPath(at)} refers to {file:${excerpt(ref)}}, but ${excerpt(target, 200)} ${why}.`, { hint, cause: error });
  }
}

async function fillRef(ref: PendingRef, ctx: SubstituteContext): Promise<void> {
  const names = [...ref.value.matchAll(FILE_REF)].map((m) => (m[1] ?? '').trim());
  const contents = await Promise.all(names.map((name) => readRef(resolveUserPath(name, ctx.baseDir, ctx.env), name, ref.at, ctx)));
  let i = 0;
  const filled = ref.value.replace(FILE_REF, () => contents[i++] ?? '');
  if (Array.isArray(ref.holder)) ref.holder[ref.key as number] = filled;
  else ref.holder[ref.key as string] = filled;
}

/**
 * Replaces `{env:VAR}`, `${VAR}` and then `{file:path}` in every string value (never in keys)
 * and returns a new object. Unset variables become '' with an ENV_UNSET warning; a missing
 * `{file:}` target is a CONFIG_FILE_REF error naming the config file, JSON path and line:col.
 * Inserted file content is not substituted again.
 */
export async function substituteValues(data: Record<string, unknown>, ctx: SubstituteContext): Promise<Record<string, unknown>> {
  const pending: PendingRef[] = [];
  const out = copy(data, [...(ctx.pathPrefix ?? [])], ctx, pending) as Record<string, unknown>;
  await Promise.all(pending.map((ref) => fillRef(ref, ctx)));
  return out;
}
