/**
 * Refreshes schema/opencode/config.json: OpenCode's own config schema (the one
 * `"$schema": "https://opencode.ai/config.json"` names), taken from the pinned `opencode-ai` release.
 *
 * OpenCode generates that file from its Effect schema `Config.Info`; the released binary serves the
 * same schema as the `Config` component of its OpenAPI document (`opencode serve`, `GET /doc`).
 * This script starts the pinned binary (isolated HOME, no plugins), takes that component with every
 * definition it refers to, and applies the published file's normalisation: `null` branches dropped
 * from `anyOf`, one-item `allOf`s inlined, integers without a maximum capped at 2^53-1, and
 * `model`/`small_model` pointing at models.dev's model list.
 *
 * Usage: `npx node scripts/refresh-opencode-schema.ts [--from FILE|URL]`
 *   --from  take the published schema file itself instead (e.g. https://opencode.ai/config.json).
 */
import fs from 'node:fs';
import path from 'node:path';
import { ensureOpencode, OPENCODE_VERSION, startOpencodeServer } from './lib/opencode-ai.ts';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const repoRoot = path.resolve(import.meta.dirname, '..');
export const OPENCODE_SCHEMA_FILE = path.join(repoRoot, 'schema', 'opencode', 'config.json');
const MODEL_REF = 'https://models.dev/model-schema.json#/$defs/Model';
const COMPONENTS = '#/components/schemas/';

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The `Config` component and, as `$defs`, every component it reaches. */
function configFromOpenApi(doc: JsonObject): JsonObject {
  const schemas = isObject(doc.components) && isObject(doc.components.schemas) ? doc.components.schemas : {};
  const defs: JsonObject = {};
  const pending = ['Config'];
  const rewrite = (node: Json): Json => {
    if (Array.isArray(node)) return node.map(rewrite);
    if (!isObject(node)) return node;
    const out: JsonObject = {};
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string' && value.startsWith(COMPONENTS)) {
        const name = value.slice(COMPONENTS.length);
        if (!(name in defs) && !pending.includes(name)) pending.push(name);
        out.$ref = `#/$defs/${name}`;
      } else {
        out[key] = rewrite(value);
      }
    }
    return out;
  };
  let root: JsonObject | undefined;
  while (pending.length > 0) {
    const name = pending.shift() as string;
    const schema = schemas[name];
    if (!isObject(schema)) throw new Error(`the OpenAPI document has no schema "${name}"`);
    const rewritten = rewrite(schema) as JsonObject;
    if (name === 'Config') root = rewritten;
    else defs[name] = rewritten;
  }
  if (!root) throw new Error('the OpenAPI document has no Config schema');
  const sorted = Object.fromEntries(Object.keys(defs).sort().map((k) => [k, defs[k] as Json]));
  return { $schema: 'https://json-schema.org/draft/2020-12/schema', ...root, $defs: sorted };
}

/** The published file's normalisation (see the header). */
function normalize(node: Json, key?: string): Json {
  if (Array.isArray(node)) return node.map((item) => normalize(item));
  if (!isObject(node)) return node;
  let schema: JsonObject = Object.fromEntries(Object.entries(node).map(([k, v]) => [k, normalize(v, k)]));
  if (Array.isArray(schema.anyOf)) {
    const kept = schema.anyOf.filter((branch) => !(isObject(branch) && branch.type === 'null'));
    if (kept.length !== schema.anyOf.length) {
      const { anyOf: _, ...rest } = schema;
      schema = kept.length === 1 && isObject(kept[0]) ? { ...kept[0], ...rest } : { ...rest, anyOf: kept };
    }
  }
  if (Array.isArray(schema.allOf) && schema.allOf.length === 1 && isObject(schema.allOf[0])) {
    const { allOf: _, ...rest } = schema;
    schema = { ...schema.allOf[0], ...rest };
  }
  if (schema.type === 'integer' && schema.maximum === undefined) schema = { ...schema, maximum: Number.MAX_SAFE_INTEGER };
  if ((key === 'model' || key === 'small_model') && schema.type === 'string') schema = { $ref: MODEL_REF, ...schema };
  return schema;
}

async function fromBinary(): Promise<JsonObject> {
  const bin = await ensureOpencode((line) => process.stderr.write(`${line}\n`));
  const server = await startOpencodeServer(bin);
  try {
    const response = await fetch(`${server.url}/doc`);
    if (!response.ok) throw new Error(`GET /doc answered ${response.status}`);
    const properties = normalize(configFromOpenApi((await response.json()) as JsonObject)) as JsonObject;
    return { ...properties, allowComments: true, allowTrailingCommas: true };
  } finally {
    server.stop();
  }
}

async function fromPublished(source: string): Promise<JsonObject> {
  const text = /^https?:\/\//.test(source) ? await (await fetch(source)).text() : fs.readFileSync(source, 'utf8');
  return JSON.parse(text) as JsonObject;
}

if (import.meta.main) {
  const at = process.argv.indexOf('--from');
  const schema = at > 0 && process.argv[at + 1] ? await fromPublished(process.argv[at + 1] as string) : await fromBinary();
  const out: JsonObject = { $comment: `OpenCode ${OPENCODE_VERSION} (npm opencode-ai), MIT licence (./LICENSE); refreshed by scripts/refresh-opencode-schema.ts`, 'x-opencode-version': OPENCODE_VERSION, ...schema };
  fs.mkdirSync(path.dirname(OPENCODE_SCHEMA_FILE), { recursive: true });
  fs.writeFileSync(OPENCODE_SCHEMA_FILE, `${JSON.stringify(out, null, 2)}\n`);
  process.stdout.write(`wrote ${path.relative(process.cwd(), OPENCODE_SCHEMA_FILE)} (${Object.keys((out.$defs as JsonObject) ?? {}).length} definitions)\n`);
}
