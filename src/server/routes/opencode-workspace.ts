/**
 * OpenCode's experimental workspaces, as a server with no workspace adapter answers them: OpenCode's
 * workspaces come from adapters (its built-in `worktree` one, plugins' others) and run sessions in a
 * workspace server of their own; Pantheon has none, so it lists none, syncs nothing, and refuses to
 * make one, naming what it does have (project copies, sandbox worktrees). GET /experimental/workspace
 * and its status are opencode-extras.ts's.
 */
import { HttpError } from '../http-error.ts';
import { ref, type JsonSchema, type RouteGroup } from '../route.ts';
import { DIRECTORY_QUERY } from './opencode-app.ts';

const WORKSPACE_ID = /^wrk[A-Za-z0-9_-]{0,120}$/;
const SESSION_ID = /^ses_[A-Za-z0-9_-]{1,120}$/;
const NO_ADAPTERS = 'Pantheon has no workspace adapters (GET /experimental/workspace/adapter is `[]`)';

const adapter: JsonSchema = { type: 'object', properties: { type: { type: 'string' }, name: { type: 'string' }, description: { type: 'string' } }, required: ['type', 'name', 'description'], additionalProperties: false };

function badId(field: string, found: string, like: string, hint: string): HttpError {
  return new HttpError(400, 'BAD_REQUEST', `${field}: expected an id like ${like}…, found ${JSON.stringify(found.slice(0, 40))}.`, { hint, details: { field: field.replace(/^.*"(.+)"$/, '$1') } });
}

export const openCodeWorkspaceRoutes: RouteGroup = {
  name: 'opencode-workspace',
  description: 'OpenCode’s experimental workspaces, as a server with no workspace adapter answers them.',
  routes: [
    {
      method: 'get',
      path: '/experimental/workspace/adapter',
      operationId: 'experimental.workspace.adapter.list',
      summary: 'List workspace adapters',
      description: 'Always `[]`: Pantheon has no workspace adapters (OpenCode lists its built-in `worktree` one and plugins’ others). A git worktree of the project is made with POST /experimental/worktree or POST /experimental/project/{projectID}/copy.',
      query: DIRECTORY_QUERY,
      responses: { 200: { description: 'Workspace adapters', schema: { type: 'array', items: adapter } } },
      handler: (c) => c.json([]),
    },
    {
      method: 'post',
      path: '/experimental/workspace/sync-list',
      operationId: 'experimental.workspace.syncList',
      summary: 'Sync workspace list',
      description: '204, nothing registered: with no workspace adapter there are no workspaces to find.',
      query: DIRECTORY_QUERY,
      responses: { 204: { description: 'Workspace list synced' } },
      handler: (c) => c.body(null, 204),
    },
    {
      method: 'post',
      path: '/experimental/workspace',
      operationId: 'experimental.workspace.create',
      summary: 'Create workspace',
      description: 'Refused: 400 `WorkspaceCreateError` “Unknown workspace adapter: <type>”, as OpenCode answers a type no adapter has; Pantheon has none. A body that is not `{type, id?, branch?, extra?}` is a 400 naming the field.',
      query: DIRECTORY_QUERY,
      body: { type: 'object', required: ['type'], properties: { id: { type: 'string', maxLength: 200, description: 'wrk…' }, type: { type: 'string', maxLength: 200 }, branch: { type: ['string', 'null'], maxLength: 1000 }, extra: {} }, additionalProperties: false },
      responses: { 200: { description: 'Workspace created', schema: ref('Workspace') }, 400: { description: 'WorkspaceCreateError, or a bad body', schema: ref('Error') } },
      handler: (_c, { body }) => {
        const { type, id } = body as { type: string; id?: string };
        if (id !== undefined && !WORKSPACE_ID.test(id)) throw badId('body field "id"', id, 'wrk', 'Leave the id out: the server makes one.');
        throw new HttpError(400, 'WORKSPACE_CREATE_FAILED', `Unknown workspace adapter: ${JSON.stringify(type.slice(0, 100))}.`, { hint: `${NO_ADAPTERS}; make a git worktree of the project with POST /experimental/project/{projectID}/copy or POST /experimental/worktree.`, name: 'WorkspaceCreateError' });
      },
    },
    {
      method: 'delete',
      path: '/experimental/workspace/{id}',
      operationId: 'experimental.workspace.remove',
      summary: 'Remove workspace',
      description: '`null`, nothing removed: there is no workspace of that id (OpenCode answers an unknown one so). An id that does not start with `wrk` is a 400 naming it.',
      query: DIRECTORY_QUERY,
      params: { id: { description: 'Workspace id (wrk…)' } },
      responses: { 200: { description: 'Workspace removed', schema: { anyOf: [ref('Workspace'), { type: 'null' }] } }, 400: { description: 'An id that is not a workspace id', schema: ref('Error') } },
      handler: (c, { params }) => {
        const id = params.id as string;
        if (!WORKSPACE_ID.test(id)) throw badId('path parameter "id"', id, 'wrk', 'Take workspace ids from GET /experimental/workspace (Pantheon has none).');
        return c.json(null);
      },
    },
    {
      method: 'post',
      path: '/experimental/workspace/warp',
      operationId: 'experimental.workspace.warp',
      summary: 'Warp session into workspace',
      description: '`id: null` (detach the session to the local project): 204, nothing to do, as every session is in its local project already (an unknown session is a 404). A workspace id: 404 `NotFoundError` “Workspace not found: <id>”, as OpenCode answers an unknown one.',
      query: DIRECTORY_QUERY,
      body: { type: 'object', required: ['id', 'sessionID'], properties: { id: { type: ['string', 'null'], maxLength: 200 }, sessionID: { type: 'string', maxLength: 200 }, copyChanges: { type: 'boolean' } }, additionalProperties: false },
      responses: { 204: { description: 'Session warped' }, 400: { description: 'A bad body', schema: ref('Error') }, 404: { description: 'No such workspace or session', schema: ref('Error') } },
      handler: async (c, { body }) => {
        const { id, sessionID } = body as { id: string | null; sessionID: string };
        if (!SESSION_ID.test(sessionID)) throw badId('body field "sessionID"', sessionID, 'ses_', 'Take session ids from GET /session.');
        if (id !== null) {
          if (!WORKSPACE_ID.test(id)) throw badId('body field "id"', id, 'wrk', 'Send `null` to detach the session to the local project (Pantheon has no workspaces).');
          throw new HttpError(404, 'NOT_FOUND', `Workspace not found: ${id}.`, { hint: NO_ADAPTERS + '.', details: { field: 'id' } });
        }
        await c.get('state').host.sessions.get(sessionID);
        return c.body(null, 204);
      },
    },
  ],
};
