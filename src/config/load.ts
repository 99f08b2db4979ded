import path from 'node:path';
import { PantheonError } from '../errors.ts';
import type { ConfigLayer, ConfigWarning, LayerKind } from './layer.ts';
import { createContext, type LoadContext } from './context.ts';
import { discover, findGitRoot } from './discover.ts';
import { expandExtends } from './extends.ts';
import { deepFreeze } from './freeze.ts';
import { resolveUserPath } from './home.ts';
import { computeOrigins, mergeLayers } from './merge.ts';
import { isOhMyOpencodeFile } from './oh-my-opencode.ts';
import { defaultPresetsDir, presetFile } from './presets.ts';
import { DEFAULT_LAYER_DATA, DEFAULT_LAYER_TEXT } from './generated/default-layer.ts';
import { isPlainObject, parseConfigText } from './jsonc.ts';
import { buildLayer, readFileLayer } from './read-layer.ts';
import { checkMergedConfig } from './clean-memo.ts';

export type { ConfigWarning } from './layer.ts';

import type { Config } from './schema-types.ts';

export interface LoadOptions {
  /** Working directory (default: process.cwd()). */
  cwd?: string;
  /** Environment for substitution, XDG folders and OPENCODE_CONFIG (default: process.env). */
  env?: NodeJS.ProcessEnv;
  /** `--config PATH`, relative to cwd. */
  configPath?: string;
  /** Command-line flags, merged on top of everything. */
  overrides?: Record<string, unknown>;
  /** Folder of the built-in presets (default: the package's presets/). */
  presetsDir?: string;
}

export interface LoadedConfig {
  config: Readonly<Config>;
  /** Every layer applied, lowest precedence first. */
  layers: ConfigLayer[];
  /** Top-level key → label of the highest layer that set it. */
  origins: Record<string, string>;
  warnings: ConfigWarning[];
  /** The git root, or cwd outside a repository. */
  projectRoot: string;
  /**
   * Pantheon's built-in agents a plugin's `config` hook left out of `agent` (oh-my-opencode's
   * `sisyphus`, now its "Sisyphus - ultraworker"): kept for the built-in workflows, but not an agent
   * `--agent` selects, as OpenCode has no such agent then (plugins/config-hook.ts).
   */
  leftByPlugins?: readonly string[];
}

async function defaultLayers(ctx: LoadContext): Promise<ConfigLayer[]> {
  const file = presetFile('default', ctx.presetsDir);
  // The installed presets: made at build time (scripts/gen-default-layer.ts), nothing to read.
  if (ctx.presetsDir === defaultPresetsDir) {
    return [{ kind: 'default', label: 'built-in defaults', file, text: DEFAULT_LAYER_TEXT, data: JSON.parse(DEFAULT_LAYER_DATA) as Record<string, unknown> }];
  }
  const layer = await readFileLayer(file, 'default', 'built-in defaults', ctx, () =>
    new PantheonError('INTERNAL', `The built-in preset ${file} is missing.`, {
      hint: 'The installation is incomplete; reinstall pantheon.',
    }),
  );
  return expandExtends(layer, ctx);
}

async function explicitFileLayers(value: string, kind: LayerKind, source: string, ctx: LoadContext): Promise<ConfigLayer[]> {
  const file = resolveUserPath(value, ctx.cwd, ctx.env);
  const layer = await readFileLayer(file, kind, file, ctx, (what) =>
    new PantheonError('CONFIG_NOT_FOUND', `${source} names ${file}, which ${what}.`, {
      hint:
        kind === 'env'
          ? 'Point OPENCODE_CONFIG at an existing config file (relative to the working directory), or unset it.'
          : 'Give --config an existing config file; a relative path is relative to the working directory.',
    }),
  );
  return expandExtends(layer, ctx);
}

/** OpenCode's `mode.<name>` entries: agents with `mode: "primary"` (over any `agent.<name>` of that name). */
export function foldModes(merged: Record<string, unknown>): void {
  const modes = merged.mode;
  if (!isPlainObject(modes)) return;
  const agents = isPlainObject(merged.agent) ? merged.agent : (merged.agent = Object.create(null) as Record<string, unknown>);
  for (const [name, entry] of Object.entries(modes)) {
    const current = isPlainObject(agents[name]) ? agents[name] : {};
    agents[name] = Object.assign(Object.create(null) as Record<string, unknown>, current, isPlainObject(entry) ? entry : {}, { mode: 'primary' });
  }
}

/** OPENCODE_CONFIG_CONTENT: a config layer given as JSON(C) text in the environment (as OpenCode reads it). */
async function inlineLayers(text: string, ctx: LoadContext): Promise<ConfigLayer[]> {
  const label = 'OPENCODE_CONFIG_CONTENT';
  const data = parseConfigText(text, label);
  return expandExtends(await buildLayer({ kind: 'env', label, text, data }, ctx), ctx);
}

/** Warnings said once each: identical ones (same code, file, path and message) are counted instead. */
function dedupeWarnings(warnings: readonly ConfigWarning[]): ConfigWarning[] {
  const byKey = new Map<string, ConfigWarning>();
  for (const w of warnings) {
    const key = JSON.stringify([w.code, w.file, w.path, w.message]);
    const seen = byKey.get(key);
    if (seen) seen.count = (seen.count ?? 1) + (w.count ?? 1);
    else byKey.set(key, { ...w });
  }
  return [...byKey.values()];
}

async function finish(layers: ConfigLayer[], ctx: LoadContext, projectRoot: string): Promise<LoadedConfig> {
  const merged = mergeLayers(layers);
  const warnings = dedupeWarnings([...ctx.warnings, ...(await checkMergedConfig(merged, layers))]);
  foldModes(merged);
  return {
    config: deepFreeze(merged as Config),
    layers,
    origins: computeOrigins(layers),
    warnings,
    projectRoot,
  };
}

/**
 * Loads the configuration: built-in defaults, presets and files each expanded with their
 * `extends`, global and project files (with `.opencode` folders and markdown agents),
 * pantheon.json, OPENCODE_CONFIG, OPENCODE_CONFIG_CONTENT, --config, then flags;
 * substituted, merged, validated and deeply frozen. Reads only; never writes a file.
 */
export async function loadConfig(opts: LoadOptions = {}): Promise<LoadedConfig> {
  const ctx = createContext(opts);
  const [base, found] = await Promise.all([defaultLayers(ctx), discover(ctx)]);
  const layers = [...base];
  for (const source of found.sources) layers.push(...(await expandExtends(await buildLayer(source, ctx), ctx)));
  const envConfig = ctx.env.OPENCODE_CONFIG;
  if (envConfig) layers.push(...(await explicitFileLayers(envConfig, 'env', 'OPENCODE_CONFIG', ctx)));
  const inline = ctx.env.OPENCODE_CONFIG_CONTENT;
  if (inline?.trim()) layers.push(...(await inlineLayers(inline, ctx)));
  if (opts.configPath) layers.push(...(await explicitFileLayers(opts.configPath, 'flag-config', '--config', ctx)));
  if (opts.overrides && Object.keys(opts.overrides).length > 0) {
    const flags = await buildLayer({ kind: 'flags', label: 'command-line flags', data: opts.overrides }, ctx);
    layers.push(...(await expandExtends(flags, ctx)));
  }
  return finish(layers, ctx, found.projectRoot);
}

/** `config validate FILE`: the built-in defaults plus that one file (with its extends), nothing else. */
export async function loadConfigFile(file: string, opts: LoadOptions = {}): Promise<LoadedConfig> {
  const ctx = createContext(opts);
  const target = resolveUserPath(file, ctx.cwd, ctx.env);
  const [base, gitRoot] = await Promise.all([defaultLayers(ctx), findGitRoot(ctx.cwd)]);
  const kind: LayerKind = isOhMyOpencodeFile(target) ? 'project-oh-my-opencode' : 'project';
  // Named as given: an absolute path stays absolute.
  const shown = path.isAbsolute(file) ? target : path.relative(ctx.cwd, target) || target;
  const own = await readFileLayer(target, kind, target, ctx, (what) =>
    new PantheonError('CONFIG_NOT_FOUND', `${shown} ${what}.`, {
      hint: 'Give `config validate` the path of a config file, relative to the working directory.',
    }),
  );
  return finish([...base, ...(await expandExtends(own, ctx))], ctx, gitRoot ?? ctx.cwd);
}
