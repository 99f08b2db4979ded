import { PantheonError } from '../errors.ts';

/** A parsed model reference: `provider/model[:variant]` or `{provider, id, variant?}`. */
export interface ModelRef {
  provider: string;
  model: string;
  variant?: string;
}

export type ModelSpecInput = string | { provider: string; id: string; variant?: string };

/** Parses a model spec. The provider ends at the first `/`; a `:variant` suffix is split off the model. */
export function parseModelRef(spec: ModelSpecInput, where = 'model'): ModelRef {
  if (typeof spec !== 'string') {
    return spec.variant ? { provider: spec.provider, model: spec.id, variant: spec.variant } : { provider: spec.provider, model: spec.id };
  }
  const slash = spec.indexOf('/');
  if (slash <= 0 || slash === spec.length - 1) {
    throw new PantheonError('USAGE', `${where}: expected "provider/model[:variant]", found "${spec}".`, {
      hint: 'Write the provider id, a slash, then the model, e.g. nvidia-nim/qwen-3.5-397b.',
    });
  }
  const provider = spec.slice(0, slash);
  let model = spec.slice(slash + 1);
  const colon = model.lastIndexOf(':');
  let variant: string | undefined;
  if (colon > 0 && colon < model.length - 1) {
    variant = model.slice(colon + 1);
    model = model.slice(0, colon);
  }
  return variant ? { provider, model, variant } : { provider, model };
}

export function formatModelRef(ref: ModelRef): string {
  return `${ref.provider}/${ref.model}${ref.variant ? `:${ref.variant}` : ''}`;
}
