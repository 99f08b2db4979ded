/**
 * A session's config options as OpenCode 1.18's `acp` offers them: `model` (the config's models,
 * `provider/model`), `effort` when the current model has variants (its variants and `default`,
 * category `thought_level`), and `mode` (the agents). The choices, and what a turn runs with: the
 * model the editor picked (or the agent's head) with the chosen variant as `provider/model:variant`.
 *
 * OpenCode's rules, followed: a model with variants starts at its `default` variant when it
 * declares one, else at its first (here the variant the agent's model ref or `variant` names comes
 * first, as a run takes it); `default` is always offered, and means the model's own options when
 * it declares no variant of that name; a model switch keeps the variant when the model stays,
 * else starts the new model at its default; a model value may name a variant
 * (`provider/model/variant`, OpenCode's form, or `provider/model:variant`, Pantheon's ref).
 */
import { RequestError, type SessionConfigOption } from '@agentclientprotocol/sdk';
import type { Config } from '../config/schema-types.ts';
import { agentHead, type AcpCatalog } from './acp-catalog.ts';

export const DEFAULT_EFFORT = 'default';

export interface OptionState {
  catalog: AcpCatalog;
  config: Config;
  /** The agent of the session's turns. */
  mode: string;
  /** A model the editor chose (or the session's own): the head of the agent's chain; else the agent's chain as it is. */
  model?: string;
  /** The effort chosen: one of the model's variants or `default`; undefined for the model's default. */
  variant?: string;
}

/** The model the session's turns run: the chosen one, else the agent's head, else the config's default. */
export function currentModel(s: OptionState): string {
  return s.model ?? agentHead(s.config, s.mode)?.model ?? s.catalog.defaultModel;
}

export function variantsOf(catalog: AcpCatalog, modelId: string): string[] {
  return catalog.models.find((m) => m.modelId === modelId)?.variants ?? [];
}

/** OpenCode's default effort for a model: `default` when it declares it, else its first variant; one the agent names comes first. */
function defaultVariant(variants: readonly string[], named: string | undefined): string | undefined {
  if (variants.length === 0) return undefined;
  if (named !== undefined && variants.includes(named)) return named;
  return variants.includes(DEFAULT_EFFORT) ? DEFAULT_EFFORT : variants[0];
}

function validEffort(variants: readonly string[], value: string): boolean {
  return value === DEFAULT_EFFORT || variants.includes(value);
}

/** The current effort: undefined when the model has no variants. */
export function currentVariant(s: OptionState): string | undefined {
  const model = currentModel(s);
  const variants = variantsOf(s.catalog, model);
  if (variants.length === 0) return undefined;
  if (s.variant !== undefined && validEffort(variants, s.variant)) return s.variant;
  const head = agentHead(s.config, s.mode);
  return defaultVariant(variants, head?.model === model ? head.variant : undefined);
}

/** `Low`, `Extra High` for `extra_high`: a variant's name as OpenCode shows it. */
function effortName(variant: string): string {
  return variant
    .split(/[_-]/)
    .map((w) => (w ? w.charAt(0).toUpperCase() + w.slice(1) : w))
    .join(' ');
}

export function configOptions(s: OptionState): SessionConfigOption[] {
  const { catalog } = s;
  const current = currentModel(s);
  const models = catalog.models.some((m) => m.modelId === current) || !current ? catalog.models : [{ modelId: current, name: current }, ...catalog.models];
  const variants = variantsOf(catalog, current);
  const effort = currentVariant(s);
  return [
    { id: 'model', name: 'Model', category: 'model', type: 'select', currentValue: current, options: models.map((m) => ({ value: m.modelId, name: m.name })) },
    ...(effort !== undefined
      ? [{ id: 'effort', name: 'Effort', description: 'Available effort levels for this model', category: 'thought_level' as const, type: 'select' as const, currentValue: effort, options: [...new Set([...variants, DEFAULT_EFFORT])].map((v) => ({ value: v, name: effortName(v) })) }]
      : []),
    ...(catalog.modes.length ? [{ id: 'mode', name: 'Session Mode', category: 'mode' as const, type: 'select' as const, currentValue: s.mode, options: catalog.modes.map((m) => ({ value: m.id, name: m.name, ...(m.description ? { description: m.description } : {}) })) }] : []),
  ];
}

/** A model value (`provider/model`, maybe with a variant) as the model and the variant it names; throws a JSON-RPC error naming what is wrong. */
function parseModelValue(catalog: AcpCatalog, value: string): { model: string; variant?: string } {
  if (catalog.models.some((m) => m.modelId === value)) return { model: value };
  for (const sep of ['/', ':']) {
    const at = value.lastIndexOf(sep);
    const model = value.slice(0, at);
    if (at <= 0 || !catalog.models.some((m) => m.modelId === model)) continue;
    const variant = value.slice(at + 1);
    const variants = variantsOf(catalog, model);
    if (!validEffort(variants, variant)) throw RequestError.invalidParams({ effort: variant }, `effort "${variant}" is not one of model ${model}'s variants: ${variants.length ? [...variants, DEFAULT_EFFORT].join(', ') : 'it has none'}.`);
    return { model, variant };
  }
  throw RequestError.invalidParams({ modelId: value }, `model "${value}" is not one of this project's models (\`opencode models\` lists them).`);
}

/**
 * The editor picks a model: the variant it names, else the current one if the model stays, else the
 * new model's default. True when the value named a variant.
 */
export function pickModel(s: OptionState, value: string): boolean {
  const picked = parseModelValue(s.catalog, value);
  const same = picked.model === currentModel(s);
  const keep = same ? currentVariant(s) : undefined;
  s.model = picked.model;
  const variant = picked.variant ?? keep;
  if (variant === undefined) delete s.variant;
  else s.variant = variant;
  return picked.variant !== undefined;
}

/** The editor picks an effort for the current model. */
export function pickEffort(s: OptionState, value: string): void {
  const model = currentModel(s);
  const variants = variantsOf(s.catalog, model);
  if (!variants.length) throw RequestError.invalidParams({ effort: value }, `effort: model ${model} has no variants (its config declares none under "variants").`);
  if (!validEffort(variants, value)) throw RequestError.invalidParams({ effort: value }, `effort "${value}" is not one of model ${model}'s variants: ${[...variants, DEFAULT_EFFORT].join(', ')}.`);
  s.variant = value;
}

/**
 * What a turn's input names: the chosen model, with the effort as its variant. A model with variants
 * is always named, so the effort shown is the one run (`default` that the model does not declare: no variant).
 */
export function turnModel(s: OptionState): { model?: string } {
  const effort = currentVariant(s);
  if (effort === undefined) return s.model ? { model: s.model } : {};
  const model = currentModel(s);
  const declared = effort !== DEFAULT_EFFORT || variantsOf(s.catalog, model).includes(DEFAULT_EFFORT);
  return { model: declared ? `${model}:${effort}` : model };
}

/**
 * The effort a saved session ran with: the variant of its last reply's model (`p/m:high`), or
 * `default` when that reply ran the current model without one; undefined when it ran another model.
 */
export function savedVariant(s: OptionState, lastReplyModel: string | undefined): string | undefined {
  if (!lastReplyModel) return undefined;
  const current = currentModel(s);
  const variants = variantsOf(s.catalog, current);
  if (variants.length === 0) return undefined;
  if (lastReplyModel === current) return DEFAULT_EFFORT;
  const at = lastReplyModel.lastIndexOf(':');
  const variant = lastReplyModel.slice(at + 1);
  return at > 0 && lastReplyModel.slice(0, at) === current && validEffort(variants, variant) ? variant : undefined;
}
