/**
 * A model's stream parts written as SSE frames in a front-end's format (chat-completion chunks, the
 * Responses API's events, text-completion chunks): frames before the first part, frames for each
 * part as it is read, frames once the parts are over, and frames for a failure after the first
 * frame (the stream broke and could not be resumed), after which the stream ends. The client going
 * away cancels the parts. `onEnd` hears how the stream ended.
 */
import type { LanguageModelV4StreamPart } from '@ai-sdk/provider';
import { pushStream } from '../../push-stream.ts';

export type SseOutcome = 'success' | 'failed' | 'cancelled';

export interface SseFormat {
  /** Frames before the first part. */
  opening?(out: Uint8Array[]): void;
  /** Frames for one part, pushed to `out` (none: the next part is read). */
  part(part: LanguageModelV4StreamPart, out: Uint8Array[]): void;
  /** Frames once the parts are over. */
  closing(out: Uint8Array[]): void | Promise<void>;
  /** Frames for a failure. */
  failed(error: unknown, out: Uint8Array[]): void;
}

export function sseOfParts(stream: ReadableStream<LanguageModelV4StreamPart>, format: SseFormat, onEnd?: (status: SseOutcome, error?: unknown) => void): ReadableStream<Uint8Array> {
  // A reader rather than `for await`: the stream's async iterator costs a promise more per part.
  const reader = stream.getReader();
  const out: Uint8Array[] = [];
  let ended = false;
  const flush = (controller: ReadableStreamDefaultController<Uint8Array>): void => {
    for (const frame of out) controller.enqueue(frame);
    out.length = 0;
  };
  const end = (controller: ReadableStreamDefaultController<Uint8Array>, error?: unknown): void => {
    if (ended) return;
    ended = true;
    flush(controller);
    controller.close();
    if (error === undefined) onEnd?.('success');
    else onEnd?.('failed', error);
  };
  return pushStream<Uint8Array>(
    async (controller, room) => {
      format.opening?.(out);
      try {
        for (;;) {
          const { done, value: part } = await reader.read();
          if (done) {
            await format.closing(out);
            return end(controller);
          }
          format.part(part, out);
          if (!out.length) continue;
          // The opening frames go with the first part's.
          flush(controller);
          const wait = room();
          if (wait) await wait;
        }
      } catch (error) {
        format.failed(error, out);
        end(controller, error);
      }
    },
    async (reason) => {
      if (!ended) onEnd?.('cancelled');
      ended = true;
      await reader.cancel(reason);
    },
  );
}
