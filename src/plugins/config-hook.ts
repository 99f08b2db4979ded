/**
 * The plugins' `config` hooks (OpenCode calls them once its plugins are loaded, with the config,
 * which they may change: add agents, commands, MCP servers, …): given a copy of the loaded config;
 * what they leave is checked as a loaded config is and used, unless it is not valid.
 */
import type { ConfigLayer, ConfigWarning } from '../config/layer.ts';
import { deepMerge } from '../config/merge.ts';
import type { LoadedConfig } from '../config/load.ts';
import { replacedConfig } from '../config/replaced-config.ts';
import { validateLayers } from '../config/validate.ts';
import type { PluginHost } from './types.ts';

/** A config layer's label for what one plugin's `config` hook changed (`agent show`'s source, doctor's warnings). */
export function pluginHookLabel(plugin: string): string {
  return `plugin ${plugin} (its config hook)`;
}

/**
 * With `checked` (doctor), the config's warnings about what the hooks set (an agent's model ref no
 * provider serves, …) join the loaded config's, named as the plugin's; a key the plugin sets that
 * OpenCode ignores is not one (the user cannot change it; oh-my-opencode sets a score of them).
 */
export async function withPluginConfig(loaded: LoadedConfig, plugins: PluginHost | undefined, warn: (text: string) => void, { checked = false }: { checked?: boolean } = {}): Promise<LoadedConfig> {
  if (!plugins?.configure) return loaded;
  const draft = structuredClone(loaded.config) as Record<string, unknown>;
  const before = JSON.stringify(draft);
  // What each plugin's hook changed, as a layer of its own: where a value came from names the plugin.
  const layers: ConfigLayer[] = [];
  let seen = JSON.parse(before) as Record<string, unknown>;
  const after = (plugin: string): void => {
    let now: Record<string, unknown>;
    try {
      now = JSON.parse(JSON.stringify(draft)) as Record<string, unknown>;
    } catch {
      return; // Not JSON (a cycle, a BigInt): validation below says so.
    }
    const data = changedParts(seen, now);
    const label = pluginHookLabel(plugin);
    const last = layers.at(-1);
    // A module's several plugin functions (oh-my-opencode exports two): one layer for the plugin.
    if (last?.label === label) last.data = deepMerge(last.data, data);
    else if (Object.keys(data).length > 0) layers.push({ kind: 'plugin-hook', label, data });
    seen = now;
  };
  for (const failure of await plugins.configure(draft, after)) warn(`A plugin's config hook failed: ${failure}; the config is used as that hook left it.`);
  if (JSON.stringify(draft) === before) return loaded;
  const left = keepBuiltinAgents(loaded, draft);
  const result = replacedConfig(loaded, draft);
  if ('loaded' in result) {
    const all = [...result.loaded.layers, ...layers];
    const warnings = checked ? [...loaded.warnings, ...hookWarnings(result.loaded.config as Record<string, unknown>, all, layers)] : loaded.warnings;
    return { ...result.loaded, layers: all, warnings, ...(left.length ? { leftByPlugins: left } : {}) };
  }
  const more = result.problems.length > 1 ? ` (and ${result.problems.length - 1} more)` : '';
  warn(`The plugins' config hooks left the config invalid: ${result.problems[0]}${more}; their changes are not used.`);
  return loaded;
}

/** The merged config's warnings placed in the hooks' layers, but for the keys OpenCode ignores (unknown-keys.ts). */
function hookWarnings(config: Record<string, unknown>, all: ConfigLayer[], hooks: readonly ConfigLayer[]): ConfigWarning[] {
  const labels = new Set(hooks.map((layer) => layer.label));
  return validateLayers(config, all).filter((w) => w.file !== undefined && labels.has(w.file) && !/^(unknown key|not a key of this object)/.test(w.message));
}

/** OpenCode's own agents: a config entry of the same name is laid over them, field by field, wherever it comes from. */
const OPENCODE_AGENTS = new Set(['build', 'plan', 'general', 'explore']);

/**
 * What OpenCode 1.18.33 does with the agents a hook leaves, for Pantheon's built-in ones (the default
 * layer's roster): OpenCode's own agents (build, plan, general, explore) are code, and a config entry
 * of the same name is laid over the built-in (the hook's fields win, the others stay), so a hook that
 * replaced one of them gets the built-in's fields it did not set. Pantheon's other built-ins the hooks
 * left out of `agent` are put back as loaded (the built-in workflows name `sisyphus` and `momus`) and
 * returned: OpenCode has no such agent then, so `--agent sisyphus` does not pick them
 * (`LoadedConfig.leftByPlugins`). oh-my-opencode rebuilds `agent` under its own names ("Sisyphus -
 * ultraworker", "Momus - Plan Critic") and drops the entries it owns; an entry a hook keeps under a
 * built-in's name (its `oracle`, `explore`) is the hook's.
 */
function keepBuiltinAgents(loaded: LoadedConfig, draft: Record<string, unknown>): string[] {
  const defaults = loaded.layers.filter((layer: ConfigLayer) => layer.kind === 'default').map((layer) => asRecord(layer.data.agent));
  const builtin = new Set(defaults.flatMap((agents) => Object.keys(agents)));
  const before = asRecord((loaded.config as Record<string, unknown>).agent);
  const roster = [...builtin].filter((name) => Object.hasOwn(before, name));
  // A hook that left `agent` something else than an object: validation says so.
  if (roster.length === 0 || (draft.agent !== undefined && (typeof draft.agent !== 'object' || draft.agent === null || Array.isArray(draft.agent)))) return [];
  const agents = (draft.agent ?? {}) as Record<string, unknown>;
  const left: string[] = [];
  for (const name of roster) {
    if (!Object.hasOwn(agents, name)) {
      agents[name] = structuredClone(before[name]);
      if (!OPENCODE_AGENTS.has(name)) left.push(name);
    } else if (OPENCODE_AGENTS.has(name) && isPlainRecord(agents[name])) {
      const base = defaults.reduce<Record<string, unknown>>((merged, layer) => deepMerge(merged, asRecord(layer[name])), {});
      agents[name] = deepMerge(base, agents[name] as Record<string, unknown>);
    }
  }
  draft.agent = agents;
  return left;
}

/** The parts of `after` that differ from `before` (objects compared key by key; anything else whole). */
export function changedParts(before: Record<string, unknown>, after: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(after)) {
    const was = before[key];
    if (isPlainRecord(value) && isPlainRecord(was)) {
      const inner = changedParts(was, value);
      if (Object.keys(inner).length > 0) out[key] = inner;
    } else if (JSON.stringify(value) !== JSON.stringify(was)) out[key] = value;
  }
  return out;
}

function isPlainRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}
