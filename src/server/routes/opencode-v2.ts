/**
 * OpenCode's v2 API (`/api/…`) as a whole: its health (`GET /api/health`), and its error shape,
 * `{_tag, message}`, for every `/api/…` path no other group claims (`/api/agent`, `/api/location`,
 * `/api/event`, an unknown route, a 401) — Pantheon's own `/api/v1`, `/api/state` and `/api/stats`
 * keep theirs. Listed last: the groups with longer prefixes are matched first.
 */
import { v2Error } from '../opencode/v2-error.ts';
import type { RouteGroup } from '../route.ts';

export const openCodeV2Routes: RouteGroup = {
  name: 'opencode-v2',
  description: 'OpenCode’s v2 API: its health; its error shape for every /api/… route of OpenCode’s.',
  prefix: '/api',
  renderError: (error) => v2Error(error),
  routes: [
    {
      method: 'get',
      path: '/api/health',
      operationId: 'v2.health.get',
      summary: 'Get health (OpenCode’s v2 API)',
      description: '`{healthy: true}` once the server answers, as OpenCode’s v2 clients poll it.',
      responses: { 200: { description: 'Health', schema: { type: 'object', properties: { healthy: { type: 'boolean', const: true } }, required: ['healthy'] } } },
      handler: (c) => c.json({ healthy: true }),
    },
  ],
};
