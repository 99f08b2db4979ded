/**
 * Checks a request body against a route's JSON Schema (the subset route.ts declares) and names the
 * first field at fault: `parts[0].text: expected a string, found a number`. No compiler, no start-up
 * cost; schemas are small and bodies are bounded in size before they get here.
 */
import type { JsonSchema } from './route.ts';

export interface BodyProblem {
  /** JSON path of the field (`parts[0].type`), empty for the body itself. */
  field: string;
  message: string;
}

type Schemas = Readonly<Record<string, JsonSchema>>;

/**
 * Where a value sits, as a chain to its parent: the JSON path text is made only for a field at
 * fault (a valid body, the usual case, builds no strings).
 */
type Path = { parent: Path; key: string | number } | undefined;

interface Problem {
  path: Path;
  message: string;
}

function pathText(path: Path): string {
  if (!path) return '';
  const parent = pathText(path.parent);
  return typeof path.key === 'number' ? `${parent}[${path.key}]` : parent ? `${parent}.${path.key}` : path.key;
}

function kind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'an integer' : 'a number';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return 'a string';
  return `a ${typeof value}`;
}

function typeName(type: string): string {
  return type === 'object' || type === 'array' || type === 'integer' ? `an ${type}` : type === 'null' ? 'null' : `a ${type}`;
}

function hasType(value: unknown, type: string): boolean {
  switch (type) {
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
    case 'array':
      return Array.isArray(value);
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'null':
      return value === null;
    default:
      return typeof value === type;
  }
}

/** `$ref`s resolved, per set of named schemas (route schemas never change). */
const resolved = new WeakMap<Schemas, Map<string, JsonSchema>>();

function resolve(schema: JsonSchema, schemas: Schemas): JsonSchema {
  const ref = schema.$ref;
  if (!ref) return schema;
  let known = resolved.get(schemas);
  if (!known) resolved.set(schemas, (known = new Map()));
  let found = known.get(ref);
  if (!found) {
    const named = schemas[ref.replace('#/components/schemas/', '')];
    if (!named) throw new Error(`route schema references unknown schema ${ref}`);
    found = resolve(named, schemas);
    known.set(ref, found);
  }
  return found;
}

function join(path: Path, key: string | number): Path {
  return { parent: path, key };
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 39)}…` : text;
}

function typeOf(schema: JsonSchema): NonNullable<Exclude<JsonSchema['type'], string>> {
  return schema.type === undefined ? [] : Array.isArray(schema.type) ? schema.type : [schema.type];
}

/** Whether `value` has the shape `schema` describes: its type, and for an array the type of its first item. */
function fits(value: unknown, schema: JsonSchema, schemas: Schemas): boolean {
  const types = typeOf(schema);
  if (types.length && !types.some((t) => hasType(value, t))) return false;
  if (!Array.isArray(value) || value.length === 0 || !schema.items) return true;
  const items = typeOf(resolve(schema.items, schemas));
  return items.length === 0 || items.some((t) => hasType(value[0], t));
}

function checkUnion(value: unknown, schema: JsonSchema, field: Path, schemas: Schemas): Problem | undefined {
  const branches = (schema.oneOf ?? schema.anyOf ?? []).map((b) => resolve(b, schemas));
  const tag = schema.discriminator?.propertyName;
  if (tag && hasType(value, 'object')) {
    const given = (value as Record<string, unknown>)[tag];
    const branch = branches.find((b) => b.properties?.[tag]?.const === given);
    if (!branch) {
      const allowed = branches.map((b) => b.properties?.[tag]?.const).filter((v) => v !== undefined);
      return { path: join(field, tag), message: `expected one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}, found ${show(given)}` };
    }
    return check(value, branch, field, schemas);
  }
  const problems: Problem[] = [];
  for (const b of branches) {
    const problem = check(value, b, field, schemas);
    if (!problem) return undefined;
    problems.push(problem);
  }
  // What the branches of the value's own shape say (the most, the branch that got furthest into it), else any.
  const fitting = problems.filter((_, i) => fits(value, branches[i] as JsonSchema, schemas));
  const pool = fitting.length ? fitting : problems;
  return pool.find((p) => p.path !== field) ?? pool[0];
}

function checkObject(value: Record<string, unknown>, schema: JsonSchema, field: Path, schemas: Schemas): Problem | undefined {
  for (const key of schema.required ?? []) {
    if (value[key] === undefined) return { path: join(field, key), message: 'is required' };
  }
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    const child = value[key];
    if (child === undefined) continue;
    const prop = schema.properties?.[key];
    if (prop) {
      const problem = check(child, prop, join(field, key), schemas);
      if (problem) return problem;
    } else if (schema.additionalProperties === false) {
      const known = Object.keys(schema.properties ?? {});
      return { path: join(field, key), message: `is not a known field${known.length ? ` (known: ${known.join(', ')})` : ''}` };
    } else if (typeof schema.additionalProperties === 'object') {
      const problem = check(child, schema.additionalProperties, join(field, key), schemas);
      if (problem) return problem;
    }
  }
  return undefined;
}

function check(value: unknown, raw: JsonSchema, field: Path, schemas: Schemas): Problem | undefined {
  const schema = resolve(raw, schemas);
  if (schema.oneOf || schema.anyOf) return checkUnion(value, schema, field, schemas);
  const types = typeOf(schema);
  if (types.length && !types.some((t) => hasType(value, t))) {
    return { path: field, message: `expected ${types.map(typeName).join(' or ')}, found ${kind(value)}` };
  }
  if (schema.const !== undefined && value !== schema.const) return { path: field, message: `expected ${JSON.stringify(schema.const)}, found ${show(value)}` };
  if (schema.enum && !schema.enum.includes(value as string)) {
    return { path: field, message: `expected one of ${schema.enum.map((v) => JSON.stringify(v)).join(', ')}, found ${show(value)}` };
  }
  if (typeof value === 'string') {
    if (schema.minLength !== undefined && value.length < schema.minLength) return { path: field, message: schema.minLength === 1 ? 'must not be empty' : `must be at least ${schema.minLength} characters` };
    if (schema.maxLength !== undefined && value.length > schema.maxLength) return { path: field, message: `must be at most ${schema.maxLength} characters` };
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) return { path: field, message: `must be at least ${schema.minimum}, found ${value}` };
    if (schema.maximum !== undefined && value > schema.maximum) return { path: field, message: `must be at most ${schema.maximum}, found ${value}` };
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) return { path: field, message: schema.minItems === 1 ? 'must not be empty' : `must have at least ${schema.minItems} items` };
    if (schema.maxItems !== undefined && value.length > schema.maxItems) return { path: field, message: `must have at most ${schema.maxItems} items` };
    if (schema.items) {
      for (let i = 0; i < value.length; i++) {
        const problem = check(value[i], schema.items, join(field, i), schemas);
        if (problem) return problem;
      }
    }
  }
  if (hasType(value, 'object')) return checkObject(value as Record<string, unknown>, schema, field, schemas);
  return undefined;
}

/** The first problem of `value` against `schema` (named schemas resolved from `schemas`), or undefined. */
export function checkBody(value: unknown, schema: JsonSchema, schemas: Schemas = {}): BodyProblem | undefined {
  const problem = check(value, schema, undefined, schemas);
  return problem && { field: pathText(problem.path), message: problem.message };
}
