/**
 * GitHub Copilot's own model list, as OpenCode 1.18.33's built-in plugin reads it: `GET /models`
 * of the Copilot API with the login's token (`Authorization`, `User-Agent`, `X-GitHub-Api-Version`,
 * the provider's configured headers), 5 s at most. A model counts when its policy is not
 * `disabled` and it states its prompt and output limits and whether it calls tools; the models
 * offered are those with `model_picker_enabled`. Each becomes a model of OpenCode's shape: its
 * name, limits (`max_context_window_tokens`, else `max_prompt_tokens`; `max_output_tokens`),
 * images (vision, an `image/*` media type), tool calls, reasoning efforts as variants, and its
 * wire protocol from `supported_endpoints` (`/responses` → OpenAI's Responses API,
 * `/chat/completions` → chat completions; `/v1/messages` is Anthropic's messages API, which
 * Pantheon does not speak to Copilot: such a model goes over whichever of the other two it lists).
 *
 * Unlike OpenCode (which asks at every start), the list is kept in Pantheon's state folder
 * (`copilot-models.json`, 0600, by the login's host and a digest of its token, never the token)
 * for MAX_AGE_MS, and fetched again after a login; an older list is used while a new one is asked
 * for behind it (modelList). A refresh still under way when the command is done (or the server
 * stops) is abandoned (background-work.ts), not waited for: the kept list stays as it was, whole
 * (it is only ever replaced by an atomic write).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { sizeText } from '../../config/read-text.ts';
import { writeFileAtomic } from '../../fs-atomic.ts';
import { readCapped } from '../../read-capped.ts';
import { stateDir } from '../../paths.ts';
import { debugNote } from '../../debug-note.ts';
import { startBackgroundWork } from '../../background-work.ts';
import { COPILOT_API_VERSION, copilotBaseURL } from './copilot-login.ts';

/** How long a fetched list is used before it is asked again. */
export const MAX_AGE_MS = 60 * 60 * 1000;
/** How long the list may take to arrive (OpenCode's 5 s). */
const FETCH_MS = 5000;
/** The largest list read (Copilot's own is tens of kB). */
const MAX_LIST_BYTES = 8 * 1024 * 1024;
/** Logins (hosts × tokens) whose lists the cache keeps. */
const KEPT = 4;

export type Endpoint = 'responses' | 'chat';

/** Why a list was not read, on one line for a debug note (a server's text may hold control characters). */
export function whyNot(error: unknown): string {
  // eslint-disable-next-line no-control-regex
  return (error instanceof Error ? error.message : String(error)).replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ').slice(0, 300);
}

/** One model of Copilot's list, the fields used. */
export interface CopilotListed {
  id: string;
  name: string;
  version: string;
  picker: boolean;
  endpoints?: string[];
  family?: string;
  context?: number;
  prompt?: number;
  output: number;
  toolCalls: boolean;
  image: boolean;
  pdf: boolean;
  efforts: string[];
  reasoning: boolean;
  /** USD per million tokens, from `billing.token_prices` (0 when Copilot names none: the subscription pays). */
  cost: { input: number; output: number; cache: number };
}

type Json = Record<string, unknown>;
const isRecord = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : []);

/** One entry of `data`, when it is a model OpenCode would offer (see above); undefined otherwise. */
export function readListed(raw: unknown): CopilotListed | undefined {
  if (!isRecord(raw) || typeof raw.id !== 'string' || !raw.id || !isRecord(raw.capabilities)) return undefined;
  const caps = raw.capabilities;
  const limits = isRecord(caps.limits) ? caps.limits : {};
  const supports = isRecord(caps.supports) ? caps.supports : {};
  const policy = isRecord(raw.policy) ? raw.policy : {};
  const output = num(limits.max_output_tokens);
  const prompt = num(limits.max_prompt_tokens);
  if (policy.state === 'disabled' || output === undefined || prompt === undefined || typeof supports.tool_calls !== 'boolean') return undefined;
  const vision = isRecord(limits.vision) ? strings(limits.vision.supported_media_types) : [];
  const efforts = strings(supports.reasoning_effort);
  const context = num(limits.max_context_window_tokens);
  const billing = isRecord(raw.billing) && isRecord(raw.billing.token_prices) ? raw.billing.token_prices : {};
  const prices = isRecord(billing.default) ? billing.default : {};
  const batch = num(billing.batch_size) ?? 0;
  const per = batch > 0 ? 10_000 / batch : 0;
  return {
    id: raw.id,
    name: typeof raw.name === 'string' && raw.name ? raw.name : raw.id,
    version: typeof raw.version === 'string' ? raw.version : raw.id,
    picker: raw.model_picker_enabled === true,
    ...(Array.isArray(raw.supported_endpoints) ? { endpoints: strings(raw.supported_endpoints) } : {}),
    ...(typeof caps.family === 'string' ? { family: caps.family } : {}),
    ...(context === undefined ? {} : { context }),
    prompt,
    output,
    toolCalls: supports.tool_calls,
    image: supports.vision === true || vision.some((t) => t.startsWith('image/')),
    pdf: supports.vision === true && vision.includes('application/pdf'),
    efforts,
    reasoning: supports.adaptive_thinking === true || efforts.length > 0 || supports.max_thinking_budget !== undefined || supports.min_thinking_budget !== undefined,
    cost: { input: (num(prices.input_price) ?? 0) * per, output: (num(prices.output_price) ?? 0) * per, cache: (num(prices.cache_price) ?? 0) * per },
  };
}

/**
 * The wire protocol of a model: what its `supported_endpoints` name (Responses first, as OpenCode
 * picks it after Anthropic's messages), else OpenCode's rule for a model Copilot did not describe:
 * `gpt-5` and later over the Responses API, except `gpt-5-mini`; everything else over chat completions.
 */
export function endpointOf(apiId: string, endpoints?: readonly string[]): Endpoint {
  if (endpoints?.includes('/responses')) return 'responses';
  if (endpoints?.includes('/chat/completions')) return 'chat';
  const major = /^gpt-(\d+)/.exec(apiId);
  return major && Number(major[1]) >= 5 && !apiId.startsWith('gpt-5-mini') ? 'responses' : 'chat';
}

/** The model of OpenCode's shape for `key`, from Copilot's entry, what the provider already says of it (`given`, which wins for names and options) beneath. */
export function modelOf(key: string, listed: CopilotListed, baseURL: string, given?: Json): Json {
  const givenCaps = isRecord(given?.capabilities) ? given.capabilities : {};
  const givenApi = isRecord(given?.api) ? given.api : {};
  const variants = Object.fromEntries(listed.efforts.map((effort) => [effort, { reasoningEffort: effort, reasoningSummary: 'auto', include: ['reasoning.encrypted_content'] }]));
  return {
    ...given,
    id: key,
    providerID: 'github-copilot',
    name: typeof given?.name === 'string' && given.name !== key ? given.name : listed.name,
    api: { ...givenApi, id: listed.id, url: baseURL, endpoint: endpointOf(listed.id, listed.endpoints) },
    family: typeof given?.family === 'string' ? given.family : (listed.family ?? ''),
    limit: { context: listed.context ?? listed.prompt, ...(listed.prompt === undefined ? {} : { input: listed.prompt }), output: listed.output },
    capabilities: {
      temperature: givenCaps.temperature ?? true,
      reasoning: givenCaps.reasoning === true || listed.reasoning,
      attachment: givenCaps.attachment ?? true,
      toolcall: listed.toolCalls,
      input: { text: true, audio: false, image: listed.image, video: false, pdf: listed.pdf },
      output: { text: true, audio: false, image: false, video: false, pdf: false },
      interleaved: false,
    },
    cost: { input: listed.cost.input, output: listed.cost.output, cache: { read: listed.cost.cache, write: 0 } },
    options: isRecord(given?.options) ? given.options : {},
    headers: isRecord(given?.headers) ? given.headers : {},
    ...(Object.keys(variants).length ? { variants } : {}),
    status: 'active',
  };
}

/**
 * The provider's models with Copilot's list, as OpenCode merges them: a model the provider has
 * and Copilot lists (by its upstream id) is described by Copilot beneath what the provider says;
 * one Copilot does not list is left out; Copilot's others are added under their own id. Only the
 * models Copilot offers in its picker remain.
 */
export function mergeModels(given: Record<string, Json>, list: readonly CopilotListed[], baseURL: string): Record<string, Json> {
  const byId = new Map(list.map((m) => [m.id, m]));
  const out: Record<string, Json> = {};
  for (const [key, model] of Object.entries(given)) {
    const api = isRecord(model.api) ? model.api : {};
    const listed = byId.get(typeof api.id === 'string' ? api.id : key);
    if (listed?.picker) out[key] = modelOf(key, listed, baseURL, model);
  }
  for (const listed of list) if (listed.picker && !(listed.id in out)) out[listed.id] = modelOf(listed.id, listed, baseURL);
  return out;
}

interface CacheFile {
  version: 1;
  lists: Record<string, { at: number; models: CopilotListed[] }>;
}

function cacheFile(env: NodeJS.ProcessEnv): string {
  return path.join(stateDir(env), 'copilot-models.json');
}

/** The cache's key of a login: its Copilot host and a digest of its token (never the token). */
function cacheKey(baseURL: string, token: string): string {
  return createHash('sha256').update(`${baseURL}\u0000${token}`).digest('hex').slice(0, 32);
}

function readCache(env: NodeJS.ProcessEnv): CacheFile {
  try {
    const parsed = JSON.parse(readFileSync(cacheFile(env), 'utf8')) as Partial<CacheFile>;
    if (parsed.version === 1 && isRecord(parsed.lists)) return parsed as CacheFile;
  } catch {
    // Missing or unreadable: no list kept.
  }
  return { version: 1, lists: {} };
}

export interface ListRequest {
  /** The Copilot API (the login's host, or the config's `baseURL`). */
  baseURL: string;
  token: string;
  /** Headers sent with it (the provider's configured ones, then Copilot's). */
  headers: Record<string, string>;
  env: NodeJS.ProcessEnv;
  /** Ask Copilot even when the kept list is fresh (after a login). */
  fresh?: boolean;
  /** With a list older than MAX_AGE_MS, wait for Copilot's answer instead of answering the older list at once (modelList). */
  wait?: boolean;
  now?: number;
}

/** What asking Copilot's list takes for a login: the Copilot API (the config's `baseURL` wins), the token, OpenCode's headers (the provider's configured ones beneath). */
export function listRequest(auth: Record<string, unknown>, options: Json, userAgent: string, env: NodeJS.ProcessEnv): ListRequest | undefined {
  if (typeof auth.refresh !== 'string' || !auth.refresh) return undefined;
  const enterpriseUrl = typeof auth.enterpriseUrl === 'string' && auth.enterpriseUrl ? auth.enterpriseUrl : undefined;
  const configured = typeof options.baseURL === 'string' && options.baseURL ? options.baseURL : undefined;
  const headers = isRecord(options.headers) ? Object.fromEntries(Object.entries(options.headers).flatMap(([k, v]) => (typeof v === 'string' ? [[k, v]] : []))) : {};
  return {
    baseURL: configured ?? copilotBaseURL(enterpriseUrl),
    token: auth.refresh,
    headers: { ...headers, Authorization: `Bearer ${auth.refresh}`, 'User-Agent': userAgent, 'X-GitHub-Api-Version': COPILOT_API_VERSION },
    env,
  };
}

/** Copilot's list from Copilot itself (GET /models), keeping it for next time; throws when it does not answer one (or `stop` ends it first). */
export async function fetchModelList(request: ListRequest, stop?: AbortSignal): Promise<CopilotListed[]> {
  const url = `${request.baseURL.replace(/\/+$/, '')}/models`;
  const timeout = AbortSignal.timeout(FETCH_MS);
  const response = await fetch(url, { headers: request.headers, signal: stop ? AbortSignal.any([stop, timeout]) : timeout });
  if (!response.ok) {
    await response.body?.cancel().catch(() => undefined);
    throw new Error(`GET ${url} answered HTTP ${response.status}`);
  }
  // Copilot's list is tens of kB: a larger one (a proxy sending without end) is refused as it comes.
  const text = await readCapped(response, MAX_LIST_BYTES, (declared) => new Error(`GET ${url} answered ${declared === undefined ? `over ${sizeText(MAX_LIST_BYTES)}` : sizeText(declared)}, more than a model list's ${sizeText(MAX_LIST_BYTES)}`));
  let body: { data?: unknown };
  try {
    body = JSON.parse(text.toString('utf8')) as { data?: unknown };
  } catch {
    throw new Error(`GET ${url} answered no JSON`);
  }
  if (!Array.isArray(body?.data)) throw new Error(`GET ${url} answered no "data" list`);
  const models = body.data.flatMap((raw) => readListed(raw) ?? []);
  // A list with no model described as Copilot describes them (an OpenAI-style list from a proxy) is not Copilot's.
  if (models.length === 0) throw new Error(`GET ${url} answered no model with Copilot's capabilities`);
  const cache = readCache(request.env);
  const kept = Object.entries(cache.lists)
    .filter(([key]) => key !== cacheKey(request.baseURL, request.token))
    .sort(([, a], [, b]) => b.at - a.at)
    .slice(0, KEPT - 1);
  const lists = Object.fromEntries([[cacheKey(request.baseURL, request.token), { at: request.now ?? Date.now(), models }], ...kept]);
  // A state folder that cannot be written keeps the list for this process only.
  await writeFileAtomic(cacheFile(request.env), `${JSON.stringify({ version: 1, lists } satisfies CacheFile)}\n`, 0o600).catch((error: unknown) => debugNote(`github-copilot: Copilot's model list was not kept (${whyNot(error)})`));
  return models;
}

/**
 * What this process asked of Copilot for a login, by cache key: when, and the answer once it came
 * (its list, or that it failed). A server's turns and lists do not ask again while it is fresh, nor
 * again and again of a Copilot that does not answer.
 */
interface Asked {
  at: number;
  list: Promise<CopilotListed[]>;
  settled: boolean;
  failed: boolean;
  /** The list it got, else the last list this process had before it (for a refresh that failed), and when that list came. */
  models?: CopilotListed[];
  modelsAt?: number;
}
const asked = new Map<string, Asked>();
/** Set by `opencode models`: this process waits for a new list rather than answer an older one (modelList). */
let waiting = false;

/** From now on, this process waits for Copilot's answer when its kept list is over an hour old (`opencode models`, which a person runs to see the current list). */
export function waitForModelLists(): void {
  waiting = true;
}
/** How long a failure to get the list stands before it is asked again. */
export const FAILED_MS = 5 * 60 * 1000;

/** Asks Copilot now (the answer kept by fetchModelList); a failure is one debug note, whoever waits on it. */
function ask(key: string, request: ListRequest, now: number, before: Asked | undefined): Asked {
  // Often nobody waits for it (a refresh behind the kept list): a command that is done, a server that stops, abandons it.
  const work = startBackgroundWork();
  const entry: Asked = { at: now, list: fetchModelList(request, work.signal), settled: false, failed: false, ...(before?.models ? { models: before.models, modelsAt: before.modelsAt ?? before.at } : {}) };
  asked.set(key, entry);
  entry.list.then(
    (models) => {
      work.done();
      entry.settled = true;
      entry.models = models;
      entry.modelsAt = now;
    },
    (error: unknown) => {
      work.done();
      entry.settled = true;
      entry.failed = true;
      const why = work.signal.aborted && work.signal.reason instanceof Error ? `abandoned: ${work.signal.reason.message}` : whyNot(error);
      debugNote(`github-copilot: Copilot's model list was not read (${why})`);
    },
  );
  return entry;
}

/**
 * Copilot's list for a login. The kept one while it is fresh (MAX_AGE_MS). An older one (kept on
 * disk, or this process's own) is answered at once and asked again behind it, one refresh at a
 * time: a refresh that fails leaves it as it is and is tried again after FAILED_MS, not at each
 * call (stale-while-revalidate: a server's lists and turns never wait on a slow or absent Copilot
 * once they have a list). With `wait` (or waitForModelLists: `opencode models`, which a person
 * runs to see the current list), an older list is asked again first and answered only if Copilot does not answer. With no
 * list at all, the call waits for Copilot's (at most 5 s), and throws when it does not come.
 */
export async function modelList(request: ListRequest): Promise<CopilotListed[]> {
  const key = cacheKey(request.baseURL, request.token);
  const now = request.now ?? Date.now();
  const before = asked.get(key);
  if (request.fresh) return ask(key, request, now, before).list;
  const kept = readCache(request.env).lists[key];
  const keptModels = kept && Array.isArray(kept.models) ? kept.models : undefined;
  const age = now - (kept?.at ?? 0);
  if (keptModels && age >= 0 && age < MAX_AGE_MS) return keptModels;
  // This process's last ask stands: in flight, a list not yet an hour old (a state folder that cannot be written keeps it here only), or a recent failure.
  const standing = before !== undefined && (!before.settled || (now - before.at >= 0 && now - before.at < (before.failed ? FAILED_MS : MAX_AGE_MS)));
  if (standing && before.settled && !before.failed && before.models) return before.models;
  // The newer of the kept list and the one this process last had.
  const mine = before?.models;
  const older = keptModels && mine ? ((kept?.at ?? 0) >= (before?.modelsAt ?? 0) ? keptModels : mine) : (keptModels ?? mine);
  if (older && !request.wait && !waiting) {
    if (!standing) ask(key, request, now, before);
    return older;
  }
  const entry = standing ? before : ask(key, request, now, before);
  return older ? entry.list.catch(() => older) : entry.list;
}
