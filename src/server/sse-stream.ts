/**
 * A server-sent events response, the one way every stream of the server is written (`/event`,
 * `/global/event`, `/api/state/stream`): frames go straight to Node's response as they come (the
 * frames of one tick leave in one socket write: Node corks the connection until the next tick); a
 * heartbeat at the server's interval; a client that stops reading is dropped (its connection cut)
 * once 8 MiB are queued for it, or once it has taken nothing for the server's stall limit
 * (send-stall.ts, 30 s) while its connection is full; a client that goes away (or a stream the server ends) runs the
 * stream's cleanup once, at once.
 *
 * The response is taken over from Hono: the headers the middleware set before the route (request
 * id, CORS) are written with the stream's own, and the route answers @hono/node-server's
 * "already sent" response, which it leaves alone. A web ReadableStream per client cost a promise,
 * a queue entry and a read per frame per subscriber on top of the socket write.
 */
import type { ServerResponse } from 'node:http';
import type { HttpBindings } from '@hono/node-server';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type { ServerContext } from './route.ts';
import { SEND_STALL_MS, StallWatch } from './send-stall.ts';

const MAX_QUEUED_BYTES = 8 * 1024 * 1024;

const SSE_HEADERS = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no', 'x-content-type-options': 'nosniff' };

// Once @hono/node-server has put its own Response class in place of the global one (at the first
// server's start), a Response made afterwards carries a cache that node-server answers from,
// writing the head again; reading its body drops that cache. A no-op for the platform's Response.
void RESPONSE_ALREADY_SENT.body;

/** The response a route returns after taking the stream over: node-server writes nothing for it. */
export const STREAM_TAKEN_OVER: Response = RESPONSE_ALREADY_SENT;

export interface SseSink {
  /** Writes a frame; false once the stream has ended (or just ended: the client fell too far behind). */
  write(bytes: Uint8Array): boolean;
  /** Ends the stream. */
  end(): void;
}

export interface SseOptions {
  heartbeatMs: number;
  heartbeat: () => Uint8Array;
  /** Starts feeding `sink`; returns what to undo when the stream ends (unsubscribe). */
  start: (sink: SseSink) => () => void;
}

export function sseResponse(c: ServerContext, options: SseOptions): Response {
  // The headers the middleware set (x-request-id, CORS) with the stream's own.
  const head = c.newResponse(null, { headers: SSE_HEADERS });
  if (c.req.method === 'HEAD') return head;
  const res = (c.env as HttpBindings).outgoing as ServerResponse;
  if (res.destroyed || !res.socket || res.socket.destroyed) return STREAM_TAKEN_OVER;
  res.writeHead(200, Object.fromEntries(head.headers));
  let open = true;
  // Whether a frame went out: until one does, Node holds the head back (a stream with nothing to
  // send at once would reach its client only with the first heartbeat).
  let wrote = false;
  let cleanup: (() => void) | undefined = undefined;
  // Made once the connection is first full.
  let stall: StallWatch | undefined;
  const stop = (cut: boolean): void => {
    if (!open) return;
    open = false;
    clearInterval(heartbeat);
    stall?.close();
    res.off('close', gone);
    cleanup?.();
    if (cut) res.destroy();
    else res.end();
  };
  const gone = (): void => stop(false);
  const write = (bytes: Uint8Array): boolean => {
    if (!open) return false;
    wrote = true;
    if (!res.write(bytes)) stall ??= new StallWatch(res, c.get('state').options.sendStallMs ?? SEND_STALL_MS, () => stop(true));
    stall?.wrote(bytes.byteLength);
    if (res.writableLength <= MAX_QUEUED_BYTES) return true;
    stop(true);
    return false;
  };
  const heartbeat = setInterval(() => write(options.heartbeat()), options.heartbeatMs);
  res.on('close', gone);
  cleanup = options.start({ write, end: () => stop(false) });
  // Ended while starting: undo what start did.
  if (!open) cleanup();
  else if (!wrote) res.flushHeaders();
  return STREAM_TAKEN_OVER;
}
