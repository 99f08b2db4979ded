/**
 * Whether a tool's `parameters` is a JSON Schema (checked against the draft 2020-12 meta-schema with
 * ajv, which the config validator already depends on) describing an object, as OpenAI requires. The
 * meta-schema validator is built on first use and kept; results are kept per schema text.
 */
import type { Ajv2020 } from 'ajv/dist/2020.js';

let ajv: Ajv2020 | undefined;
const seen = new Map<string, string | undefined>();
const SEEN_MAX = 512;

async function load(): Promise<Ajv2020> {
  const { Ajv2020: Ctor } = await import('ajv/dist/2020.js');
  ajv ??= new Ctor({ strict: false, validateFormats: false });
  return ajv;
}

/** Preloads the validator (the route group calls this at start-up so no request waits for it). */
export async function loadToolSchemaValidator(): Promise<void> {
  await load();
}

function check(v: Ajv2020, schema: unknown): string | undefined {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) return 'expected a JSON Schema object';
  const type = (schema as { type?: unknown }).type;
  if (type !== undefined && type !== 'object') return `expected a schema of "type": "object", found ${JSON.stringify(type)}`;
  if (!v.validateSchema(schema)) {
    const first = v.errors?.[0];
    return `not a JSON Schema (${first ? `${first.instancePath || '/'} ${first.message ?? ''}`.trim() : 'rejected by the meta-schema'})`;
  }
  return undefined;
}

/** A sentence saying what is wrong with the schema, or undefined when it is a JSON Schema object. */
export function toolSchemaProblem(schema: unknown): string | undefined {
  if (!ajv) throw new Error('tool schema validator not loaded');
  const key = JSON.stringify(schema);
  if (seen.has(key)) return seen.get(key);
  const problem = check(ajv, schema);
  if (seen.size >= SEEN_MAX) seen.delete(seen.keys().next().value as string);
  seen.set(key, problem);
  return problem;
}
