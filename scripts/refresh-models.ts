/**
 * Refreshes data/models-dev/: a compact snapshot of the models.dev catalogue (MIT, ./LICENSE there)
 * that Pantheon uses for providers a config names without declaring them (AI SDK package, base URL,
 * key variables) and for models' context/output limits and prices.
 *
 *   providers.json  { source, providers: { <id>: { name, npm, api?, env } } }        read by `config validate`
 *   models.json     { <provider>: { <model>: [context, output, in, out, cacheRead, cacheWrite, flags, override?] } }
 *                   read only when a model's limits or price are needed
 * Prices are USD per million tokens; flags: 1 image input, 2 pdf input, 4 reasoning, 8 tool calls,
 * 16 takes a temperature; `override` is `{npm?, api?}` where a model differs from its provider.
 *
 * Usage: `npx node scripts/refresh-models.ts [--from FILE|URL | --from-opencode]`
 *   default         https://models.dev/api.json
 *   --from-opencode the snapshot built into the pinned opencode-ai release (`opencode serve`, GET /provider)
 */
import fs from 'node:fs';
import path from 'node:path';
import { ensureOpencode, OPENCODE_VERSION, startOpencodeServer } from './lib/opencode-ai.ts';

const repoRoot = path.resolve(import.meta.dirname, '..');
const OUT_DIR = path.join(repoRoot, 'data', 'models-dev');
const API_URL = 'https://models.dev/api.json';

type Dict = Record<string, unknown>;
const isDict = (v: unknown): v is Dict => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

interface Model {
  npm?: string;
  api?: string;
  context: number;
  output: number;
  cost: [number, number, number, number];
  image: boolean;
  pdf: boolean;
  reasoning: boolean;
  toolCall: boolean;
  temperature: boolean;
}
interface Provider {
  id: string;
  name: string;
  npm?: string;
  api?: string;
  env: string[];
  models: Record<string, Model>;
}

/** models.dev's api.json: `{ <id>: { name, npm, api, env, models: { <id>: { limit, cost, modalities, … } } } }`. */
function fromApiJson(data: Dict): Provider[] {
  return Object.entries(data).flatMap(([id, p]) => {
    if (!isDict(p)) return [];
    const models: Record<string, Model> = {};
    for (const [mid, m] of Object.entries(isDict(p.models) ? p.models : {})) {
      if (!isDict(m)) continue;
      const limit = isDict(m.limit) ? m.limit : {};
      const cost = isDict(m.cost) ? m.cost : {};
      const input = isDict(m.modalities) && Array.isArray(m.modalities.input) ? m.modalities.input : [];
      const own = isDict(m.provider) ? m.provider : {};
      models[mid] = {
        ...(str(own.npm) ? { npm: str(own.npm) } : {}),
        ...(str(own.api) ? { api: str(own.api) } : {}),
        context: num(limit.context),
        output: num(limit.output),
        cost: [num(cost.input), num(cost.output), num(cost.cache_read), num(cost.cache_write)],
        image: input.includes('image'),
        pdf: input.includes('pdf'),
        reasoning: m.reasoning === true,
        toolCall: m.tool_call === true,
        temperature: m.temperature !== false,
      };
    }
    const env = Array.isArray(p.env) ? p.env.filter((e): e is string => typeof e === 'string') : [];
    return [{ id, name: str(p.name) ?? id, ...(str(p.npm) ? { npm: str(p.npm) } : {}), ...(str(p.api) ? { api: str(p.api) } : {}), env, models }];
  });
}

/** OpenCode's `GET /provider` (`{all: [{id, name, env, models: {<id>: {api: {npm, url}, limit, cost, capabilities}}}]}`). */
function fromOpencodeProviders(data: Dict): Provider[] {
  const all = Array.isArray(data.all) ? data.all.filter(isDict) : [];
  return all.map((p) => {
    const raw = Object.entries(isDict(p.models) ? p.models : {}).filter((e): e is [string, Dict] => isDict(e[1]));
    // The provider's package and URL are its models' most common ones; the others are overrides.
    const counts = new Map<string, number>();
    for (const [, m] of raw) {
      const api = isDict(m.api) ? m.api : {};
      const key = JSON.stringify([str(api.npm) ?? null, str(api.url) ?? null]);
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    const top = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
    const [npm, api] = (top ? JSON.parse(top) : [null, null]) as [string | null, string | null];
    const models: Record<string, Model> = {};
    for (const [mid, m] of raw) {
      const own = isDict(m.api) ? m.api : {};
      const caps = isDict(m.capabilities) ? m.capabilities : {};
      const input = isDict(caps.input) ? caps.input : {};
      const limit = isDict(m.limit) ? m.limit : {};
      const cost = isDict(m.cost) ? m.cost : {};
      const cache = isDict(cost.cache) ? cost.cache : {};
      models[mid] = {
        ...(str(own.npm) && str(own.npm) !== npm ? { npm: str(own.npm) } : {}),
        ...(str(own.url) !== (api ?? undefined) && str(own.url) ? { api: str(own.url) } : {}),
        context: num(limit.context),
        output: num(limit.output),
        cost: [num(cost.input), num(cost.output), num(cache.read), num(cache.write)],
        image: input.image === true,
        pdf: input.pdf === true,
        reasoning: caps.reasoning === true,
        toolCall: caps.toolcall === true,
        temperature: caps.temperature !== false,
      };
    }
    const env = Array.isArray(p.env) ? p.env.filter((e): e is string => typeof e === 'string') : [];
    const id = String(p.id);
    return { id, name: str(p.name) ?? id, ...(npm ? { npm } : {}), ...(api ? { api } : {}), env, models };
  });
}

function tuple(m: Model): unknown[] {
  const flags = (m.image ? 1 : 0) | (m.pdf ? 2 : 0) | (m.reasoning ? 4 : 0) | (m.toolCall ? 8 : 0) | (m.temperature ? 16 : 0);
  const override = { ...(m.npm ? { npm: m.npm } : {}), ...(m.api ? { api: m.api } : {}) };
  return [m.context, m.output, ...m.cost, flags, ...(Object.keys(override).length ? [override] : [])];
}

function write(providers: Provider[], source: string): void {
  providers.sort((a, b) => a.id.localeCompare(b.id));
  const index = Object.fromEntries(
    providers.map((p) => [p.id, { name: p.name, ...(p.npm ? { npm: p.npm } : {}), ...(p.api ? { api: p.api } : {}), env: p.env }]),
  );
  const models = Object.fromEntries(
    providers.map((p) => [p.id, Object.fromEntries(Object.keys(p.models).sort().map((id) => [id, tuple(p.models[id] as Model)]))]),
  );
  fs.mkdirSync(OUT_DIR, { recursive: true });
  // One provider per line: small diffs on refresh, and still compact.
  const lines = (obj: Dict): string =>
    `{\n${Object.entries(obj).map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',\n')}\n}\n`;
  fs.writeFileSync(path.join(OUT_DIR, 'providers.json'), `{"source":${JSON.stringify(source)},"providers":${lines(index)}}\n`);
  fs.writeFileSync(path.join(OUT_DIR, 'models.json'), lines(models));
  const count = providers.reduce((n, p) => n + Object.keys(p.models).length, 0);
  process.stdout.write(`wrote data/models-dev/ (${providers.length} providers, ${count} models) from ${source}\n`);
}

async function fromOpencode(): Promise<Provider[]> {
  const bin = await ensureOpencode((line) => process.stderr.write(`${line}\n`));
  const server = await startOpencodeServer(bin);
  try {
    const response = await fetch(`${server.url}/provider`);
    if (!response.ok) throw new Error(`GET /provider answered ${response.status}`);
    return fromOpencodeProviders((await response.json()) as Dict);
  } finally {
    server.stop();
  }
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  if (args.includes('--from-opencode')) {
    write(await fromOpencode(), `models.dev, as built into opencode-ai ${OPENCODE_VERSION}`);
  } else {
    const at = args.indexOf('--from');
    const source = at >= 0 && args[at + 1] ? (args[at + 1] as string) : API_URL;
    const text = /^https?:\/\//.test(source) ? await (await fetch(source)).text() : fs.readFileSync(source, 'utf8');
    write(fromApiJson(JSON.parse(text) as Dict), `models.dev (${source}), ${new Date().toISOString().slice(0, 10)}`);
  }
}
