import type { ConfigLayer } from '../config/layer.ts';

/** Label used for a value no config layer sets: Pantheon's own default. */
export const BUILT_IN_VALUE = 'default';

function valueAt(data: unknown, path: readonly string[]): unknown {
  let node = data;
  for (const key of path) {
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, key)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/** The label of the lowest layer that sets `path`: where an agent (or any value) was first defined. */
export function definedIn(layers: readonly ConfigLayer[], path: readonly string[]): string | undefined {
  return layers.find((layer) => valueAt(layer.data, path) !== undefined)?.label;
}

/**
 * Where a merged value came from: the label of the highest layer (`layers` lowest first) that sets
 * `path` (`["agent", "oracle", "model"]`), e.g. "built-in defaults", "preset:oh-my-opencode" or a
 * file path; undefined when no layer sets it.
 */
export function originOf(layers: readonly ConfigLayer[], path: readonly string[]): string | undefined {
  for (let i = layers.length - 1; i >= 0; i--) {
    const layer = layers[i] as ConfigLayer;
    if (valueAt(layer.data, path) !== undefined) return layer.label;
  }
  return undefined;
}

/** The plugin-hook layer's label when a plugin's `config` hook added `path` (no lower layer sets it). */
export function addedByPlugin(layers: readonly ConfigLayer[], path: readonly string[]): string | undefined {
  const first = layers.find((layer) => valueAt(layer.data, path) !== undefined);
  return first?.kind === 'plugin-hook' ? first.label : undefined;
}
