/**
 * OpenCode's `POST /experimental/session/{sessionID}/background`: the subagents a session's
 * running `task` calls wait for are sent to the background (core/sessions.ts `background`).
 */
import { HttpError } from '../http-error.ts';
import { type RouteGroup } from '../route.ts';
import { DIRECTORY_QUERY } from './opencode-app.ts';

export const openCodeSessionBackgroundRoutes: RouteGroup = {
  name: 'opencode-session-background',
  description: 'Subagents sent to the background, as OpenCode’s experimental API does it.',
  routes: [
    {
      method: 'post',
      path: '/experimental/session/{sessionID}/background',
      operationId: 'experimental.session.background',
      summary: 'Background subagents',
      description:
        'The subagents the session’s running `task` calls wait for (its direct children) are sent to the background: each call ends at once with OpenCode’s answer (`<task id="<child session>" state="running">`, “Background task started”, and the advice not to wait for it), and the model goes on. Each subagent runs on in its own session (its events still published); when it ends, its answer (or why it failed) is sent to this session as a new prompt in OpenCode’s form (`<task … state="completed">` / `state="error"`), run at once or after the turn running then (one cancelled is not told). `true` when any was sent, `false` when none waited (an unknown session too, as OpenCode).',
      query: DIRECTORY_QUERY,
      params: { sessionID: { description: 'Session id (ses_…)' } },
      responses: { 200: { description: 'Backgrounded subagents', schema: { type: 'boolean' } }, 400: { description: 'A session id that is not one' } },
      handler: async (c, { params }) => {
        const id = params.sessionID as string;
        if (!/^ses_[A-Za-z0-9_-]{1,120}$/.test(id)) throw new HttpError(400, 'BAD_REQUEST', `path parameter "sessionID": expected an id like ses_…, found ${JSON.stringify(id.slice(0, 40))}.`, { hint: 'Take session ids from GET /session.', details: { field: 'sessionID' } });
        return c.json(c.get('state').host.sessions.background(id));
      },
    },
  ],
};
