/**
 * Reads `GET /api/state/stream` (server-sent events with `event:` names) for tests: every frame in
 * order, and `until(predicate)` that resolves once a frame matches.
 */
export interface StateFrame {
  event: string;
  data: unknown;
  /** When the frame arrived (ms since the epoch). */
  at: number;
}

export async function openStateStream(url: string, headers: Record<string, string> = {}) {
  const abort = new AbortController();
  const res = await fetch(`${url}/api/state/stream`, { headers, signal: abort.signal });
  if (!res.ok || !res.body) throw new Error(`GET /api/state/stream answered ${res.status}`);
  const frames: StateFrame[] = [];
  const waiters: { test: (f: StateFrame) => boolean; resolve: (f: StateFrame) => void }[] = [];
  const done = (async () => {
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let cut: number;
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (!event || data === undefined) continue;
        const frame = { event, data: JSON.parse(data) as unknown, at: Date.now() };
        frames.push(frame);
        for (const w of [...waiters]) {
          if (w.test(frame)) {
            waiters.splice(waiters.indexOf(w), 1);
            w.resolve(frame);
          }
        }
      }
    }
  })().catch(() => undefined);
  return {
    frames,
    done,
    close: () => abort.abort(),
    until(test: (f: StateFrame) => boolean): Promise<StateFrame> {
      const found = frames.find(test);
      if (found) return Promise.resolve(found);
      return new Promise((resolve) => waiters.push({ test, resolve }));
    },
  };
}
