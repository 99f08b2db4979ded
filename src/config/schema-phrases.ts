/**
 * Plain-English phrases for what a JSON Schema node expects ("an integer of at least 1",
 * "a model reference provider/model[:variant]"), for validation messages.
 */
import { valueAt } from './json-position.ts';
import { thousands } from '../icu-free.ts';

export type SchemaNode = { [key: string]: unknown };

const isNode = (v: unknown): v is SchemaNode => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Follows a local `$ref` (`#/$defs/x`) against `root`; the referring node's own keys win. */
export function resolveSchema(schema: unknown, root: SchemaNode): SchemaNode {
  if (!isNode(schema)) return {};
  const ref = schema.$ref;
  if (typeof ref !== 'string' || !ref.startsWith('#/')) return schema;
  const path = ref.slice(2).split('/').map((k) => decodeURIComponent(k).replace(/~1/g, '/').replace(/~0/g, '~'));
  const { $ref: _ref, ...own } = schema;
  return { ...resolveSchema(valueAt(root, path), root), ...own };
}

/** The JSON type of a value, telling integers from other numbers. */
export function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function typeAccepts(type: string, value: unknown): boolean {
  const actual = jsonType(value);
  return type === actual || (type === 'number' && actual === 'integer');
}

/** True when the schema (following refs) admits values of the JSON type of `value`. */
export function acceptsTypeOf(schema: unknown, value: unknown, root: SchemaNode): boolean {
  const s = resolveSchema(schema, root);
  if ('const' in s) return jsonType(s.const).replace('integer', 'number') === jsonType(value).replace('integer', 'number');
  if (Array.isArray(s.enum)) return s.enum.some((v) => jsonType(v).replace('integer', 'number') === jsonType(value).replace('integer', 'number'));
  if (typeof s.type === 'string') return typeAccepts(s.type, value);
  if (Array.isArray(s.type)) return s.type.some((t) => typeof t === 'string' && typeAccepts(t, value));
  if (Array.isArray(s.anyOf)) return s.anyOf.some((b) => acceptsTypeOf(b, value, root));
  if (isNode(s.properties) || Array.isArray(s.required) || 'additionalProperties' in s) return jsonType(value) === 'object';
  return true;
}

/** `"a", "b" or "c"`; `, or` before the last item when an item has its own "or". */
export function joinOr(parts: string[]): string {
  if (parts.length <= 1) return parts[0] ?? '';
  const last = parts[parts.length - 1];
  const separator = parts.some((p) => p.includes(' or ')) ? ', or ' : ' or ';
  return `${parts.slice(0, -1).join(', ')}${separator}${last}`;
}

const KNOWN_PATTERNS: Record<string, string> = {
  '^[A-Za-z][A-Za-z0-9_-]*$': 'a name of letters, digits, _ and -, starting with a letter',
  '^[A-Za-z_][A-Za-z0-9_]*$': 'an environment variable name (letters, digits and _)',
  '^\\{\\{\\s*input\\.[A-Za-z0-9_-]+\\s*\\}\\}$': 'a string like "{{input.NAME}}"',
  '^(?:(?:rediss?|sqlite)://.+|(?![A-Za-z][A-Za-z0-9+.-]*://).*)$': '"memory", a file path (sqlite://… too), or a redis:// or rediss:// URL',
};

/**
 * What a `pattern` stands for: the opening phrase of the schema's description when it names a
 * form ("A model reference `provider/model[:variant]`, e.g. …" → `a model reference
 * provider/model[:variant]`, or as an alternative `a "provider/model[:variant]" string`), a known
 * pattern's name, or the pattern itself.
 */
export function patternPhrase(schema: SchemaNode, asAlternative = false): string {
  const description = typeof schema.description === 'string' ? schema.description : '';
  if (/^An? /.test(description)) {
    const code = /`([^`]+)`/.exec(description)?.[1];
    if (asAlternative && code) return `a ${JSON.stringify(code)} string`;
    const head = description.split(/, e\.g\.|\. |;|: /)[0] ?? description;
    return (head.charAt(0).toLowerCase() + head.slice(1)).replace(/`/g, '').replace(/\.$/, '');
  }
  const pattern = typeof schema.pattern === 'string' ? schema.pattern : '';
  return KNOWN_PATTERNS[pattern] ?? `a string matching /${pattern}/`;
}

/** A limit as people read it: `86,400,000` rather than `86400000`. */
function limitText(n: number): string {
  return Math.abs(n) >= 10_000 ? thousands(n) : String(n);
}

/** ` from 0 to 2`, ` from 1 to 86,400,000`, ` of at least 1`, ` greater than 0`, or an empty string. */
export function rangePhrase(schema: SchemaNode): string {
  const raw = (k: string): number | undefined => (typeof schema[k] === 'number' ? (schema[k] as number) : undefined);
  // OpenCode's schema caps integers at 2^53-1 (no real bound) and writes "at least 1" as "> 0".
  let minimum = raw('minimum');
  let exclusiveMinimum = raw('exclusiveMinimum');
  if (schema.type === 'integer' && exclusiveMinimum !== undefined && Number.isInteger(exclusiveMinimum) && minimum === undefined) {
    [minimum, exclusiveMinimum] = [exclusiveMinimum + 1, undefined];
  }
  const maximum = raw('maximum') === Number.MAX_SAFE_INTEGER ? undefined : raw('maximum');
  const text = (n: number | undefined): string | undefined => (n === undefined ? undefined : limitText(n));
  const min = text(minimum);
  const max = text(maximum);
  const xmin = text(exclusiveMinimum);
  const xmax = text(raw('exclusiveMaximum'));
  if (min !== undefined && max !== undefined) return ` from ${min} to ${max}`;
  const parts: string[] = [];
  if (min !== undefined) parts.push(`of at least ${min}`);
  if (xmin !== undefined) parts.push(`greater than ${xmin}`);
  if (max !== undefined) parts.push(min === undefined && xmin === undefined ? `of at most ${max}` : `at most ${max}`);
  if (xmax !== undefined) parts.push(`less than ${xmax}`);
  return parts.length === 0 ? '' : ` ${parts.join(' and ')}`;
}

const TYPE_NOUNS: Record<string, string> = {
  string: 'a string',
  integer: 'an integer',
  number: 'a number',
  boolean: 'true or false',
  array: 'a list',
  object: 'an object',
  null: 'null',
};

function listPhrase(schema: SchemaNode, root: SchemaNode): string {
  const items = resolveSchema(schema.items, root);
  if (items.type === 'string' && items.enum === undefined && items.pattern === undefined) return 'a list of strings';
  if (items.type === 'integer' && rangePhrase(items) === '') return 'a list of integers';
  return 'a list';
}

/**
 * What a schema node expects, as a noun phrase. `asAlternative` is for one branch among
 * several (objects then show their required keys: `{provider, id}`).
 */
export function expectedPhrase(schema: unknown, root: SchemaNode, asAlternative = false): string {
  const s = resolveSchema(schema, root);
  if ('const' in s) return JSON.stringify(s.const);
  if (Array.isArray(s.enum)) {
    const values = s.enum.map((v) => JSON.stringify(v));
    return asAlternative ? joinOr(values) : values.length === 1 ? (values[0] ?? '') : `one of ${values.join(', ')}`;
  }
  if (Array.isArray(s.anyOf)) return joinOr(s.anyOf.map((branch) => expectedPhrase(branch, root, true)));
  const type = s.type;
  if (Array.isArray(type)) {
    const nouns = type.map((t) => String(t));
    return `a ${joinOr(nouns)}`;
  }
  switch (type) {
    case 'string':
      if (typeof s.pattern === 'string') return patternPhrase(s, asAlternative);
      if (s.format === 'uri') return 'a URL';
      if (s.minLength === 1) return 'a non-empty string';
      return 'a string';
    case 'integer':
    case 'number':
      return `${TYPE_NOUNS[type]}${rangePhrase(s)}`;
    case 'array':
      return listPhrase(s, root);
    case 'object':
      if (asAlternative && Array.isArray(s.required) && s.required.length > 0) return `{${s.required.join(', ')}}`;
      return 'an object';
    default:
      return typeof type === 'string' ? (TYPE_NOUNS[type] ?? `a ${type}`) : 'a value';
  }
}
