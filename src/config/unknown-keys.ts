/**
 * Keys that OpenCode's schema does not know, inside objects where OpenCode lets unknown keys
 * through (marked `x-lenient` in the generated schema): OpenCode ignores them, so they load, and
 * each is reported as a warning with "did you mean". One that is a typo of a key Pantheon adds
 * there (`rateLimt`, `fallback`) is an error: Pantheon's own keys stay strict.
 */
import { closestMatch } from './did-you-mean.ts';
import type { JsonPath } from './json-path.ts';
import type { Problem } from './schema-problems.ts';
import { resolveSchema, type SchemaNode } from './schema-phrases.ts';
import { quote } from './excerpt.ts';

const LENIENT = 'x-lenient';
const PANTHEON_KEY = 'x-pantheon';
/** Nesting followed at most (deeper values are the validator's business). */
const MAX_DEPTH = 64;

const isNode = (v: unknown): v is SchemaNode => typeof v === 'object' && v !== null && !Array.isArray(v);
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export interface UnknownKeys {
  /** Keys OpenCode ignores: loaded, with a warning. */
  warnings: Problem[];
  /** Typos of Pantheon's keys: errors. */
  errors: Problem[];
}

function describesObject(node: SchemaNode): boolean {
  return node.type === 'object' || isNode(node.properties) || isNode(node.additionalProperties) || node[LENIENT] === true;
}

/** How well an object branch of an `anyOf` fits `data`: its discriminators, its keys, its required keys. */
function fit(branch: SchemaNode, data: Record<string, unknown>): number {
  const properties = isNode(branch.properties) ? branch.properties : {};
  let score = 0;
  for (const [key, schema] of Object.entries(properties)) {
    if (!Object.hasOwn(data, key)) continue;
    score += 1;
    if (!isNode(schema)) continue;
    const allowed = 'const' in schema ? [schema.const] : Array.isArray(schema.enum) ? schema.enum : undefined;
    if (allowed) score += allowed.includes(data[key]) ? 10 : -10;
  }
  const required = Array.isArray(branch.required) ? branch.required : [];
  for (const key of required) if (typeof key === 'string' && !Object.hasOwn(data, key)) score -= 100;
  return score;
}

/** The object schema that `data` is checked against at this node (the best-fitting `anyOf` branch). */
function objectSchema(node: SchemaNode, data: Record<string, unknown>, root: SchemaNode): SchemaNode | undefined {
  const resolved = resolveSchema(node, root);
  if (Array.isArray(resolved.anyOf)) {
    const branches = resolved.anyOf.map((b) => objectSchema(b as SchemaNode, data, root)).filter((b): b is SchemaNode => b !== undefined);
    let best: SchemaNode | undefined;
    let bestFit = -Infinity;
    for (const branch of branches) {
      const score = fit(branch, data);
      if (score > bestFit) [best, bestFit] = [branch, score];
    }
    return best;
  }
  return describesObject(resolved) ? resolved : undefined;
}

/**
 * A key the object's schema does not name: in a lenient object OpenCode ignores it (a warning); in
 * an object that passes its other keys on (an agent's or provider's `options`) only a near miss of a
 * named key is worth a warning. A near miss of a key Pantheon adds is an error either way.
 */
function describeUnknown(key: string, path: JsonPath, schema: SchemaNode, out: UnknownKeys): void {
  const properties = isNode(schema.properties) ? schema.properties : {};
  const match = closestMatch(key, Object.keys(properties));
  const target = match === undefined ? undefined : properties[match];
  const keyPath = [...path, key];
  const hint = match === undefined ? '' : `; did you mean ${quote(match)}?`;
  if (match !== undefined && isNode(target) && target[PANTHEON_KEY] === true) {
    out.errors.push({ path: keyPath, message: `unknown key${hint}` });
  } else if (schema[LENIENT] === true) {
    out.warnings.push({ path: keyPath, message: `unknown key, ignored (OpenCode ignores it too)${hint}` });
  } else if (match !== undefined) {
    out.warnings.push({ path: keyPath, message: `not a key of this object; passed on as is${hint}` });
  }
}

function walk(node: unknown, data: unknown, path: JsonPath, root: SchemaNode, out: UnknownKeys): void {
  if (path.length > MAX_DEPTH || !isNode(node)) return;
  if (Array.isArray(data)) {
    const resolved = resolveSchema(node, root);
    const prefix = Array.isArray(resolved.prefixItems) ? resolved.prefixItems : [];
    data.forEach((item, i) => walk(i < prefix.length ? prefix[i] : resolved.items, item, [...path, i], root, out));
    return;
  }
  if (!isRecord(data)) return;
  const schema = objectSchema(node, data, root);
  if (!schema) return;
  const properties = isNode(schema.properties) ? schema.properties : {};
  for (const [key, value] of Object.entries(data)) {
    if (Object.hasOwn(properties, key)) {
      walk(properties[key], value, [...path, key], root, out);
      continue;
    }
    // Maps keyed by names (agents, providers, servers) name no keys: nothing to miss there.
    if (Object.keys(properties).length > 0 || schema[LENIENT] === true) describeUnknown(key, path, schema, out);
    if (isNode(schema.additionalProperties)) walk(schema.additionalProperties, value, [...path, key], root, out);
  }
}

/** Unknown keys of a (schema-valid or not) config against the generated schema `root`. */
export function unknownKeys(config: unknown, root: SchemaNode): UnknownKeys {
  const out: UnknownKeys = { warnings: [], errors: [] };
  walk(root, config, [], root, out);
  return out;
}
