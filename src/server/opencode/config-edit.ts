/**
 * `PATCH /config` and `PATCH /global/config`: a change merged into a config file as OpenCode merges
 * it (objects key by key, anything else replaced, `null` removes the key), edited in place so the
 * file's comments and layout stay (jsonc-parser's edits), checked as the whole config it would make
 * (every other layer as loaded, this file's new text in its place) before anything is written, then
 * written atomically (a temp file renamed over it). A masked secret sent back as `GET /config` showed
 * it (`sk-a…wxyz`) leaves the secret as it is.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { applyEdits, modify, parse, printParseErrorCode, type FormattingOptions, type ParseError } from 'jsonc-parser';
import { createContext } from '../../config/context.ts';
import { expandExtends } from '../../config/extends.ts';
import { isPlainObject } from '../../config/jsonc.ts';
import type { ConfigLayer, ConfigWarning, LayerKind } from '../../config/layer.ts';
import type { LoadedConfig } from '../../config/load.ts';
import { maskConfig } from '../../config/mask.ts';
import { configSecrets, secretMasker } from '../../config/secrets.ts';
import type { Config } from '../../config/schema-types.ts';
import { mergeLayers } from '../../config/merge.ts';
import { buildLayer, parseSource } from '../../config/read-layer.ts';
import { MAX_CONFIG_BYTES } from '../../config/read-text.ts';
import { validateLayers } from '../../config/validate.ts';
import { isPantheonError } from '../../errors.ts';
import { writeFileAtomic } from '../../fs-atomic.ts';
import { HttpError } from '../http-error.ts';

type Json = Record<string, unknown>;

/** What a new config file starts as (OpenCode's `$schema` line, so editors offer help). */
const NEW_FILE = '{\n  "$schema": "https://opencode.ai/config.json"\n}\n';

/** Edits of one file at a time: two changes sent together are applied one after the other, neither lost. */
const queues = new Map<string, Promise<unknown>>();

function serialized<T>(file: string, run: () => Promise<T>): Promise<T> {
  const before = queues.get(file) ?? Promise.resolve();
  const mine = before.then(run, run);
  const settled = mine.then(
    () => undefined,
    () => undefined,
  );
  queues.set(file, settled);
  void settled.then(() => {
    if (queues.get(file) === settled) queues.delete(file);
  });
  return mine;
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The file's indentation and line ends, for the text the edits insert. */
function formatting(text: string): FormattingOptions {
  const indent = /^([ \t]+)"/m.exec(text)?.[1] ?? '  ';
  return { insertSpaces: !indent.includes('\t'), tabSize: indent.includes('\t') ? 1 : indent.length, eol: text.includes('\r\n') ? '\r\n' : '\n' };
}

/**
 * The edits of `patch` at `at`, applied to `text`: objects merged into objects key by key, `null`
 * removing a key, anything else set; a value equal to the current one as masked (and not to the
 * current one itself) left alone.
 */
function applyPatch(text: string, patch: Json, current: unknown, masked: unknown, at: (string | number)[], options: FormattingOptions): string {
  let out = text;
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    const here = [...at, key];
    const now = isPlainObject(current) && Object.hasOwn(current, key) ? current[key] : undefined;
    const shown = isPlainObject(masked) && Object.hasOwn(masked, key) ? masked[key] : undefined;
    if (value !== null && now !== undefined && same(value, shown) && !same(value, now)) continue;
    if (isPlainObject(value) && isPlainObject(now)) {
      out = applyPatch(out, value, now, shown, here, options);
      continue;
    }
    if (value === null && now === undefined) continue;
    out = applyEdits(out, modify(out, here, value === null ? undefined : value, { formattingOptions: options }));
  }
  return out;
}

/** Reads a config file's text; undefined when it does not exist. */
async function readConfigText(file: string): Promise<string | undefined> {
  let handle;
  try {
    handle = await fs.open(file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new HttpError(400, 'CONFIG_UNREADABLE', `Cannot read the config file ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'}).`, { hint: 'Check its permissions; nothing was changed.' });
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new HttpError(400, 'CONFIG_UNREADABLE', `The config file ${file} is not a regular file.`, { hint: 'Replace it with a JSON file; nothing was changed.' });
    if (info.size > MAX_CONFIG_BYTES) throw new HttpError(400, 'CONFIG_UNREADABLE', `The config file ${file} is larger than ${MAX_CONFIG_BYTES / 1024 / 1024} MiB.`, { hint: 'Nothing was changed.' });
    return (await handle.readFile('utf8')).replace(/^\uFEFF/, '');
  } finally {
    await handle.close();
  }
}

/** The secrets of configs (the one loaded, the file as it would be), for masking them in an error: a problem may quote a value. */
function secretsOf(...configs: unknown[]): (text: string) => string {
  const found: string[] = [];
  for (const config of configs) {
    try {
      found.push(...configSecrets(config as Config));
    } catch {
      // A shape too broken to walk: its problems say so without quoting it.
    }
  }
  return secretMasker(found);
}

/** The error of a change that would leave the config invalid: the first problem's field named, every problem listed, secrets masked. */
function refused(file: string, error: unknown, mask: (text: string) => string): HttpError {
  if (!isPantheonError(error)) throw error;
  const details = (error.details ?? []).map(mask);
  const first = details[0] ?? mask(error.message);
  // `file:line:col path: message` → the field.
  const field = /^\S+:\d+:\d+ ([^:]+):/.exec(first)?.[1] ?? /^([^\s:]+):/.exec(first)?.[1];
  return new HttpError(400, 'CONFIG_INVALID', `The change would make the config invalid, so ${file} was not changed: ${first.replace(/\s+/g, ' ').trim()}`, {
    hint: error.hint ?? 'Fix the field named above and send the change again.',
    details: { ...(field ? { field } : {}), problems: details.slice(0, 20) },
  });
}

export interface EditTarget {
  /** The file to change (made when it does not exist). */
  file: string;
  /** Its layer's kind, when made (where it goes among the layers). */
  kind: LayerKind;
  /** The config as loaded where the change applies (its layers are the other files). */
  loaded: LoadedConfig;
  cwd: string;
  env: NodeJS.ProcessEnv;
}

/** The layers as they would be with `file` holding `text`: its layer replaced, or (a new file) put after the layers of lower precedence. */
async function layersWith(target: EditTarget, text: string): Promise<ConfigLayer[]> {
  const ctx = createContext({ cwd: target.cwd, env: target.env });
  const source = await parseSource(target.file, text, target.kind, target.file);
  const fresh = await expandExtends(await buildLayer(source, ctx), ctx);
  const layers = [...target.loaded.layers];
  const at = layers.findIndex((l) => l.file === target.file);
  if (at >= 0) {
    layers.splice(at, 1, ...fresh);
    return layers;
  }
  // A new global file goes after the presets; a new project file after the global layers.
  const lower = target.kind === 'global' ? new Set(['default', 'preset', 'extends']) : new Set(['default', 'preset', 'extends', 'global', 'global-oh-my-opencode', 'markdown-agent', 'markdown-command', 'project']);
  let insert = 0;
  while (insert < layers.length && lower.has((layers[insert] as ConfigLayer).kind)) insert += 1;
  layers.splice(insert, 0, ...fresh);
  return layers;
}

/**
 * Merges `patch` into the target file and writes it, once the config it makes validates; returns
 * the file's new content (as parsed, not substituted). A 400 naming the field otherwise, nothing written.
 */
export function editConfigFile(target: EditTarget, patch: Json): Promise<Json> {
  return serialized(target.file, async () => {
    const existing = await readConfigText(target.file);
    // An empty file (the loader skips it) starts as a new one.
    const before = existing?.trim() ? existing : NEW_FILE;
    const errors: ParseError[] = [];
    const current = parse(before, errors, { allowTrailingComma: true }) as unknown;
    if (errors.length > 0 || !isPlainObject(current)) {
      const why = errors.length > 0 ? printParseErrorCode((errors[0] as ParseError).error) : 'it is not a JSON object';
      throw new HttpError(400, 'CONFIG_PARSE', `The config file ${target.file} cannot be edited: ${why}.`, { hint: 'Fix the file by hand (`opencode config validate` points at the problem); nothing was changed.' });
    }
    const text = applyPatch(before, patch, current, maskConfig(current), [], formatting(before));
    const after = parse(text, [], { allowTrailingComma: true }) as Json;
    if (text === existing) return after;
    let warnings: ConfigWarning[];
    try {
      const layers = await layersWith(target, text);
      warnings = validateLayers(mergeLayers(layers), layers);
    } catch (error) {
      throw refused(target.file, error, secretsOf(target.loaded.config, after));
    }
    // A key the config would ignore (a typo), a ref a run could not use: refused too, where the change made it.
    const had = new Set(target.loaded.warnings.map((w) => `${w.path}\u0000${w.message}`));
    const added = warnings.find((w) => !had.has(`${w.path}\u0000${w.message}`));
    if (added) {
      const mask = secretsOf(target.loaded.config, after);
      throw new HttpError(400, 'CONFIG_INVALID', mask(`The change would leave ${added.path ?? 'a key'} in ${target.file} unused (${added.message}), so the file was not changed.`), {
        hint: 'Check the key’s spelling and the refs it names against GET /config and /doc; `opencode config validate` explains the warning.',
        details: { ...(added.path ? { field: added.path } : {}) },
      });
    }
    // A config file that is a link (dotfiles kept in a repository) stays one: its target is written.
    const real = existing === undefined ? target.file : await fs.realpath(target.file);
    const mode = existing === undefined ? 0o644 : (await fs.stat(real)).mode & 0o777;
    await writeFileAtomic(real, text, mode);
    return after;
  });
}

/** The config file a project's change goes to: its nearest opencode.json[c] as loaded, else a new `opencode.json` in `directory`. */
export function projectConfigFile(loaded: LoadedConfig, directory: string): string {
  const files = loaded.layers.filter((l) => l.kind === 'project' && l.file !== undefined && /^opencode\.jsonc?$/.test(path.basename(l.file)));
  return files.at(-1)?.file ?? path.join(directory, 'opencode.json');
}
