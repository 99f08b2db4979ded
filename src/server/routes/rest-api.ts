/**
 * The guide's REST API (`/api/v1`, §32–33) for automation: sessions (list, create, get, patch,
 * delete), a synchronous prompt, an asynchronous prompt journaled as a task to poll, models, tools
 * and MCP status. The same core as the OpenCode API; errors are the guide's
 * `{error: {code, message, details, provider, retry_after, request_id}}`.
 */
import type { Config } from '../../config/schema-types.ts';
import type { TaskInput } from '../../core/async-tasks.ts';
import { gatewayModels } from '../../core/gateway.ts';
import type { PromptOutcome } from '../../core/sessions.ts';
import { isPantheonError } from '../../errors.ts';
import { resolveModel } from '../../providers/resolve-model.ts';
import type { SessionRecord, SessionSummary } from '../../session/store.ts';
import { BUILTIN_TOOL_NAMES } from '../../tools/index.ts';
import { taskView, tasksOf } from '../api/tasks.ts';
import { checkWebhookUrl } from '../api/webhook-url.ts';
import { webhooksOf } from '../api/webhooks.ts';
import { gatewayHttpError } from '../gateway-error.ts';
import { gatewayGate } from '../gateway-gate.ts';
import { laneHeaders } from '../lane-headers.ts';
import { HttpError } from '../http-error.ts';
import { ref, type JsonSchema, type RouteDef, type RouteGroup, type ServerContext } from '../route.ts';
import { instanceFor } from '../state.ts';

const CODES: Record<number, string> = { 400: 'invalid_request', 401: 'unauthorized', 403: 'forbidden', 404: 'not_found', 405: 'invalid_request', 409: 'invalid_request', 413: 'invalid_request', 429: 'rate_limited', 502: 'provider_error' };

/** The guide's error body. */
export function restError(error: HttpError, requestId: string): object {
  const { state: _state, ...details } = error.details;
  return {
    error: {
      code: CODES[error.status] ?? 'server_error',
      message: error.hint ? `${error.message} ${error.hint}` : error.message,
      details: { pantheon_code: error.code, ...details },
      ...(typeof details.provider === 'string' ? { provider: details.provider } : {}),
      ...(error.retryAfter === undefined ? {} : { retry_after: Math.ceil(error.retryAfter) }),
      request_id: requestId,
    },
  };
}

const instance = (c: ServerContext) => instanceFor(c.get('state'), c.req.header('x-opencode-directory'), c.req.query('directory'));

function sessionView(s: SessionSummary | SessionRecord) {
  const own = 'messages' in s ? { ...(s.model ? { model: s.model } : {}), ...(s.system ? { system_prompt: s.system } : {}) } : {};
  return {
    id: s.id,
    title: s.title,
    agent: s.agent,
    project: s.projectRoot,
    ...own,
    tags: s.tags ?? [],
    created_at: new Date(s.createdAt).toISOString(),
    updated_at: new Date(s.updatedAt).toISOString(),
  };
}

/** The guide's session states: `active` while a turn runs, `completed` otherwise; Pantheon never pauses one. */
const STATES = ['active', 'paused', 'completed', 'all'] as const;

/** `tags=a,b` (or `tags=a&tags=b`): the tags a listed session must all have. */
function tagsQuery(c: ServerContext): string[] {
  return c.req.queries('tags')?.flatMap((t) => t.split(',')).map((t) => t.trim()).filter(Boolean) ?? [];
}

/** A model ref the session's turns can resolve, from any of the prompt's model shapes ('' or null: none). */
function sessionModel(config: Config, choice: ModelChoice | null, env: NodeJS.ProcessEnv): string {
  if (choice === null || choice === '') return '';
  const ref = modelRef(choice);
  try {
    resolveModel(config, ref, { env }, 'model');
  } catch (error) {
    if (!isPantheonError(error)) throw error;
    throw new HttpError(400, 'BAD_REQUEST', `model: ${error.message.replace(/^model: /, '')}`, { ...(error.hint ? { hint: error.hint } : {}), details: { field: 'model' } });
  }
  return ref;
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((p: { type?: string; text?: unknown }) => (p.type === 'text' && typeof p.text === 'string' ? p.text : '')).join('');
}

function detailView(s: SessionRecord) {
  return {
    ...sessionView(s),
    messages: s.messages.map((m) => ({ role: m.role, content: textOf(m.content) })),
    usage: { input_tokens: s.usage.inputTokens, output_tokens: s.usage.outputTokens, total_tokens: s.usage.inputTokens + s.usage.outputTokens },
    ...(s.costUSD === undefined ? {} : { cost_usd: s.costUSD }),
  };
}

/** A model as the guide's ModelConfig gives it (`{provider, id}`, as an agent's `model` in the config), OpenCode's API (`{providerID, modelID}`), or a ref. */
type ModelChoice = string | { provider: string; id: string } | { providerID: string; modelID: string };

interface PromptBody {
  parts?: { type: string; text?: string }[];
  text?: string;
  model?: ModelChoice;
  agent?: string;
  system?: string;
  temperature?: number;
  max_tokens?: number;
  stream?: boolean;
  callback_url?: string;
  callback_secret?: string;
}

function modelRef(model: ModelChoice): string {
  if (typeof model === 'string') return model;
  return 'provider' in model ? `${model.provider}/${model.id}` : `${model.providerID}/${model.modelID}`;
}

function promptOf(body: PromptBody): TaskInput {
  const text = body.text ?? (body.parts ?? []).filter((p) => p.type === 'text').map((p) => p.text ?? '').join('\n');
  if (!text.trim()) throw new HttpError(400, 'BAD_REQUEST', 'parts: the prompt has no text.', { hint: 'Send {"parts": [{"type": "text", "text": "…"}]}.', details: { field: 'parts' } });
  if (body.stream === true) {
    throw new HttpError(400, 'BAD_REQUEST', 'stream: this API answers a prompt in one piece.', {
      hint: 'Leave "stream" out; for the answer as it is written, follow GET /event, or use POST /v1/chat/completions with "stream": true.',
      details: { field: 'stream' },
    });
  }
  return {
    text,
    ...(body.model ? { model: modelRef(body.model) } : {}),
    ...(body.agent ? { agent: body.agent } : {}),
    ...(body.system ? { system: body.system } : {}),
    ...(body.temperature === undefined ? {} : { temperature: body.temperature }),
    ...(body.max_tokens === undefined ? {} : { maxOutputTokens: body.max_tokens }),
  };
}

function promptResult(outcome: PromptOutcome) {
  const { result, turn } = outcome;
  if (result.status !== 'success') throw gatewayHttpError(result.error);
  const u = result.usage;
  return {
    message: { id: turn.assistantMessageID, role: 'assistant', content: result.answer, model: result.servedBy.at(-1) },
    usage: { input_tokens: u.inputTokens, output_tokens: u.outputTokens, total_tokens: u.inputTokens + u.outputTokens, ...(result.costUSD === undefined ? {} : { cost_usd: result.costUSD }) },
  };
}

const PART: Record<string, unknown> = { type: 'object', properties: { type: { type: 'string' }, text: { type: 'string' } }, required: ['type'] };
const MODEL_CHOICE: JsonSchema = {
  description: 'The head of the agent’s chain: `provider/model[:variant]`, `{provider, id}` (the guide’s, as an agent’s `model` in the config) or `{providerID, modelID}` (OpenCode’s)',
  anyOf: [
    { type: 'string', minLength: 1 },
    { type: 'object', properties: { provider: { type: 'string', minLength: 1 }, id: { type: 'string', minLength: 1 } }, required: ['provider', 'id'], additionalProperties: false },
    { type: 'object', properties: { providerID: { type: 'string', minLength: 1 }, modelID: { type: 'string', minLength: 1 } }, required: ['providerID', 'modelID'], additionalProperties: false },
  ],
};
const PROMPT_BODY = {
  type: 'object' as const,
  properties: {
    parts: { type: 'array' as const, items: PART as never, maxItems: 1000 },
    text: { type: 'string' as const },
    model: MODEL_CHOICE,
    agent: { type: 'string' as const },
    system: { type: 'string' as const },
    temperature: { type: 'number' as const, minimum: 0, maximum: 2, description: 'Sampling temperature for this prompt, over the agent’s' },
    max_tokens: { type: 'integer' as const, minimum: 1, maximum: 100_000, description: 'At most this many tokens per answer, over the model’s `limit.output`' },
    stream: { type: 'boolean' as const, description: 'Only false: the answer comes in one piece (see GET /event for live events)' },
    callback_url: { type: 'string' as const, format: 'uri', maxLength: 2048, description: 'prompt_async only: where task.completed / task.failed is POSTed' },
    callback_secret: { type: 'string' as const, minLength: 1, maxLength: 512, description: 'prompt_async only: signs the callback (x-opencode-signature); kept in memory, never stored' },
  },
};
const ERR = { description: 'Error', schema: ref('ApiError') };
const SID = { session_id: { description: 'Session id (ses_…)' } };

function route(def: RouteDef): RouteDef {
  return { ...def, query: { directory: { description: 'Project folder (default: the server’s)' }, ...(def.query ?? {}) }, responses: { 400: ERR, 401: ERR, 404: ERR, 429: ERR, ...def.responses } };
}

export const restApiRoutes: RouteGroup = {
  name: 'api-v1',
  description: 'The guide’s REST API for automation: sessions, sync and async prompts (tasks, webhooks), models, tools, MCP status. Bearer keys from server.keys.',
  prefix: '/api/v1',
  gate: gatewayGate,
  renderError: restError,
  schemas: {
    ApiError: {
      type: 'object',
      properties: { error: { type: 'object', properties: { code: { type: 'string', enum: ['invalid_request', 'unauthorized', 'forbidden', 'not_found', 'rate_limited', 'server_error', 'provider_error'] }, message: { type: 'string' }, details: { type: 'object' }, provider: { type: 'string' }, retry_after: { type: 'integer' }, request_id: { type: 'string' } }, required: ['code', 'message'] } },
      required: ['error'],
    },
  },
  routes: [
    route({
      method: 'get',
      path: '/api/v1/sessions',
      operationId: 'api.sessions.list',
      summary: 'List sessions, most recently updated first',
      query: {
        limit: { description: '1–100 (default 20)', schema: { type: 'integer' } },
        before: { description: 'Cursor: the last session id of the previous page' },
        state: { description: '`active` (a turn runs), `completed` (none runs), `paused` (none: Pantheon never pauses a session) or `all` (default)', schema: { type: 'string', enum: [...STATES] } },
        tags: { description: 'Only sessions with every one of these tags: `tags=a,b` or `tags=a&tags=b`' },
      },
      responses: { 200: { description: '{sessions, next_cursor, has_more}', schema: { type: 'object' } } },
      handler: async (c, { query }) => {
        const limit = query.limit === undefined ? 20 : Number(query.limit);
        if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new HttpError(400, 'BAD_REQUEST', `limit: expected an integer from 1 to 100, found "${query.limit}".`, { details: { field: 'limit' } });
        const state = query.state ?? 'all';
        if (!(STATES as readonly string[]).includes(state)) throw new HttpError(400, 'BAD_REQUEST', `state: expected one of ${STATES.join(', ')}, found "${state}".`, { details: { field: 'state' } });
        const sessions = c.get('state').host.sessions;
        const tags = tagsQuery(c);
        let list = (await sessions.list((await instance(c)).projectRoot)).filter((s) => {
          const running = sessions.status(s.id).type !== 'idle';
          if (state === 'paused' || (state === 'active' && !running) || (state === 'completed' && running)) return false;
          return tags.every((t) => s.tags?.includes(t));
        });
        if (query.before) {
          const at = list.findIndex((s) => s.id === query.before);
          if (at < 0) throw new HttpError(400, 'BAD_REQUEST', `before: no session "${query.before}" in this project.`, { details: { field: 'before' } });
          list = list.slice(at + 1);
        }
        const page = list.slice(0, limit);
        return c.json({ sessions: page.map(sessionView), next_cursor: list.length > limit ? (page.at(-1)?.id ?? null) : null, has_more: list.length > limit });
      },
    }),
    route({
      method: 'post',
      path: '/api/v1/sessions',
      operationId: 'api.sessions.create',
      summary: 'Create a session',
      body: { type: 'object', properties: { title: { type: 'string', maxLength: 500 }, agent: { type: 'string' } } },
      bodyOptional: true,
      responses: { 201: { description: 'The session', schema: { type: 'object' } } },
      handler: async (c, { body }) => {
        const b = (body ?? {}) as { title?: string; agent?: string };
        const created = await c.get('state').host.sessions.create((await instance(c)).projectRoot, { ...(b.title ? { title: b.title } : {}), ...(b.agent ? { agent: b.agent } : {}) });
        return c.json(sessionView(created), 201);
      },
    }),
    route({
      method: 'get',
      path: '/api/v1/sessions/{session_id}',
      operationId: 'api.sessions.get',
      summary: 'Get a session with its messages',
      params: SID,
      responses: { 200: { description: 'The session', schema: { type: 'object' } } },
      handler: async (c, { params }) => c.json(detailView(await c.get('state').host.sessions.get(params.session_id as string))),
    }),
    route({
      method: 'patch',
      path: '/api/v1/sessions/{session_id}',
      operationId: 'api.sessions.update',
      summary: 'Rename a session, tag it, or set its own model and system prompt',
      description: 'The session’s `model` heads the chain of every prompt in it that names none; its `systemPrompt` is added to the agent’s in each. An empty string (or null for `model`) clears them, an empty list the tags.',
      params: SID,
      body: {
        type: 'object',
        properties: {
          title: { type: 'string', minLength: 1, maxLength: 500 },
          tags: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 100 }, maxItems: 50 },
          model: { anyOf: [MODEL_CHOICE, { type: 'null' }, { type: 'string', maxLength: 0 }], description: 'As a prompt’s `model`; null or "" clears it' },
          systemPrompt: { type: 'string', maxLength: 100_000, description: 'Added to the agent’s system prompt in every turn ("" clears it)' },
        },
        additionalProperties: false,
      },
      responses: { 200: { description: 'The session', schema: { type: 'object' } } },
      handler: async (c, { params, body }) => {
        const b = body as { title?: string; tags?: string[]; model?: ModelChoice | null; systemPrompt?: string };
        const model = b.model === undefined ? undefined : sessionModel((await instance(c)).config, b.model, c.get('state').host.env);
        const fields = {
          ...(b.title === undefined ? {} : { title: b.title }),
          ...(b.tags === undefined ? {} : { tags: b.tags }),
          ...(model === undefined ? {} : { model }),
          ...(b.systemPrompt === undefined ? {} : { system: b.systemPrompt }),
        };
        return c.json(sessionView(await c.get('state').host.sessions.update(params.session_id as string, fields)));
      },
    }),
    route({
      method: 'delete',
      path: '/api/v1/sessions/{session_id}',
      operationId: 'api.sessions.delete',
      summary: 'Delete a session (a running turn is cancelled first)',
      params: SID,
      responses: { 204: { description: 'Deleted' } },
      handler: async (c, { params }) => {
        await c.get('state').host.sessions.remove(params.session_id as string);
        return c.body(null, 204);
      },
    }),
    route({
      method: 'post',
      path: '/api/v1/sessions/{session_id}/prompt',
      operationId: 'api.sessions.prompt',
      summary: 'Send a prompt and wait for the answer',
      params: SID,
      body: PROMPT_BODY,
      responses: { 200: { description: '{message, usage}', schema: { type: 'object' } }, 502: ERR },
      handler: async (c, { params, body }) => {
        const input = promptOf(body as PromptBody);
        let outcome;
        try {
          outcome = await c.get('state').host.sessions.prompt(params.session_id as string, input);
        } catch (error) {
          const http = gatewayHttpError(error);
          if (http.status === 429) await laneHeaders(c.get('req'), await instance(c), input.model, false);
          throw http;
        }
        // The limit that applies: the key's (set by the gate), else the lane of the model asked for or that answered.
        await laneHeaders(c.get('req'), await instance(c), input.model ?? outcome.result.servedBy.at(-1), true);
        return c.json(promptResult(outcome));
      },
    }),
    route({
      method: 'post',
      path: '/api/v1/sessions/{session_id}/prompt_async',
      operationId: 'api.sessions.promptAsync',
      summary: 'Send a prompt; poll the task (or get a callback)',
      description: 'The task is journaled before the 202: a server that stops or crashes finishes it or marks it failed after its restart, never loses it.',
      params: SID,
      body: PROMPT_BODY,
      responses: { 202: { description: '{task_id, status_url}', schema: { type: 'object' } } },
      handler: async (c, { params, body }) => {
        const b = body as PromptBody;
        const input = promptOf(b);
        const state = c.get('state');
        await state.host.sessions.get(params.session_id as string);
        if (b.callback_url) checkWebhookUrl(b.callback_url, 'callback_url', c);
        const [tasks, hooks] = await Promise.all([tasksOf(state), webhooksOf(state)]);
        const task = tasks.accept(params.session_id as string, input, b.callback_url ? { url: b.callback_url, signed: Boolean(b.callback_secret) } : undefined);
        if (b.callback_url && b.callback_secret) hooks.callbackSecrets.set(task.id, b.callback_secret);
        const statusUrl = new URL(`/api/v1/tasks/${task.id}`, c.req.url).toString();
        return c.json({ task_id: task.id, status: task.status, status_url: statusUrl }, 202, { location: statusUrl });
      },
    }),
    route({
      method: 'get',
      path: '/api/v1/tasks/{task_id}',
      operationId: 'api.tasks.get',
      summary: 'An async task: pending, processing, completed (with its result) or failed (with its error)',
      params: { task_id: { description: 'Task id (task_…)' } },
      responses: { 200: { description: 'The task', schema: { type: 'object' } } },
      handler: async (c, { params }) => {
        const task = (await tasksOf(c.get('state'))).get(params.task_id as string);
        if (!task) throw new HttpError(404, 'TASK_NOT_FOUND', `No task "${params.task_id}".`, { hint: 'Task ids come from POST /api/v1/sessions/{id}/prompt_async.' });
        return c.json(taskView(task));
      },
    }),
    route({
      method: 'get',
      path: '/api/v1/models',
      operationId: 'api.models.list',
      summary: 'Configured models and agents',
      query: { provider: { description: 'Only this provider’s models' } },
      responses: { 200: { description: '{models, providers}', schema: { type: 'object' } } },
      handler: async (c, { query }) => {
        const all = gatewayModels((await instance(c)).config).filter((m) => m.kind === 'model' && (!query.provider || m.provider === query.provider));
        return c.json({ models: all.map((m) => ({ id: m.id, provider: m.provider })), providers: [...new Set(all.map((m) => m.provider))].map((id) => ({ id })) });
      },
    }),
    route({
      method: 'get',
      path: '/api/v1/models/{provider}/{model_id}',
      operationId: 'api.models.get',
      summary: 'One configured model',
      params: { provider: { description: 'Provider id' }, model_id: { description: 'Model id' } },
      responses: { 200: { description: 'The model', schema: { type: 'object' } } },
      handler: async (c, { params }) => {
        const id = `${params.provider}/${params.model_id}`;
        const found = gatewayModels((await instance(c)).config).find((m) => m.kind === 'model' && m.id === id);
        if (!found) throw new HttpError(404, 'MODEL_NOT_FOUND', `No configured model "${id}".`, { hint: 'GET /api/v1/models lists them.' });
        return c.json({ id: found.id, provider: found.provider });
      },
    }),
    route({
      method: 'get',
      path: '/api/v1/tools',
      operationId: 'api.tools.list',
      summary: 'Built-in tools and the MCP servers’ tools',
      responses: { 200: { description: '{tools, mcp_servers}', schema: { type: 'object' } } },
      handler: async (c) => {
        const servers = (await instance(c)).mcp?.manager.status() ?? [];
        return c.json({ tools: [...BUILTIN_TOOL_NAMES, 'task'].map((name) => ({ name, source: 'builtin' })), mcp_servers: servers.map((s) => ({ name: s.name, state: s.state, tools_count: s.toolCount })) });
      },
    }),
    route({
      method: 'get',
      path: '/api/v1/mcp/status',
      operationId: 'api.mcp.status',
      summary: 'MCP servers: connected, disconnected or error',
      responses: { 200: { description: '{servers}', schema: { type: 'object' } } },
      handler: async (c) => {
        const servers = (await instance(c)).mcp?.manager.status() ?? [];
        const status = (state: string) => (state === 'running' || state === 'ready' ? 'connected' : state === 'failed' || state === 'exited' ? 'error' : 'disconnected');
        return c.json({ servers: servers.map((s) => ({ name: s.name, status: status(s.state), state: s.state, tools_count: s.toolCount })) });
      },
    }),
  ],
};
