/**
 * OpenCode's routes about the server's projects and what it offers, which its SDK and apps call: the
 * projects (`GET /project`, `GET /project/{id}/directories`), a client's log line (`POST /log`),
 * letting a project's instance go (`POST /instance/dispose`), the tools (`GET
 * /experimental/tool/ids`, `GET /experimental/tool`), the `/init` command (`POST
 * /session/{id}/init`) and sharing (`POST`/`DELETE /session/{id}/share`), which Pantheon does not do.
 */
import { clientLogLine, LOG_EXTRA_CHARS, LOG_MESSAGE_CHARS, LOG_SERVICE_CHARS, type ClientLog } from '../client-log.ts';
import { commandInput } from '../command-input.ts';
import { HttpError } from '../http-error.ts';
import { offeredTools } from '../offered-tools.ts';
import { disposeInstance } from '../opencode/instance-events.ts';
import { checkMessageId } from '../opencode/prompt-input.ts';
import { readProjectRecords } from '../opencode/project-records.ts';
import { openCodeSession } from '../opencode/session-view.ts';
import { ref, type JsonSchema, type RouteDef, type RouteGroup, type ServerContext } from '../route.ts';
import { DIRECTORY_QUERY, projectView, requestInstance } from './opencode-app.ts';
import { replyMessage } from './opencode-session.ts';
import { thousands } from '../../icu-free.ts';

const BAD = { 400: { description: 'Bad request (the field is named)', schema: ref('Error') } };
const NOT_FOUND = { 404: { description: 'No such session', schema: ref('Error') } };
const SESSION_PARAM = { sessionID: { description: 'Session id (ses_…)' } };
const TOOL_ITEM: JsonSchema = { type: 'object', required: ['id', 'description', 'parameters'], properties: { id: { type: 'string' }, description: { type: 'string' }, parameters: { type: 'object', description: 'The tool’s input as JSON Schema' } } };

function bad(name: string, message: string, hint: string): HttpError {
  return new HttpError(400, 'BAD_REQUEST', `query parameter "${name}": ${message}.`, { hint, details: { field: name } });
}

/** The tools of the request's project, as OpenCode lists them. */
async function toolsOf(c: ServerContext) {
  const instance = await requestInstance(c);
  return offeredTools(instance, c.get('state').host.env);
}

function shareRefused(): HttpError {
  return new HttpError(400, 'SHARING_UNSUPPORTED', 'Pantheon does not share sessions: it has no share service, and a session never leaves this machine.', {
    hint: 'Export the session instead (GET /session/{sessionID}/message lists its messages); Pantheon’s GET /config reports `share: "disabled"`, so OpenCode’s apps leave the share command out.',
  });
}

export const openCodeInstanceRoutes: RouteGroup = {
  name: 'opencode-instance',
  description: 'The server’s projects, a client’s log lines, the tools it offers, OpenCode’s /init, and sharing (which Pantheon does not do).',
  routes: [
    {
      method: 'get',
      path: '/project',
      operationId: 'project.list',
      summary: 'List the projects',
      description: 'The projects the server has open (each folder a request named, up to the 32 kept at once; the one of this request first). A project’s name, icon and start command are those PATCH /project/{projectID} set; it was created at the server’s start and updated then or at its last such change; `sandboxes` is empty.',
      query: DIRECTORY_QUERY,
      responses: { 200: { description: 'Projects', schema: { type: 'array', items: ref('Project') } }, ...BAD },
      handler: async (c) => {
        const state = c.get('state');
        const current = await requestInstance(c);
        const roots = [...new Set([current.projectRoot, ...(await state.host.instances.list()).map((i) => i.projectRoot)])];
        const records = await readProjectRecords(state.host.env);
        return c.json(await Promise.all(roots.map((root) => projectView(root, state.host.startedAt, records))));
      },
    },
    {
      method: 'post',
      path: '/log',
      operationId: 'app.log',
      summary: 'Write a client’s log line to the server’s log',
      description: `One line on the server’s stderr, \`client log: LEVEL SERVICE: MESSAGE EXTRA\`: control characters (newlines too) escaped, the message cut at ${thousands(LOG_MESSAGE_CHARS)} characters and \`extra\` (as JSON) at ${thousands(LOG_EXTRA_CHARS)}. Answers \`true\`.`,
      query: DIRECTORY_QUERY,
      body: {
        type: 'object',
        required: ['service', 'level', 'message'],
        properties: { service: { type: 'string', maxLength: LOG_SERVICE_CHARS, description: 'Service name for the log entry' }, level: { type: 'string', enum: ['debug', 'info', 'error', 'warn'] }, message: { type: 'string', description: 'Log message' }, extra: { type: 'object', additionalProperties: true } },
      },
      responses: { 200: { description: 'Written', schema: { type: 'boolean' } }, ...BAD },
      handler: (c, { body }) => {
        c.get('state').log(clientLogLine(body as ClientLog));
        return c.json(true);
      },
    },
    {
      method: 'post',
      path: '/instance/dispose',
      operationId: 'instance.dispose',
      summary: 'Let the project’s instance go',
      description: 'The request’s folder’s instance is closed (its MCP servers stopped; at once, or when the turns using it end) and the next request opens it again, reading its config anew (`server.instance.disposed` on its stream, as OpenCode sends it). Sessions are kept. Answers `true`.',
      query: DIRECTORY_QUERY,
      responses: { 200: { description: 'Disposed', schema: { type: 'boolean' } }, ...BAD },
      handler: async (c) => {
        await disposeInstance(c.get('state'), await requestInstance(c));
        return c.json(true);
      },
    },
    {
      method: 'get',
      path: '/experimental/tool/ids',
      operationId: 'tool.ids',
      summary: 'The ids of the tools Pantheon offers',
      description: 'The built-in tools, `task`, `todowrite`, `todoread`, and `skill` when there are skills (as GET /api/v1/tools lists them, without the MCP servers’ tools, as OpenCode lists them).',
      query: DIRECTORY_QUERY,
      responses: { 200: { description: 'Tool ids', schema: { type: 'array', items: { type: 'string' } } }, ...BAD },
      handler: async (c) => c.json((await toolsOf(c)).map((t) => t.name)),
    },
    {
      method: 'get',
      path: '/experimental/tool',
      operationId: 'tool.list',
      summary: 'The tools Pantheon offers a model, with their JSON Schemas',
      description: 'The tools of GET /experimental/tool/ids with their descriptions and input schemas. `provider` and `model` are required, as OpenCode requires them; Pantheon offers every model the same tools, so they choose nothing.',
      query: { ...DIRECTORY_QUERY, provider: { description: 'Provider id', required: true }, model: { description: 'Model id', required: true } },
      responses: { 200: { description: 'Tools', schema: { type: 'array', items: TOOL_ITEM } }, ...BAD },
      handler: async (c) => {
        for (const name of ['provider', 'model']) {
          const value = c.req.query(name);
          if (value === undefined || value === '') throw bad(name, 'is required', 'Send provider=…&model=… (e.g. provider=openai&model=gpt-4o).');
        }
        return c.json((await toolsOf(c)).map((t) => ({ id: t.name, description: t.description, parameters: t.input_schema })));
      },
    },
    {
      method: 'post',
      path: '/session/{sessionID}/init',
      operationId: 'session.init',
      summary: 'Run OpenCode’s /init: create or improve AGENTS.md',
      description:
        'Runs the `init` command in the session with the body’s model and waits for the turn, as OpenCode does: the config’s own `command.init` when it has one, else OpenCode’s built-in prompt (the agent reads the project and writes `AGENTS.md`, with the permissions its tools have). Answers `true` once the turn ends (a model’s failure is in the turn’s message, as for a prompt).',
      params: SESSION_PARAM,
      query: DIRECTORY_QUERY,
      body: { type: 'object', required: ['modelID', 'providerID', 'messageID'], properties: { modelID: { type: 'string', minLength: 1 }, providerID: { type: 'string', minLength: 1 }, messageID: { type: 'string' } } },
      responses: { 200: { description: 'The turn ended', schema: { type: 'boolean' } }, ...BAD, ...NOT_FOUND, 409: { description: 'The session is busy', schema: ref('Error') } },
      handler: async (c, { params, body }) => {
        const id = params.sessionID as string;
        const b = body as { modelID: string; providerID: string; messageID: string };
        checkMessageId(b.messageID);
        const state = c.get('state');
        const record = await state.host.sessions.get(id);
        const instance = await state.host.instances.get(record.projectRoot);
        const { attachments, ...input } = await commandInput(instance.config, { command: 'init', arguments: '', model: `${b.providerID}/${b.modelID}` }, record.projectRoot, state.host.env, { plugins: instance.plugins, sessionID: id });
        replyMessage(await state.host.sessions.prompt(id, { ...input, askClient: true, userMessageID: b.messageID, ...(attachments.length ? { attachments } : {}) }, record));
        return c.json(true);
      },
    },
    {
      method: 'post',
      path: '/session/{sessionID}/share',
      operationId: 'session.share',
      summary: 'Share a session (Pantheon does not)',
      description: 'Always a 400 (SHARING_UNSUPPORTED) for a session that exists: Pantheon has no share service. (OpenCode with `share: "disabled"` answers a 500.)',
      params: SESSION_PARAM,
      query: DIRECTORY_QUERY,
      responses: { ...BAD, ...NOT_FOUND },
      handler: async (c, { params }) => {
        await c.get('state').host.sessions.get(params.sessionID as string);
        throw shareRefused();
      },
    },
    {
      method: 'delete',
      path: '/session/{sessionID}/share',
      operationId: 'session.unshare',
      summary: 'Stop sharing a session (none is shared)',
      description: 'Answers the session as it is, without a share URL: no Pantheon session is ever shared, so there is nothing to stop (OpenCode with `share: "disabled"` answers the same).',
      params: SESSION_PARAM,
      query: DIRECTORY_QUERY,
      responses: { 200: { description: 'The session', schema: ref('Session') }, ...BAD, ...NOT_FOUND },
      handler: async (c, { params }) => {
        const state = c.get('state');
        return c.json(openCodeSession(await state.host.sessions.get(params.sessionID as string), state.version));
      },
    },
  ] satisfies RouteDef[],
};
