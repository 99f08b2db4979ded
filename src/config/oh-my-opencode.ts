import { isPlainObject } from './jsonc.ts';
import { emptyRecord } from './merge.ts';

/** oh-my-opencode.json mapped onto Pantheon keys, with where each mapped value came from. */
export interface MappedOhMyOpencode {
  data: Record<string, unknown>;
  /** Mapped JSON path (joined with '/') → JSON path in the oh-my-opencode file. */
  sourcePaths: Map<string, (string | number)[]>;
  /** Entries that could not be mapped (JSON path in the source file, and why). */
  ignored: { path: (string | number)[]; reason: string }[];
}

/** The file names oh-my-opencode reads (and its newer name, oh-my-openagent), in the order tried within one folder. */
export const OH_MY_OPENCODE_NAMES = ['oh-my-openagent.json', 'oh-my-openagent.jsonc', 'oh-my-opencode.json', 'oh-my-opencode.jsonc'];
export const OH_MY_OPENCODE_FILES = [...OH_MY_OPENCODE_NAMES, ...OH_MY_OPENCODE_NAMES.map((name) => `.opencode/${name}`)];

export function isOhMyOpencodeFile(file: string): boolean {
  return /(^|[\\/])oh-my-open(code|agent)\.jsonc?$/.test(file);
}

class Builder {
  readonly data: Record<string, unknown> = emptyRecord();
  readonly sourcePaths = new Map<string, (string | number)[]>();
  readonly ignored: MappedOhMyOpencode['ignored'] = [];

  /**
   * Sets `value` at `target`, creating objects on the way. The leaf (and each item of a list)
   * maps to `source`; a parent the mapping creates maps to the matching prefix of `source`.
   */
  set(target: string[], value: unknown, source: (string | number)[]): void {
    let node = this.data;
    for (let i = 0; i < target.length - 1; i++) {
      const key = target[i] as string;
      const prefix = target.slice(0, i + 1).join('/');
      if (!this.sourcePaths.has(prefix)) this.sourcePaths.set(prefix, source.slice(0, i + 1));
      const next = Object.hasOwn(node, key) ? node[key] : undefined;
      if (isPlainObject(next)) node = next;
      else node = node[key] = emptyRecord();
    }
    node[target[target.length - 1] as string] = value;
    const leaf = target.join('/');
    this.sourcePaths.set(leaf, source);
    if (Array.isArray(value)) value.forEach((_, i) => this.sourcePaths.set(`${leaf}/${i}`, [...source, i]));
  }
}

/** A `fallback_models` entry: `"provider/model"`, or `{model, variant}` → `"provider/model:variant"`. */
function fallbackRef(entry: unknown): unknown {
  if (!isPlainObject(entry) || typeof entry.model !== 'string') return entry;
  return typeof entry.variant === 'string' && entry.variant ? `${entry.model}:${entry.variant}` : entry.model;
}

function mapAgents(agents: unknown, b: Builder): void {
  if (!isPlainObject(agents)) return;
  for (const [name, spec] of Object.entries(agents)) {
    if (!isPlainObject(spec)) continue;
    const from = ['agents', name];
    if ('model' in spec) b.set(['agent', name, 'model'], spec.model, [...from, 'model']);
    if ('fallback_models' in spec) {
      const list = typeof spec.fallback_models === 'string' ? [spec.fallback_models] : spec.fallback_models;
      b.set(['agent', name, 'fallbacks'], Array.isArray(list) ? list.map(fallbackRef) : list, [...from, 'fallback_models']);
    }
    if ('temperature' in spec) b.set(['agent', name, 'temperature'], spec.temperature, [...from, 'temperature']);
    if ('prompt_append' in spec) b.set(['agent', name, 'prompt_append'], spec.prompt_append, [...from, 'prompt_append']);
  }
}

function mapBackgroundTask(bg: unknown, b: Builder): void {
  if (!isPlainObject(bg)) return;
  const from = ['background_task'];
  if ('defaultConcurrency' in bg) b.set(['rateLimit', 'concurrency'], bg.defaultConcurrency, [...from, 'defaultConcurrency']);
  if (isPlainObject(bg.providerConcurrency)) {
    for (const [provider, n] of Object.entries(bg.providerConcurrency)) {
      b.set(['provider', provider, 'rateLimit', 'concurrency'], n, [...from, 'providerConcurrency', provider]);
    }
  }
  if (isPlainObject(bg.modelConcurrency)) {
    for (const [ref, n] of Object.entries(bg.modelConcurrency)) {
      const slash = ref.indexOf('/');
      const source = [...from, 'modelConcurrency', ref];
      if (slash <= 0 || slash === ref.length - 1) {
        b.ignored.push({ path: source, reason: `"${ref}" is not a provider/model reference` });
        continue;
      }
      b.set(['provider', ref.slice(0, slash), 'models', ref.slice(slash + 1), 'rateLimit', 'concurrency'], n, source);
    }
  }
}

/**
 * Maps an oh-my-opencode.json (or oh-my-openagent.json) onto Pantheon keys: `agents.<n>.{model,
 * fallback_models, temperature, prompt_append}` → `agent.<n>.{model, fallbacks, temperature,
 * prompt_append}` (a `{model, variant}` entry becomes `model:variant`);
 * `background_task.defaultConcurrency` → `rateLimit.concurrency`; `providerConcurrency.<p>` →
 * `provider.<p>.rateLimit.concurrency`; `modelConcurrency["<p>/<m>"]` →
 * `provider.<p>.models.<m>.rateLimit.concurrency`. Its other settings are its own and ignored.
 */
export function mapOhMyOpencode(source: Record<string, unknown>): MappedOhMyOpencode {
  const b = new Builder();
  mapAgents(source.agents, b);
  mapBackgroundTask(source.background_task, b);
  return { data: b.data, sourcePaths: b.sourcePaths, ignored: b.ignored };
}
