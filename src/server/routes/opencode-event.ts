/**
 * OpenCode's event streams: `/event` (one project's events) and `/global/event` (every project's,
 * as `{directory, payload}`). Server-sent events, `data: <json>` frames only, `server.connected`
 * first and `server.heartbeat` every 10 s; a client that stops reading is dropped once 8 MiB are
 * queued for it; a client that goes away is forgotten at once.
 */
import { ref, type RouteDef, type RouteGroup, type ServerContext } from '../route.ts';
import { DIRECTORY_QUERY, requestInstance } from './opencode-app.ts';

const MAX_QUEUED_BYTES = 8 * 1024 * 1024;

function eventStream(c: ServerContext, projectRoot: string | undefined): Response {
  const state = c.get('state');
  const events = state.events;
  const global = projectRoot === undefined;
  let stop = () => undefined as void;
  const body = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        let open = true;
        const write = (frame: Uint8Array): boolean => {
          if (!open) return false;
          controller.enqueue(frame);
          return (controller.desiredSize ?? 0) > -MAX_QUEUED_BYTES;
        };
        const heartbeat = setInterval(() => {
          if (!write(events.frame('server.heartbeat', global))) stop();
        }, state.options.heartbeatMs);
        const off = events.subscribe({ ...(global ? {} : { projectRoot }), write, drop: () => stop() });
        stop = () => {
          if (!open) return;
          open = false;
          clearInterval(heartbeat);
          off();
          c.req.raw.signal.removeEventListener('abort', stop);
          try {
            controller.close();
          } catch {
            // already closed by the client going away
          }
        };
        c.req.raw.signal.addEventListener('abort', stop);
        write(events.frame('server.connected', global));
      },
      cancel() {
        stop();
      },
    },
    { highWaterMark: 0, size: (chunk) => chunk.byteLength },
  );
  return new Response(body, {
    headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no', 'x-content-type-options': 'nosniff' },
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
