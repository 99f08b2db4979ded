/**
 * Turns ajv's errors (allErrors, verbose) into one human problem per mistake: a JSON path and a
 * sentence saying what was expected and what was found. The branches of an `anyOf` collapse into
 * one line, or into the errors of the one branch the value was evidently meant for.
 */
import type { ErrorObject } from 'ajv';
import { didYouMean } from './did-you-mean.ts';
import { formatFound } from './found-value.ts';
import type { JsonPath } from './json-path.ts';
import { pointerToPath } from './json-position.ts';
import { acceptsTypeOf, expectedPhrase, jsonType, patternPhrase, resolveSchema } from './schema-phrases.ts';
import type { SchemaNode } from './schema-phrases.ts';
import { quote } from './excerpt.ts';

/** One thing wrong with a config: where, and what. */
export interface Problem {
  path: JsonPath;
  message: string;
  /** Advice for the whole report (deduplicated), e.g. how to declare a provider. */
  hint?: string;
}

type Item = { error: ErrorObject; path: JsonPath } | { problem: Problem; path: JsonPath };

const isNode = (v: unknown): v is SchemaNode => typeof v === 'object' && v !== null && !Array.isArray(v);
const isUnder = (path: JsonPath, base: JsonPath): boolean =>
  path.length >= base.length && base.every((key, i) => path[i] === key);
const samePath = (a: JsonPath, b: JsonPath): boolean => a.length === b.length && isUnder(a, b);
const sameKind = (a: unknown, b: unknown): boolean =>
  jsonType(a).replace('integer', 'number') === jsonType(b).replace('integer', 'number');

/** An error that only says "this branch wanted another type" about the anyOf's own value. */
function isTypeMismatch(error: ErrorObject, value: unknown): boolean {
  if (error.keyword === 'type') return true;
  if (error.keyword === 'const') return !sameKind(error.params.allowedValue, value);
  if (error.keyword === 'enum') {
    const allowed: unknown[] = Array.isArray(error.params.allowedValues) ? error.params.allowedValues : [];
    return !allowed.some((v) => sameKind(v, value));
  }
  return false;
}

/** The properties of an object branch that single it out (`type: {const: "local"}`), with their allowed values. */
function discriminators(branch: SchemaNode): Map<string, unknown[]> {
  const found = new Map<string, unknown[]>();
  for (const [key, schema] of Object.entries(isNode(branch.properties) ? branch.properties : {})) {
    if (!isNode(schema)) continue;
    if ('const' in schema) found.set(key, [schema.const]);
    else if (Array.isArray(schema.enum) && schema.enum.length === 1) found.set(key, schema.enum);
  }
  return found;
}

/**
 * Of several object branches, the one the value names by its discriminators (`"type": "local"`),
 * and the branch errors that belong to it: deeper errors not about a discriminator, and missing
 * keys that branch requires.
 */
function discriminated(value: unknown, path: JsonPath, branches: unknown[], branchItems: Item[], root: SchemaNode): Item[] {
  if (!isNode(value)) return [];
  const objects = branches.map((b) => resolveSchema(b, root)).filter((b) => discriminators(b).size > 0);
  const chosen = objects.filter((b) => [...discriminators(b)].every(([key, allowed]) => allowed.includes(value[key])));
  if (chosen.length !== 1) return [];
  const branch = chosen[0] as SchemaNode;
  const keys = new Set(objects.flatMap((b) => [...discriminators(b).keys()]));
  const required = new Set(Array.isArray(branch.required) ? branch.required.map(String) : []);
  return branchItems.filter((item) => {
    if (!('error' in item)) return item.path.length > path.length && !keys.has(String(item.path[path.length]));
    if (samePath(item.path, path)) return item.error.keyword === 'required' && required.has(String(item.error.params.missingProperty));
    return !keys.has(String(item.path[path.length]));
  });
}

function collapseAnyOf(error: ErrorObject, path: JsonPath, branchItems: Item[], root: SchemaNode): Item[] {
  const value: unknown = error.data;
  const branches: unknown[] = Array.isArray(error.schema) ? error.schema : [];
  const meant = branches.filter((b) => acceptsTypeOf(b, value, root));
  if (meant.length === 1) {
    const kept = branchItems.filter((item) => !('error' in item && samePath(item.path, path) && isTypeMismatch(item.error, value)));
    if (kept.length > 0) return kept;
  } else if (meant.length > 1) {
    const kept = discriminated(value, path, meant, branchItems, root);
    if (kept.length > 0) return kept;
  }
  const expected = expectedPhrase({ anyOf: branches }, root);
  return [{ path, problem: { path, message: `expected ${expected}, found ${formatFound(value, path)}` } }];
}

const conditionalsOf = new WeakMap<SchemaNode, { if: SchemaNode; then: string }[]>();

/** Pairs of `if`/`then` in the schema, to explain a conditional `required` (found once per schema). */
function conditionals(root: SchemaNode): { if: SchemaNode; then: string }[] {
  const known = conditionalsOf.get(root);
  if (known) return known;
  const found: { if: SchemaNode; then: string }[] = [];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(visit);
    if (!isNode(node)) return;
    if (isNode(node.if) && isNode(node.then)) found.push({ if: node.if, then: JSON.stringify(node.then) });
    Object.values(node).forEach(visit);
  };
  visit(root);
  conditionalsOf.set(root, found);
  return found;
}

/** ` when type is "local"`, when a conditional schema required the key; else an empty string. */
function conditionPhrase(error: ErrorObject, root: SchemaNode): string {
  if (!error.schemaPath.includes('/then/')) return '';
  const thenText = JSON.stringify(error.parentSchema);
  for (const pair of conditionals(root)) {
    if (pair.then !== thenText || !isNode(pair.if.properties)) continue;
    const terms = Object.entries(pair.if.properties).filter(([, s]) => isNode(s) && 'const' in s);
    const data = isNode(error.data) ? error.data : {};
    if (terms.length > 0 && terms.every(([key, s]) => data[key] === (s as SchemaNode).const)) {
      return ` when ${terms.map(([key, s]) => `${key} is ${JSON.stringify((s as SchemaNode).const)}`).join(' and ')}`;
    }
  }
  return ' in this case';
}

/** Why numbers have a ceiling (said once per report). */
const MAXIMUM_HINT =
  'Every number has a ceiling that keeps it usable: durations up to 24 h (timeouts, delays) or 7 days (windows, cooldowns), counts up to 1,000,000,000.';

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** The problem for one (non-anyOf) ajv error. */
export function describeError(error: ErrorObject, path: JsonPath, root: SchemaNode): Problem {
  const parent = resolveSchema(error.parentSchema, root);
  const found = (): string => formatFound(error.data, path);
  const p = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'maximum':
    case 'exclusiveMaximum': {
      const message = `expected ${expectedPhrase(parent, root)}, found ${found()}`;
      // A ceiling (not a natural range such as temperature's 0–2) says why it is there.
      return Number(p.limit) >= 1_000_000 ? { path, message, hint: MAXIMUM_HINT } : { path, message };
    }
    case 'type':
    case 'minimum':
    case 'exclusiveMinimum':
    case 'format':
      return { path, message: `expected ${expectedPhrase(parent, root)}, found ${found()}` };
    case 'enum':
    case 'const':
      return { path, message: `expected ${expectedPhrase(parent, root)}, found ${found()}` };
    case 'minLength':
      return p.limit === 1
        ? { path, message: `expected a non-empty string, found ${found()}` }
        : { path, message: `expected at least ${plural(Number(p.limit), 'character')}, found ${found()}` };
    case 'maxLength':
      return { path, message: `expected at most ${plural(Number(p.limit), 'character')}, found ${found()}` };
    case 'pattern': {
      if (typeof error.propertyName === 'string') {
        const keyPath = [...path, error.propertyName];
        return { path: keyPath, message: `invalid name: expected ${patternPhrase(parent)}, found ${quote(error.propertyName)}` };
      }
      return { path, message: `expected ${patternPhrase(parent)}, found ${found()}` };
    }
    case 'required': {
      const key = String(p.missingProperty);
      return { path: [...path, key], message: `missing; required${conditionPhrase(error, root)}` };
    }
    case 'dependentRequired':
      return { path: [...path, String(p.missingProperty)], message: `missing; required when ${JSON.stringify(p.property)} is set` };
    case 'additionalProperties': {
      const key = String(p.additionalProperty);
      const allowed = isNode(parent.properties) ? Object.keys(parent.properties) : [];
      const suggestion = didYouMean(key, allowed);
      const list = !suggestion && allowed.length > 0 && allowed.length <= 8 ? `; allowed keys: ${allowed.join(', ')}` : '';
      return { path: [...path, key], message: `unknown key${suggestion}${list}` };
    }
    case 'uniqueItems': {
      const [first, second] = [Number(p.j), Number(p.i)].sort((a, b) => a - b) as [number, number];
      const items = Array.isArray(error.data) ? error.data : [];
      return { path: [...path, second], message: `duplicate of item [${first}], found ${formatFound(items[second], [...path, second])}` };
    }
    case 'minItems': {
      const count = Array.isArray(error.data) ? error.data.length : 0;
      return { path, message: `expected at least ${plural(Number(p.limit), 'item')}, found ${count === 0 ? 'none' : count}` };
    }
    case 'maxItems': {
      const count = Array.isArray(error.data) ? error.data.length : 0;
      return { path, message: `expected at most ${plural(Number(p.limit), 'item')}, found ${count}` };
    }
    default:
      return { path, message: `${error.message ?? `fails "${error.keyword}"`}, found ${found()}` };
  }
}

/**
 * Every problem in ajv's error list (made with `allErrors` and `verbose`), in ajv's order.
 * `data` is the validated value (to tell array indexes from keys); `root` the whole schema.
 */
export function schemaProblems(errors: readonly ErrorObject[], data: unknown, root: SchemaNode): Problem[] {
  const items: Item[] = [];
  for (const error of errors) {
    // Wrappers whose cause is reported by the error before them.
    if (error.keyword === 'if' || error.keyword === 'propertyNames') continue;
    const path = pointerToPath(error.instancePath, data);
    if (error.keyword === 'anyOf' || error.keyword === 'oneOf') {
      const branchItems: Item[] = [];
      while (items.length > 0 && isUnder(items[items.length - 1]!.path, path)) branchItems.unshift(items.pop()!);
      for (const item of collapseAnyOf(error, path, branchItems, root)) items.push(item);
    } else {
      items.push({ error, path });
    }
  }
  return items.map((item) => ('problem' in item ? item.problem : describeError(item.error, item.path, root)));
}
