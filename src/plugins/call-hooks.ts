/**
 * The plugins' hooks on each model call of a turn, as OpenCode's LLMRequestPrep runs them before it
 * streams: `experimental.chat.system.transform` (the system prompt, as a list of texts), then
 * `chat.params` (temperature, topP, topK, maxOutputTokens and the provider's options, changed in
 * place and sent), then `chat.headers` (extra HTTP headers for the provider's request). They run
 * for each attempt, with the model that attempt goes to: a fallback's call gets its own (OpenCode
 * has one model per call, and its hooks answer for that model; a hook that sets a model's options
 * must see the model they are sent to).
 */
import type { LanguageModelV4CallOptions, LanguageModelV4Prompt } from '@ai-sdk/provider';
import { isSecretHeader } from '../config/secrets.ts';
import { checkHeaders } from '../providers/header-check.ts';
import { providerOptionsKey, type ResolvedModel } from '../providers/resolve-model.ts';
import { PluginHookError, runHook } from './hook-error.ts';
import { pluginModel, pluginProvider } from './hook-shapes.ts';
import type { PluginHost } from './types.ts';

/** A call made ready for `model`, and the secret values its hooks added (masked in what its failure says). */
export interface PreparedCall {
  call: LanguageModelV4CallOptions;
  secrets: string[];
}

/** Changes one model call as the project's plugins would for the model it goes to. */
export type PrepareCall = (model: ResolvedModel, call: LanguageModelV4CallOptions) => Promise<PreparedCall>;

/** The turn the calls belong to. */
export interface CallTurn {
  sessionID: string;
  agent: string;
  /** The turn's user message in OpenCode's shape (pluginUserMessage), as `chat.message` left it. */
  message: Record<string, unknown>;
  /**
   * `agent` when no person sent the turn's message: a sub-task's (another agent delegated it) or a
   * compaction's. The built-in plugins read it from the hooks' input under TURN_INITIATOR (OpenCode's
   * ask the session's parent and the message's parts of their client).
   */
  initiator?: 'agent';
}

/** The key of CallTurn.initiator in the input of `chat.params` and `chat.headers` (a symbol: external plugins see OpenCode's input). */
export const TURN_INITIATOR = Symbol.for('pantheon.turn.initiator');

const CALL_HOOKS = ['experimental.chat.system.transform', 'chat.params', 'chat.headers'] as const;

/**
 * The turn's call hooks, or undefined when no plugin has one (no cost then). `system: false` leaves
 * out the system transform (a gateway call's prompt is its client's: plugins/gateway-hooks.ts).
 */
export function callPreparer(host: PluginHost | undefined, turn: CallTurn, { system = true }: { system?: boolean } = {}): PrepareCall | undefined {
  const hooks = system ? CALL_HOOKS : CALL_HOOKS.slice(1);
  // A built-in plugin (plugins/builtin/) is loaded by the first call to its provider, with its hooks.
  const builtins = host?.builtinProviders?.() ?? [];
  if (!host || (builtins.length === 0 && !hooks.some((hook) => host.has(hook)))) return undefined;
  return async (model, given) => {
    if (builtins.includes(model.provider)) await host.loadBuiltins?.(model.provider);
    if (!hooks.some((hook) => host.has(hook))) return { call: given, secrets: [] };
    const shown = pluginModel(model);
    let call = given;
    if (system && host.has('experimental.chat.system.transform')) call = await transformSystem(host, turn.sessionID, shown, call);
    const wantParams = host.has('chat.params');
    const wantHeaders = host.has('chat.headers');
    if (!wantParams && !wantHeaders) return { call, secrets: [] };
    const input = { sessionID: turn.sessionID, agent: turn.agent, model: shown, provider: pluginProvider(model, shown), message: turn.message, ...(turn.initiator ? { [TURN_INITIATOR]: turn.initiator } : {}) };
    if (wantParams) call = await params(host, input, model, call);
    if (!wantHeaders) return { call, secrets: [] };
    const added = await headers(host, input, given.abortSignal);
    const secrets = Object.entries(added).flatMap(([name, value]) => (isSecretHeader(name, value) ? [value] : []));
    return { call: Object.keys(added).length ? { ...call, headers: { ...call.headers, ...added } } : call, secrets };
  };
}

/**
 * OpenCode's system transform: the system prompt as a list of texts the hooks change; when they
 * added more than one text after an unchanged first, the added ones are joined into one (as
 * OpenCode keeps a cacheable head and one tail).
 */
async function transformSystem(host: PluginHost, sessionID: string, model: Record<string, unknown>, call: LanguageModelV4CallOptions): Promise<LanguageModelV4CallOptions> {
  const prompt: LanguageModelV4Prompt = call.prompt;
  let head = 0;
  while (head < prompt.length && prompt[head]?.role === 'system') head += 1;
  const leading = prompt.slice(0, head) as Extract<LanguageModelV4Prompt[number], { role: 'system' }>[];
  const system = leading.length ? leading.map((m) => m.content) : [''];
  const first = system[0];
  const out = await runHook(host, 'experimental.chat.system.transform', { sessionID, model }, { system }, call.abortSignal);
  if (!Array.isArray(out.system) || out.system.some((s) => typeof s !== 'string')) {
    throw new PluginHookError('experimental.chat.system.transform', new Error('output.system must be a list of strings'));
  }
  const texts = [...out.system];
  if (texts.length > 2 && texts[0] === first) texts.splice(1, texts.length - 1, texts.slice(1).join('\n'));
  const messages = texts.filter((text) => text !== '').map((content, i) => ({ ...(leading[i] ?? { role: 'system' as const }), content }));
  return { ...call, prompt: [...messages, ...prompt.slice(head)] };
}

const NUMERIC = ['temperature', 'topP', 'topK', 'maxOutputTokens'] as const;

async function params(host: PluginHost, input: Record<string, unknown>, model: ResolvedModel, call: LanguageModelV4CallOptions): Promise<LanguageModelV4CallOptions> {
  const key = providerOptionsKey(model.npm, model.ref.provider);
  // A copy: a hook changes it in place, and the model's own options serve its later calls.
  const options = structuredClone((call.providerOptions?.[key] ?? {}) as Record<string, unknown>);
  const output = { temperature: call.temperature, topP: call.topP, topK: call.topK, maxOutputTokens: call.maxOutputTokens, options };
  const out = await runHook(host, 'chat.params', input, output, call.abortSignal);
  for (const field of NUMERIC) {
    const value = out[field];
    if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value))) {
      throw new PluginHookError('chat.params', new Error(`output.${field} must be a number or undefined`));
    }
  }
  if (out.options === null || typeof out.options !== 'object' || Array.isArray(out.options)) {
    throw new PluginHookError('chat.params', new Error('output.options must be an object'));
  }
  const { [key]: _own, ...others } = call.providerOptions ?? {};
  const providerOptions = Object.keys(out.options).length ? { ...others, [key]: out.options as Record<string, never> } : others;
  return { ...call, temperature: out.temperature, topP: out.topP, topK: out.topK, maxOutputTokens: out.maxOutputTokens, providerOptions };
}

/** The headers the hooks added, checked as the config's are (a name or value HTTP refuses is named, never its value). */
async function headers(host: PluginHost, input: Record<string, unknown>, signal: AbortSignal | undefined): Promise<Record<string, string>> {
  const out = await runHook(host, 'chat.headers', input, { headers: {} as Record<string, unknown> }, signal);
  if (out.headers === null || typeof out.headers !== 'object' || Array.isArray(out.headers)) {
    throw new PluginHookError('chat.headers', new Error('output.headers must be an object'));
  }
  const added: Record<string, string> = {};
  for (const [name, value] of Object.entries(out.headers)) {
    if (value === undefined || value === null) continue;
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      throw new PluginHookError('chat.headers', new Error(`output.headers[${JSON.stringify(name.slice(0, 40))}] must be a string`));
    }
    added[name] = String(value);
  }
  try {
    checkHeaders(added, 'output');
  } catch (error) {
    throw new PluginHookError('chat.headers', error);
  }
  return added;
}
