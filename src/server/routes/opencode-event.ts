/**
 * OpenCode's event streams: `/event` (one project's events) and `/global/event` (every project's,
 * as `{directory, payload}`). Server-sent events, `data: <json>` frames only, `server.connected`
 * first and `server.heartbeat` every 10 s (written by sse-stream.ts: slow clients dropped, gone ones
 * forgotten at once).
 */
import { ref, type RouteDef, type RouteGroup, type ServerContext } from '../route.ts';
import { DIRECTORY_QUERY, requestInstance } from './opencode-app.ts';
import { sseResponse } from '../sse-stream.ts';

function eventStream(c: ServerContext, projectRoot: string | undefined): Response {
  const state = c.get('state');
  const events = state.events;
  const global = projectRoot === undefined;
  return sseResponse(c, {
    heartbeatMs: state.options.heartbeatMs,
    heartbeat: () => events.frame('server.heartbeat', global),
    start: (sink) => {
      const off = events.subscribe({ ...(global ? {} : { projectRoot }), write: sink.write, drop: sink.end });
      sink.write(events.frame('server.connected', global));
      return off;
    },
  });
}

const stream = (description: string, schema: string): RouteDef['responses'] => ({ 200: { description, contentType: 'text/event-stream', schema: ref(schema) } });

export const openCodeEventRoutes: RouteGroup = {
  name: 'opencode-event',
  description: 'Server-sent events: sessions, messages and parts as OpenCode sends them, and Pantheon’s scheduling events as pantheon.*.',
  routes: [
    {
      method: 'get',
      path: '/event',
      operationId: 'event.subscribe',
      summary: 'Subscribe to the project’s events',
      query: DIRECTORY_QUERY,
      responses: stream('Event stream', 'Event'),
      handler: async (c) => eventStream(c, (await requestInstance(c)).projectRoot),
    },
    {
      method: 'get',
      path: '/global/event',
      operationId: 'global.event',
      summary: 'Subscribe to every project’s events',
      responses: stream('Event stream of {directory, payload}', 'GlobalEvent'),
      handler: (c) => eventStream(c, undefined),
    },
  ],
};
