/**
 * OpenCode's event streams: `/event` (one project's events) and `/global/event` (every project's,
 * as `{directory, payload}`). Server-sent events, `data: <json>` frames only, `server.connected`
 * first and `server.heartbeat` every 10 s (written by sse-stream.ts: slow clients dropped, gone ones
 * forgotten at once). OpenCode's v2 stream `/api/event` carries every project's events as v2 writes
 * them (`{id, type, location, data}`), its heartbeats SSE comments (`: heartbeat`).
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

const HEARTBEAT_COMMENT = new TextEncoder().encode(': heartbeat\n\n');

/** `/api/event`: every event, in v2's form; a heartbeat comment at once and at the server's interval, as OpenCode sends them. */
function v2EventStream(c: ServerContext): Response {
  const state = c.get('state');
  const events = state.events;
  return sseResponse(c, {
    heartbeatMs: state.options.heartbeatMs,
    heartbeat: () => HEARTBEAT_COMMENT,
    start: (sink) => {
      const off = events.subscribe({ v2: true, write: sink.write, drop: sink.end });
      sink.write(events.v2Connected());
      sink.write(HEARTBEAT_COMMENT);
      return off;
    },
  });
}

const stream = (description: string, schema: string): RouteDef['responses'] => ({ 200: { description, contentType: 'text/event-stream', schema: ref(schema) } });

export const openCodeEventRoutes: RouteGroup = {
  name: 'opencode-event',
  description: 'Server-sent events: sessions, messages and parts as OpenCode sends them, and Pantheon’s scheduling events as pantheon.*.',
  schemas: {
    V2Event: { type: 'object', properties: { id: { type: 'string' }, type: { type: 'string' }, location: { type: 'object', properties: { directory: { type: 'string' } }, required: ['directory'] }, data: { type: 'object' } }, required: ['id', 'type', 'data'] },
  },
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
    {
      method: 'get',
      path: '/api/event',
      operationId: 'v2.event.subscribe',
      summary: 'Subscribe to every project’s events (OpenCode’s v2 API)',
      description: 'The events of `/global/event`, each as OpenCode’s v2 stream writes it: `{id, type, location: {directory}, data}` (`data` is v1’s `properties`; the server’s own events have no `location`). `server.connected` first; heartbeats are SSE comments (`: heartbeat`), one at once and then at the server’s interval. A client that stops reading is dropped as on /event.',
      responses: stream('Event stream of {id, type, location, data}', 'V2Event'),
      handler: (c) => v2EventStream(c),
    },
  ],
};
