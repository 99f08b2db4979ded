/**
 * OpenCode's permission routes: the open questions of a project (`GET /permission`), and the
 * answer to one (`POST /permission/{requestID}/reply`, what OpenCode's TUI sends; the older
 * `POST /session/{id}/permissions/{permissionID}` too). Questions come from turns OpenCode clients
 * sent (core/permission-asks.ts) and are announced as `permission.asked` on the event streams.
 */
import { ref, type JsonSchema, type RouteGroup } from '../route.ts';
import type { PermissionReply } from '../../core/permission-asks.ts';
import { DIRECTORY_QUERY, requestInstance } from './opencode-app.ts';

const REPLY = { type: 'string', enum: ['once', 'always', 'reject'] } as const;
const ERRORS = { 400: { description: 'Bad request', schema: ref('Error') }, 404: { description: 'No such open question', schema: ref('Error') } };
const DONE = { 200: { description: 'Answered', schema: { type: 'boolean' } as JsonSchema }, ...ERRORS };
const QUESTION: JsonSchema = {
  type: 'object',
  properties: {
    id: { type: 'string', description: 'per_…' },
    sessionID: { type: 'string' },
    permission: { type: 'string', description: 'bash, edit, webfetch, external_directory, task, an MCP tool name' },
    patterns: { type: 'array', items: { type: 'string' }, description: 'What the call is: its command, path, URL or name' },
    always: { type: 'array', items: { type: 'string' }, description: 'What answering "always" approves, in every session of the project until the server stops' },
    metadata: { type: 'object' },
    tool: { type: 'object', properties: { messageID: { type: 'string' }, callID: { type: 'string' } }, required: ['messageID', 'callID'] },
  },
  required: ['id', 'sessionID', 'permission', 'patterns', 'always', 'metadata'],
};

export const openCodePermissionRoutes: RouteGroup = {
  name: 'opencode-permission',
  description: 'Permission questions of turns sent through OpenCode’s API, put to the clients listening to the project’s events, and their answers.',
  schemas: { PermissionRequest: QUESTION },
  routes: [
    {
      method: 'get',
      path: '/permission',
      operationId: 'permission.list',
      summary: 'The project’s open permission questions, oldest first',
      query: DIRECTORY_QUERY,
      responses: { 200: { description: 'Open questions', schema: { type: 'array', items: ref('PermissionRequest') } } },
      handler: async (c) => c.json(c.get('state').host.sessions.asks.list((await requestInstance(c)).projectRoot)),
    },
    {
      method: 'post',
      path: '/permission/{requestID}/reply',
      operationId: 'permission.reply',
      summary: 'Answer a permission question: once, always (for the project, until the server stops, as OpenCode’s TUI says) or reject (with a message the model is told)',
      params: { requestID: { description: 'The question’s id (per_…)' } },
      query: DIRECTORY_QUERY,
      body: { type: 'object', properties: { reply: REPLY, message: { type: 'string', maxLength: 10_000 } }, required: ['reply'] },
      responses: DONE,
      handler: async (c, { params, body }) => {
        const { reply, message } = body as { reply: PermissionReply; message?: string };
        const projectRoot = (await requestInstance(c)).projectRoot;
        await c.get('state').host.sessions.asks.reply(params.requestID as string, reply, message, projectRoot);
        return c.json(true);
      },
    },
    {
      method: 'post',
      path: '/session/{sessionID}/permissions/{permissionID}',
      operationId: 'permission.respond',
      summary: 'Answer a permission question (OpenCode’s older route; the same as POST /permission/{requestID}/reply)',
      params: { sessionID: { description: 'Session id (ses_…)' }, permissionID: { description: 'The question’s id (per_…)' } },
      query: DIRECTORY_QUERY,
      body: { type: 'object', properties: { response: REPLY }, required: ['response'] },
      responses: DONE,
      handler: async (c, { params, body }) => {
        const { response } = body as { response: PermissionReply };
        const projectRoot = (await requestInstance(c)).projectRoot;
        await c.get('state').host.sessions.asks.reply(params.permissionID as string, response, undefined, projectRoot);
        return c.json(true);
      },
    },
  ],
};
