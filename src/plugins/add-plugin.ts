/**
 * `opencode plugin <module>` (OpenCode's command, alias `plug`): an npm plugin installed where `run`
 * and `serve` load it from (OpenCode's cache when it is there, else Pantheon's: npm-plugins.ts),
 * checked to have an entry Pantheon can load, then added to the `plugin` list of a config file, as
 * OpenCode 1.18.33 does: the project's `.opencode/opencode.jsonc` or `.opencode/opencode.json` (made
 * when neither exists), or with `--global` the global folder's `opencode.json` or `opencode.jsonc`
 * (made as `opencode.jsonc`). An entry for the same package already there is left as it is, or with
 * `--force` replaced by this spec (its options kept). The file is edited in place, comments and
 * layout kept, checked as the whole config it would make, and written atomically (config-edit.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'jsonc-parser';
import { globalConfigFolder } from '../config/home.ts';
import type { LoadedConfig } from '../config/load.ts';
import { PantheonError } from '../errors.ts';
import { npmPluginKey, resolveNpmPlugin, type NpmPlugin } from './npm-plugins.ts';

export interface AddPluginOptions {
  spec: string;
  global: boolean;
  force: boolean;
  loaded: LoadedConfig;
  cwd: string;
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal;
}

export interface AddPluginResult {
  plugin: NpmPlugin;
  /** The config file the entry is in. */
  file: string;
  /** The folder of that file (OpenCode's "scope"). */
  folder: string;
  /** What was done to the file: the entry added, another version's entry replaced, or nothing (it was there). */
  change: 'added' | 'replaced' | 'unchanged';
}

type Entry = string | [string, ...unknown[]];

const HINT = 'For example `opencode plugin opencode-wakatime` or `opencode plugin @scope/name@1.2.0`; a plugin file goes in .opencode/plugin/ instead.';

/** The config file OpenCode's `plugin` command writes in `folder`: the first that exists, else a new one. */
function targetFile(folder: string, global: boolean): string {
  const names = global ? ['opencode.json', 'opencode.jsonc'] : ['opencode.jsonc', 'opencode.json'];
  return names.map((n) => path.join(folder, n)).find((f) => existsSync(f)) ?? path.join(folder, global ? 'opencode.jsonc' : 'opencode.json');
}

/** The file's `plugin` list as written (an unreadable file is left to the edit, which names the problem). */
function currentList(file: string): unknown[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const data = parse(text, [], { allowTrailingComma: true }) as { plugin?: unknown } | undefined;
  return Array.isArray(data?.plugin) ? data.plugin : [];
}

function specOf(entry: unknown): string | undefined {
  if (typeof entry === 'string') return entry;
  return Array.isArray(entry) && typeof entry[0] === 'string' ? entry[0] : undefined;
}

/** The list with `spec` in it, and what changed. */
export function withPlugin(list: readonly unknown[], spec: string, force: boolean): { list: unknown[]; change: AddPluginResult['change'] } {
  const key = npmPluginKey(spec);
  const at = list.findIndex((entry) => {
    const s = specOf(entry);
    return s !== undefined && npmPluginKey(s) === key;
  });
  if (at < 0) return { list: [...list, spec], change: 'added' };
  const old = list[at] as Entry;
  if (!force || specOf(old) === spec) return { list: [...list], change: 'unchanged' };
  const next = [...list];
  next[at] = Array.isArray(old) ? [spec, ...old.slice(1)] : spec;
  return { list: next, change: 'replaced' };
}

export async function addPlugin(options: AddPluginOptions): Promise<AddPluginResult> {
  const spec = options.spec.trim();
  if (spec === '') throw new PantheonError('USAGE', 'plugin: expected an npm module name, found nothing.', { hint: HINT });
  if (/^(\.{1,2}[\\/]|[\\/]|file:)/.test(spec)) {
    throw new PantheonError('USAGE', `plugin: expected an npm module name, found the path "${spec.length > 80 ? `${spec.slice(0, 79)}…` : spec}".`, { hint: HINT });
  }
  let plugin: NpmPlugin;
  try {
    plugin = await resolveNpmPlugin(spec, { env: options.env, ...(options.signal ? { signal: options.signal } : {}) });
  } catch (error) {
    throw new PantheonError('PLUGIN_FAILED', error instanceof Error ? error.message : String(error), {
      hint: 'Nothing was added to the config.',
    });
  }
  const folder = options.global ? globalConfigFolder(options.env) : path.join(options.loaded.projectRoot, '.opencode');
  const file = targetFile(folder, options.global);
  const { list, change } = withPlugin(currentList(file), spec, options.force);
  if (change !== 'unchanged') {
    const { editConfigFile } = await import('../server/opencode/config-edit.ts');
    const { HttpError } = await import('../server/http-error.ts');
    try {
      await editConfigFile({ file, kind: options.global ? 'global' : 'opencode-dir', loaded: options.loaded, cwd: options.cwd, env: options.env }, { plugin: list });
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      throw new PantheonError(error.code === 'CONFIG_PARSE' ? 'CONFIG_PARSE' : 'CONFIG_INVALID', error.message.replace(/GET \/config and \/doc/g, '`opencode config show`'), {
        hint: error.code === 'CONFIG_PARSE' ? (error.hint ?? 'Fix the file by hand.') : 'Nothing was written; `opencode config validate` explains the problem.',
      });
    }
  }
  return { plugin, file, folder, change };
}
