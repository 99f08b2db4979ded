/**
 * A client that stays connected but takes nothing of what is sent to it. Every stream of the server
 * (the gateway's SSE answers, `/event`, `/global/event`, `/api/state/stream`) watches for it once
 * its connection is full (Node holds bytes the client has not taken): a client that takes not one
 * byte for SEND_STALL_MS is cut off. For a gateway answer that lets its provider call and its slots
 * (the lane's concurrency, the key's in-flight limit) go, as a client that goes away does; for an
 * event stream it frees what was queued for the client. Only a stall with no progress counts: a
 * client that reads is not cut for being slow. (Progress is seen as the kernel takes what Node
 * holds, which a full connection does in steps of up to half its send buffer, at most 2 MB on
 * Linux: a client reading 100 KB/s or more is never cut, and an answer streamed at a model's pace
 * never fills a connection at all.)
 */
import type { ServerResponse } from 'node:http';

/** How long a stream's client may take nothing of what waits for it (ms). */
export const SEND_STALL_MS = 30_000;

/**
 * The stall limit of a server: SEND_STALL_MS, or PANTHEON_SEND_STALL_MS when it is lower (an
 * internal setting, for tests that see a stalled client cut without waiting 30 s).
 */
export function sendStallMs(given: string | undefined = process.env.PANTHEON_SEND_STALL_MS): number {
  const asked = Number(given);
  return given !== undefined && Number.isSafeInteger(asked) && asked > 0 ? Math.min(asked, SEND_STALL_MS) : SEND_STALL_MS;
}

/**
 * Watches `res` while its connection is full: `wrote(n)` after each write of n bytes arms it when
 * Node holds more than the socket takes at once; 'drain' disarms it. When `ms` pass with none of
 * the bytes taken, `cut` runs (once); a client that took some has `ms` more.
 */
export class StallWatch {
  readonly #res: ServerResponse;
  readonly #ms: number;
  readonly #cut: () => void;
  /** Bytes handed to `res.write` so far. */
  #queued = 0;
  /** Bytes taken (queued less what Node still holds) when the timer was set. */
  #mark = 0;
  #timer: NodeJS.Timeout | undefined;
  readonly #drained = (): void => this.stop();

  constructor(res: ServerResponse, ms: number, cut: () => void) {
    this.#res = res;
    this.#ms = ms;
    this.#cut = cut;
    res.on('drain', this.#drained);
  }

  wrote(bytes: number): void {
    this.#queued += bytes;
    if (this.#timer === undefined && this.#res.writableNeedDrain) this.#arm();
  }

  /** Disarms it (the connection drained, or the stream ended). */
  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Stops watching for good. */
  close(): void {
    this.stop();
    this.#res.off('drain', this.#drained);
  }

  #taken(): number {
    return this.#queued - this.#res.writableLength;
  }

  #arm(): void {
    this.#mark = this.#taken();
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (!this.#res.writableNeedDrain || this.#res.destroyed) return;
      if (this.#taken() > this.#mark) return this.#arm();
      this.close();
      this.#cut();
    }, this.#ms);
    this.#timer.unref();
  }
}
