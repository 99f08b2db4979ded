/**
 * The protocol's stream over the process's stdin and stdout: the ACP SDK's NDJSON stream, with a
 * message nested deeper than MAX_DEPTH refused on its own (a JSON-RPC -32600 answer to a request,
 * a notification dropped) instead of reaching the SDK, whose checks of a message recurse: a stack
 * overflow there ends the connection, and every later request of the editor went unanswered. A
 * message over the SDK's size limit (DEFAULT_MAX_MESSAGE_BYTES) still ends the connection (which
 * request it was cannot be told): cli/acp-action.ts then says so and exits.
 */
import { ndJsonStream, type AnyMessage, type Stream } from '@agentclientprotocol/sdk';

/** Deeper than any message of the protocol nests (a tool's input, `_meta`, an MCP server's env). */
export const MAX_DEPTH = 256;

/** Whether `value` nests objects and arrays more than `max` levels deep (walked without recursion). */
export function nestedDeeper(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  for (let top = stack.pop(); top; top = stack.pop()) {
    const [node, depth] = top;
    if (depth > max) return true;
    for (const child of Array.isArray(node) ? node : Object.values(node as object)) {
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
    }
  }
  return false;
}

export function acpStream(output: WritableStream<Uint8Array>, input: ReadableStream<Uint8Array>): Stream {
  const inner = ndJsonStream(output, input);
  // One writer for the connection's messages and the refusals, in order.
  const writer = inner.writable.getWriter();
  let queue: Promise<void> = Promise.resolve();
  const send = (message: AnyMessage): Promise<void> => (queue = queue.then(() => writer.write(message)));
  const readable = inner.readable.pipeThrough(
    new TransformStream<AnyMessage, AnyMessage>({
      transform(message, controller) {
        if (!nestedDeeper(message, MAX_DEPTH)) return controller.enqueue(message);
        const id = (message as { id?: unknown }).id;
        if (typeof id !== 'string' && typeof id !== 'number') return;
        const method = (message as { method?: unknown }).method;
        const what = typeof method === 'string' ? `"${method.slice(0, 80)}"` : 'the message';
        void send({ jsonrpc: '2.0', id, error: { code: -32600, message: `Invalid request: ${what} is nested more than ${MAX_DEPTH} levels deep.` } } as AnyMessage).catch(() => undefined);
      },
    }),
  );
  const writable = new WritableStream<AnyMessage>({
    write: (message) => send(message),
    close: async () => {
      await queue.catch(() => undefined);
      await writer.close();
    },
  });
  return { readable, writable };
}
