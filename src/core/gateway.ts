/**
 * One model call for a gateway front-end (the server's OpenAI-compatible `/v1`): the caller names a
 * model ref (its chain: that model, then the top-level `fallbacks`) or `agent/<name>` (that agent's
 * chain), and the call runs as ONE scheduled request through the instance's scheduler — the shared
 * ledger's limits, budgets, retries, fallbacks, cooldowns and the response cache — exactly like a step of a
 * `run`. No tools are run here: tool calls are the caller's to answer. Nothing here knows HTTP or
 * OpenAI's wire format; the front-end maps its format onto the AI SDK's call options and back.
 */
import type { LanguageModelV4CallOptions } from '@ai-sdk/provider';
import { agentChain, agentModelOptions, agentNames } from '../agents/resolve-agent.ts';
import { configuredModels } from '../agents/configured-models.ts';
import { cacheFor, type CacheControl } from '../cache/response-cache.ts';
import type { Config } from '../config/schema-types.ts';
import { isPantheonError, PantheonError } from '../errors.ts';
import type { EventInput } from '../events.ts';
import { parseModelRef, type ModelSpecInput } from '../providers/model-ref.ts';
import { OPENAI_COMPATIBLE } from '../providers/build-model.ts';
import { CLIENT_FIELDS } from '../providers/openai-wire.ts';
import { providerOff } from '../providers/provider-filter.ts';
import { resolveModel, type ResolveContext, type ResolvedModel } from '../providers/resolve-model.ts';
import { budgetGate } from '../run/budget.ts';
import { createChainModel } from '../scheduler/chain-model.ts';
import type { PartsOrStream } from '../scheduler/stream-parts.ts';
import type { WireCall } from '../scheduler/wire-attempt.ts';
import { providerAuthOf } from '../plugins/auth-loader.ts';
import { gatewayPreparer } from '../plugins/gateway-hooks.ts';
import { CallEvents, gatewaySessionId, type GatewayOutcome } from './gateway-events.ts';
import type { TurnServices } from './session-turn.ts';

export const AGENT_PREFIX = 'agent/';

/** What a gateway request's models are resolved in: its project's config, and its plugins (their `auth` loaders serve its providers). */
export type GatewayProject = Pick<TurnServices, 'config' | 'plugins'>;

export interface GatewayCall {
  /** `provider/model[:variant]` or `agent/<name>`. */
  model: string;
  /** The chain `model` names, when the caller has resolved it already (`gatewayChain`). */
  chain?: ResolvedModel[];
  /** The AI SDK call: prompt, tools, tool choice, sampling settings. */
  options: Omit<LanguageModelV4CallOptions, 'abortSignal' | 'includeRawChunks'>;
  signal?: AbortSignal;
  /**
   * The call's id (the server's `gw_…` session id): its `perRun` budget (each gateway request is a run
   * of its own) and its run in the usage log.
   */
  runId?: string;
  /** Longest wait for a rate limit before the call fails with RATE_LIMITED (RateLimitWaitError). */
  maxWaitMs?: number;
  /** Whom the call is for (the gateway key's name): a lane takes each client's queued calls in turn. */
  fairness?: string;
  /**
   * The call's events (retry, fallback, rate_limited, cache_hit, step_start, step_finish, error,
   * done), unstamped: a server passes `hubEmitter(…)` so they reach its one event stream.
   */
  emit?: (event: EventInput) => void;
  /**
   * The request as the front-end received it in OpenAI's chat-completions format (`/v1`): models on
   * OpenAI-compatible providers are sent it directly, without the AI SDK (scheduler/wire-attempt.ts).
   * `options` must say the same: it serves the other models, the cache and the estimates.
   */
  wire?: WireCall;
  /** Takes a model's bookkeeping once its answer is complete, to run after the answer is sent (ChainModelOptions.deferFinish). */
  deferFinish?: (finish: () => Promise<void>) => void;
  /** The request's `Cache-Control`: `no-cache` asks a fresh answer (kept), `no-store` leaves the cache alone. */
  cacheControl?: CacheControl;
  /** The caller reads the answer whole (a JSON answer): one that came whole is handed over as its parts (ChainModel.answer). */
  whole?: boolean;
  /** Told when the call starts waiting on a rate limit (true) and when it goes to a provider (false): a stopping server refuses the waiting ones. */
  waits?: { waiting(on: boolean): void };
}

export interface GatewayAnswer {
  /** The model answering (`provider/model`), known before the first part. */
  model: ResolvedModel;
  /** Whether the answer came from the response cache. */
  cached: boolean;
  /** The answer's parts: at once when it came whole and the call reads it whole (`whole`), else as a stream. */
  output: PartsOrStream;
  /**
   * When (performance.now()) the request first went to a provider; how long it waited on rate limits
   * and between retries; and, for models called through Pantheon's own client, how long it waited on
   * the providers themselves (`provider`: their requests out to their answers' last bytes, summed
   * as the answer is read; `unmeasured` once an attempt went through the AI SDK instead).
   */
  timing: { sentAt: number | undefined; waitedMs: number; retryMs: number; provider?: { providerMs: number; unmeasured?: boolean } };
  /**
   * The front-end says the answer is over: sent in full, broken off by an error, or dropped by the
   * client. Emits `error` (failed) and `done`; only the first call counts.
   */
  end(status: GatewayOutcome, error?: unknown): void;
}

/**
 * Chains resolved in the last second, per loaded config (a loaded config never changes, and belongs
 * to one project, whose plugins are loaded with it): a busy gateway does not resolve its models (and
 * read the auth store) on every request, and a key added with `opencode auth login` (or a plugin's
 * login) is still picked up within a second.
 */
const chains = new WeakMap<object, Map<string, { chain: ResolvedModel[]; at: number }>>();
const CHAIN_TTL_MS = 1000;
const MAX_CACHED_CHAINS = 1000;

/** The model chain a gateway `model` names; unknown models, providers and agents are UNKNOWN_MODEL/UNKNOWN_AGENT. */
export function gatewayChain(project: GatewayProject, model: string, env?: NodeJS.ProcessEnv): ResolvedModel[] {
  const { config } = project;
  if (env) return resolveChain(project, model, env);
  let known = chains.get(config);
  if (!known) chains.set(config, (known = new Map()));
  const now = Date.now();
  const hit = known.get(model);
  if (hit && now - hit.at < CHAIN_TTL_MS) return hit.chain;
  const chain = resolveChain(project, model);
  if (hit || known.size < MAX_CACHED_CHAINS) known.set(model, { chain, at: now });
  return chain;
}

/** How the project's models are resolved: with its plugins' `auth` loaders (a provider they serve is called with their fetch), and `env`. */
function resolveContext(project: GatewayProject, env?: NodeJS.ProcessEnv): ResolveContext {
  const providerAuth = providerAuthOf(project.plugins, env);
  return { ...(providerAuth ? { providerAuth } : {}), ...(env ? { env } : {}) };
}

function resolveChain(project: GatewayProject, model: string, env?: NodeJS.ProcessEnv): ResolvedModel[] {
  const { config } = project;
  let specs: { spec: ModelSpecInput; where: string }[];
  // An agent's chain takes its model options and variant, as its calls in a run do.
  let agentCtx: Pick<ResolveContext, 'agentOptions' | 'agentVariant'> = {};
  if (model.startsWith(AGENT_PREFIX) && !config.provider?.[AGENT_PREFIX.slice(0, -1)]) {
    const name = model.slice(AGENT_PREFIX.length);
    const agent = config.agent?.[name];
    if (!agent || agent.disable) {
      throw new PantheonError('UNKNOWN_AGENT', `model "${model}": no agent named "${name}".`, { hint: `Agents: ${agentNames(config as Config).map((n) => `agent/${n}`).join(', ') || 'none'}.` });
    }
    const { chain } = agentChain(config as Config, name);
    if (chain.length === 0) throw new PantheonError('UNKNOWN_MODEL', `model "${model}": the agent has no model configured.`, { hint: 'Set "model" at the top level or on the agent.' });
    specs = chain.map((spec, i) => ({ spec, where: i === 0 ? `agent.${name}.model` : `agent.${name}.fallbacks[${i - 1}]` }));
    agentCtx = { agentOptions: agentModelOptions(config as Config, name), ...(agent.variant ? { agentVariant: agent.variant } : {}) };
  } else {
    if (!model.includes('/')) {
      throw new PantheonError('UNKNOWN_MODEL', `model "${model}": expected provider/model or agent/<name>.`, { hint: 'GET /v1/models lists the models and agents.' });
    }
    specs = [{ spec: model, where: 'model' }, ...(config.fallbacks ?? []).map((spec, i) => ({ spec, where: `fallbacks[${i}]` }))];
  }
  const head = parseModelRef(specs[0]?.spec as ModelSpecInput, specs[0]?.where);
  const off = providerOff(config, head.provider);
  if (off && !model.startsWith(AGENT_PREFIX)) throw new PantheonError('UNKNOWN_MODEL', `model "${model}": provider "${head.provider}" is switched off (${off}).`);
  const on = specs.filter((s) => providerOff(config, parseModelRef(s.spec, s.where).provider) === undefined);
  if (on.length === 0) throw new PantheonError('UNKNOWN_MODEL', `model "${model}": every model of its chain is on a provider that is switched off.`);
  const ctx = resolveContext(project, env);
  return on.map((s, i) => {
    try {
      return resolveModel(config as Config, s.spec, { ...agentCtx, ...ctx }, s.where);
    } catch (error) {
      // The requested model itself is what the client got wrong; a bad fallback is the config's problem.
      if (i === 0 && error instanceof PantheonError && (error.code === 'UNKNOWN_PROVIDER' || error.code === 'UNKNOWN_MODEL')) {
        throw new PantheonError('UNKNOWN_MODEL', error.message.replace(/^model: /, `model "${model}": `), { ...(error.hint ? { hint: error.hint } : {}) });
      }
      throw error;
    }
  });
}

/** `budget.downgrade` as models (resolved when a budget is first crossed); for a text completion, those that take one. */
function downgradeChain(project: GatewayProject, completions: boolean): ResolvedModel[] {
  const ctx = resolveContext(project);
  const chain = (project.config.budget?.downgrade ?? []).map((spec, i) => resolveModel(project.config as Config, spec, ctx, `budget.downgrade[${i}]`));
  return completions ? chain.filter((m) => m.wire) : chain;
}

/**
 * The chain a text completion (`/v1/completions`) names: that model, then those of the top-level
 * `fallbacks` that take one. Only Pantheon's own client sends text completions (to an
 * OpenAI-compatible provider's `/completions`, called directly): the AI SDK's providers have no such
 * call, and turning the prompt into a chat message would change what it asks (a fill-in-the-middle
 * prompt, a template of the model's own). An agent's chain is for chat (its prompt, its options).
 */
export function completionsChain(project: GatewayProject, model: string): ResolvedModel[] {
  if (model.startsWith(AGENT_PREFIX) && !project.config.provider?.[AGENT_PREFIX.slice(0, -1)]) {
    throw new PantheonError('PROVIDER_BAD_REQUEST', `model "${model}": text completions take a model (provider/model), not an agent.`, { hint: 'Use /v1/chat/completions for an agent; GET /v1/models lists the models.', fields: { param: 'model' } });
  }
  const chain = gatewayChain(project, model);
  const head = chain[0] as ResolvedModel;
  if (!head.wire) {
    const why =
      head.npm !== OPENAI_COMPATIBLE ? `uses ${head.npm}, which has no text completions`
      : head.pluginAuth ? 'is called through its plugin’s auth loader (the AI SDK with the plugin’s fetch)'
      : 'is reached through the AI SDK here (an HTTP proxy is set in the environment)';
    throw new PantheonError('PROVIDER_BAD_REQUEST', `model "${model}": text completions go only to OpenAI-compatible providers that Pantheon calls directly; provider "${head.provider}" ${why}.`, { hint: 'Use /v1/chat/completions for this model.', fields: { param: 'model' } });
  }
  return chain.filter((m) => m.wire);
}

/** What a gateway offers: every configured model (`provider/model`) and every agent (`agent/<name>`). */
export function gatewayModels(config: Readonly<Config>): { id: string; kind: 'model' | 'agent'; provider: string; chain?: string[] }[] {
  const models = configuredModels(config as Config)
    .filter((m) => providerOff(config, m.provider) === undefined)
    .map((m) => ({ id: m.ref, kind: 'model' as const, provider: m.provider }));
  const agents = agentNames(config as Config).map((name) => ({
    id: `${AGENT_PREFIX}${name}`,
    kind: 'agent' as const,
    provider: 'pantheon',
    chain: agentChain(config as Config, name).chain.map((s) => (typeof s === 'string' ? s : `${s.provider}/${s.id}`)),
  }));
  return [...models, ...agents];
}

/** Whether the client asked for token log probabilities (`logprobs`, one of its fields sent as they are). */
function wantsLogprobs(options: GatewayCall['options']): boolean {
  const fields = options.providerOptions?.[CLIENT_FIELDS];
  return fields !== undefined && fields.logprobs !== undefined && fields.logprobs !== false;
}

/**
 * Sends one call along the chain and resolves once a model (or the cache) has started answering:
 * the answer's model is known before its first part. Failures before that (every model failed, a
 * wait longer than `maxWaitMs`, cancelled) reject.
 */
export async function gatewayCall(services: TurnServices, call: GatewayCall): Promise<GatewayAnswer> {
  const tags = call.model.startsWith(AGENT_PREFIX) ? { agent: call.model.slice(AGENT_PREFIX.length) } : {};
  // An unknown model is the client's mistake, answered at once: no call, no events.
  const chain = call.chain ?? gatewayChain(services, call.model);
  // The config's budgets, as for a CLI request: the call is its own run (perRun), today's spend
  // (perDay) and, for `agent/<name>`, the agent's (perAgent); checked and reserved before it is sent.
  const runId = call.runId ?? gatewaySessionId();
  const gate = budgetGate(services.config as Config, services.runtime.ledger, runId);
  const budget = gate ? { gate, agent: tags.agent ?? '', downgrade: () => downgradeChain(services, call.wire?.endpoint === 'completions') } : undefined;
  const events = new CallEvents(call.emit, tags, gate ? () => gate.status(tags.agent ? [tags.agent] : []) : undefined);
  let serving: ResolvedModel | undefined;
  let cached = false;
  const timing: GatewayAnswer['timing'] = { sentAt: undefined, waitedMs: 0, retryMs: 0 };
  // The project's plugins' `chat.params` and `chat.headers` on a chat call (plugins/gateway-hooks.ts):
  // its attempts then go through each model's client with the hooks' changes, not as the client's body.
  const prepareCall = call.wire?.endpoint === 'completions' ? undefined : gatewayPreparer(services.plugins, runId, tags.agent ?? '', chain[0] as ResolvedModel);
  const wire = call.wire && !prepareCall ? { ...call.wire, timing: { providerMs: 0 } } : undefined;
  // The cache keeps an answer's text, not its token log probabilities: a call asking for them is always sent.
  const cache = wantsLogprobs(call.options) ? undefined : cacheFor(services.runtime.cache, call.cacheControl);
  const model = createChainModel({
    chain,
    scheduler: services.runtime.scheduler,
    ...(cache ? { cache } : {}),
    ...(budget ? { budget } : {}),
    ...(call.runId ? { runId: call.runId } : {}),
    ...(wire ? { wire } : {}),
    ...(call.deferFinish ? { deferFinish: call.deferFinish } : {}),
    ...(prepareCall ? { prepareCall } : {}),
    ctx: {
      tags,
      emit: (event) => {
        if (event.type === 'cache_hit') cached = true;
        else if (event.type === 'step_start') {
          timing.sentAt ??= performance.now();
          call.waits?.waiting(false);
        } else if (event.type === 'rate_limited') {
          timing.waitedMs += event.waitMs;
          call.waits?.waiting(true);
        }
        else if (event.type === 'retry') timing.retryMs += event.delayMs;
        call.emit?.(event);
      },
      ...(call.signal ? { signal: call.signal } : {}),
      ...(call.maxWaitMs === undefined ? {} : { maxWaitMs: call.maxWaitMs }),
      ...(call.fairness === undefined ? {} : { fairness: call.fairness }),
    },
    onModel: (m) => {
      serving = m;
    },
    onServed: (m, usage, fromCache, reason) => events.served(m, usage, fromCache, reason),
  });
  let output;
  try {
    output = await model.answer({ ...call.options, ...(call.signal ? { abortSignal: call.signal } : {}) }, call.whole === true);
  } catch (error) {
    events.end(call.signal?.aborted || (isPantheonError(error) && error.code === 'CANCELLED') ? 'cancelled' : 'failed', error);
    throw error;
  }
  // The providers' time as measured on the wire, read when the answer is over (a cut-off stream asks again, maybe of a fallback).
  if (wire && !cached) timing.provider = wire.timing;
  return { model: serving ?? (chain[0] as ResolvedModel), cached, output, timing, end: (status, error) => events.end(status, error) };
}
