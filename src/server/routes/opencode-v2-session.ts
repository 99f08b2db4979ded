/**
 * OpenCode's v2 session API (`@opencode-ai/sdk/v2`'s `client.v2.session.*`, under `/api/session`):
 * list, create, get, the agent and model switches, prompt (admitted, run in the background; queued
 * behind a running turn), wait, interrupt, compact, the messages and the model's context, and the
 * session's permission and question requests. The same sessions and turns as the v1 routes
 * (opencode-session.ts); the views are in opencode/session-v2-view.ts. Errors are v2's tagged bodies
 * (`{_tag, message, …}`).
 */
import { checkAgentField, checkModelField } from '../agent-field.ts';
import { resolveAgent } from '../../agents/resolve-agent.ts';
import { approvedBy, decide, type AskDetails } from '../../permissions/authorize.ts';
import { ascendingId, newMessageId } from '../../session/ids.ts';
import { isSessionId } from '../../session/store.ts';
import { HttpError, toHttpError } from '../http-error.ts';
import { promptInput, type PromptBody } from '../opencode/prompt-input.ts';
import { sessionMessages } from '../opencode/session-messages.ts';
import { v2Error } from '../opencode/v2-error.ts';
import { permissionV2 } from '../opencode/asks-v2.ts';
import { contextV2, decodeCursor, messagesV2, page, sessionV2, type Order } from '../opencode/session-v2-view.ts';
import { revertV2 } from '../opencode/session-view.ts';
import { ref, type JsonSchema, type ParamDoc, type ResponseDoc, type RouteDef, type RouteGroup, type ServerContext } from '../route.ts';
import { instanceFor } from '../state.ts';
import { DIRECTORY_QUERY, requestInstance } from './opencode-app.ts';

const str: JsonSchema = { type: 'string' };
const obj = (properties: Record<string, JsonSchema>, required: string[] = []): JsonSchema => ({ type: 'object', properties, required });
const MODEL_REF = obj({ id: { type: 'string', minLength: 1 }, providerID: { type: 'string', minLength: 1 }, variant: str }, ['id', 'providerID']);
const SESSION: Record<string, ParamDoc> = { sessionID: { description: 'Session id (ses_…)' } };
const REQUEST: Record<string, ParamDoc> = { requestID: { description: 'The request’s id (per_… or que_…)' } };
const ERRORS: Record<number, ResponseDoc> = { 400: { description: 'InvalidRequestError', schema: ref('V2Error') }, 404: { description: 'SessionNotFoundError', schema: ref('V2Error') } };
const NO_CONTENT: Record<number, ResponseDoc> = { 204: { description: 'Done' } };
const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 200;

function invalid(kind: 'Params' | 'Query' | 'Payload', field: string, message: string, hint: string): HttpError {
  const where = kind === 'Params' ? 'path parameter' : kind === 'Query' ? 'query parameter' : 'body field';
  return new HttpError(400, 'BAD_REQUEST', `${where} "${field}": ${message}.`, { hint, details: { field, kind } });
}

function shown(value: string): string {
  return JSON.stringify(value.slice(0, 40));
}

/** The path's ids checked, and any error of the handler carrying them (v2's not-found bodies name them). */
function route(def: RouteDef & { session?: boolean; request?: 'per' | 'que' }): RouteDef {
  const { session: takesSession, request, handler, ...rest } = def;
  const params = { ...(takesSession ? SESSION : {}), ...(request ? REQUEST : {}), ...(def.params ?? {}) };
  return {
    ...rest,
    ...(Object.keys(params).length ? { params } : {}),
    responses: { ...ERRORS, ...def.responses },
    handler: async (c, input) => {
      const { sessionID, requestID, messageID } = input.params;
      if (sessionID !== undefined && !sessionID.startsWith('ses')) throw invalid('Params', 'sessionID', `expected a session id (ses_…), found ${shown(sessionID)}`, 'Take the id from GET /api/session.');
      if (request && requestID !== undefined && !requestID.startsWith(request)) throw invalid('Params', 'requestID', `expected an id starting with "${request}", found ${shown(requestID)}`, `Take the id from GET /api/session/{sessionID}/${request === 'per' ? 'permission' : 'question'}.`);
      try {
        return await (handler as NonNullable<RouteDef['handler']>)(c, input);
      } catch (error) {
        const http = toHttpError(error);
        const ids = Object.fromEntries(Object.entries({ sessionID, requestID, messageID }).filter(([, v]) => v !== undefined));
        throw new HttpError(http.status, http.code, http.message, { ...(http.hint ? { hint: http.hint } : {}), details: { ...ids, ...http.details }, ...(http.retryAfter === undefined ? {} : { retryAfter: http.retryAfter }), cause: error });
      }
    },
  };
}

function limitOf(c: ServerContext): number {
  const given = c.req.query('limit');
  if (given === undefined) return DEFAULT_LIMIT;
  const limit = Number(given);
  if (!/^\d+$/.test(given) || limit < 1 || limit > MAX_LIMIT) throw invalid('Query', 'limit', `expected a whole number from 1 to ${MAX_LIMIT}, found ${shown(given)}`, 'Leave limit out for pages of 50.');
  return limit;
}

/** The order and cursor of a page request (a cursor keeps the order it was made with, and takes no other). */
function pageQuery(c: ServerContext): { order: Order; cursor: ReturnType<typeof decodeCursor> } {
  const order = c.req.query('order');
  if (order !== undefined && order !== 'asc' && order !== 'desc') throw invalid('Query', 'order', `expected "asc" or "desc", found ${shown(order)}`, 'desc (the default) lists the newest first.');
  const text = c.req.query('cursor');
  if (text === undefined) return { order: order ?? 'desc', cursor: undefined };
  if (order !== undefined) throw new HttpError(400, 'INVALID_CURSOR', 'query parameter "cursor": it cannot be combined with order.', { hint: 'A cursor keeps the order of the page it came from: leave order out.' });
  const cursor = decodeCursor(text);
  if (!cursor) throw new HttpError(400, 'INVALID_CURSOR', 'query parameter "cursor": not a cursor this server gave.', { hint: 'Send cursor.next or cursor.previous of a page as it came.' });
  return { order: cursor.order, cursor };
}

async function v2Messages(c: ServerContext, id: string) {
  const { messages } = await sessionMessages(c.get('state'), id);
  return messagesV2(messages);
}

/** A permission question as v2's PermissionV2Request. */
async function sessionProject(c: ServerContext, id: string): Promise<string> {
  return (await c.get('state').host.sessions.get(id)).projectRoot;
}

export const openCodeV2SessionRoutes: RouteGroup = {
  name: 'opencode-v2-session',
  description: 'OpenCode’s v2 session API: the same sessions and turns as /session, with v2’s shapes, pages and errors.',
  prefix: '/api/session',
  renderError: (error) => v2Error(error),
  schemas: {
    V2Error: obj({ _tag: str, message: str, field: str, kind: str, sessionID: str, messageID: str, requestID: str, hint: str }, ['_tag', 'message']),
    SessionV2Info: obj(
      { id: str, parentID: str, projectID: str, agent: str, model: MODEL_REF, cost: { type: 'number' }, tokens: { type: 'object' }, time: obj({ created: { type: 'number' }, updated: { type: 'number' } }, ['created', 'updated']), title: str, location: obj({ directory: str }, ['directory']), revert: ref('RevertState') },
      ['id', 'projectID', 'cost', 'tokens', 'time', 'title', 'location'],
    ),
    RevertState: obj(
      {
        messageID: str,
        diff: { type: 'string', description: 'What the revert did to the files, as one git-style patch' },
        files: { type: 'array', items: obj({ path: str, status: { type: 'string', enum: ['added', 'deleted', 'modified'] }, additions: { type: 'integer' }, deletions: { type: 'integer' }, patch: str }, ['path', 'status', 'additions', 'deletions', 'patch']) },
      },
      ['messageID'],
    ),
    SessionDurableEvent: {
      type: 'object',
      description: 'A durable event of a session (OpenCode’s `session.next.*`): `durable.seq` numbers it within the session',
      properties: { id: str, type: str, durable: obj({ aggregateID: str, seq: { type: 'integer' }, version: { type: 'integer' } }, ['aggregateID', 'seq', 'version']), data: { type: 'object' } },
      required: ['id', 'type', 'durable', 'data'],
    },
    SessionMessageV2: { type: 'object', description: 'A `user`, `assistant`, `shell` or `compaction` message (OpenCode’s SessionMessage)', properties: { id: str, type: { type: 'string', enum: ['user', 'assistant', 'shell', 'compaction'] } }, required: ['id', 'type'] },
  },
  routes: [
    route({
      method: 'get',
      path: '/api/session',
      operationId: 'v2.session.list',
      summary: 'List the project’s sessions, newest first (OpenCode’s v2 API)',
      description: 'Pages of `limit` (1–200, default 50) in `order` of creation (`desc` by default); `cursor.next` and `cursor.previous` move through them. `search` keeps the sessions whose title has it.',
      query: { ...DIRECTORY_QUERY, limit: { description: '1–200 (default 50)' }, order: { description: '`asc` or `desc` (default)' }, search: { description: 'Text the title has (any case)' }, cursor: { description: 'cursor.next or cursor.previous of a page' } },
      responses: { 200: { description: '{data, cursor}', schema: obj({ data: { type: 'array', items: ref('SessionV2Info') }, cursor: obj({ previous: { type: ['string', 'null'] }, next: { type: ['string', 'null'] } }) }, ['data', 'cursor']) } },
      handler: async (c) => {
        const limit = limitOf(c);
        const { order, cursor } = pageQuery(c);
        const instance = await requestInstance(c);
        const search = c.req.query('search')?.toLowerCase();
        const state = c.get('state');
        let list = await state.host.sessions.list(instance.projectRoot);
        if (search) list = list.filter((s) => s.title.toLowerCase().includes(search));
        const oldestFirst = [...list].sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
        const { data, cursor: around } = page(oldestFirst, order, limit, cursor);
        return c.json({ data: data.map((s) => sessionV2(s, state.version)), cursor: around });
      },
    }),
    route({
      method: 'post',
      path: '/api/session',
      operationId: 'v2.session.create',
      summary: 'Create a session (OpenCode’s v2 API)',
      description: 'In `location.directory` (else the request’s folder), with the client’s own `id` (ses_…) if given, and the agent and model its turns use.',
      body: obj({ id: { type: 'string', minLength: 1 }, agent: { type: 'string', minLength: 1 }, model: MODEL_REF, location: obj({ directory: { type: 'string', minLength: 1 }, workspaceID: str }, ['directory']) }),
      bodyOptional: true,
      responses: { 200: { description: '{data: the session}', schema: obj({ data: ref('SessionV2Info') }, ['data']) }, 409: { description: 'ConflictError: a session has the id', schema: ref('V2Error') } },
      handler: async (c, { body }) => {
        const b = (body ?? {}) as { id?: string; agent?: string; model?: { id: string; providerID: string; variant?: string }; location?: { directory: string } };
        if (b.id !== undefined && !isSessionId(b.id)) throw invalid('Payload', 'id', `expected a session id (ses_ and up to 100 letters, digits, _ or -), found ${shown(b.id)}`, 'Leave id out to have one made.');
        const state = c.get('state');
        const instance = b.location ? await instanceFor(state, undefined, b.location.directory) : await requestInstance(c);
        if (b.agent) checkAgentField(instance.config, b.agent, instance.loaded.leftByPlugins);
        const model = b.model ? modelText(b.model) : undefined;
        if (model) checkModelField(instance.config, model, state.host.env);
        const created = await state.host.sessions.create(instance.projectRoot, { ...(b.id ? { id: b.id } : {}), ...(b.agent ? { agent: b.agent } : {}), ...(model ? { model } : {}) });
        return c.json({ data: sessionV2(created, state.version) });
      },
    }),
    route({
      method: 'get',
      path: '/api/session/active',
      operationId: 'v2.session.active',
      summary: 'The sessions running a turn (OpenCode’s v2 API)',
      description: 'Session id → `{type: "running"}` for every session of the server with a turn running or queued (child sessions of delegations included); the rest are idle.',
      responses: { 200: { description: '{data}', schema: obj({ data: { type: 'object', additionalProperties: obj({ type: { type: 'string', const: 'running' } }, ['type']) } }, ['data']) } },
      handler: async (c) => {
        const statuses = c.get('state').host.sessions.statuses();
        return c.json({ data: Object.fromEntries(Object.keys(statuses).map((id) => [id, { type: 'running' }])) });
      },
    }),
    route({
      method: 'get',
      path: '/api/session/{sessionID}',
      operationId: 'v2.session.get',
      summary: 'Get a session (OpenCode’s v2 API)',
      session: true,
      responses: { 200: { description: '{data: the session}', schema: obj({ data: ref('SessionV2Info') }, ['data']) } },
      handler: async (c, { params }) => {
        const state = c.get('state');
        return c.json({ data: sessionV2(await state.host.sessions.get(params.sessionID as string), state.version) });
      },
    }),
    route({
      method: 'post',
      path: '/api/session/{sessionID}/agent',
      operationId: 'v2.session.switchAgent',
      summary: 'Switch the agent of the session’s next turns (OpenCode’s v2 API)',
      description: 'An agent of the config (an unknown one is a 400, where OpenCode takes it and fails the next turn). Not while a turn runs (409): the running turn would overwrite it.',
      session: true,
      body: obj({ agent: { type: 'string', minLength: 1 } }, ['agent']),
      responses: { ...NO_CONTENT, 409: { description: 'ConflictError: a turn is running', schema: ref('V2Error') } },
      handler: async (c, { params, body }) => {
        const { agent } = body as { agent: string };
        const sessions = c.get('state').host.sessions;
        const record = await sessions.get(params.sessionID as string);
        const instance = await c.get('state').host.instances.get(record.projectRoot);
        checkAgentField(instance.config, agent, instance.loaded.leftByPlugins);
        await sessions.update(record.id, { agent });
        return c.body(null, 204);
      },
    }),
    route({
      method: 'post',
      path: '/api/session/{sessionID}/model',
      operationId: 'v2.session.switchModel',
      summary: 'Switch the model of the session’s next turns (OpenCode’s v2 API)',
      description: 'A model of the config or the catalogue (`{id, providerID, variant?}`; an unknown one is a 400, where OpenCode takes it and fails the next turn); it heads the agent’s chain, its fallbacks after it. Not while a turn runs (409).',
      session: true,
      body: obj({ model: MODEL_REF }, ['model']),
      responses: { ...NO_CONTENT, 409: { description: 'ConflictError: a turn is running', schema: ref('V2Error') } },
      handler: async (c, { params, body }) => {
        const { model } = body as { model: { id: string; providerID: string; variant?: string } };
        const state = c.get('state');
        const record = await state.host.sessions.get(params.sessionID as string);
        const text = modelText(model);
        checkModelField((await state.host.instances.get(record.projectRoot)).config, text, state.host.env);
        await state.host.sessions.update(record.id, { model: text });
        return c.body(null, 204);
      },
    }),
    route({
      method: 'post',
      path: '/api/session/{sessionID}/prompt',
      operationId: 'v2.session.prompt',
      summary: 'Send a message; the turn runs in the background (OpenCode’s v2 API)',
      description:
        'Answers once the prompt is admitted: started at once when the session is idle, else queued and started when the turns before it end (`steer` and `queue` alike: Pantheon does not add a message to a running turn). `admittedSeq` counts the session’s prompts. A permission or question the turn asks waits for its answer through these routes even with no client listening to /event. Files are `{uri, mime?, name?}` (data:, file:// or http(s) URLs, as v1’s file parts); `agents` delegate as v1’s agent parts. `resume: false` (admit without running) is not supported (400).',
      session: true,
      body: obj(
        {
          id: str,
          prompt: obj({ text: str, files: { type: 'array', items: obj({ uri: { type: 'string', minLength: 1 }, mime: str, name: str, description: str }, ['uri']) }, agents: { type: 'array', items: obj({ name: { type: 'string', minLength: 1 } }, ['name']) } }, ['text']),
          delivery: { type: 'string', enum: ['steer', 'queue'] },
          resume: { type: 'boolean' },
        },
        ['prompt'],
      ),
      responses: { 200: { description: '{data: the admitted input}', schema: { type: 'object' } }, 409: { description: 'ConflictError', schema: ref('V2Error') }, 503: { description: 'The server is stopping', schema: ref('V2Error') } },
      handler: async (c, { params, body }) => {
        const b = body as { id?: string; prompt: { text: string; files?: { uri: string; mime?: string; name?: string }[]; agents?: { name: string }[] }; delivery?: 'steer' | 'queue'; resume?: boolean };
        if (b.resume === false) throw invalid('Payload', 'resume', 'false is not supported: every admitted prompt runs', 'Leave resume out.');
        if (b.id !== undefined && !/^msg_[A-Za-z0-9_-]{1,100}$/.test(b.id)) throw invalid('Payload', 'id', `expected a message id (msg_…), found ${shown(b.id)}`, 'Leave id out to have one made.');
        const id = params.sessionID as string;
        const state = c.get('state');
        const sessions = state.host.sessions;
        const record = await sessions.get(id);
        const parts: PromptBody['parts'] = [{ type: 'text', text: b.prompt.text }, ...(b.prompt.files ?? []).map((f) => ({ type: 'file' as const, url: f.uri, mime: f.mime ?? 'application/octet-stream', ...(f.name ? { filename: f.name } : {}) })), ...(b.prompt.agents ?? []).map((a) => ({ type: 'agent' as const, name: a.name }))];
        const input = await promptInput({ parts, ...(b.id ? { messageID: b.id } : {}) }, record.projectRoot);
        const userMessageID = input.userMessageID ?? newMessageId();
        const seq = record.messages.filter((m) => m.role === 'user').length + (sessions.running(id) ? 1 + sessions.queuedCount(id) : 0) + 1;
        const { started } = await sessions.admit(id, { ...input, userMessageID, askClient: true, unheard: true }, record);
        started.then(
          (turn) => turn?.done.catch((error: unknown) => state.log(`error: turn of ${id}: ${error instanceof Error ? error.message : String(error)}`)),
          () => undefined,
        );
        return c.json({ data: { admittedSeq: seq, id: userMessageID, sessionID: id, prompt: b.prompt, delivery: b.delivery ?? 'steer', timeCreated: Date.now() } });
      },
    }),
    route({
      method: 'post',
      path: '/api/session/{sessionID}/wait',
      operationId: 'v2.session.wait',
      summary: 'Wait until the session is idle (OpenCode’s v2 API)',
      description: 'Answers 204 once no turn of the session runs or is queued (at once when idle). OpenCode 1.18.33 answers 503 here (“not available yet”).',
      session: true,
      responses: NO_CONTENT,
      handler: async (c, { params }) => {
        const id = params.sessionID as string;
        const sessions = c.get('state').host.sessions;
        if (!sessions.running(id)) await sessions.get(id);
        await sessions.idle(id);
        return c.body(null, 204);
      },
    }),
    route({
      method: 'post',
      path: '/api/session/{sessionID}/interrupt',
      operationId: 'v2.session.interrupt',
      summary: 'Interrupt the session’s turn (OpenCode’s v2 API)',
      description: 'Cancels the running turn (the provider’s request is aborted; the turn is saved as it stood, marked interrupted) and drops the prompts queued behind it; answers once it has ended. An idle session: nothing to do.',
      session: true,
      responses: NO_CONTENT,
      handler: async (c, { params }) => {
        const id = params.sessionID as string;
        const sessions = c.get('state').host.sessions;
        if (!(await sessions.abort(id))) await sessions.get(id);
        return c.body(null, 204);
      },
    }),
    route({
      method: 'post',
      path: '/api/session/{sessionID}/compact',
      operationId: 'v2.session.compact',
      summary: 'Summarize the session so it goes on from the summary (OpenCode’s v2 API)',
      description: 'As `POST /session/{id}/summarize` with the session’s model; answers once the summary is made (a failed one is a `compaction` message with no summary and the turn’s error in the messages). Not while a turn runs (409). OpenCode 1.18.33 answers 503 here (“not available yet”).',
      session: true,
      responses: { ...NO_CONTENT, 409: { description: 'ConflictError: a turn is running', schema: ref('V2Error') } },
      handler: async (c, { params }) => {
        const sessions = c.get('state').host.sessions;
        const record = await sessions.get(params.sessionID as string);
        await sessions.prompt(record.id, { text: '', compaction: true }, record);
        return c.body(null, 204);
      },
    }),
    route({
      method: 'post',
      path: '/api/session/{sessionID}/revert/stage',
      operationId: 'v2.session.revert.stage',
      summary: 'Undo a turn and the ones after it, files and messages (OpenCode’s v2 API)',
      description:
        'As `POST /session/{id}/revert`: the files the session’s `edit` and `write` calls changed in the turn whose user message is `messageID` and every later one are put back, and those turns are marked (the session’s `revert`) until …/revert/clear puts them forward again or …/revert/commit drops them; staging another turn moves the mark. `files: false` (mark without moving the files) is not supported (400). A file changed since by something else is a 409 naming it, with nothing written; not while a turn runs (409).',
      session: true,
      body: obj({ messageID: { type: 'string', minLength: 1 }, files: { type: 'boolean' } }, ['messageID']),
      responses: { 200: { description: '{data: RevertState}: the mark, with what it did to the files', schema: obj({ data: ref('RevertState') }, ['data']) }, 404: { description: 'SessionNotFoundError or MessageNotFoundError', schema: ref('V2Error') }, 409: { description: 'ConflictError', schema: ref('V2Error') } },
      handler: async (c, { params, body }) => {
        const { messageID, files } = body as { messageID: string; files?: boolean };
        if (files === false) throw invalid('Payload', 'files', 'false is not supported: a staged revert puts the files back', 'Leave files out.');
        const sessions = c.get('state').host.sessions;
        const record = await sessions.get(params.sessionID as string);
        if (!record.messages.some((m) => m.role === 'user' && m.info?.id === messageID)) {
          throw new HttpError(404, 'MESSAGE_NOT_FOUND', `Session ${record.id} has no user message ${shown(messageID)}.`, { hint: 'Stage a turn by its user message’s id (GET /api/session/{sessionID}/message).', details: { messageID } });
        }
        const moved = await sessions.revert(record.id, messageID);
        return c.json({ data: moved.revert ? revertV2(moved.revert) : { messageID } });
      },
    }),
    route({
      method: 'post',
      path: '/api/session/{sessionID}/revert/clear',
      operationId: 'v2.session.revert.clear',
      summary: 'Redo what a staged revert undid (OpenCode’s v2 API)',
      description: 'As `POST /session/{id}/unrevert`: the files put forward again and the mark cleared; a session not reverted is left as it is (204).',
      session: true,
      responses: { ...NO_CONTENT, 409: { description: 'ConflictError', schema: ref('V2Error') } },
      handler: async (c, { params }) => {
        await c.get('state').host.sessions.revert(params.sessionID as string, undefined);
        return c.body(null, 204);
      },
    }),
    route({
      method: 'post',
      path: '/api/session/{sessionID}/revert/commit',
      operationId: 'v2.session.revert.commit',
      summary: 'Make a staged revert final (OpenCode’s v2 API)',
      description: 'The marked turns dropped from the session now (else its next prompt drops them), the files left as the revert put them; a session not reverted is left as it is (204). Not while a turn runs (409).',
      session: true,
      responses: { ...NO_CONTENT, 409: { description: 'ConflictError', schema: ref('V2Error') } },
      handler: async (c, { params }) => {
        await c.get('state').host.sessions.commitRevert(params.sessionID as string);
        return c.body(null, 204);
      },
    }),
    route({
      method: 'get',
      path: '/api/session/{sessionID}/history',
      operationId: 'v2.session.history',
      summary: 'A page of the session’s durable events after a sequence number (OpenCode’s v2 API)',
      description:
        'The session’s `session.next.*` events numbered past `after` (default 0: from the oldest kept), oldest first, `limit` of them (1–100, default 50), and `hasMore`. Events are numbered 1, 2, 3, … per session in the order they were committed; they are written with the session (a turn’s when it is saved, at its end) and outlive a restart. At most 1000 are kept per session: beyond that the oldest are dropped, so a page may start past `after + 1`. An `after` past the session’s latest event is a 400.',
      session: true,
      query: { after: { description: 'The seq of the last event the client has (0 or more; default 0)' }, limit: { description: '1–100 (default 50)' } },
      responses: { 200: { description: 'SessionHistory: {data, hasMore}', schema: obj({ data: { type: 'array', items: ref('SessionDurableEvent') }, hasMore: { type: 'boolean' } }, ['data', 'hasMore']) } },
      handler: async (c, { params }) => {
        const { afterOf, historyLimitOf, historyPage } = await import('../opencode/session-history.ts');
        const after = afterOf(c);
        const limit = historyLimitOf(c);
        return c.json(historyPage(await c.get('state').host.sessions.get(params.sessionID as string), after, limit));
      },
    }),
    route({
      method: 'get',
      path: '/api/session/{sessionID}/event',
      operationId: 'v2.session.events',
      summary: 'The session’s durable events after a sequence number, then each new one (OpenCode’s v2 API)',
      description:
        'Server-sent events, a `data: <event>` frame each (the events of …/history): first those numbered past `after` (default 0: all kept), then each one as it is committed, with no gap and none twice at the seam; a comment line every heartbeat. A turn’s events come when it is saved (at its end). A client that falls far behind is cut off: it resumes with `after` set to the last seq it got. Events saved by another process (`opencode run -s`) show in …/history but not live.',
      session: true,
      query: { after: { description: 'The seq of the last event the client has (0 or more; default 0)' } },
      responses: { 200: { description: 'Event stream of SessionDurableEvent', contentType: 'text/event-stream', schema: ref('SessionDurableEvent') } },
      handler: async (c, { params }) => {
        const { afterOf, durableStream } = await import('../opencode/session-history.ts');
        return durableStream(c, params.sessionID as string, afterOf(c));
      },
    }),
    route({
      method: 'get',
      path: '/api/session/{sessionID}/message',
      operationId: 'v2.session.messages',
      summary: 'The session’s messages, newest first (OpenCode’s v2 API)',
      description: 'Pages of `limit` (1–200, default 50) in `order` (`desc` by default); `cursor.next` and `cursor.previous` move through them (a cursor takes no `order`). A turn in progress is there as it stands. Unlike OpenCode, agent and model switches are not messages.',
      session: true,
      query: { limit: { description: '1–200 (default 50)' }, order: { description: '`asc` or `desc` (default)' }, cursor: { description: 'cursor.next or cursor.previous of a page' } },
      responses: { 200: { description: '{data, cursor}', schema: obj({ data: { type: 'array', items: ref('SessionMessageV2') }, cursor: { type: 'object' } }, ['data', 'cursor']) } },
      handler: async (c, { params }) => {
        const limit = limitOf(c);
        const { order, cursor } = pageQuery(c);
        return c.json(page(await v2Messages(c, params.sessionID as string), order, limit, cursor));
      },
    }),
    route({
      method: 'get',
      path: '/api/session/{sessionID}/message/{messageID}',
      operationId: 'v2.session.message',
      summary: 'One message of the session (OpenCode’s v2 API)',
      session: true,
      params: { messageID: { description: 'Message id (msg_…)' } },
      responses: { 200: { description: '{data: the message}', schema: obj({ data: ref('SessionMessageV2') }, ['data']) }, 404: { description: 'SessionNotFoundError or MessageNotFoundError', schema: ref('V2Error') } },
      handler: async (c, { params }) => {
        const found = (await v2Messages(c, params.sessionID as string)).find((m) => m.id === params.messageID);
        if (!found) throw new HttpError(404, 'MESSAGE_NOT_FOUND', `Session ${params.sessionID} has no message ${shown(params.messageID as string)}.`, { hint: 'GET /api/session/{sessionID}/message lists them.' });
        return c.json({ data: found });
      },
    }),
    route({
      method: 'get',
      path: '/api/session/{sessionID}/context',
      operationId: 'v2.session.context',
      summary: 'The messages the model sees next, oldest first (OpenCode’s v2 API)',
      description: 'From the last compaction on (its summary first), else every message.',
      session: true,
      responses: { 200: { description: '{data}', schema: obj({ data: { type: 'array', items: ref('SessionMessageV2') } }, ['data']) } },
      handler: async (c, { params }) => c.json({ data: contextV2(await v2Messages(c, params.sessionID as string)) }),
    }),
    route({
      method: 'get',
      path: '/api/session/{sessionID}/permission',
      operationId: 'v2.session.permission.list',
      summary: 'The session’s open permission requests, oldest first (OpenCode’s v2 API)',
      session: true,
      responses: { 200: { description: '{data}', schema: obj({ data: { type: 'array', items: { type: 'object' } } }, ['data']) } },
      handler: async (c, { params }) => {
        const id = params.sessionID as string;
        const asks = c.get('state').host.sessions.asks;
        return c.json({ data: asks.list(await sessionProject(c, id)).filter((q) => q.sessionID === id).map(permissionV2) });
      },
    }),
    route({
      method: 'post',
      path: '/api/session/{sessionID}/permission',
      operationId: 'v2.session.permission.create',
      summary: 'Ask whether an action is allowed, opening a request when it needs approval (OpenCode’s v2 API)',
      description:
        'Each of `resources` is judged by the agent’s permission rules (`agent`, else the session’s) with the session’s own approvals and the project’s “always” answers: any denied is `deny`; else any that asks is `ask`, and a request is opened (listed, announced as `permission.asked`, answered through …/reply; `save` is what “always” approves, default the resources); else `allow`.',
      session: true,
      body: obj({ id: str, action: { type: 'string', minLength: 1 }, resources: { type: 'array', items: str }, save: { type: 'array', items: str }, metadata: { type: 'object' }, source: obj({ type: { type: 'string', const: 'tool' }, messageID: str, callID: str }, ['type', 'messageID', 'callID']), agent: str }, ['action', 'resources']),
      responses: { 200: { description: '{data: {id, effect}}', schema: obj({ data: obj({ id: str, effect: { type: 'string', enum: ['allow', 'deny', 'ask'] } }, ['id', 'effect']) }, ['data']) } },
      handler: async (c, { params, body }) => {
        const b = body as { id?: string; action: string; resources: string[]; save?: string[]; metadata?: Record<string, unknown>; source?: { messageID: string; callID: string }; agent?: string };
        if (b.id !== undefined && !b.id.startsWith('per')) throw invalid('Payload', 'id', `expected an id starting with "per", found ${shown(b.id)}`, 'Leave id out to have one made.');
        const state = c.get('state');
        const record = await state.host.sessions.get(params.sessionID as string);
        const { config, loaded } = await state.host.instances.get(record.projectRoot);
        const replaced = loaded.leftByPlugins;
        if (b.agent) checkAgentField(config, b.agent, replaced);
        const agent = resolveAgent(config, b.agent ?? (record.agent && config.agent?.[record.agent] && !replaced?.includes(record.agent) ? record.agent : undefined), undefined, undefined, '--agent', replaced);
        const asks = state.host.sessions.asks;
        const effects = b.resources.map((subject) => {
          const details: AskDetails = { key: b.action, tool: b.action, subject };
          if (approvedBy(record.permission, details) || asks.approved(record.projectRoot, details)) return 'allow';
          return decide(agent.permission, details).decision.action;
        });
        const effect = effects.includes('deny') ? 'deny' : effects.includes('ask') ? 'ask' : 'allow';
        let id = b.id ?? ascendingId('per');
        if (effect === 'ask') {
          const opened = asks.open(
            record.projectRoot,
            { ...(b.id ? { id: b.id } : {}), sessionID: record.id, permission: b.action, patterns: b.resources, always: b.save ?? b.resources, metadata: b.metadata ?? {}, ...(b.source ? { tool: { messageID: b.source.messageID, callID: b.source.callID } } : {}) },
            { key: b.action, tool: b.action, subject: b.resources[0] ?? '' },
          );
          id = opened.id;
        }
        return c.json({ data: { id, effect } });
      },
    }),
    route({
      method: 'get',
      path: '/api/session/{sessionID}/permission/{requestID}',
      operationId: 'v2.session.permission.get',
      summary: 'One open permission request of the session (OpenCode’s v2 API)',
      session: true,
      request: 'per',
      responses: { 200: { description: '{data}', schema: obj({ data: { type: 'object' } }, ['data']) }, 404: { description: 'SessionNotFoundError or PermissionNotFoundError', schema: ref('V2Error') } },
      handler: async (c, { params }) => {
        const id = params.sessionID as string;
        const found = c.get('state').host.sessions.asks.find(params.requestID as string, await sessionProject(c, id));
        if (!found || found.sessionID !== id) throw permissionNotFound(params.requestID as string);
        return c.json({ data: permissionV2(found) });
      },
    }),
    route({
      method: 'post',
      path: '/api/session/{sessionID}/permission/{requestID}/reply',
      operationId: 'v2.session.permission.reply',
      summary: 'Answer a permission request: once, always or reject (OpenCode’s v2 API)',
      description: 'As `POST /permission/{requestID}/reply`: `always` approves its `save` patterns in the project, kept across restarts (as OpenCode’s PermissionV2 keeps them in its database); `reject` with a `message` tells the model why and lets it go on.',
      session: true,
      request: 'per',
      body: obj({ reply: { type: 'string', enum: ['once', 'always', 'reject'] }, message: { type: 'string', maxLength: 10_000 } }, ['reply']),
      responses: { ...NO_CONTENT, 404: { description: 'SessionNotFoundError or PermissionNotFoundError', schema: ref('V2Error') } },
      handler: async (c, { params, body }) => {
        const id = params.sessionID as string;
        const { reply, message } = body as { reply: 'once' | 'always' | 'reject'; message?: string };
        const asks = c.get('state').host.sessions.asks;
        const projectRoot = await sessionProject(c, id);
        const found = asks.find(params.requestID as string, projectRoot);
        if (!found || found.sessionID !== id) throw permissionNotFound(params.requestID as string);
        await asks.reply(found.id, reply, message, projectRoot, true);
        return c.body(null, 204);
      },
    }),
    route({
      method: 'get',
      path: '/api/session/{sessionID}/question',
      operationId: 'v2.session.question.list',
      summary: 'The session’s open questions, oldest first (OpenCode’s v2 API)',
      session: true,
      responses: { 200: { description: '{data}', schema: obj({ data: { type: 'array', items: { type: 'object' } } }, ['data']) } },
      handler: async (c, { params }) => {
        const id = params.sessionID as string;
        return c.json({ data: c.get('state').host.sessions.questions.list(await sessionProject(c, id)).filter((q) => q.sessionID === id) });
      },
    }),
    route({
      method: 'post',
      path: '/api/session/{sessionID}/question/{requestID}/reply',
      operationId: 'v2.session.question.reply',
      summary: 'Answer a question (OpenCode’s v2 API)',
      description: '`answers`: one list per question, in order, of the labels chosen (or one typed answer where the question allows it), as `POST /question/{requestID}/reply`.',
      session: true,
      request: 'que',
      body: obj({ answers: { type: 'array', items: { type: 'array', items: str } } }, ['answers']),
      responses: { ...NO_CONTENT, 404: { description: 'SessionNotFoundError or QuestionNotFoundError', schema: ref('V2Error') } },
      handler: async (c, { params, body }) => {
        const projectRoot = await openQuestion(c, params.sessionID as string, params.requestID as string);
        c.get('state').host.sessions.questions.reply(params.requestID as string, (body as { answers: unknown }).answers, projectRoot);
        return c.body(null, 204);
      },
    }),
    route({
      method: 'post',
      path: '/api/session/{sessionID}/question/{requestID}/reject',
      operationId: 'v2.session.question.reject',
      summary: 'Dismiss a question (OpenCode’s v2 API)',
      session: true,
      request: 'que',
      responses: { ...NO_CONTENT, 404: { description: 'SessionNotFoundError or QuestionNotFoundError', schema: ref('V2Error') } },
      handler: async (c, { params }) => {
        const projectRoot = await openQuestion(c, params.sessionID as string, params.requestID as string);
        c.get('state').host.sessions.questions.reject(params.requestID as string, projectRoot);
        return c.body(null, 204);
      },
    }),
  ],
};

function modelText(model: { id: string; providerID: string; variant?: string }): string {
  return `${model.providerID}/${model.id}${model.variant && model.variant !== 'default' ? `:${model.variant}` : ''}`;
}

function permissionNotFound(requestID: string): HttpError {
  return new HttpError(404, 'PERMISSION_NOT_FOUND', `No permission request ${shown(requestID)} is open in this session.`, { hint: 'GET /api/session/{sessionID}/permission lists the open ones; a request ends when it is answered or its turn ends.' });
}

/** The project of a session whose question `requestID` is open (else QuestionNotFoundError). */
async function openQuestion(c: ServerContext, sessionID: string, requestID: string): Promise<string> {
  const projectRoot = await sessionProject(c, sessionID);
  if (!c.get('state').host.sessions.questions.list(projectRoot).some((q) => q.id === requestID && q.sessionID === sessionID)) {
    throw new HttpError(404, 'QUESTION_NOT_FOUND', `No question ${shown(requestID)} is open in this session.`, { hint: 'GET /api/session/{sessionID}/question lists the open ones.' });
  }
  return projectRoot;
}
