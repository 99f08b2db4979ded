/**
 * The guide's REST API (`/api/v1`, §32–33) for automation: sessions (list, create, get, patch,
 * delete), a synchronous prompt, an asynchronous prompt journaled as a task to poll, models, tools
 * and MCP status. The same core as the OpenCode API; errors are the guide's
 * `{error: {code, message, details, provider, retry_after, request_id}}`.
 */
import { isPantheonError } from '../../errors.ts';
import { checkAgentField, checkModelField } from '../agent-field.ts';
import { CAPABILITIES, configuredModels, type Capability } from '../../agents/configured-models.ts';
import { guideUsage } from '../../core/guide-usage.ts';
import type { PromptOutcome } from '../../core/sessions.ts';
import { knownProvider } from '../../providers/catalog.ts';
import { PROMPT_BODY, promptOf, SESSION_FIELDS, sessionFields, type PromptBody, type SessionBody } from '../api/rest-bodies.ts';
import { detailView, GUIDE_STATUS, modelView, sessionView } from '../api/rest-views.ts';
import { taskView, tasksOf } from '../api/tasks.ts';
import { checkWebhookUrl } from '../api/webhook-url.ts';
import { webhooksOf } from '../api/webhooks.ts';
import { requestFromOtherSite } from '../cors.ts';
import { gatewayHttpError } from '../gateway-error.ts';
import { gatewayAdmit, gatewayGate } from '../gateway-gate.ts';
import { laneHeaders } from '../lane-headers.ts';
import { offeredTools } from '../offered-tools.ts';
import { HttpError } from '../http-error.ts';
import { ref, type RouteDef, type RouteGroup, type ServerContext } from '../route.ts';
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

/** The `skill` tool as a turn in this project offers it (agents/skills.ts: the project's, the user's, `skills.paths` and `skills.urls`), or undefined when there is no skill. */
/** The guide's session states: `active` while a turn runs, `completed` otherwise; Pantheon never pauses one. */
const STATES = ['active', 'paused', 'completed', 'all'] as const;

/** `tags=a,b` (or `tags=a&tags=b`): the tags a listed session must all have. */
function tagsQuery(c: ServerContext): string[] {
  return c.req.queries('tags')?.flatMap((t) => t.split(',')).map((t) => t.trim()).filter(Boolean) ?? [];
}

function promptResult(outcome: PromptOutcome) {
  const { result, turn } = outcome;
  if (result.status !== 'success') throw gatewayHttpError(result.error);
  return {
    message: { id: turn.assistantMessageID, role: 'assistant', content: result.answer, model: result.servedBy.at(-1) },
    usage: guideUsage(result),
  };
}

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
  admit: gatewayAdmit,
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
        state: { description: '`active` (a turn of this server runs), `completed` (none runs here), `paused` (none: Pantheon never pauses a session) or `all` (default)', schema: { type: 'string', enum: [...STATES] } },
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
          // The child sessions of `task` calls are their parent turn's work, as `opencode session list` leaves them out.
          if (s.parentID !== undefined) return false;
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
      description: 'With the same fields as PATCH besides: its agent, tags, own model and system prompt.',
      body: { type: 'object', properties: { title: { type: 'string', maxLength: 500 }, agent: { type: 'string' }, ...SESSION_FIELDS }, additionalProperties: false },
      bodyOptional: true,
      responses: { 201: { description: 'The session', schema: { type: 'object' } } },
      handler: async (c, { body }) => {
        const b = (body ?? {}) as SessionBody & { agent?: string };
        const { config, loaded } = await instance(c);
        if (b.agent) checkAgentField(config, b.agent, loaded.leftByPlugins);
        const created = await c.get('state').host.sessions.create((await instance(c)).projectRoot, { ...sessionFields(config, c.get('state').host.env, b), ...(b.agent ? { agent: b.agent } : {}) });
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
      body: { type: 'object', properties: { title: { type: 'string', minLength: 1, maxLength: 500 }, ...SESSION_FIELDS }, additionalProperties: false },
      responses: { 200: { description: 'The session', schema: { type: 'object' } } },
      handler: async (c, { params, body }) => {
        return c.json(sessionView(await c.get('state').host.sessions.update(params.session_id as string, sessionFields((await instance(c)).config, c.get('state').host.env, body as SessionBody))));
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
        if (input.model) checkModelField((await instance(c)).config, input.model, c.get('state').host.env);
        let outcome;
        try {
          outcome = await c.get('state').host.sessions.prompt(params.session_id as string, input);
        } catch (error) {
          // The body's agent is a field of this request (to /v1, `agent/<name>` is a model: a 404 there).
          if (isPantheonError(error) && error.code === 'UNKNOWN_AGENT') throw new HttpError(400, 'UNKNOWN_AGENT', error.message, { ...(error.hint ? { hint: error.hint } : {}), details: { field: 'agent' } });
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
        if (b.agent) {
          const { config, loaded } = await instance(c);
          checkAgentField(config, b.agent, loaded.leftByPlugins);
        }
        if (input.model) checkModelField((await instance(c)).config, input.model, state.host.env);
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
      summary: 'Configured models: limits, price, capabilities, rate limits',
      query: {
        provider: { description: 'Only this provider’s models' },
        capability: { description: 'Only models with this capability', schema: { type: 'string', enum: [...CAPABILITIES] } },
      },
      responses: { 200: { description: '{models, providers}', schema: { type: 'object' } } },
      handler: async (c, { query }) => {
        const capability = query.capability;
        if (capability !== undefined && !(CAPABILITIES as readonly string[]).includes(capability)) {
          throw new HttpError(400, 'BAD_REQUEST', `capability: expected one of ${CAPABILITIES.join(', ')}, found "${capability}".`, { details: { field: 'capability' } });
        }
        const config = (await instance(c)).config;
        const models = configuredModels(config)
          .filter((m) => !query.provider || m.provider === query.provider)
          .map((m) => modelView(config, m))
          .filter((m) => capability === undefined || m.capabilities.includes(capability as Capability));
        const providers = [...new Set(models.map((m) => m.provider))].map((id) => ({ id, name: config.provider?.[id]?.name ?? knownProvider(id)?.name ?? id }));
        return c.json({ models, providers });
      },
    }),
    route({
      method: 'get',
      path: '/api/v1/models/{provider}/{model_id}',
      operationId: 'api.models.get',
      summary: 'One configured model, with the agents and keys that use it',
      params: { provider: { description: 'Provider id' }, model_id: { description: 'Model id' } },
      responses: { 200: { description: 'The model', schema: { type: 'object' } } },
      handler: async (c, { params }) => {
        const id = `${params.provider}/${params.model_id}`;
        const config = (await instance(c)).config;
        const found = configuredModels(config).find((m) => m.ref === id);
        if (!found) throw new HttpError(404, 'MODEL_NOT_FOUND', `No configured model "${id}".`, { hint: 'GET /api/v1/models lists them.' });
        return c.json({ ...modelView(config, found), used_by: { agents: found.agents, config: found.topLevel } });
      },
    }),
    route({
      method: 'get',
      path: '/api/v1/tools',
      operationId: 'api.tools.list',
      summary: 'Built-in tools and the MCP servers’ tools',
      description: 'Each tool with its description and input schema: the built-in ones, `task`, `todowrite` and `todoread` (a session’s task list), `skill` when the project or the user has skills (its description lists them), and the MCP servers’ tools. The enabled MCP servers are started first (as a turn would), each within its own `timeout`; one that fails shows its state and reason, without tools. A page of another site (`Sec-Fetch-Site: cross-site`, or a foreign `Origin`) starts nothing: it gets the tools of the servers already running.',
      responses: { 200: { description: '{tools, mcp_servers}', schema: { type: 'object' } } },
      handler: async (c) => {
        const found = await instance(c);
        const manager = found.mcp?.manager;
        // A page of another site may name any folder: its config's commands are not run for it (the tools of servers already running are listed).
        const started = requestFromOtherSite(c) ? manager?.status().filter((s) => s.state === 'connected').map((s) => s.name) : undefined;
        const [mcpTools, builtins] = await Promise.all([manager?.exposedTools(started) ?? [], offeredTools(found, c.get('state').host.env)]);
        const servers = manager?.status() ?? [];
        return c.json({
          tools: [
            ...builtins.map((t) => ({ name: t.name, source: 'builtin', description: t.description, input_schema: t.input_schema })),
            ...mcpTools.map((t) => ({ name: t.name, source: 'mcp', server: t.server, ...(t.description ? { description: t.description } : {}), input_schema: t.inputSchema })),
          ],
          mcp_servers: servers.map((x) => ({ name: x.name, status: GUIDE_STATUS[x.state], state: x.state, tools_count: x.toolCount, ...(x.reason ? { reason: x.reason } : {}) })),
        });
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
        return c.json({ servers: servers.map((x) => ({ name: x.name, status: GUIDE_STATUS[x.state], state: x.state, tools_count: x.toolCount, ...(x.reason ? { reason: x.reason } : {}) })) });
      },
    }),
  ],
};
