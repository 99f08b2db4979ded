/** OpenCode's session routes: list, create, status, get, update, delete, abort, messages (deleted, parts deleted or rewritten), the task list, prompt (sync and async). */
import { checkAgentField } from '../agent-field.ts';
import { EXIT, isPantheonError } from '../../errors.ts';
import type { PromptOutcome } from '../../core/sessions.ts';
import { appliedTurns, sessionDiff } from '../../session/session-diff.ts';
import { isParentId } from '../../session/file-format.ts';
import type { SessionRecord } from '../../session/store.ts';
import { commandInput } from '../command-input.ts';
import type { McpServers } from '../../core/mcp-servers.ts';
import { HttpError, toHttpError } from '../http-error.ts';
import { openCodeErrorOf, openCodeMessages, openCodeTurn, type OcPart } from '../opencode/message-view.ts';
import { checkMessageId, promptInput, type PromptBody, type ResourceReader } from '../opencode/prompt-input.ts';
import { sessionMessages } from '../opencode/session-messages.ts';
import { openCodeSession, rulesToPermission } from '../opencode/session-view.ts';
import { ref, type ParamDoc, type ResponseDoc, type RouteDef, type RouteGroup, type ServerContext } from '../route.ts';
import { DIRECTORY_QUERY, requestInstance } from './opencode-app.ts';

const SESSION: Record<string, ParamDoc> = { sessionID: { description: 'Session id (ses_…)' } };
const ERRORS: Record<number, ResponseDoc> = { 400: { description: 'Bad request', schema: ref('Error') }, 404: { description: 'No such session', schema: ref('Error') } };
const BOOLEAN: ResponseDoc = { description: 'Done', schema: { type: 'boolean' } };
type Rules = { permission: string; pattern?: string; action: string }[];

function session(c: ServerContext, record: SessionRecord) {
  return openCodeSession(record, c.get('state').version);
}

/** The reply of a finished turn as OpenCode returns it; a turn refused before anything was saved is an error status. */
export function replyMessage(outcome: PromptOutcome): { info: object; parts: unknown[] } {
  const { result, session: saved, turn } = outcome;
  const reply = saved ? openCodeTurn(saved, turn.userMessageID).find((m) => m.info.id === turn.assistantMessageID) : undefined;
  if (reply) return reply;
  const error = result.error;
  if (isPantheonError(error) && error.exitCode === EXIT.usage) throw toHttpError(error);
  const message = error instanceof Error ? error.message : 'The turn failed before anything was saved.';
  return { info: { id: turn.assistantMessageID, role: 'assistant', time: { created: turn.time, completed: Date.now() }, error: openCodeErrorOf({ code: isPantheonError(error) ? error.code : 'INTERNAL', message }) }, parts: [] };
}

function replyOf(outcome: PromptOutcome, c: ServerContext) {
  return c.json(replyMessage(outcome));
}

function route(def: RouteDef & { session?: boolean }): RouteDef {
  const { session: takesSession, ...rest } = def;
  const params = { ...(takesSession ? SESSION : {}), ...(def.params ?? {}) };
  return { ...rest, query: { ...DIRECTORY_QUERY, ...def.query }, ...(Object.keys(params).length ? { params } : {}), responses: { ...ERRORS, ...def.responses } };
}

/** A part id as OpenCode takes one (`prt…`); else a 400 naming it. */
function checkPartId(id: string | undefined): void {
  if (id !== undefined && !/^prt_[A-Za-z0-9_-]{1,120}$/.test(id)) throw new HttpError(400, 'BAD_REQUEST', `path parameter "partID": expected an id like prt_…, found ${JSON.stringify(id.slice(0, 40))}.`, { hint: 'Take part ids from GET /session/{sessionID}/message.', details: { field: 'partID' } });
}

/** The part of a saved message, as clients see it (undefined when the session has no such message or part). */
function findPart(record: SessionRecord, messageID: string, partID: string): OcPart | undefined {
  return openCodeMessages(record).find((m) => m.info.id === messageID)?.parts.find((p) => p.id === partID);
}

/** The messages `[from, to)` of the turn whose user message is `messageID` (an empty range when no turn has that id). */
function turnRange(record: SessionRecord, messageID: string): { from: number; to: number } {
  const from = record.messages.findIndex((m) => m.info?.id === messageID);
  if (from < 0) return { from: 0, to: 0 };
  const next = record.messages.findIndex((m, i) => i > from && m.info !== undefined);
  return { from, to: next < 0 ? record.messages.length : next };
}

const promptDoc = {
  body: ref('PromptBody'),
  session: true,
};

/** Reads an MCP resource a prompt mentions with the servers of the session's project. */
function mcpResourceReader(state: { host: { instances: { get(dir: string): Promise<{ mcp?: McpServers }> } } }, projectRoot: string): ResourceReader {
  return async (server, uri) => {
    const mcp = (await state.host.instances.get(projectRoot)).mcp;
    if (!mcp) throw new Error(`the project has no MCP server "${server}"`);
    return mcp.manager.readResource(server, uri);
  };
}

export const openCodeSessionRoutes: RouteGroup = {
  name: 'opencode-session',
  description: 'Sessions: the same store `opencode run` uses, so sessions made either way continue either way.',
  routes: [
    route({
      method: 'get',
      path: '/session',
      operationId: 'session.list',
      summary: 'List the project’s sessions, most recently updated first',
      query: { roots: { description: '`true`: only sessions that are no other’s child (not the sessions of `task` calls)' } },
      responses: { 200: { description: 'Sessions', schema: { type: 'array', items: ref('Session') } } },
      handler: async (c) => {
        const instance = await requestInstance(c);
        const limit = Number(c.req.query('limit'));
        const search = c.req.query('search')?.toLowerCase();
        let list = await c.get('state').host.sessions.list(instance.projectRoot);
        // `roots=true`: without the child sessions of `task` calls (OpenCode's TUI and `session list` ask so).
        const roots = c.req.query('roots');
        if (roots !== undefined && roots !== 'true' && roots !== 'false') {
          throw new HttpError(400, 'BAD_REQUEST', `query parameter "roots": expected true or false, found ${JSON.stringify(roots.slice(0, 40))}.`, { hint: 'roots=true leaves out the child sessions of task calls.', details: { field: 'roots' } });
        }
        if (roots === 'true') list = list.filter((s) => s.parentID === undefined);
        if (search) list = list.filter((s) => s.title.toLowerCase().includes(search));
        if (Number.isInteger(limit) && limit > 0) list = list.slice(0, limit);
        return c.json(list.map((s) => openCodeSession(s, c.get('state').version)));
      },
    }),
    route({
      method: 'post',
      path: '/session',
      operationId: 'session.create',
      summary: 'Create a session',
      body: ref('SessionCreateBody'),
      bodyOptional: true,
      responses: { 200: { description: 'The new session', schema: ref('Session') } },
      handler: async (c, { body }) => {
        const instance = await requestInstance(c);
        const b = (body ?? {}) as { parentID?: string; title?: string; agent?: string; permission?: Rules };
        if (b.agent) checkAgentField(instance.config, b.agent, instance.loaded.leftByPlugins);
        // As OpenCode checks it: an id of a session (`ses…`), which need not exist.
        if (b.parentID !== undefined && !isParentId(b.parentID)) {
          throw new HttpError(400, 'BAD_REQUEST', `body field "parentID": expected a session id (ses_…), found ${JSON.stringify(String(b.parentID).slice(0, 40))}.`, { hint: 'Give the id of the session this one is a child of, or leave parentID out.', details: { field: 'parentID' } });
        }
        const created = await c.get('state').host.sessions.create(instance.projectRoot, {
          ...(b.parentID === undefined ? {} : { parentID: b.parentID }),
          ...(b.title ? { title: b.title } : {}),
          ...(b.agent ? { agent: b.agent } : {}),
          ...(b.permission ? { permission: rulesToPermission(b.permission) } : {}),
        });
        return c.json(session(c, created));
      },
    }),
    route({
      method: 'get',
      path: '/session/status',
      operationId: 'session.status',
      summary: 'Status of the project’s sessions that are not idle',
      responses: { 200: { description: 'Session id → status', schema: { type: 'object', additionalProperties: ref('SessionStatus') } } },
      handler: async (c) => {
        const instance = await requestInstance(c);
        return c.json(c.get('state').host.sessions.statuses(instance.projectRoot));
      },
    }),
    route({
      method: 'get',
      path: '/session/{sessionID}',
      operationId: 'session.get',
      summary: 'Get a session',
      session: true,
      responses: { 200: { description: 'The session', schema: ref('Session') } },
      handler: async (c, { params }) => c.json(session(c, await c.get('state').host.sessions.get(params.sessionID as string))),
    }),
    route({
      method: 'get',
      path: '/session/{sessionID}/children',
      operationId: 'session.children',
      summary: 'The sessions the session’s `task` calls made, oldest first',
      session: true,
      responses: { 200: { description: 'Child sessions', schema: { type: 'array', items: ref('Session') } } },
      handler: async (c, { params }) => c.json((await c.get('state').host.sessions.children(params.sessionID as string)).map((s) => openCodeSession(s, c.get('state').version))),
    }),
    route({
      method: 'patch',
      path: '/session/{sessionID}',
      operationId: 'session.update',
      summary: 'Rename a session or set its approval rules',
      session: true,
      body: ref('SessionUpdateBody'),
      responses: { 200: { description: 'The session', schema: ref('Session') }, 409: { description: 'A turn is running', schema: ref('Error') } },
      handler: async (c, { params, body }) => {
        const b = body as { title?: string; permission?: Rules };
        const updated = await c.get('state').host.sessions.update(params.sessionID as string, {
          ...(b.title === undefined ? {} : { title: b.title }),
          ...(b.permission ? { permission: rulesToPermission(b.permission) } : {}),
        });
        return c.json(session(c, updated));
      },
    }),
    route({
      method: 'delete',
      path: '/session/{sessionID}',
      operationId: 'session.delete',
      summary: 'Delete a session (a running turn is cancelled first)',
      session: true,
      responses: { 200: BOOLEAN },
      handler: async (c, { params }) => {
        await c.get('state').host.sessions.remove(params.sessionID as string);
        return c.json(true);
      },
    }),
    route({
      method: 'post',
      path: '/session/{sessionID}/abort',
      operationId: 'session.abort',
      summary: 'Cancel the session’s running turn (answers once it has ended)',
      session: true,
      responses: { 200: BOOLEAN },
      handler: async (c, { params }) => {
        const sessions = c.get('state').host.sessions;
        // A turn may run on a session not saved yet (a new `run --attach` session): abort first, then 404 if there was none.
        if (!(await sessions.abort(params.sessionID as string))) await sessions.get(params.sessionID as string);
        return c.json(true);
      },
    }),
    route({
      method: 'get',
      path: '/session/{sessionID}/message',
      operationId: 'session.messages',
      summary: 'The session’s messages, oldest first',
      description: '`limit` keeps the last N (a whole number; anything else is a 400, as OpenCode refuses it). A turn in progress is there as it stands (its user message, and the reply so far).',
      session: true,
      query: { limit: { description: 'Keep the last N messages (a whole number)' } },
      responses: { 200: { description: 'Messages', schema: { type: 'array', items: ref('MessageWithParts') } } },
      handler: async (c, { params }) => {
        const given = c.req.query('limit');
        const limit = given === undefined || given === '' ? undefined : Number(given);
        if (limit !== undefined && !(/^\d+$/.test(given as string) && Number.isSafeInteger(limit))) {
          throw new HttpError(400, 'BAD_REQUEST', `query parameter "limit": expected a whole number, found ${JSON.stringify((given as string).slice(0, 40))}.`, { hint: 'limit=N keeps the last N messages; leave it out for all of them.', details: { field: 'limit', kind: 'Query' } });
        }
        const { messages } = await sessionMessages(c.get('state'), params.sessionID as string);
        return c.json(limit !== undefined && limit > 0 ? messages.slice(-limit) : messages);
      },
    }),
    route({
      method: 'get',
      path: '/session/{sessionID}/todo',
      operationId: 'session.todo',
      summary: 'The session’s task list',
      description: 'What the agent’s `todowrite` last wrote (`[]` before it did): `{id, content, status, priority}` each; a turn in progress announces its changes as `todo.updated` events.',
      session: true,
      responses: { 200: { description: 'Todos', schema: { type: 'array', items: { type: 'object' } } } },
      handler: async (c, { params }) => c.json((await c.get('state').host.sessions.get(params.sessionID as string)).todos ?? []),
    }),
    route({
      method: 'post',
      path: '/session/{sessionID}/summarize',
      operationId: 'session.summarize',
      summary: 'Summarize the session so it goes on from the summary (OpenCode’s compaction)',
      description:
        'What OpenCode’s TUI sends for /compact: the model (`providerID`/`modelID`, else the session’s) is asked, without tools, for a summary to go on from; the turn is kept (a `compaction` part, then the reply marked `summary`), and from then on the model sees the summary and what follows, not the turns before it (they stay in the session to read). With `auto: true`, a successful summary is followed, as in OpenCode, by a synthetic “Continue if you have next steps…” turn (unless a plugin’s `experimental.compaction.autocontinue` sets `enabled: false`), answered before this route is. Answers whether the summary was made; a failed one is a turn with its error, as a prompt’s.',
      session: true,
      body: { type: 'object', properties: { providerID: { type: 'string', minLength: 1 }, modelID: { type: 'string', minLength: 1 }, auto: { type: 'boolean' } } },
      responses: { 200: BOOLEAN, 409: { description: 'The session is busy', schema: ref('Error') } },
      handler: async (c, { params, body }) => {
        const { providerID, modelID, auto } = (body ?? {}) as { providerID?: string; modelID?: string; auto?: boolean };
        if ((providerID === undefined) !== (modelID === undefined)) {
          throw new HttpError(400, 'BAD_REQUEST', `body field "${providerID === undefined ? 'providerID' : 'modelID'}": expected it with ${providerID === undefined ? 'modelID' : 'providerID'}.`, { hint: 'Give both to choose the model, or neither for the session’s.', details: { field: providerID === undefined ? 'providerID' : 'modelID' } });
        }
        const sessions = c.get('state').host.sessions;
        const record = await sessions.get(params.sessionID as string);
        const model = providerID === undefined ? {} : { model: `${providerID}/${modelID}` };
        const outcome = await sessions.prompt(params.sessionID as string, { text: '', compaction: true, ...model }, record);
        // Refused before anything was saved (a usage error): its status, as a prompt's.
        if (!outcome.session) replyMessage(outcome);
        // An automatic compaction goes on with OpenCode's synthetic "continue" turn (the plugins' experimental.compaction.autocontinue may say no).
        if (auto === true) await sessions.continueAfterCompaction(params.sessionID as string, outcome, record.agent);
        return c.json(outcome.result.status === 'success');
      },
    }),
    route({
      method: 'post',
      path: '/session/{sessionID}/shell',
      operationId: 'session.shell',
      summary: 'Run a command in the session (OpenCode’s shell mode)',
      description:
        'What OpenCode’s TUI sends for a prompt that starts with `!`: the command runs with `bash` in the project (the agent’s tool: its 2-minute timeout, its output bounds, its own process group), no model is asked and no permission question is put (the user typed it). The session gets a turn of it (OpenCode’s synthetic note, the `bash` call and its output, events as for a prompt), so the next prompt’s model sees it. Answers the turn’s assistant message.',
      session: true,
      body: { type: 'object', required: ['command'], properties: { command: { type: 'string', minLength: 1, maxLength: 100_000 }, agent: { type: 'string' }, model: { type: 'object', properties: { providerID: { type: 'string' }, modelID: { type: 'string' } } } } },
      responses: { 200: { description: 'The turn’s assistant message', schema: { type: 'object' } }, 409: { description: 'The session is busy', schema: ref('Error') } },
      handler: async (c, { params, body }) => {
        const { command, agent } = body as { command: string; agent?: string };
        if (command.trim() === '') throw new HttpError(400, 'BAD_REQUEST', 'body field "command": expected a command, found only spaces.', { hint: 'Send the command to run, as typed after `!`.', details: { field: 'command' } });
        const sessions = c.get('state').host.sessions;
        const record = await sessions.get(params.sessionID as string);
        const outcome = await sessions.prompt(params.sessionID as string, { text: '', shell: command, ...(agent ? { agent } : {}) }, record);
        return c.json(replyMessage(outcome).info);
      },
    }),
    route({
      method: 'post',
      path: '/session/{sessionID}/revert',
      operationId: 'session.revert',
      summary: 'Undo a turn and the ones after it (files and messages)',
      description:
        'What OpenCode’s TUI sends for /undo: the files the session’s `edit` and `write` calls changed in the turn whose user message is `messageID` and every later one are put back as they were before it (a file the session created is removed), and those turns are marked (the session’s `revert`, whose `diff` is what the revert did to the files as one git-style patch, from every turn applied: the TUI’s banner lists the files from it); its next prompt drops them. A revert to a later turn, or unrevert, puts the files forward again. A file changed since by something else is a 409 naming it, with nothing written. Not while a turn runs (409).',
      session: true,
      body: { type: 'object', required: ['messageID'], properties: { messageID: { type: 'string' }, partID: { type: 'string' } }, additionalProperties: false },
      responses: { 200: { description: 'The session, with its revert mark', schema: ref('Session') }, 409: { description: 'The session is busy, or a file changed since', schema: ref('Error') } },
      handler: async (c, { params, body }) => {
        const { messageID } = body as { messageID: string };
        checkMessageId(messageID);
        const state = c.get('state');
        return c.json(openCodeSession(await state.host.sessions.revert(params.sessionID as string, messageID), state.version));
      },
    }),
    route({
      method: 'post',
      path: '/session/{sessionID}/unrevert',
      operationId: 'session.unrevert',
      summary: 'Redo what a revert undid',
      description: 'The files of the reverted turns put forward again and the mark cleared (what OpenCode’s TUI sends for /redo past the last turn); a session that is not reverted is answered as it is.',
      session: true,
      responses: { 200: { description: 'The session', schema: ref('Session') }, 409: { description: 'The session is busy, or a file changed since', schema: ref('Error') } },
      handler: async (c, { params }) => {
        const state = c.get('state');
        return c.json(openCodeSession(await state.host.sessions.revert(params.sessionID as string, undefined), state.version));
      },
    }),
    route({
      method: 'get',
      path: '/session/{sessionID}/diff',
      operationId: 'session.diff',
      summary: 'The files the session changed',
      description:
        'Each file the session’s `edit` and `write` calls changed, as OpenCode’s FileDiff: its text before the session’s first change, as it is now, and the lines added and removed (what OpenCode’s TUI lists under “Modified Files”; a turn that changed files announces the list as a `session.diff` event when it ends). `messageID` keeps the changes of that turn. A file changed since by something else is listed with its changes’ counts and no texts.',
      session: true,
      query: { messageID: { description: 'A user message’s id (msg_…): only the changes of its turn' } },
      responses: { 200: { description: 'File diffs', schema: { type: 'array', items: { type: 'object', properties: { file: { type: 'string' }, before: { type: 'string' }, after: { type: 'string' }, additions: { type: 'integer' }, deletions: { type: 'integer' } } } } } },
      handler: async (c, { params }) => {
        const messageID = c.req.query('messageID');
        checkMessageId(messageID);
        const record = await c.get('state').host.sessions.get(params.sessionID as string);
        return c.json(await sessionDiff(record.projectRoot, record.messages, messageID === undefined ? undefined : turnRange(record, messageID), appliedTurns(record)));
      },
    }),
    route({
      method: 'post',
      path: '/session/{sessionID}/message',
      operationId: 'session.prompt',
      summary: 'Send a message and wait for the reply',
      description: 'Runs a turn through the scheduler (limits, retries, fallbacks); the reply carries an error when every model failed.',
      ...promptDoc,
      responses: { 200: { description: 'The reply', schema: ref('MessageWithParts') }, 409: { description: 'The session is busy', schema: ref('Error') } },
      handler: async (c, { params, body }) => {
        const id = params.sessionID as string;
        const sessions = c.get('state').host.sessions;
        const record = await sessions.get(id);
        const input = await promptInput(body as PromptBody, record.projectRoot, mcpResourceReader(c.get('state'), record.projectRoot));
        return replyOf(await sessions.prompt(id, { ...input, askClient: true }, record), c);
      },
    }),
    route({
      method: 'post',
      path: '/session/{sessionID}/fork',
      operationId: 'session.fork',
      summary: 'Copy a session under a new id (every turn, or the turns before a user message)',
      body: ref('SessionForkBody'),
      bodyOptional: true,
      session: true,
      responses: { 200: { description: 'The new session', schema: ref('Session') }, 400: { description: 'No such user message in the session', schema: ref('Error') } },
      handler: async (c, { params, body }) => {
        const messageID = (body as { messageID?: string } | undefined)?.messageID;
        checkMessageId(messageID);
        return c.json(session(c, await c.get('state').host.sessions.fork(params.sessionID as string, messageID)));
      },
    }),
    route({
      method: 'post',
      path: '/session/{sessionID}/command',
      operationId: 'session.command',
      summary: 'Run a command (the config’s, or OpenCode’s built-in `init` and `review`) and wait for the reply',
      description:
        'The command (`command.<name>`, `.opencode/command/<name>.md`, else OpenCode’s built-in `init` or `review`, with OpenCode’s own prompts, else a skill: its instructions and folder; an MCP server’s prompt `<server>:<prompt>`: the text of its `prompts/get` for the arguments, sent as it is) expanded in the session’s project as `opencode run --command` expands it ($1…, $ARGUMENTS, !`shell` output, @file mentions), its agent and model over the body’s; then a turn as for a message.',
      body: ref('CommandBody'),
      session: true,
      responses: { 200: { description: 'The reply', schema: ref('MessageWithParts') }, 400: { description: 'No such command, or one without a template', schema: ref('Error') }, 409: { description: 'The session is busy', schema: ref('Error') } },
      handler: async (c, { params, body }) => {
        const id = params.sessionID as string;
        const b = body as { command: string; arguments?: string; messageID?: string; agent?: string; model?: string; variant?: string };
        checkMessageId(b.messageID);
        const state = c.get('state');
        const record = await state.host.sessions.get(id);
        const instance = await state.host.instances.get(record.projectRoot);
        const { subtask, ...input } = await commandInput(instance.config, { command: b.command, arguments: b.arguments ?? '', agent: b.agent, model: b.model, sessionAgent: record.agent, replaced: instance.loaded.leftByPlugins }, record.projectRoot, state.host.env, { plugins: instance.plugins, sessionID: id });
        if (subtask) {
          // As OpenCode runs it: the turn is the request's agent's, the command's text goes to the sub-task.
          const own = { ...(b.agent ? { agent: b.agent } : {}), ...(b.model ? { model: b.model } : {}), ...(b.variant && !b.model ? { variant: b.variant } : {}) };
          return replyOf(await state.host.sessions.prompt(id, { text: '', ...own, subtask, askClient: true, ...(b.messageID ? { userMessageID: b.messageID } : {}) }, record), c);
        }
        const { attachments, ...rest } = input;
        return replyOf(
          await state.host.sessions.prompt(id, { ...rest, askClient: true, ...(attachments.length ? { attachments } : {}), ...(b.variant && !input.model ? { variant: b.variant } : {}), ...(b.messageID ? { userMessageID: b.messageID } : {}) }, record),
          c,
        );
      },
    }),
    route({
      method: 'get',
      path: '/session/{sessionID}/message/{messageID}',
      operationId: 'session.message',
      summary: 'One message of the session',
      session: true,
      params: { messageID: { description: 'Message id (msg_…)' } },
      responses: { 200: { description: 'The message', schema: ref('MessageWithParts') } },
      handler: async (c, { params }) => {
        const messages = openCodeMessages(await c.get('state').host.sessions.get(params.sessionID as string));
        const found = messages.find((m) => m.info.id === params.messageID);
        if (!found) throw new HttpError(404, 'MESSAGE_NOT_FOUND', `Session ${params.sessionID} has no message ${params.messageID}.`, { hint: 'GET /session/{sessionID}/message lists them.' });
        return c.json(found);
      },
    }),
    route({
      method: 'delete',
      path: '/session/{sessionID}/message/{messageID}',
      operationId: 'session.deleteMessage',
      summary: 'Delete a message and its parts (files are not reverted)',
      description:
        'The message leaves the session for good: clients no longer see it and the model no longer sees it in later turns (a deleted reply’s tool calls and results go with it). Announced as `message.removed`. Not while a turn runs (409, as OpenCode refuses). A message the session does not have changes nothing and is answered `true`, as OpenCode answers.',
      session: true,
      params: { messageID: { description: 'Message id (msg_…)' } },
      responses: { 200: BOOLEAN, 409: { description: 'A turn is running', schema: ref('Error') } },
      handler: async (c, { params }) => {
        checkMessageId(params.messageID);
        await c.get('state').host.sessions.removeMessage(params.sessionID as string, params.messageID as string);
        return c.json(true);
      },
    }),
    route({
      method: 'delete',
      path: '/session/{sessionID}/message/{messageID}/part/{partID}',
      operationId: 'part.delete',
      summary: 'Delete a part of a message',
      description:
        'Clients no longer see the part; a text or reasoning part’s words leave what the model sees of the session too (a tool part’s call and result stay for the model, paired). The other parts keep their ids. Announced as `message.part.removed`. A part the session does not have changes nothing and is answered `true`, as OpenCode answers; a turn that is running keeps its parts until it is saved.',
      session: true,
      params: { messageID: { description: 'Message id (msg_…)' }, partID: { description: 'Part id (prt_…)' } },
      responses: { 200: BOOLEAN },
      handler: async (c, { params }) => {
        checkMessageId(params.messageID);
        checkPartId(params.partID);
        const { sessionID, messageID, partID } = params as { sessionID: string; messageID: string; partID: string };
        const sessions = c.get('state').host.sessions;
        if (findPart(await sessions.get(sessionID), messageID, partID)) await sessions.editPart(sessionID, messageID, partID, null);
        return c.json(true);
      },
    }),
    route({
      method: 'patch',
      path: '/session/{sessionID}/message/{messageID}/part/{partID}',
      operationId: 'part.update',
      summary: 'Rewrite a part of a message',
      description:
        'The body is the whole part as it should be (OpenCode’s Part), its `id`, `messageID` and `sessionID` those of the path (a 400 otherwise, as OpenCode). Clients see it as sent; a text or reasoning part’s new text is what the model sees of it in later turns. Announced as `message.part.updated`; answers the part. A part the saved session does not have is a 404 naming it (OpenCode 1.18.33 fails with a 500).',
      session: true,
      params: { messageID: { description: 'Message id (msg_…)' }, partID: { description: 'Part id (prt_…)' } },
      body: ref('Part'),
      responses: { 200: { description: 'The part', schema: ref('Part') }, 404: { description: 'No such session, message or part', schema: ref('Error') } },
      handler: async (c, { params, body }) => {
        checkMessageId(params.messageID);
        checkPartId(params.partID);
        const { sessionID, messageID, partID } = params as { sessionID: string; messageID: string; partID: string };
        const part = body as Record<string, unknown>;
        for (const [field, expected] of [['id', partID], ['messageID', messageID], ['sessionID', sessionID]] as const) {
          if (part[field] !== expected) throw new HttpError(400, 'BAD_REQUEST', `body field "${field}": expected ${JSON.stringify(expected)} (the path’s), found ${JSON.stringify(String(part[field]).slice(0, 60))}.`, { hint: 'Send the part as GET /session/{sessionID}/message/{messageID} gives it, with only what should change changed.', details: { field } });
        }
        const sessions = c.get('state').host.sessions;
        if (!findPart(await sessions.get(sessionID), messageID, partID)) throw new HttpError(404, 'PART_NOT_FOUND', `Session ${sessionID} has no part ${partID} in message ${messageID}.`, { hint: 'GET /session/{sessionID}/message/{messageID} lists the message’s parts.' });
        await sessions.editPart(sessionID, messageID, partID, part);
        return c.json(part);
      },
    }),
    route({
      method: 'post',
      path: '/session/{sessionID}/prompt_async',
      operationId: 'session.prompt_async',
      summary: 'Send a message; the reply streams on /event',
      ...promptDoc,
      responses: { 204: { description: 'Accepted; the turn runs' }, 409: { description: 'The session is busy', schema: ref('Error') } },
      handler: async (c, { params, body }) => {
        const id = params.sessionID as string;
        const sessions = c.get('state').host.sessions;
        const record = await sessions.get(id);
        const input = await promptInput(body as PromptBody, record.projectRoot, mcpResourceReader(c.get('state'), record.projectRoot));
        const { done } = await sessions.start(id, { ...input, askClient: true }, record);
        done.catch((error: unknown) => c.get('state').log(`error: turn of ${id}: ${error instanceof Error ? error.message : String(error)}`));
        return c.body(null, 204);
      },
    }),
  ],
};
