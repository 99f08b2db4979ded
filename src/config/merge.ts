import { builtinAgentRulesUnderTopLevel } from './builtin-permissions.ts';
import type { ConfigLayer } from './layer.ts';
import { isPlainObject } from './jsonc.ts';

/**
 * Objects of the merged config have no prototype, so looking up a name the user typed
 * (`--agent constructor`, a provider id) never finds something inherited. Sources have passed
 * the structure guard: no forbidden key, at most MAX_DEPTH levels for the recursion below.
 */
export function emptyRecord(): Record<string, unknown> {
  return Object.create(null) as Record<string, unknown>;
}

function clone(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(clone);
  if (isPlainObject(value)) return mergeInto(emptyRecord(), value);
  return value;
}

/**
 * Merges `source` into `target`: plain objects deep-merge, anything else (arrays too) replaces.
 * `undefined` (never in JSON; an unset flag in overrides) sets nothing.
 */
function mergeInto(target: Record<string, unknown>, source: Record<string, unknown>): Record<string, unknown> {
  for (const key of Object.keys(source)) {
    const value = source[key];
    if (value === undefined) continue;
    const current = Object.hasOwn(target, key) ? target[key] : undefined;
    if (isPlainObject(current) && isPlainObject(value)) mergeInto(current, value);
    else target[key] = clone(value);
  }
  return target;
}

/**
 * Deep-merges objects, lowest precedence first: plain objects merge key by key, arrays and
 * scalars from later objects replace earlier ones. The inputs are not modified or shared.
 */
export function deepMerge(...sources: Record<string, unknown>[]): Record<string, unknown> {
  const out = emptyRecord();
  for (const source of sources) mergeInto(out, source);
  return out;
}

/** A layer's data without `extends` (which only says what to load beneath it). */
function withoutExtends(data: Record<string, unknown>): Record<string, unknown> {
  if (!Object.hasOwn(data, 'extends')) return data;
  const { extends: _extends, ...rest } = data;
  return rest;
}

/** Merges layers' data in order; `extends` is left out of the result. */
export function mergeLayers(layers: readonly ConfigLayer[]): Record<string, unknown> {
  const merged = deepMerge(...layers.map((l) => withoutExtends(l.data)));
  builtinAgentRulesUnderTopLevel(merged, layers);
  return merged;
}

/** For each top-level key of the merged config: the label of the highest layer that set it. */
export function computeOrigins(layers: readonly ConfigLayer[]): Record<string, string> {
  const origins: Record<string, string> = {};
  for (const layer of layers) {
    for (const key of Object.keys(layer.data)) {
      if (key !== 'extends' && layer.data[key] !== undefined) origins[key] = layer.label;
    }
  }
  return origins;
}
