/**
 * The fetch remote MCP servers are reached with: a response body is read only up to a bound, so
 * a server that sends an endless or enormous answer (a JSON body, an error page, one event of an
 * SSE stream) fails that request instead of filling the memory of the CLI or the server. An SSE
 * stream may run for hours: the bound is on each event (the bytes since the last blank line).
 */

/** Bytes one message from a remote server may take: the bound on a line from a local one. */
export const MAX_MESSAGE_BYTES = 10 * 1024 * 1024;

export type FetchLike = (url: string | URL, init?: RequestInit) => Promise<Response>;

/** Thrown into a body that grew past the bound. */
export class MessageTooLargeError extends Error {
  constructor(limit: number) {
    super(`the server sent a message larger than ${limit / (1024 * 1024)} MB (the most one message may take)`);
    this.name = 'MessageTooLargeError';
  }
}

const LF = 0x0a;
const CR = 0x0d;

/** Counts the bytes of an SSE body since its last blank line (an event's end), across chunks. */
function eventCounter(): (chunk: Uint8Array) => number {
  let held = 0;
  // The last two bytes seen, to find a blank line split between chunks.
  let last = -1;
  let beforeLast = -1;
  return (chunk) => {
    let end = -1;
    for (let i = chunk.indexOf(LF); i !== -1; i = chunk.indexOf(LF, i + 1)) {
      const prev = i > 0 ? chunk[i - 1] : last;
      const prev2 = i > 1 ? chunk[i - 2] : i === 1 ? last : beforeLast;
      if (prev === LF || (prev === CR && prev2 === LF)) end = i;
    }
    held = end === -1 ? held + chunk.length : chunk.length - end - 1;
    beforeLast = chunk.length > 1 ? (chunk[chunk.length - 2] ?? -1) : last;
    last = chunk.length > 0 ? (chunk[chunk.length - 1] ?? -1) : last;
    return held;
  };
}

/**
 * `fetch`, with each response body cut off (an error) past `limit` bytes: per event for
 * `text/event-stream`, in all for anything else. `onTooLarge` hears of each cut (the SDK only
 * logs an SSE stream that broke, so a request on it would wait for its timeout).
 */
export function boundedFetch(limit: number = MAX_MESSAGE_BYTES, base: FetchLike = fetch, onTooLarge?: (error: MessageTooLargeError) => void): FetchLike {
  return async (url, init) => {
    const response = await base(url, init);
    if (!response.body) return response;
    const events = /^\s*text\/event-stream/i.test(response.headers.get('content-type') ?? '');
    let total = 0;
    const count = events ? eventCounter() : (chunk: Uint8Array) => (total += chunk.length);
    const body = response.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          if (count(chunk) > limit) {
            const error = new MessageTooLargeError(limit);
            controller.error(error);
            onTooLarge?.(error);
          } else controller.enqueue(chunk);
        },
      }),
    );
    return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
  };
}
