/**
 * OpenCode's terminal routes (`@opencode-ai/sdk`'s `pty.*`, what its web and desktop apps open
 * terminals with): the shells, the project's terminals (list, create, get, resize or rename,
 * delete), a connect ticket, and the WebSocket that carries a terminal (served from the upgrade,
 * opencode/pty-socket.ts; the route here documents it and answers a plain GET 426). The v2 twins
 * under `/api/pty` answer the same wrapped as `{location, data}`, their errors in v2's `{_tag,
 * message}`. The work is in opencode/terminals.ts, loaded on first use.
 */
import { HttpError } from '../http-error.ts';
import { ref, type JsonSchema, type RouteDef, type RouteGroup, type ServerContext } from '../route.ts';
import type { Instance } from '../../core/instances.ts';
import type { PtyCreate, PtyUpdate } from '../opencode/terminals.ts';
import { DIRECTORY_QUERY, requestInstance } from './opencode-app.ts';
import { LOCATION_QUERY, locationOf, v2Instance } from './opencode-project.ts';
import { v2Error } from '../opencode/v2-error.ts';
import { checkedCwd } from '../opencode/pty-create-input.ts';
import { shellEnvOf } from '../../plugins/ask-shell-hooks.ts';

const str: JsonSchema = { type: 'string' };
const PTY_ID = { ptyID: { description: 'The terminal’s id (pty_…)', schema: { type: 'string' } as JsonSchema } };
const CURSOR_QUERY = {
  cursor: { description: 'Characters of output the client has seen: what came after is replayed (-1: nothing; default: all that is kept, up to 2 MiB)' },
  ticket: { description: 'A ticket from POST …/connect-token, in place of the password (spent once)' },
};
const ERRORS = { 400: { description: 'Bad request (the field is named)', schema: ref('Error') }, 404: { description: 'No such terminal in the project', schema: ref('Error') } };
const SIZE: JsonSchema = { type: 'integer', minimum: 1, maximum: 65535 };

const CREATE: JsonSchema = {
  type: 'object',
  properties: {
    command: { type: 'string', maxLength: 4096, description: 'Program to run (default: the user’s shell)' },
    args: { type: 'array', maxItems: 256, items: { type: 'string', maxLength: 65536 } },
    cwd: { type: 'string', maxLength: 4096, description: 'Folder to start in (default: the project folder)' },
    title: { type: 'string', maxLength: 1024 },
    env: { type: 'object', additionalProperties: { type: 'string' }, description: 'Variables added to the server’s environment' },
  },
};
const UPDATE: JsonSchema = {
  type: 'object',
  properties: { title: { type: 'string', maxLength: 1024 }, size: { type: 'object', properties: { rows: SIZE, cols: SIZE }, required: ['rows', 'cols'] } },
};

const PTY: JsonSchema = {
  type: 'object',
  properties: {
    id: str,
    title: str,
    command: str,
    args: { type: 'array', items: str },
    cwd: str,
    status: { type: 'string', enum: ['running', 'exited'] },
    pid: { type: 'integer', minimum: 0 },
    exitCode: { type: 'integer', minimum: 0 },
  },
  required: ['id', 'title', 'command', 'args', 'cwd', 'status', 'pid'],
};
const SHELL: JsonSchema = { type: 'object', properties: { path: str, name: str, acceptable: { type: 'boolean' } }, required: ['path', 'name', 'acceptable'] };
const TOKEN: JsonSchema = { type: 'object', properties: { ticket: str, expires_in: { type: 'integer', minimum: 1 } }, required: ['ticket', 'expires_in'] };

const terminals = async (c: ServerContext) => (await import('../opencode/terminals.ts')).terminalsOf(c.get('state'));

/** `x-opencode-ticket: 1` (a header a page of another site cannot send without a preflight the origin guard refuses), as OpenCode asks. */
function ticketRequest(c: ServerContext): void {
  if (c.req.header('x-opencode-ticket') !== '1') {
    throw new HttpError(403, 'PTY_TICKET_HEADER', 'A connect ticket is given to requests with the header x-opencode-ticket: 1.', { hint: 'Send the header x-opencode-ticket: 1.' });
  }
}

function wrap(v2: boolean, instance: Instance, data: unknown): unknown {
  return v2 ? { location: locationOf(instance), data } : data;
}

/** The routes of one API: v1 at /pty, v2 at /api/pty. */
function routes(v2: boolean): RouteDef[] {
  const base = v2 ? '/api/pty' : '/pty';
  const op = (name: string) => (v2 ? `v2.pty.${name}` : `pty.${name}`);
  const query = v2 ? LOCATION_QUERY : DIRECTORY_QUERY;
  const instance = (c: ServerContext) => (v2 ? v2Instance(c) : requestInstance(c));
  const answer = (schema: JsonSchema): JsonSchema => (v2 ? { type: 'object', properties: { location: ref('LocationInfo'), data: schema }, required: ['location', 'data'] } : schema);
  const summary = (text: string) => (v2 ? `${text} (OpenCode’s v2 API)` : text);
  return [
    {
      method: 'get',
      path: base,
      operationId: op('list'),
      summary: summary('The project’s running terminals'),
      query,
      responses: { 200: { description: 'Terminals', schema: answer({ type: 'array', items: ref('Pty') }) }, 400: ERRORS[400] },
      handler: async (c) => {
        const where = await instance(c);
        return c.json(wrap(v2, where, (await terminals(c)).list(where.projectRoot)) as object);
      },
    },
    {
      method: 'post',
      path: base,
      operationId: op('create'),
      summary: summary('Open a terminal: a shell (or `command`) on a pseudo-terminal; `pty.created`'),
      description: 'The user’s shell runs as a login shell, in the project folder unless `cwd` says otherwise, with the server’s environment (but the server password) and `env`. At most 16 terminals at once (429).',
      query,
      body: CREATE,
      bodyOptional: true,
      responses: { 200: { description: 'The terminal', schema: answer(ref('Pty')) }, 400: ERRORS[400], 429: { description: 'As many terminals as the server keeps are open', schema: ref('Error') }, 501: { description: 'This machine cannot open terminals (the native module is missing)', schema: ref('Error') } },
      handler: async (c, { body }) => {
        const where = await instance(c);
        const input = (body ?? {}) as PtyCreate;
        // The plugins' `shell.env`, told the terminal's folder (as OpenCode tells them: the body's `cwd`, else the project's).
        const shellEnv = shellEnvOf(where.plugins, undefined);
        const pluginEnv = shellEnv ? await shellEnv(checkedCwd(input, where.directory), undefined) : undefined;
        return c.json(wrap(v2, where, (await terminals(c)).create(input, where, pluginEnv)) as object);
      },
    },
    {
      method: 'get',
      path: `${base}/{ptyID}`,
      operationId: op('get'),
      summary: summary('A running terminal'),
      params: PTY_ID,
      query,
      responses: { 200: { description: 'The terminal', schema: answer(ref('Pty')) }, ...ERRORS },
      handler: async (c, { params }) => {
        const where = await instance(c);
        return c.json(wrap(v2, where, (await terminals(c)).get(params.ptyID as string, where.projectRoot).info) as object);
      },
    },
    {
      method: 'put',
      path: `${base}/{ptyID}`,
      operationId: op('update'),
      summary: summary('Rename a terminal or resize it (`size`: rows and columns); `pty.updated`'),
      params: PTY_ID,
      query,
      body: UPDATE,
      responses: { 200: { description: 'The terminal', schema: answer(ref('Pty')) }, ...ERRORS },
      handler: async (c, { params, body }) => {
        const where = await instance(c);
        return c.json(wrap(v2, where, (await terminals(c)).update(params.ptyID as string, where.projectRoot, body as PtyUpdate)) as object);
      },
    },
    {
      method: 'delete',
      path: `${base}/{ptyID}`,
      operationId: op('remove'),
      summary: summary('Close a terminal: every process it started ends (SIGHUP, then SIGKILL); `pty.deleted`'),
      params: PTY_ID,
      query,
      responses: { ...(v2 ? { 204: { description: 'Closed' } } : { 200: { description: 'Closed', schema: { type: 'boolean' } as JsonSchema } }), ...ERRORS },
      handler: async (c, { params }) => {
        const where = await instance(c);
        (await terminals(c)).remove(params.ptyID as string, where.projectRoot);
        return v2 ? c.body(null, 204) : c.json(true);
      },
    },
    {
      method: 'post',
      path: `${base}/{ptyID}/connect-token`,
      operationId: op('connectToken'),
      summary: summary('A ticket that opens the terminal’s WebSocket once, within 60 s (needs the header x-opencode-ticket: 1)'),
      params: PTY_ID,
      query,
      responses: { 200: { description: 'The ticket', schema: answer(ref('PtyConnectToken')) }, 403: { description: 'The header x-opencode-ticket: 1 is missing, or the page’s origin may not', schema: ref('Error') }, ...ERRORS },
      handler: async (c, { params }) => {
        ticketRequest(c);
        const where = await instance(c);
        const all = await terminals(c);
        const id = all.get(params.ptyID as string, where.projectRoot).info.id;
        return c.json(wrap(v2, where, all.tickets.issue(id, where.projectRoot)) as object);
      },
    },
    {
      method: 'get',
      path: `${base}/{ptyID}/connect`,
      operationId: op('connect'),
      summary: summary('The terminal over a WebSocket'),
      description:
        'Output comes as text frames; first what came after `cursor`, then a binary frame 0x00 + `{"cursor":N}` (the characters of output so far), then the output as it comes. Text or binary (UTF-8) frames sent are typed into the terminal. Closed with 1000 when the shell exits or the terminal is deleted, 1001 when the server stops, 1013 when the client lets more than 4 MiB pile up unread (reconnect with `cursor` to resume). The upgrade is refused (an HTTP error) for a page whose origin may not change anything, without the password (Basic, `?auth_token=`) or a ticket, or for no such terminal. A GET without an upgrade is a 426.',
      params: PTY_ID,
      query: { ...query, ...CURSOR_QUERY },
      responses: { 101: { description: 'Switching to the WebSocket' }, 400: ERRORS[400], 401: { description: 'No password or ticket', schema: ref('Error') }, 403: { description: 'A page of another site, or a ticket refused', schema: ref('Error') }, 404: ERRORS[404], 426: { description: 'Not a WebSocket upgrade', schema: ref('Error') } },
      handler: () => {
        throw new HttpError(426, 'UPGRADE_REQUIRED', 'This route is a WebSocket: connect with a WebSocket client (Upgrade: websocket).', { hint: 'Open ws://HOST:PORT/pty/{ptyID}/connect.' });
      },
    },
  ];
}

export const openCodePtyRoutes: RouteGroup = {
  name: 'opencode-pty',
  description: 'Terminals (pseudo-terminals running a shell) over HTTP and a WebSocket, as OpenCode’s web and desktop apps open them.',
  schemas: { Pty: PTY, PtyShell: SHELL, PtyConnectToken: TOKEN },
  routes: [
    {
      method: 'get',
      path: '/pty/shells',
      operationId: 'pty.shells',
      summary: 'The shells a terminal may run (/etc/shells, those that exist)',
      query: DIRECTORY_QUERY,
      responses: { 200: { description: 'Shells', schema: { type: 'array', items: ref('PtyShell') } } },
      handler: async (c) => c.json((await import('../opencode/shells.ts')).listShells()),
    },
    ...routes(false),
  ],
};

export const openCodePtyV2Routes: RouteGroup = {
  name: 'opencode-pty-v2',
  description: 'OpenCode’s v2 terminal routes: the same terminals as /pty, wrapped as {location, data}.',
  prefix: '/api/pty',
  renderError: (error) => v2Error(error),
  routes: routes(true),
};
