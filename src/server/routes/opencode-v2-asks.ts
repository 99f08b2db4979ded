/**
 * OpenCode's v2 lists of what waits on the person at a client, for a location: the open permission
 * requests (`GET /api/permission/request`) and questions (`GET /api/question/request`), the same
 * as v1's `GET /permission` and `GET /question` in v2's shapes; and what "always" answers approved
 * (`GET /api/permission/saved`, `DELETE /api/permission/saved/{id}`): v2's answers kept in the
 * project's file (permissions/saved-approvals.ts) as OpenCode keeps them in its database, v1's held
 * until the server stops (core/permission-asks.ts).
 * Errors in v2's shape (`{_tag, message}`).
 */
import { HttpError } from '../http-error.ts';
import { permissionV2 } from '../opencode/asks-v2.ts';
import { projectId } from '../opencode/catalog-view.ts';
import { v2Error } from '../opencode/v2-error.ts';
import { ref, type JsonSchema, type RouteGroup } from '../route.ts';
import { LOCATION_QUERY, locationOf, v2Instance } from './opencode-project.ts';

const str: JsonSchema = { type: 'string' };
const obj = (properties: Record<string, JsonSchema>, required: string[] = []): JsonSchema => ({ type: 'object', properties, required });
const listOf = (item: JsonSchema): JsonSchema => obj({ location: ref('LocationInfo'), data: { type: 'array', items: item } }, ['location', 'data']);
const BAD = { 400: { description: 'InvalidRequestError (a folder that does not exist, a bad parameter)', schema: ref('V2Error') } };
/** The longest project id taken (OpenCode's are 40 hex digits, or `global`). */
const MAX_PROJECT_ID = 200;

export const openCodeV2PermissionRoutes: RouteGroup = {
  name: 'opencode-v2-permission',
  description: 'OpenCode’s v2 permission lists: the open requests of a location, and what “always” answers approved.',
  prefix: '/api/permission',
  renderError: (error) => v2Error(error),
  schemas: {
    PermissionV2Request: obj(
      { id: str, sessionID: str, action: str, resources: { type: 'array', items: str }, save: { type: 'array', items: str }, metadata: { type: 'object' }, source: obj({ type: { type: 'string', const: 'tool' }, messageID: str, callID: str }, ['type', 'messageID', 'callID']) },
      ['id', 'sessionID', 'action', 'resources'],
    ),
    PermissionSavedInfo: obj({ id: str, projectID: str, action: str, resource: str }, ['id', 'projectID', 'action', 'resource']),
  },
  routes: [
    {
      method: 'get',
      path: '/api/permission/request',
      operationId: 'v2.permission.request.list',
      summary: 'List the open permission requests (OpenCode’s v2 API)',
      description: 'The project’s open permission requests, oldest first: those of `GET /permission`, as `{id, sessionID, action, resources, save, metadata, source}`.',
      query: LOCATION_QUERY,
      responses: { 200: { description: '{location, data}', schema: listOf(ref('PermissionV2Request')) }, ...BAD },
      handler: async (c) => {
        const instance = await v2Instance(c);
        return c.json({ location: locationOf(instance), data: c.get('state').host.sessions.asks.list(instance.projectRoot).map(permissionV2) });
      },
    },
    {
      method: 'get',
      path: '/api/permission/saved',
      operationId: 'v2.permission.saved.list',
      summary: 'List what “always” approved (OpenCode’s v2 API)',
      description: 'Each pattern an `always` answer approved, `{id, projectID, action, resource}`, oldest first: the project’s named by `projectID`, else the request’s project’s (its folder as in the other routes). Those answered through v2’s reply route are kept across restarts, as OpenCode keeps them, in `$XDG_DATA_HOME/pantheon/permissions/<projectID>.json` (listed first); those answered through v1’s (the TUI’s) are held until the server stops, as in OpenCode.',
      query: { ...LOCATION_QUERY, projectID: { description: 'A project’s id (GET /project); default: the request’s project' } },
      responses: { 200: { description: '{data}', schema: obj({ data: { type: 'array', items: ref('PermissionSavedInfo') } }, ['data']) }, ...BAD },
      handler: async (c) => {
        const given = c.req.query('projectID');
        if (given !== undefined && (given === '' || given.length > MAX_PROJECT_ID)) {
          throw new HttpError(400, 'BAD_REQUEST', `query parameter "projectID": expected a project id (GET /project lists them), found ${given === '' ? 'nothing' : `${given.length} characters`}.`, { hint: 'Leave projectID out for the request’s own project.', details: { field: 'projectID', kind: 'Query' } });
        }
        const asks = c.get('state').host.sessions.asks;
        const root = given === undefined ? (await v2Instance(c)).projectRoot : asks.store.rootOf(given);
        const data = root === undefined ? [] : asks.saved(root).map((s) => ({ id: s.id, projectID: projectId(root), action: s.action, resource: s.resource }));
        return c.json({ data });
      },
    },
    {
      method: 'delete',
      path: '/api/permission/saved/{id}',
      operationId: 'v2.permission.saved.remove',
      summary: 'Take back what “always” approved (OpenCode’s v2 API)',
      description: 'The calls it covered are asked about again. 204 whether or not an approval had that id, as OpenCode answers.',
      params: { id: { description: 'The saved approval’s id (psv_…)' } },
      responses: { 204: { description: 'Removed (or there was none)' }, ...BAD },
      handler: async (c, { params }) => {
        await c.get('state').host.sessions.asks.forget(params.id as string);
        return c.body(null, 204);
      },
    },
  ],
};

export const openCodeV2QuestionRoutes: RouteGroup = {
  name: 'opencode-v2-question',
  description: 'OpenCode’s v2 list of the open questions of a location.',
  prefix: '/api/question',
  renderError: (error) => v2Error(error),
  routes: [
    {
      method: 'get',
      path: '/api/question/request',
      operationId: 'v2.question.request.list',
      summary: 'List the open questions (OpenCode’s v2 API)',
      description: 'The project’s open questions, oldest first: those of `GET /question`, `{id, sessionID, questions, tool}`.',
      query: LOCATION_QUERY,
      responses: { 200: { description: '{location, data}', schema: listOf({ type: 'object' }) }, ...BAD },
      handler: async (c) => {
        const instance = await v2Instance(c);
        return c.json({ location: locationOf(instance), data: c.get('state').host.sessions.questions.list(instance.projectRoot) });
      },
    },
  ],
};
