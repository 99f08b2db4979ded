/**
 * OpenCode's control plane: `POST /experimental/control-plane/move-session`, a session moved to
 * another folder of its project (opencode/move-session.ts decides which qualify).
 */
import { HttpError } from '../http-error.ts';
import { MoveSessionError, moveDestination } from '../opencode/move-session.ts';
import { ref, type RouteGroup } from '../route.ts';

export const openCodeControlPlaneRoutes: RouteGroup = {
  name: 'opencode-control-plane',
  description: 'Sessions moved between the folders of their project, as OpenCode’s control plane does it.',
  routes: [
    {
      method: 'post',
      path: '/experimental/control-plane/move-session',
      operationId: 'experimental.controlPlane.moveSession',
      summary: 'Move session',
      description:
        'The session is moved to `destination.directory`’s project root, which must be a checkout of the same git repository as the session’s project (its root or a copy: GET /project/{projectID}/directories), as OpenCode requires the same project: it is listed, and its turns run, there from now on (`session.deleted` on the old project’s /event, `session.updated` on the new one’s); its child sessions stay where they are. 204; the session’s own folder: 204, nothing done. 400 `MoveSessionError`: a folder that does not exist or is not absolute, one of another project, `moveChanges: true` (Pantheon does not carry uncommitted changes across: move them with `git diff` and `git apply` first), a session with a turn running. An unknown session is a 400 “Session not found: …” as OpenCode answers it.',
      body: { type: 'object', required: ['sessionID', 'destination'], properties: { sessionID: { type: 'string', maxLength: 200 }, destination: { type: 'object', required: ['directory'], properties: { directory: { type: 'string', minLength: 1, maxLength: 4096 } }, additionalProperties: false }, moveChanges: { type: 'boolean' } }, additionalProperties: false },
      responses: { 204: { description: 'Session moved' }, 400: { description: 'MoveSessionError, or a bad body', schema: ref('Error') } },
      handler: async (c, { body }) => {
        const input = body as { sessionID: string; destination: { directory: string }; moveChanges?: boolean };
        if (!/^ses_[A-Za-z0-9_-]{1,120}$/.test(input.sessionID)) throw new HttpError(400, 'BAD_REQUEST', `body field "sessionID": expected an id like ses_…, found ${JSON.stringify(input.sessionID.slice(0, 40))}.`, { hint: 'Take session ids from GET /session.', details: { field: 'sessionID' } });
        const sessions = c.get('state').host.sessions;
        const record = await sessions.get(input.sessionID).catch((error: unknown) => {
          throw error instanceof HttpError || (error as { code?: string }).code !== 'SESSION_NOT_FOUND' ? error : new MoveSessionError(`Session not found: ${input.sessionID}.`, 'Take session ids from GET /session.');
        });
        const root = await moveDestination(record.projectRoot, input.destination.directory);
        if (root === record.projectRoot) return c.body(null, 204);
        if (input.moveChanges) throw new MoveSessionError('moveChanges is not supported: Pantheon does not carry uncommitted changes to another checkout.', 'Move them yourself (`git diff` in the old folder, `git apply` in the new), then move the session without moveChanges.');
        if (sessions.running(record.id)) throw new MoveSessionError(`Session ${record.id} is busy with a turn: it is not moved while one runs.`, 'Wait for it to end (session.idle on /event), or abort it with POST /session/{id}/abort.');
        await sessions.move(record.id, root);
        return c.body(null, 204);
      },
    },
  ],
};
