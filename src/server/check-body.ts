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

function resolve(schema: JsonSchema, schemas: Schemas): JsonSchema {
  if (!schema.$ref) return schema;
  const name = schema.$ref.replace('#/components/schemas/', '');
  const found = schemas[name];
  if (!found) throw new Error(`route schema references unknown schema ${schema.$ref}`);
  return resolve(found, schemas);
}

function join(field: string, key: string | number): string {
  return typeof key === 'number' ? `${field}[${key}]` : field ? `${field}.${key}` : key;
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 39)}…` : text;
}

function checkUnion(value: unknown, schema: JsonSchema, field: string, schemas: Schemas): BodyProblem | undefined {
  const branches = (schema.oneOf ?? schema.anyOf ?? []).map((b) => resolve(b, schemas));
  const tag = schema.discriminator?.propertyName;
  if (tag && hasType(value, 'object')) {
    const given = (value as Record<string, unknown>)[tag];
    const allowed = branches.map((b) => b.properties?.[tag]?.const).filter((v) => v !== undefined);
    const branch = branches.find((b) => b.properties?.[tag]?.const === given);
    if (!branch) return { field: join(field, tag), message: `expected one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}, found ${show(given)}` };
    return check(value, branch, field, schemas);
  }
  const problems = branches.map((b) => check(value, b, field, schemas));
  if (problems.some((p) => p === undefined)) return undefined;
  return problems.find((p) => p && p.field !== field) ?? problems[0];
}

function checkObject(value: Record<string, unknown>, schema: JsonSchema, field: string, schemas: Schemas): BodyProblem | undefined {
  for (const key of schema.required ?? []) {
    if (value[key] === undefined) return { field: join(field, key), message: 'is required' };
  }
  for (const [key, child] of Object.entries(value)) {
    if (child === undefined) continue;
    const prop = schema.properties?.[key];
    if (prop) {
      const problem = check(child, prop, join(field, key), schemas);
      if (problem) return problem;
    } else if (schema.additionalProperties === false) {
      const known = Object.keys(schema.properties ?? {});
      return { field: join(field, key), message: `is not a known field${known.length ? ` (known: ${known.join(', ')})` : ''}` };
    } else if (typeof schema.additionalProperties === 'object') {
      const problem = check(child, schema.additionalProperties, join(field, key), schemas);
      if (problem) return problem;
    }
  }
  return undefined;
}

function check(value: unknown, raw: JsonSchema, field: string, schemas: Schemas): BodyProblem | undefined {
  const schema = resolve(raw, schemas);
  if (schema.oneOf || schema.anyOf) return checkUnion(value, schema, field, schemas);
  const types = schema.type === undefined ? [] : Array.isArray(schema.type) ? schema.type : [schema.type];
  if (types.length && !types.some((t) => hasType(value, t))) {
    return { field, message: `expected ${types.map(typeName).join(' or ')}, found ${kind(value)}` };
  }
  if (schema.const !== undefined && value !== schema.const) return { field, message: `expected ${JSON.stringify(schema.const)}, found ${show(value)}` };
  if (schema.enum && !schema.enum.includes(value as string)) {
    return { field, message: `expected one of ${schema.enum.map((v) => JSON.stringify(v)).join(', ')}, found ${show(value)}` };
  }
  if (typeof value === 'string') {
    if (schema.minLength !== undefined && value.length < schema.minLength) return { field, message: schema.minLength === 1 ? 'must not be empty' : `must be at least ${schema.minLength} characters` };
    if (schema.maxLength !== undefined && value.length > schema.maxLength) return { field, message: `must be at most ${schema.maxLength} characters` };
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) return { field, message: `must be at least ${schema.minimum}, found ${value}` };
    if (schema.maximum !== undefined && value > schema.maximum) return { field, message: `must be at most ${schema.maximum}, found ${value}` };
  }
  if (Array.isArray(value)) {
    if (schema.maxItems !== undefined && value.length > schema.maxItems) return { field, message: `must have at most ${schema.maxItems} items` };
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
  return check(value, schema, '', schemas);
}
