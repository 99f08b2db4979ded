/**
 * The OpenAI-compatible gateway (`/v1`): chat completions (JSON, or SSE with `stream: true`), the
 * same calls in the Responses API's shape, legacy text completions, embeddings and the model list. Each request is one
 * scheduled call of the core gateway (src/core/gateway.ts; embeddings: gateway-embed.ts): shared
 * limits, retries, fallbacks, cooldowns and the cache; `x-pantheon-model` says which model served it.
 * Errors are OpenAI's `{error: {message, type, param, code}}`.
 */
import type { LanguageModelV4StreamPart } from '@ai-sdk/provider';
import { cacheControlOf, type CacheControl } from '../../cache/response-cache.ts';
import { AGENT_PREFIX, completionsChain, gatewayCall, gatewayChain, gatewayModels, type GatewayAnswer, type GatewayProject } from '../../core/gateway.ts';
import { embeddingsModel, gatewayEmbed } from '../../core/gateway-embed.ts';
import { gatewaySessionId, hubEmitter, type GatewayOutcome } from '../../core/gateway-events.ts';
import { recordGatewayOverhead } from '../../core/metrics.ts';
import type { CallInFlight } from '../calls-in-flight.ts';
import { serverGatewaySettings } from '../client-keys.ts';
import { gatewayHttpError } from '../gateway-error.ts';
import { gatewayAdmit, gatewayGate } from '../gateway-gate.ts';
import { laneHeaders } from '../lane-headers.ts';
import { HttpError } from '../http-error.ts';
import { toCallOptions, type CallOptions, type ChatBody } from '../openai/chat-request.ts';
import { completionJson, completionSse, newCompletion } from '../openai/chat-response.ts';
import { CHAT_SCHEMAS } from '../openai/chat-schemas.ts';
import { COMPLETIONS_SCHEMAS, completionCallOptions, textCompletionJson, textCompletionSse, type CompletionsBody } from '../openai/completions.ts';
import { EMBEDDINGS_SCHEMAS, embeddingInputs, embeddingsJson, type EmbeddingsBody } from '../openai/embeddings.ts';
import { chatBodyOf, inputItemsOf, RESPONSES_SCHEMAS, storedInputOf, type ResponsesBody } from '../openai/responses-request.ts';
import { newId, newResponse, responseJson, responseSse } from '../openai/responses-response.ts';
import { cancelResponse, currentResponse, resumeStream, startBackground } from '../openai/background-responses.ts';
import { requireResponseStore, responseStoreOf, type ResponseStore, type StoredResponse } from '../openai/response-store.ts';
import { loadToolSchemaValidator } from '../openai/tool-schema.ts';
import { ref, type ResponseDoc, type RouteAnswer, type RouteGroup, type RouteRequest } from '../route.ts';
import { instanceFor } from '../state.ts';
import type { ResolvedModel } from '../../providers/resolve-model.ts';
import { streamOf, type PartsOrStream } from '../../scheduler/stream-parts.ts';
import type { WireCall } from '../../scheduler/wire-attempt.ts';

const TYPE: Record<number, string> = { 400: 'invalid_request_error', 401: 'invalid_request_error', 403: 'permission_error', 404: 'invalid_request_error', 405: 'invalid_request_error', 409: 'invalid_request_error', 413: 'invalid_request_error', 429: 'rate_limit_error' };
/** Codes whose OpenAI error type is not the status's: a spent budget is OpenAI's `insufficient_quota` (429, retrying does not help). */
const TYPE_OF_CODE: Record<string, string> = { BUDGET_EXCEEDED: 'insufficient_quota' };
const CODE: Record<string, string> = { UNAUTHORIZED: 'invalid_api_key', MODEL_NOT_FOUND: 'model_not_found', RATE_LIMITED: 'rate_limit_exceeded', BODY_TOO_LARGE: 'request_too_large', BAD_JSON: 'invalid_json' };

/** OpenAI's error body. */
export function openAiError(error: HttpError): object {
  const message = error.hint ? `${error.message} ${error.hint}` : error.message;
  const param = typeof error.details.param === 'string' ? error.details.param : typeof error.details.field === 'string' ? error.details.field : null;
  const type = TYPE_OF_CODE[error.code] ?? TYPE[error.status] ?? (error.status >= 500 ? 'api_error' : 'invalid_request_error');
  const code = typeof error.details.providerCode === 'string' ? error.details.providerCode : (CODE[error.code] ?? error.code.toLowerCase());
  return { error: { message, type, param, code } };
}

/** The longest rate-limit wait this request allows: the config's bound, lowered by `x-pantheon-max-wait` (ms) or the client's own timeout (`x-stainless-timeout`, s). */
function maxWait(req: RouteRequest, bound: number): number {
  let wait = bound;
  const given = req.header('x-pantheon-max-wait');
  const asked = Number(given);
  if (given !== undefined && Number.isFinite(asked) && asked >= 0) wait = Math.min(wait, asked);
  const timeout = Number(req.header('x-stainless-timeout'));
  if (Number.isFinite(timeout) && timeout > 0) wait = Math.min(wait, timeout * 1000);
  return wait;
}

/** The gateway's own time for one request, answered at `end`: everything but the providers' answers, rate-limit waits and the waits between retries. */
function record(req: RouteRequest, started: number, answer: Pick<GatewayAnswer, 'model' | 'timing'>, end: number): void {
  const { sentAt, waitedMs, retryMs, provider } = answer.timing;
  // The providers' time as Pantheon's client measured it, with the waits between; else (an attempt
  // went through the AI SDK) everything from the first request out to the answer, retries' waits included.
  const upstreamMs = provider && !provider.unmeasured ? provider.providerMs + waitedMs + retryMs : sentAt === undefined ? waitedMs : end - sentAt + waitedMs;
  recordGatewayOverhead(req.state.host.metrics, { provider: answer.model.provider, model: answer.model.label, totalMs: end - started, upstreamMs: Math.min(upstreamMs, end - started) });
}

/** What the request's `Cache-Control` asks of the response cache, as a call option. */
function cacheControlOfRequest(req: RouteRequest): { cacheControl?: CacheControl } {
  const control = cacheControlOf(req.header('cache-control'));
  return control ? { cacheControl: control } : {};
}

/** The body without its `null` fields: OpenAI clients send `null` for settings left unset (a copy only when there are some). */
function withoutNulls<T extends object>(raw: T): T {
  const fields = raw as Record<string, unknown>;
  for (const key in fields) {
    if (fields[key] === null) return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== null)) as T;
  }
  return raw;
}

/** How a front-end's format writes a model's answer: whole (JSON), or as SSE frames. */
interface AnswerFormat {
  json(output: PartsOrStream): Promise<object>;
  sse(stream: ReadableStream<LanguageModelV4StreamPart>, options: { renderError: (error: unknown) => object; onEnd: (status: GatewayOutcome, error?: unknown) => void }): ReadableStream<Uint8Array>;
}

async function chat(req: RouteRequest, raw: ChatBody): Promise<RouteAnswer> {
  const started = performance.now();
  const body = withoutNulls(raw);
  if (body.messages.length === 0) throw new HttpError(400, 'BAD_REQUEST', 'messages: must not be empty.', { hint: 'Send at least one message.', details: { param: 'messages' } });
  if (body.tools?.length) await loadToolSchemaValidator();
  const includeUsage = body.stream_options?.include_usage === true;
  return modelCall(req, started, chatRequest(body), (label) => {
    const meta = newCompletion(label);
    return { json: (output) => completionJson(meta, output), sse: (stream, options) => completionSse(meta, stream, { includeUsage, ...options }) };
  });
}

/** OpenAI's legacy text completions, sent as they are to the `/completions` of OpenAI-compatible providers (core/gateway.ts completionsChain). */
async function complete(req: RouteRequest, raw: CompletionsBody): Promise<RouteAnswer> {
  const started = performance.now();
  const body = withoutNulls(raw);
  const includeUsage = body.stream_options?.include_usage === true;
  const call: ModelRequest = { model: body.model, options: completionCallOptions(body), wire: { body, stream: body.stream === true, endpoint: 'completions' }, chainOf: completionsChain };
  return modelCall(req, started, call, (label) => {
    const meta = newCompletion(label, 'cmpl');
    return { json: (output) => textCompletionJson(meta, output), sse: (stream, options) => textCompletionSse(meta, stream, { includeUsage, ...options }) };
  });
}

/**
 * OpenAI's Responses API, served as the chat completion it amounts to (responses-request.ts): a
 * conversation continued with `previous_response_id` is the stored one's items then this input; the
 * response is kept (response-store.ts: this machine's file, or the state's Redis) before the client
 * has it, unless `store: false`. `background: true` runs it detached (background-responses.ts).
 */
async function respond(req: RouteRequest, raw: ResponsesBody): Promise<RouteAnswer> {
  const started = performance.now();
  const body = withoutNulls(raw);
  if (body.tools?.length) await loadToolSchemaValidator();
  const owner = ownerOf(req);
  const store = body.store !== false;
  const background = body.background === true;
  if (background && !store) throw new HttpError(400, 'BAD_REQUEST', 'background: a background response must be stored; it cannot be made with store: false.', { hint: 'Leave `store` out (or set it true), or leave `background` out.', details: { param: 'background' } });
  let input = inputItemsOf(body.input);
  // Needed to continue, to reference or to run in the background (a 503 when it cannot be had), else only to keep.
  const needed = background || body.previous_response_id !== undefined || input.some((item) => item.type === 'item_reference');
  const opened = needed ? await requireResponseStore(req.state) : store ? await responseStoreOf(req.state) : undefined;
  const stored = opened instanceof HttpError ? undefined : opened;
  if (stored) input = await withReferences(stored, input, owner);
  const earlier = body.previous_response_id === undefined || !stored ? [] : await conversationOf(stored, body.previous_response_id, owner);
  const chatBody = chatBodyOf(body, earlier, input);
  const kept = { id: '', owner, createdAt: Date.now(), ...(body.previous_response_id === undefined ? {} : { previousId: body.previous_response_id }), input };
  if (background && stored) {
    // A model that is not there is the request's 404, as without `background`: nothing is kept.
    const instance = await instanceFor(req.state, req.header('x-opencode-directory'), req.query('directory'));
    try {
      gatewayChain(instance, chatBody.model);
    } catch (error) {
      throw gatewayHttpError(error);
    }
    const meta = newResponse(body.model, body);
    return startBackground(req, {
      store: stored,
      meta,
      kept: { ...kept, id: meta.id },
      stream: body.stream === true,
      errorOf: (error) => {
        const { error: detail } = openAiError(gatewayHttpError(error)) as { error: { code: unknown; message: string } };
        return { code: String(detail.code ?? 'server_error'), message: detail.message };
      },
      call: (detached, onAnswer) =>
        modelCall(detached, started, chatRequest(chatBody), (label) => {
          meta.model = label;
          onAnswer();
          return { json: (output) => responseJson(meta, output), sse: (stream, options) => responseSse(meta, stream, options) };
        }),
    });
  }
  return modelCall(req, started, chatRequest(chatBody), (label) => {
    const meta = newResponse(label, body);
    if (store) meta.keep = (response, output) => (stored ? keepResponse(req, stored, { ...kept, id: meta.id, response, output }) : Promise.resolve(false));
    return { json: (output) => responseJson(meta, output), sse: (stream, options) => responseSse(meta, stream, options) };
  });
}

/** The input with each `item_reference` replaced by the stored item it names (a 400 naming it when there is none). */
async function withReferences(stored: ResponseStore, input: Record<string, unknown>[], owner: string): Promise<Record<string, unknown>[]> {
  const found = new Map<string, Record<string, unknown> | undefined>();
  for (const item of input) {
    if (item.type === 'item_reference' && typeof item.id === 'string' && item.id !== '' && !found.has(item.id)) found.set(item.id, await stored.item(item.id, owner));
  }
  return storedInputOf(input, newId, (id) => found.get(id));
}

/** The conversation behind `previous_response_id`; a background response whose server is gone is marked failed first (then continued, as any failed one). */
async function conversationOf(stored: ResponseStore, id: string, owner: string): Promise<Record<string, unknown>[]> {
  try {
    return await stored.conversation(id, owner);
  } catch (error) {
    if (!(error instanceof HttpError && /is still running/.test(error.message))) throw error;
    // Its server is gone: marked failed now (as a read would), it is continued as any failed response is.
    if ((await currentResponse(stored, id, owner)).status !== 'failed') throw error;
    return stored.conversation(id, owner);
  }
}

/** Keeps a response; a failure (a full disk, a broken file, Redis away) is logged and the response says `store: false`. */
async function keepResponse(req: RouteRequest, stored: ResponseStore, response: StoredResponse): Promise<boolean> {
  try {
    return await stored.save(response);
  } catch (error) {
    req.state.log(`warning: a response could not be stored (${error instanceof Error ? error.message : String(error)}); it was answered with store: false.`);
    return false;
  }
}

/** A model call as a route makes it: the model named, the AI SDK's options, the request as sent, and how the model names its chain. */
interface ModelRequest {
  model: string;
  options: CallOptions;
  wire: WireCall;
  chainOf: (project: GatewayProject, model: string) => ResolvedModel[];
}

/** A chat-completions body as a model call (its chain: gatewayChain). */
function chatRequest(body: ChatBody): ModelRequest {
  return { model: body.model, options: toCallOptions(body), wire: { body: body as unknown as Record<string, unknown>, stream: body.stream === true }, chainOf: gatewayChain };
}

/**
 * Runs one model call as a call in flight of the server (calls-in-flight.ts): refused (503) once the
 * server is stopping, and over once its answer is sent and its bookkeeping (`after`) done, or once it
 * failed. A call the server stopped is answered with why (503 with Retry-After).
 */
async function inFlight(req: RouteRequest, run: (call: CallInFlight) => Promise<RouteAnswer>): Promise<RouteAnswer> {
  const call = req.state.calls.start(req);
  let answer: RouteAnswer;
  try {
    answer = await run(call);
  } catch (error) {
    call.end();
    throw call.stopped ?? error;
  }
  const { after } = answer;
  if (!after) call.end();
  else answer.after = () => after().finally(() => call.end());
  return answer;
}

/** One model call through the gateway, its answer written in `format`'s shape. */
function modelCall(req: RouteRequest, started: number, call: ModelRequest, formatFor: (model: string) => AnswerFormat): Promise<RouteAnswer> {
  return inFlight(req, (waits) => callModel(req, started, call, formatFor, waits));
}

async function callModel(req: RouteRequest, started: number, call: ModelRequest, formatFor: (model: string) => AnswerFormat, waits: CallInFlight): Promise<RouteAnswer> {
  const state = req.state;
  const [instance, settings] = await Promise.all([instanceFor(state, req.header('x-opencode-directory'), req.query('directory')), serverGatewaySettings(state)]);
  const signal = req.signal;
  let answer;
  let chain: ResolvedModel[] | undefined;
  // The model's bookkeeping once its answer is complete (release, usage, `step_finish`): done after
  // the answer is sent, with `done` and the overhead metric (RouteAnswer.after).
  let finish: (() => Promise<void>) | undefined;
  try {
    chain = call.chainOf(instance, call.model);
    const runId = gatewaySessionId();
    const emit = hubEmitter(state.host.hub, instance.projectRoot, runId);
    answer = await state.host.instances.use(instance, () =>
      gatewayCall(instance, {
        model: call.model,
        chain,
        options: call.options,
        signal,
        emit,
        runId,
        maxWaitMs: maxWait(req, settings.maxWaitMs),
        ...(req.client ? { fairness: req.client.name } : {}),
        wire: call.wire,
        whole: !call.wire.stream,
        waits,
        ...cacheControlOfRequest(req),
        deferFinish: (work) => {
          finish = work;
        },
      }),
    );
  } catch (error) {
    const http = gatewayHttpError(error);
    if (chain && http.status === 429 && !http.final) await laneHeaders(req, instance, chain[0], false);
    throw http;
  }
  try {
    await laneHeaders(req, instance, chain[0], true);
  } catch (error) {
    const failed = answer;
    await settle(finish, () => failed.end('failed', error));
    throw error;
  }
  const format = formatFor(answer.model.label);
  const headers: Record<string, string> = { 'x-pantheon-model': answer.model.label, ...(answer.cached ? { 'x-pantheon-cache': 'hit' } : {}) };
  if (!call.wire.stream) {
    let json;
    try {
      json = await format.json(answer.output);
    } catch (error) {
      answer.end(signal.aborted ? 'cancelled' : 'failed', error);
      throw gatewayHttpError(error);
    }
    const answered = performance.now();
    const done = answer;
    return { status: 200, headers: { 'content-type': 'application/json', ...headers }, json, after: () => settle(finish, () => {
        done.end('success');
        record(req, started, done, answered);
      }) };
  }
  let ended: { status: GatewayOutcome; error?: unknown; at: number } | undefined;
  const sse = format.sse(streamOf(answer.output), { renderError: (error) => openAiError(gatewayHttpError(error)), onEnd: (status, error) => {
      ended = { status, error, at: performance.now() };
    } });
  const done = answer;
  return { status: 200, headers: { ...headers, 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' }, stream: sse, after: () => settle(finish, () => {
      const end = ended ?? { status: 'cancelled', at: performance.now() };
      done.end(end.status, end.error);
      if (end.status !== 'cancelled') record(req, started, done, end.at);
    }) };
}

function embed(req: RouteRequest, raw: EmbeddingsBody): Promise<RouteAnswer> {
  return inFlight(req, (waits) => embedCall(req, raw, waits));
}

async function embedCall(req: RouteRequest, raw: EmbeddingsBody, waits: CallInFlight): Promise<RouteAnswer> {
  const started = performance.now();
  const state = req.state;
  const body = withoutNulls(raw);
  if (body.model.startsWith(AGENT_PREFIX)) {
    throw new HttpError(400, 'BAD_REQUEST', `model "${body.model}": embeddings take a model (provider/model), not an agent.`, { hint: 'GET /v1/models lists the models.', details: { param: 'model' } });
  }
  const [instance, settings] = await Promise.all([instanceFor(state, req.header('x-opencode-directory'), req.query('directory')), serverGatewaySettings(state)]);
  let answer;
  try {
    const runId = gatewaySessionId();
    const call = {
      model: body.model,
      body,
      inputs: embeddingInputs(body.input),
      ...(body.dimensions === undefined ? {} : { dimensions: body.dimensions }),
      signal: req.signal,
      emit: hubEmitter(state.host.hub, instance.projectRoot, runId),
      runId,
      maxWaitMs: maxWait(req, settings.maxWaitMs),
      waits,
      ...cacheControlOfRequest(req),
    };
    answer = await state.host.instances.use(instance, () => gatewayEmbed(instance, call));
  } catch (error) {
    const http = gatewayHttpError(error);
    if (http.status === 429 && !http.final) await laneHeaders(req, instance, embeddingsModel(instance, body.model), false);
    throw http;
  }
  const done = answer;
  try {
    await laneHeaders(req, instance, answer.model, true);
  } catch (error) {
    await done.finish();
    throw error;
  }
  const answered = performance.now();
  const json = embeddingsJson(answer.model.label, answer.vectors, answer.promptTokens, body.encoding_format === 'base64');
  return {
    status: 200,
    headers: { 'content-type': 'application/json', 'x-pantheon-model': answer.model.label, ...(answer.cached ? { 'x-pantheon-cache': 'hit' } : {}) },
    json,
    after: async () => {
      await done.finish();
      record(req, started, done, answered);
    },
  };
}

/** The model's deferred bookkeeping (when its answer completed), then the call's end: the end comes even when the bookkeeping fails. */
async function settle(finish: (() => Promise<void>) | undefined, end: () => void): Promise<void> {
  try {
    await finish?.();
  } finally {
    end();
  }
}

/** The error answers of the model routes, in OpenAI's shape (`own` says a route's own of them). */
function errorAnswers(own: Record<number, string> = {}): Record<number, ResponseDoc> {
  const said: Record<number, string> = {
    400: 'Bad request (the field is named)',
    401: 'Missing or wrong API key',
    404: 'Unknown model or agent',
    413: 'Body too large',
    429: 'A rate limit (the key’s, or the provider’s beyond the allowed wait; Retry-After says when), or a budget that would be crossed (type insufficient_quota, code budget_exceeded, x-should-retry: false)',
    502: 'Every model of the chain failed (each attempt listed), or a project plugin’s hook on the call failed (code plugin_failed: a provider’s auth loader, chat.params, chat.headers)',
    503: 'The server is shutting down (code shutting_down), or is receiving as many request bodies as it holds at once (code server_busy); Retry-After says when to send it again',
    ...own,
  };
  const out: Record<number, ResponseDoc> = {};
  for (const [status, description] of Object.entries(said)) out[Number(status)] = { description, schema: ref('OpenAIError') };
  return out;
}

export const openAiRoutes: RouteGroup = {
  name: 'openai',
  description: 'OpenAI-compatible gateway: any OpenAI client gets the configured limits, retries, fallbacks, cooldowns and cache. `model` is `provider/model` (then the top-level fallbacks) or `agent/<name>` (that agent’s chain).',
  prefix: '/v1',
  gate: gatewayGate,
  admit: gatewayAdmit,
  renderError: (error) => openAiError(error),
  schemas: { ...CHAT_SCHEMAS, ...RESPONSES_SCHEMAS, ...COMPLETIONS_SCHEMAS, ...EMBEDDINGS_SCHEMAS },
  routes: [
    {
      method: 'post',
      path: '/v1/chat/completions',
      operationId: 'openai.chat.completions',
      summary: 'Create a chat completion',
      description:
        'One scheduled request along the model’s chain. `stream: true` answers SSE chunks (`stream_options.include_usage` adds a usage chunk). A rate-limit wait longer than server.maxWaitMs (default 30 s), the `x-pantheon-max-wait` header (ms) or the client’s `x-stainless-timeout` is answered 429 with Retry-After. `Cache-Control: no-cache` asks the provider again (its answer then kept); `no-store` leaves the response cache alone.',
      body: ref('ChatCompletionRequest'),
      responses: {
        200: { description: 'The completion (JSON), or chunks (text/event-stream); header x-pantheon-model names the model that served it', schema: { type: 'object' } },
        ...errorAnswers(),
      },
      serve: (req, { body }) => chat(req, body as ChatBody),
    },
    {
      method: 'post',
      path: '/v1/responses',
      operationId: 'openai.responses.create',
      summary: 'Create a response (OpenAI’s Responses API)',
      description:
        'The same scheduled request as a chat completion (the model’s chain, or an agent’s), in the Responses API’s shape: `input` as a text or items (messages, `function_call`, `function_call_output`), `instructions`, function `tools`, `text.format`, `max_output_tokens`, `reasoning.effort`; `stream: true` answers its SSE events. Kept (`store`, the default) 30 days for the API key, on this machine or on the state’s Redis (shared by every server on it): `previous_response_id` and item references continue it. `background: true` (needs `store`) answers `queued` at once and runs the request detached; poll GET /v1/responses/{id}, cancel with POST …/cancel. OpenAI’s own tools (web search, file search, …) are a 400.',
      body: ref('ResponsesRequest'),
      responses: {
        200: { description: 'The response object (JSON), or its events (text/event-stream); header x-pantheon-model names the model that served it', schema: { type: 'object' } },
        ...errorAnswers({ 400: 'Bad request (the field is named, as sent), or what needs a stored response' }),
      },
      serve: (req, { body }) => respond(req, body as ResponsesBody),
    },
    {
      method: 'get',
      path: '/v1/responses/{response_id}',
      operationId: 'openai.responses.retrieve',
      summary: 'Retrieve a stored response (OpenAI’s Responses API)',
      description: 'A response made with `store` (OpenAI’s default) by the same API key in the last 30 days, as it was answered, or a background one as it stands (`queued`, `in_progress`, then `completed`, `incomplete`, `failed` or `cancelled`; one whose server stopped is `failed`). `stream=true` streams a background response made with `stream: true` again (SSE), after the event `starting_after`, then the rest as it comes, on any server of the same state.',
      params: { response_id: { description: 'The response’s id (`resp_…`)' } },
      query: { stream: { description: '`true`: a background streamed response’s events (SSE)' }, starting_after: { description: 'With `stream=true`: the sequence number of the last event the client has' }, include: { description: 'Taken; the stored response is answered whole' } },
      responses: { 200: { description: 'The response object, or its events with `stream=true`', schema: { type: 'object' } }, ...errorAnswers({ 400: '`stream=true` for a response that is not a streamed background one', 404: 'No such response for this API key (or past its time, or made with `store: false`)' }) },
      serve: async (req, { params }) => {
        const store = await requireResponseStore(req.state);
        if (req.query('stream') === 'true') return resumeStream(req, store, params.response_id as string, ownerOf(req));
        return json(await currentResponse(store, params.response_id as string, ownerOf(req)));
      },
    },
    {
      method: 'delete',
      path: '/v1/responses/{response_id}',
      operationId: 'openai.responses.delete',
      summary: 'Delete a stored response (OpenAI’s Responses API)',
      description: 'Deletes the response and its items; a later response that continued it can no longer be continued (`previous_response_id` naming it, or one after it, is a 400).',
      params: { response_id: { description: 'The response’s id (`resp_…`)' } },
      responses: { 200: { description: '`{id, object: "response", deleted: true}`', schema: { type: 'object' } }, ...errorAnswers({ 404: 'No such response for this API key' }) },
      serve: async (req, { params }) => {
        const id = params.response_id as string;
        await (await requireResponseStore(req.state)).delete(id, ownerOf(req));
        return json({ id, object: 'response', deleted: true });
      },
    },
    {
      method: 'get',
      path: '/v1/responses/{response_id}/input_items',
      operationId: 'openai.responses.inputItems.list',
      summary: 'List a stored response’s input items (OpenAI’s Responses API)',
      description: 'The items of the response’s own `input` (not those of the responses it continued), each with an id; item references as the items they named. A page: `limit` 1–100 (default 20), `order` `desc` (default, newest first) or `asc`, `after` an item id of the last page.',
      params: { response_id: { description: 'The response’s id (`resp_…`)' } },
      query: { after: { description: 'The id of the last item of the page before' }, limit: { description: '1–100 (default 20)' }, order: { description: '`desc` (default) or `asc`' }, include: { description: 'Taken; items are answered whole' } },
      responses: { 200: { description: 'OpenAI’s list: `{object: "list", data, first_id, last_id, has_more}`', schema: { type: 'object' } }, ...errorAnswers({ 400: 'A bad `limit`, `order` or `after`', 404: 'No such response for this API key' }) },
      serve: async (req, { params }) => {
        const page = await (await requireResponseStore(req.state)).inputItems(params.response_id as string, ownerOf(req), pageOf(req));
        return json({ object: 'list', data: page.data, first_id: page.data[0]?.id ?? null, last_id: page.data.at(-1)?.id ?? null, has_more: page.hasMore });
      },
    },
    {
      method: 'post',
      path: '/v1/responses/{response_id}/cancel',
      operationId: 'openai.responses.cancel',
      summary: 'Cancel a background response (OpenAI’s Responses API)',
      description: 'Cancels a `queued` or `in_progress` background response, on whichever server of the same state runs it (that server stops its call within about a second), and answers it with `status: "cancelled"`; cancelling a cancelled one answers it again. A response that was not made in the background, or has ended, is a 400. A client stops a response answered as it runs by closing its request.',
      params: { response_id: { description: 'The response’s id (`resp_…`)' } },
      responses: { 200: { description: 'The response object, `status: "cancelled"`', schema: { type: 'object' } }, ...errorAnswers({ 400: 'Not a background response, or one that has ended', 404: 'No such response for this API key' }) },
      serve: async (req, { params }) => json(await cancelResponse(req.state, await requireResponseStore(req.state), params.response_id as string, ownerOf(req))),
    },
    {
      method: 'post',
      path: '/v1/completions',
      operationId: 'openai.completions.create',
      summary: 'Create a text completion (OpenAI’s legacy completions)',
      description:
        'What code editors’ autocompletion sends: `prompt` (one text or token array), `suffix` for fill-in-the-middle, `max_tokens`, `stop`, `echo`, `logprobs`; `stream: true` answers SSE chunks. Sent as it is to the provider’s `/completions`: OpenAI-compatible providers only (the model, then those of the top-level fallbacks that are), not agents. One scheduled request, as a chat completion is (limits, retries, fallbacks, cooldowns, budgets, the cache, `Cache-Control`).',
      body: ref('CompletionRequest'),
      responses: {
        200: { description: 'The `text_completion` object (JSON), or its chunks (text/event-stream); header x-pantheon-model names the model that served it', schema: { type: 'object' } },
        ...errorAnswers({ 400: 'Bad request (the field is named), more than one prompt, an agent, or a model whose provider takes no text completions' }),
      },
      serve: (req, { body }) => complete(req, body as CompletionsBody),
    },
    {
      method: 'post',
      path: '/v1/embeddings',
      operationId: 'openai.embeddings.create',
      summary: 'Create embeddings',
      description:
        'One scheduled request on the named model (limits, retries, cooldowns, budgets, usage, the response cache; no fallback to another model, whose vectors would not compare). Inputs: a text, up to 2,048 texts, or token arrays (OpenAI-compatible providers only). Fields Pantheon does not read (NVIDIA NIM’s `input_type`, …) go up as they are. `encoding_format: "base64"` answers little-endian float32 in base64.',
      body: ref('EmbeddingsRequest'),
      responses: {
        200: { description: 'OpenAI’s embeddings list; header x-pantheon-model names the model', schema: { type: 'object' } },
        ...errorAnswers({ 400: 'Bad request (the field is named), an agent named, or a provider without embeddings', 404: 'Unknown model', 502: 'The model failed after its retries (each attempt listed), or its provider’s plugin auth loader failed (code plugin_failed)' }),
      },
      serve: (req, { body }) => embed(req, body as EmbeddingsBody),
    },
    {
      method: 'get',
      path: '/v1/models',
      operationId: 'openai.models.list',
      summary: 'List models',
      description: 'Every configured model (`provider/model`) and every agent (`agent/<name>`).',
      responses: { 200: { description: 'OpenAI’s model list', schema: { type: 'object' } } },
      serve: async (req) => {
        const instance = await instanceFor(req.state, req.header('x-opencode-directory'), req.query('directory'));
        const created = Math.floor(req.state.host.startedAt / 1000);
        return { status: 200, headers: { 'content-type': 'application/json' }, json: { object: 'list', data: gatewayModels(instance.config).map((m) => modelObject(m, created)) } };
      },
    },
    {
      method: 'get',
      path: '/v1/models/{model+}',
      operationId: 'openai.models.retrieve',
      summary: 'Retrieve a model',
      description: 'One entry of GET /v1/models by its id: as OpenAI clients send it, its slashes percent-encoded (`p%2Fm`, `agent%2Fhelper`), or as it is (`/v1/models/nvidia-nim/meta/llama-3.3-70b-instruct`).',
      params: { model: { description: '`provider/model` or `agent/<name>`' } },
      responses: { 200: { description: 'OpenAI’s model object', schema: { type: 'object' } }, 404: { description: 'No such model or agent', schema: ref('OpenAIError') } },
      serve: (req, { params }) => retrieveModel(req, params.model ?? ''),
    },
  ],
};

const json = (body: object): RouteAnswer => ({ status: 200, headers: { 'content-type': 'application/json' }, json: body });

/** Whose stored responses the request may see (client-keys.ts `Client.owner`). */
const ownerOf = (req: RouteRequest): string => req.client?.owner ?? 'open';

/** The input items page the query asks for, or a 400 naming the parameter. */
function pageOf(req: RouteRequest): { after?: string; limit: number; order: 'asc' | 'desc' } {
  const limitText = req.query('limit');
  const limit = limitText === undefined ? 20 : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new HttpError(400, 'BAD_REQUEST', 'limit: expected a whole number from 1 to 100.', { hint: 'Leave it out for 20.', details: { param: 'limit' } });
  const order = req.query('order') ?? 'desc';
  if (order !== 'asc' && order !== 'desc') throw new HttpError(400, 'BAD_REQUEST', 'order: expected "asc" or "desc".', { hint: 'Leave it out for newest first.', details: { param: 'order' } });
  const after = req.query('after');
  return { ...(after ? { after } : {}), limit, order };
}

/** An entry of the model list as OpenAI's API shapes it. */
function modelObject(m: { id: string; provider: string }, created: number): object {
  return { id: m.id, object: 'model', created, owned_by: m.provider };
}

/** One model or agent of the list, or OpenAI's 404 (`model_not_found`). */
async function retrieveModel(req: RouteRequest, id: string): Promise<RouteAnswer> {
  const instance = await instanceFor(req.state, req.header('x-opencode-directory'), req.query('directory'));
  const found = gatewayModels(instance.config).find((m) => m.id === id);
  if (!found) {
    const shown = id.length > 256 ? `${id.slice(0, 256)}…` : id;
    throw new HttpError(404, 'MODEL_NOT_FOUND', `No model or agent "${shown}" here.`, { hint: 'GET /v1/models lists them.', details: { param: 'model' } });
  }
  return { status: 200, headers: { 'content-type': 'application/json' }, json: modelObject(found, Math.floor(req.state.host.startedAt / 1000)) };
}
