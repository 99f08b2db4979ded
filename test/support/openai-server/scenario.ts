/**
 * Scenario files for serve-scenario.ts: JSON that maps onto ScriptedServerOptions,
 *   {port?, apiKey?, strictModels?, rateLimit?, concurrencyLimit?, default?,
 *    models: {"<id>": {script?, default?, rateLimit?, concurrencyLimit?, apiKey?}}}
 * checked strictly, every problem named by its path.
 */
import { validateStep } from './steps.ts';
import type { ModelOptions, RateLimit, ScriptedServerOptions } from './types.ts';

type Scenario = Omit<ScriptedServerOptions, 'now' | 'onRequestEnd'>;

const TOP_KEYS = ['$schema', 'description', 'port', 'apiKey', 'strictModels', 'rateLimit', 'concurrencyLimit', 'default', 'models'];
const MODEL_KEYS = ['script', 'default', 'rateLimit', 'concurrencyLimit', 'apiKey'];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fail(path: string, message: string): never {
  throw new TypeError(`${path}: ${message}`);
}

function onlyKeys(value: Record<string, unknown>, allowed: readonly string[], path: string): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) fail(`${path}.${key}`, `unknown key (expected one of ${allowed.join(', ')})`);
  }
}

function count(value: unknown, path: string, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) fail(path, `expected an integer >= ${min}, found ${JSON.stringify(value)}`);
  return value;
}

function rateLimit(value: unknown, path: string): RateLimit {
  if (!isRecord(value)) fail(path, 'expected {maxRequests, windowMs, graceMs?}');
  onlyKeys(value, ['maxRequests', 'windowMs', 'graceMs'], path);
  const limit: RateLimit = { maxRequests: count(value.maxRequests, `${path}.maxRequests`, 1), windowMs: count(value.windowMs, `${path}.windowMs`, 1) };
  if (value.graceMs !== undefined) limit.graceMs = count(value.graceMs, `${path}.graceMs`, 0);
  return limit;
}

function model(value: unknown, path: string): ModelOptions {
  if (!isRecord(value)) fail(path, 'expected {script?, default?, rateLimit?, concurrencyLimit?, apiKey?}');
  onlyKeys(value, MODEL_KEYS, path);
  const options: ModelOptions = {};
  if (value.script !== undefined) {
    if (!Array.isArray(value.script)) fail(`${path}.script`, 'expected an array of steps');
    options.script = value.script.map((step: unknown, index) => validateStep(step, `${path}.script[${index}]`));
  }
  if (value.default !== undefined) options.default = validateStep(value.default, `${path}.default`);
  if (value.rateLimit !== undefined) options.rateLimit = rateLimit(value.rateLimit, `${path}.rateLimit`);
  if (value.concurrencyLimit !== undefined) options.concurrencyLimit = count(value.concurrencyLimit, `${path}.concurrencyLimit`, 1);
  if (value.apiKey !== undefined) {
    if (typeof value.apiKey !== 'string' && value.apiKey !== false) fail(`${path}.apiKey`, 'expected a string or false');
    options.apiKey = value.apiKey;
  }
  return options;
}

/** Turns parsed scenario JSON into server options; throws a TypeError naming the first problem. */
export function parseScenario(value: unknown): Scenario {
  const path = 'scenario';
  if (!isRecord(value)) fail(path, 'expected an object {models: {...}, ...}');
  onlyKeys(value, TOP_KEYS, path);
  const scenario: Scenario = {};
  if (value.port !== undefined) scenario.port = count(value.port, `${path}.port`, 0);
  if (value.apiKey !== undefined) {
    if (typeof value.apiKey !== 'string' || value.apiKey === '') fail(`${path}.apiKey`, 'expected a non-empty string');
    scenario.apiKey = value.apiKey;
  }
  if (value.strictModels !== undefined) {
    if (typeof value.strictModels !== 'boolean') fail(`${path}.strictModels`, 'expected a boolean');
    scenario.strictModels = value.strictModels;
  }
  if (value.rateLimit !== undefined) scenario.rateLimit = rateLimit(value.rateLimit, `${path}.rateLimit`);
  if (value.concurrencyLimit !== undefined) scenario.concurrencyLimit = count(value.concurrencyLimit, `${path}.concurrencyLimit`, 1);
  if (value.default !== undefined) scenario.default = validateStep(value.default, `${path}.default`);
  if (value.models !== undefined) {
    if (!isRecord(value.models)) fail(`${path}.models`, 'expected an object keyed by upstream model id');
    const models: Record<string, ModelOptions> = {};
    for (const [id, options] of Object.entries(value.models)) models[id] = model(options, `${path}.models.${id}`);
    scenario.models = models;
  }
  return scenario;
}
