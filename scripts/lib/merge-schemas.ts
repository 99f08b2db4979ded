/**
 * Layers Pantheon's schema (schema/config.json) over OpenCode's (schema/opencode/config.json) into
 * the one schema the config validator is compiled from — the drop-in rule in schema form:
 *
 *  - a key only OpenCode declares is judged by OpenCode's schema, as OpenCode judges it: its values
 *    exactly, and unknown keys inside its objects let through (OpenCode ignores them; the published
 *    schema says `additionalProperties: false`, OpenCode's loader does not enforce it). Such objects
 *    are marked `x-lenient` so that unknown keys can be reported as warnings;
 *  - a key only Pantheon declares (`rateLimit`, `fallbacks`, `retry`, …, and its additions inside
 *    OpenCode's provider/model/agent entries) is judged by Pantheon's schema, strictly;
 *  - a key both declare, where Pantheon's node says `"x-opencode": true`: OpenCode's schema decides,
 *    and Pantheon's node only adds keys inside it (objects are merged key by key) and its ceiling
 *    on numbers OpenCode leaves unbounded (a timeout of 1e308 ms is no real config);
 *  - a key both declare, where Pantheon's node does not say so: Pantheon accepts its own form as
 *    well as OpenCode's (`anyOf`), e.g. a model given as `{provider, id}`.
 */
type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Prefix of OpenCode's definitions in the merged schema. */
export const OPENCODE_DEF_PREFIX = 'opencode.';
/** Annotation on objects whose unknown keys OpenCode lets through (reported as warnings). */
export const LENIENT = 'x-lenient';
/** Annotation on the properties Pantheon adds inside an OpenCode object (typos of them are errors). */
export const PANTHEON_KEY = 'x-pantheon';
const OPENCODE_MARK = 'x-opencode';

const LOCAL_REF = '#/$defs/';
const refName = (node: JsonObject): string | undefined =>
  typeof node.$ref === 'string' && node.$ref.startsWith(LOCAL_REF) ? node.$ref.slice(LOCAL_REF.length) : undefined;

function describesObject(node: JsonObject): boolean {
  return node.type === 'object' || isObject(node.properties) || isObject(node.additionalProperties);
}

const isNumeric = (node: JsonObject): boolean => node.type === 'integer' || node.type === 'number';

/** The largest number Pantheon's node admits (its `maximum`, or its numeric branch's), if any. */
function ceilingOf(node: JsonObject): number | undefined {
  if (isNumeric(node) && typeof node.maximum === 'number') return node.maximum;
  const branches = Array.isArray(node.anyOf) ? node.anyOf.filter(isObject) : [];
  return branches.map(ceilingOf).find((n) => n !== undefined);
}

/**
 * Pantheon's ceiling on a number OpenCode leaves unbounded (or bounds at 2^53-1): every number has
 * a sane maximum, so no value a provider could not take reaches a timer, a ledger or a price.
 */
function withCeiling(node: Json, ceiling: number | undefined): Json {
  if (ceiling === undefined || !isObject(node)) return node;
  if (Array.isArray(node.anyOf)) return { ...node, anyOf: node.anyOf.map((b) => withCeiling(b, ceiling)) };
  if (!isNumeric(node)) return node;
  const current = typeof node.maximum === 'number' ? node.maximum : Infinity;
  return current <= ceiling ? node : { ...node, maximum: ceiling };
}

export function mergeSchemas(opencode: JsonObject, pantheon: JsonObject): JsonObject {
  const ocDefs = isObject(opencode.$defs) ? opencode.$defs : {};
  const pDefs = isObject(pantheon.$defs) ? pantheon.$defs : {};
  const defs: JsonObject = {};

  /** OpenCode's node as OpenCode applies it: refs renamed, unknown keys let through (and marked). */
  const lenient = (node: Json): Json => {
    if (Array.isArray(node)) return node.map(lenient);
    if (!isObject(node)) return node;
    const out: JsonObject = {};
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string') {
        // An external reference (models.dev's model list) is a hint for editors; the type beside it stays.
        if (!value.startsWith(LOCAL_REF)) continue;
        const name = value.slice(LOCAL_REF.length);
        ensureOpencodeDef(name);
        out.$ref = `${LOCAL_REF}${OPENCODE_DEF_PREFIX}${name}`;
      } else if (key === 'additionalProperties' && value === false) {
        out[LENIENT] = true;
      } else if (key === 'properties' && isObject(value)) {
        out.properties = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, lenient(v)]));
      } else {
        out[key] = lenient(value);
      }
    }
    return out;
  };

  const ensureOpencodeDef = (name: string): void => {
    const key = `${OPENCODE_DEF_PREFIX}${name}`;
    if (key in defs) return;
    defs[key] = {};
    defs[key] = lenient(ocDefs[name] ?? {});
  };

  /** Pantheon's node as written, its refs pointing at merged or Pantheon definitions. */
  const own = (node: Json): Json => {
    if (Array.isArray(node)) return node.map(own);
    if (!isObject(node)) return node;
    const out: JsonObject = {};
    for (const [key, value] of Object.entries(node)) {
      if (key === OPENCODE_MARK) continue;
      if (key === 'properties' && isObject(value)) out.properties = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, own(v)]));
      else if (key === '$defs') continue;
      else out[key] = own(value);
    }
    const name = refName(node);
    if (name && !(name in defs)) {
      defs[name] = {};
      defs[name] = own(pDefs[name] ?? {});
    }
    return out;
  };

  const resolve = (node: JsonObject, from: JsonObject): JsonObject => {
    const name = refName(node);
    if (!name) return node;
    const target = from[name];
    const { $ref: _ref, ...rest } = node;
    return isObject(target) ? { ...target, ...rest } : rest;
  };

  const mergeObject = (oc: JsonObject, p: JsonObject): JsonObject => {
    const out: JsonObject = {};
    for (const [key, value] of Object.entries(oc)) {
      if (key === 'properties' || key === 'additionalProperties' || key === '$ref') continue;
      out[key] = lenient(value);
    }
    if (typeof p.description === 'string') out.description = p.description;
    const ocProps = isObject(oc.properties) ? oc.properties : {};
    const pProps = isObject(p.properties) ? p.properties : {};
    const props: JsonObject = {};
    for (const key of new Set([...Object.keys(ocProps), ...Object.keys(pProps)])) {
      // Pantheon's schema for every value of a map also covers the entries OpenCode names (`agent.build`).
      const pRest = p.additionalProperties;
      const fromP = pProps[key] ?? (key in ocProps && isObject(pRest) ? { ...pRest, [OPENCODE_MARK]: true } : undefined);
      // An OpenCode key this object of OpenCode's does not declare: OpenCode ignores it here, and so do we.
      if (!(key in ocProps) && isObject(fromP) && fromP[OPENCODE_MARK] === true) continue;
      const merged = merge(ocProps[key], fromP);
      props[key] = !(key in ocProps) && isObject(merged) ? { ...merged, [PANTHEON_KEY]: true } : merged;
    }
    out.type = 'object';
    out.properties = props;
    const ocRest = oc.additionalProperties;
    const pRest = p.additionalProperties;
    if (ocRest === false) out[LENIENT] = true;
    // Pantheon's description of the values of an OpenCode map describes OpenCode's values.
    else if (isObject(ocRest)) out.additionalProperties = isObject(pRest) ? merge(ocRest, { ...pRest, [OPENCODE_MARK]: true }) : lenient(ocRest);
    return out;
  };

  const merging = new Map<string, string>();
  const pairName = (ocName: string, pName: string): string => {
    const taken = [...merging.values()].includes(pName);
    return taken ? `${pName}.${ocName}` : pName;
  };

  function merge(oc: Json | undefined, p: Json | undefined): Json {
    if (p === undefined) return lenient(oc ?? {});
    if (oc === undefined || !isObject(oc) || !isObject(p)) return own(p);
    const pRef = refName(p);
    const marked = p[OPENCODE_MARK] === true || (pRef !== undefined && isObject(pDefs[pRef]) && pDefs[pRef][OPENCODE_MARK] === true);
    if (!marked) return { anyOf: [lenient(oc) as JsonObject, own(p) as JsonObject], ...(typeof p.description === 'string' ? { description: p.description } : {}) };
    // Both are references: one merged definition per pair, named after Pantheon's.
    const ocName = refName(oc);
    const pName = refName(p);
    if (ocName && pName) {
      const key = `${ocName}\u0000${pName}`;
      const known = merging.get(key);
      if (known) return { $ref: `${LOCAL_REF}${known}` };
      const name = pairName(ocName, pName);
      merging.set(key, name);
      defs[name] = {};
      defs[name] = merge(ocDefs[ocName], { ...(pDefs[pName] as JsonObject), [OPENCODE_MARK]: true });
      return { $ref: `${LOCAL_REF}${name}`, ...(typeof p.description === 'string' ? { description: p.description } : {}) };
    }
    const ocNode = resolve(oc, ocDefs);
    const pNode = resolve(p, pDefs);
    if (!describesObject(pNode)) return withCeiling(lenient(ocNode), ceilingOf(pNode));
    if (Array.isArray(ocNode.anyOf)) {
      // The object branches of OpenCode's alternatives take Pantheon's additions.
      const { anyOf, ...rest } = ocNode;
      return {
        ...(lenient(rest) as JsonObject),
        anyOf: anyOf.map((branch) => (isObject(branch) && describesObject(resolve(branch, ocDefs)) ? merge(branch, pNode) : lenient(branch))),
        ...(typeof pNode.description === 'string' ? { description: pNode.description } : {}),
      };
    }
    return describesObject(ocNode) ? mergeObject(ocNode, pNode) : lenient(ocNode);
  }

  const root = merge({ ...opencode, $defs: null }, { ...pantheon, $defs: null, [OPENCODE_MARK]: true }) as JsonObject;
  delete root.$defs;
  for (const key of ['allowComments', 'allowTrailingCommas', '$comment', 'x-opencode-version', '$defs']) delete root[key];
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    ...(typeof pantheon.$id === 'string' ? { $id: pantheon.$id } : {}),
    ...(typeof pantheon.title === 'string' ? { title: pantheon.title } : {}),
    ...root,
    $defs: Object.fromEntries(Object.keys(defs).sort().map((k) => [k, defs[k] as Json])),
  };
}
