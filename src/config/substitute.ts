import fs from 'node:fs/promises';
import { PantheonError } from '../errors.ts';
import type { ConfigWarning } from './layer.ts';
import { resolveUserPath } from './home.ts';
import { fileAt, formatJsonPath, locateJsonPath, type JsonPath } from './json-path.ts';

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

function substituteEnv(value: string, at: JsonPath, ctx: SubstituteContext): string {
  return value.replace(ENV_REF, (whole: string, braced: string | undefined, dollar: string | undefined) => {
    const name = (braced ?? dollar ?? '').trim();
    const found = ctx.env[name];
    if (found !== undefined) return found;
    ctx.warnings.push({
      code: 'ENV_UNSET',
      message: `${whole} names an environment variable that is not set; using an empty string.`,
      file: ctx.file ?? ctx.label,
      path: formatJsonPath(at),
    });
    return '';
  });
}

async function readRef(target: string, ref: string, at: JsonPath, ctx: SubstituteContext): Promise<string> {
  const cache = ctx.fileCache ?? (ctx.fileCache = new Map());
  let pending = cache.get(target);
  if (!pending) {
    pending = fs.readFile(target, 'utf8');
    cache.set(target, pending);
  }
  try {
    return (await pending).replace(/(\r?\n)+$/, '');
  } catch (error) {
    const where = ctx.file ? fileAt(ctx.file, ctx.text ? locateJsonPath(ctx.text, at) : undefined) : ctx.label;
    const why = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : `cannot be read (${(error as Error).message})`;
    throw new PantheonError('CONFIG_FILE_REF', `${where}: ${formatJsonPath(at)} refers to {file:${ref}}, but ${target} ${why}.`, {
      hint: ctx.file
        ? 'A {file:…} path is relative to the config file that contains it; `~` means your home folder.'
        : 'A {file:…} path given on the command line is relative to the working directory; `~` means your home folder.',
      cause: error,
    });
  }
}

async function substituteString(value: string, at: JsonPath, ctx: SubstituteContext): Promise<string> {
  const withEnv = value.includes('{') ? substituteEnv(value, at, ctx) : value;
  if (!withEnv.includes('{file:')) return withEnv;
  const refs = [...withEnv.matchAll(FILE_REF)].map((m) => (m[1] ?? '').trim());
  const contents = await Promise.all(
    refs.map((ref) => readRef(resolveUserPath(ref, ctx.baseDir, ctx.env), ref, at, ctx)),
  );
  let i = 0;
  return withEnv.replace(FILE_REF, () => contents[i++] ?? '');
}

async function walk(value: unknown, at: JsonPath, ctx: SubstituteContext): Promise<unknown> {
  if (typeof value === 'string') return substituteString(value, at, ctx);
  if (Array.isArray(value)) return Promise.all(value.map((item, i) => walk(item, [...at, i], ctx)));
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    const done = await Promise.all(entries.map(([k, v]) => walk(v, [...at, k], ctx)));
    const out: Record<string, unknown> = {};
    entries.forEach(([k], i) => {
      Object.defineProperty(out, k, { value: done[i], enumerable: true, writable: true, configurable: true });
    });
    return out;
  }
  return value;
}

/**
 * Replaces `{env:VAR}`, `${VAR}` and `{file:path}` in every string value (never in keys) and
 * returns a new object. Unset variables become '' with an ENV_UNSET warning; a missing
 * `{file:}` target is a CONFIG_FILE_REF error naming the config file, JSON path and line:col.
 */
export async function substituteValues(data: Record<string, unknown>, ctx: SubstituteContext): Promise<Record<string, unknown>> {
  return (await walk(data, ctx.pathPrefix ?? [], ctx)) as Record<string, unknown>;
}
