/**
 * OpenCode's `/sync/*`: `POST /sync/history` lists the project's sessions' durable events after the
 * numbers a client knows (opencode/session-history.ts). The other three are OpenCode's workspace
 * sync (moving a session's event history between an OpenCode server and its remote workspaces),
 * which Pantheon has no counterpart of: they answer 501 saying so.
 */
import { HttpError } from '../http-error.ts';
import { ref, type RouteDef, type RouteGroup } from '../route.ts';
import { DIRECTORY_QUERY, requestInstance } from './opencode-app.ts';

const QUERY = { ...DIRECTORY_QUERY, workspace: { description: 'OpenCode’s workspace id (Pantheon has no workspaces: ignored)' } };
const NO_WORKSPACES = 'Pantheon has no workspaces to sync sessions between';
const HINT = 'A session’s events are read with GET /api/session/{sessionID}/history and …/event, or POST /sync/history.';

function notServed(path: string, operationId: string, summary: string, what: string): RouteDef {
  return {
    method: 'post',
    path,
    operationId,
    summary,
    description: `OpenCode ${what}. ${NO_WORKSPACES}: 501 \`NOT_IMPLEMENTED\`, nothing done.`,
    query: QUERY,
    bodyOptional: true,
    body: { type: 'object' },
    responses: { 501: { description: 'Not implemented: Pantheon has no workspaces', schema: ref('Error') } },
    handler: () => {
      throw new HttpError(501, 'NOT_IMPLEMENTED', `POST ${path} is OpenCode’s workspace sync: ${NO_WORKSPACES}, so nothing was done.`, { hint: HINT });
    },
  };
}

export const openCodeSyncRoutes: RouteGroup = {
  name: 'opencode-sync',
  description: 'OpenCode’s sync routes: the project’s sessions’ durable events after the sequence numbers a client knows; its workspace sync is not served (501).',
  routes: [
    {
      method: 'post',
      path: '/sync/history',
      operationId: 'sync.history.list',
      summary: 'The durable events of the project’s sessions after the numbers the client knows',
      description:
        'The body maps session ids to the seq of the last event the client has of each (`{}`: none); the answer lists the events numbered past it (a session not named: all its events kept) as `{id, aggregate_id, seq, type, data}` (`type` with its version, `session.next.prompted.1`), lowest seq first. Sessions of the request’s project only (OpenCode lists every aggregate of its database). At most 10000 events: send the numbers received to get the rest.',
      query: QUERY,
      body: { type: 'object', additionalProperties: { type: 'integer', minimum: 0 } },
      bodyOptional: true,
      responses: {
        200: { description: 'Sync events', schema: { type: 'array', items: { type: 'object', properties: { id: { type: 'string' }, aggregate_id: { type: 'string' }, seq: { type: 'integer' }, type: { type: 'string' }, data: { type: 'object' } }, required: ['id', 'aggregate_id', 'seq', 'type', 'data'] } } },
        400: { description: 'A body that is not {sessionID: seq}', schema: ref('Error') },
      },
      handler: async (c, { body }) => {
        const instance = await requestInstance(c);
        const { syncHistory } = await import('../opencode/session-history.ts');
        return c.json(await syncHistory(c, instance.projectRoot, (body ?? {}) as Record<string, number>));
      },
    },
    notServed('/sync/replay', 'sync.replay', 'Replay a session’s event history (not served)', 'validates and replays a complete session event history sent from another workspace into its database'),
    notServed('/sync/start', 'sync.start', 'Start workspace sync (not served)', 'starts sync loops for the project’s remote workspaces that have active sessions'),
    notServed('/sync/steal', 'sync.steal', 'Move a session into the current workspace (not served)', 'moves a session to the workspace of the request through its sync events'),
  ],
};
