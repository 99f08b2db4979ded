/**
 * A server-sent events response, the one way every stream of the server is written (`/event`,
 * `/global/event`, `/api/state/stream`): frames are queued to the client as they come; a heartbeat at
 * the server's interval; a client that stops reading is dropped once 8 MiB are queued for it; a client
 * that goes away (or a stream the server ends) runs the stream's cleanup once, at once.
 */
const MAX_QUEUED_BYTES = 8 * 1024 * 1024;

const SSE_HEADERS = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no', 'x-content-type-options': 'nosniff' };

export interface SseSink {
  /** Queues a frame; false once the stream has ended (or just ended: the client fell too far behind). */
  write(bytes: Uint8Array): boolean;
  /** Ends the stream. */
  end(): void;
}

export interface SseOptions {
  /** The request's signal: the client going away ends the stream. */
  signal: AbortSignal;
  heartbeatMs: number;
  heartbeat: () => Uint8Array;
  /** Starts feeding `sink`; returns what to undo when the stream ends (unsubscribe). */
  start: (sink: SseSink) => () => void;
}

export function sseResponse(options: SseOptions): Response {
  let stop = (): void => undefined;
  const body = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        let open = true;
        let cleanup: (() => void) | undefined = undefined;
        const write = (bytes: Uint8Array): boolean => {
          if (!open) return false;
          controller.enqueue(bytes);
          if ((controller.desiredSize ?? 0) >= -MAX_QUEUED_BYTES) return true;
          stop();
          return false;
        };
        const heartbeat = setInterval(() => write(options.heartbeat()), options.heartbeatMs);
        stop = () => {
          if (!open) return;
          open = false;
          clearInterval(heartbeat);
          options.signal.removeEventListener('abort', stop);
          cleanup?.();
          try {
            controller.close();
          } catch {
            // already closed by the client going away
          }
        };
        options.signal.addEventListener('abort', stop);
        cleanup = options.start({ write, end: () => stop() });
        // Ended while starting (the client was already gone): undo what start did.
        if (!open) cleanup();
      },
      cancel() {
        stop();
      },
    },
    { highWaterMark: 0, size: (chunk) => chunk.byteLength },
  );
  return new Response(body, { headers: SSE_HEADERS });
}
