/**
 * The models.dev catalogue snapshot in data/models-dev/ (scripts/refresh-models.ts writes it):
 * providers by id (name, AI SDK package, base URL, key variables) and, per model, context and
 * output limits, prices and capabilities. Read lazily: the provider index (~30 KB) when a config
 * names a provider it does not declare, the model table (~480 KB) only when a model's limits or
 * price are needed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../paths.ts';

const DATA_DIR = path.join(packageRoot, 'data', 'models-dev');

/** A provider as models.dev describes it. */
export interface CatalogProvider {
  id: string;
  name: string;
  npm?: string;
  /** Base URL; may hold `${VAR}` placeholders (e.g. `https://${AZURE_RESOURCE_NAME}…`). */
  api?: string;
  env: string[];
}

/** A model as models.dev describes it. Prices in USD per million tokens. */
export interface CatalogModel {
  context: number;
  output: number;
  cost: { input: number; output: number; cache_read: number; cache_write: number };
  image: boolean;
  pdf: boolean;
  reasoning: boolean;
  toolCall: boolean;
  temperature: boolean;
  /** Where the model's package or URL differs from its provider's. */
  npm?: string;
  api?: string;
}

type ProviderIndex = Record<string, Omit<CatalogProvider, 'id'>>;
type ModelRow = [number, number, number, number, number, number, number, { npm?: string; api?: string }?];

let providers: ProviderIndex | undefined;
let models: Record<string, Record<string, ModelRow>> | undefined;

function readJson<T>(file: string): T {
  return JSON.parse(fs.readFileSync(path.join(DATA_DIR, file), 'utf8')) as T;
}

function providerIndex(): ProviderIndex {
  providers ??= Object.assign(Object.create(null) as ProviderIndex, readJson<{ providers: ProviderIndex }>('providers.json').providers);
  return providers;
}

/**
 * What names this install's provider index as it is on disk (its size and time), without reading
 * it: a config found clean against one catalogue is checked again against another
 * (src/config/clean-memo.ts), since the catalogue is data beside the bundle, not part of its build.
 */
export function catalogStamp(): string {
  const stat = fs.statSync(path.join(DATA_DIR, 'providers.json'), { throwIfNoEntry: false });
  return stat ? `${stat.size}:${stat.mtimeMs}` : 'none';
}

/** Every catalogued provider id. */
export function catalogProviderIds(): string[] {
  return Object.keys(providerIndex());
}

/** A catalogued provider, or undefined. */
export function catalogProvider(id: string): CatalogProvider | undefined {
  const entry = providerIndex()[id];
  return entry ? { id, ...entry } : undefined;
}

/** A catalogued model of a catalogued provider, or undefined. */
export function catalogModel(provider: string, model: string): CatalogModel | undefined {
  models ??= readJson<Record<string, Record<string, ModelRow>>>('models.json');
  const table = Object.hasOwn(models, provider) ? models[provider] : undefined;
  const row = table && Object.hasOwn(table, model) ? table[model] : undefined;
  if (!row) return undefined;
  const [context, output, input, out, cacheRead, cacheWrite, flags, override] = row;
  return {
    context,
    output,
    cost: { input, output: out, cache_read: cacheRead, cache_write: cacheWrite },
    image: (flags & 1) !== 0,
    pdf: (flags & 2) !== 0,
    reasoning: (flags & 4) !== 0,
    toolCall: (flags & 8) !== 0,
    temperature: (flags & 16) !== 0,
    ...(override?.npm ? { npm: override.npm } : {}),
    ...(override?.api ? { api: override.api } : {}),
  };
}
