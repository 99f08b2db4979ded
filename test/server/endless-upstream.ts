/**
 * A raw OpenAI-compatible upstream on 127.0.0.1 that answers without end, for the gateway's bounds
 * on a provider's answer: a whole JSON answer whose text never closes (chat, text completions,
 * embeddings), or an event stream of text chunks that never finishes. It writes as fast as the
 * connection takes it, honouring back-pressure (`res.write` returning false, then 'drain'), and
 * counts what it wrote, when it was held (a write that returned false) and how often it was drained:
 * what tests read to see how far, and whether, Pantheon reads it. `stop()` ends the answer properly
 * (a finish chunk and `[DONE]`, or the JSON closed); a safety bound ends it in any case. In `ok`
 * mode it answers "fine" at once (JSON or one stream).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export type UpstreamMode = 'endless' | 'ok';

/** One answer being written. */
export interface Flow {
  /** Bytes handed to `res.write`. */
  written: number;
  /** Characters of text content written (the `x`s). */
  content: number;
  /** A write returned false and its 'drain' has not come yet. */
  held: boolean;
  /** 'drain' events seen. */
  drains: number;
  /** The connection closed (the answer ended, or Pantheon let it go). */
  closed: boolean;
  /** Ends the answer properly at the next write. */
  stop(): void;
  /** Resolves once `test` holds of the flow (checked at every change). */
  until(test: (flow: Flow) => boolean): Promise<void>;
}

export interface EndlessUpstream {
  /** `http://127.0.0.1:PORT/v1` */
  url: string;
  mode: UpstreamMode;
  /** Requests answered, by path. */
  requests: string[];
  /** The answers, in order. */
  flows: Flow[];
  /** Resolves once the `n`th answer (1-based) has begun. */
  flow(n: number): Promise<Flow>;
  close(): Promise<void>;
}

/** Past this, an endless answer ends anyway (so that a gateway that reads it all fails its test rather than hanging). */
const SAFETY_BYTES = 160 * 2 ** 20;
/** Content characters per streamed event. */
const EVENT_CHARS = 1000;
const EVENTS_PER_WRITE = 64;

const SSE_EVENT = `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 0, model: 'm', choices: [{ index: 0, delta: { content: 'x'.repeat(EVENT_CHARS) }, finish_reason: null }] })}\n\n`;
const SSE_BATCH = SSE_EVENT.repeat(EVENTS_PER_WRITE);
const SSE_END = `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 0, model: 'm', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\n\ndata: [DONE]\n\n`;
const JSON_CHUNK = 'x'.repeat(64 * 1024);

/** The endless JSON answer's opening and closing, per endpoint: the `x`s go in between. */
function jsonFrame(path: string): [string, string] {
  if (path.endsWith('/embeddings')) return ['{"object":"list","data":[{"object":"embedding","index":0,"embedding":"', '"}]}'];
  if (path.endsWith('/completions') && !path.endsWith('/chat/completions')) return ['{"id":"c","object":"text_completion","choices":[{"index":0,"text":"', '","finish_reason":"stop"}]}'];
  return ['{"id":"c","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"', '"},"finish_reason":"stop"}]}'];
}

function okAnswer(path: string, stream: boolean): { type: string; body: string } {
  if (stream) {
    const chunk = `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 0, model: 'm', choices: [{ index: 0, delta: { content: 'fine' }, finish_reason: null }] })}\n\n`;
    return { type: 'text/event-stream', body: chunk + SSE_END };
  }
  const [open, close] = jsonFrame(path);
  return { type: 'application/json', body: `${open}fine${close}` };
}

function readRequest(req: IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>);
      } catch (error) {
        reject(error as Error);
      }
    });
    req.on('error', reject);
  });
}

function newFlow(res: ServerResponse): Flow & { changed(): void; stopped: boolean } {
  const waiters = new Set<{ test: (flow: Flow) => boolean; resolve: () => void }>();
  const flow = {
    written: 0,
    content: 0,
    held: false,
    drains: 0,
    closed: false,
    stopped: false,
    stop() {
      flow.stopped = true;
    },
    until(test: (f: Flow) => boolean) {
      if (test(flow)) return Promise.resolve();
      return new Promise<void>((resolve) => waiters.add({ test, resolve }));
    },
    changed() {
      for (const w of [...waiters]) {
        if (!w.test(flow)) continue;
        waiters.delete(w);
        w.resolve();
      }
    },
  };
  res.once('close', () => {
    flow.closed = true;
    flow.held = false;
    flow.changed();
  });
  return flow;
}

/** Writes `piece` and, when the connection's buffer is full, waits for its 'drain' (or its close). */
async function write(res: ServerResponse, flow: ReturnType<typeof newFlow>, piece: string, content: number): Promise<void> {
  flow.written += piece.length;
  flow.content += content;
  if (res.write(piece)) return flow.changed();
  flow.held = true;
  flow.changed();
  await new Promise<void>((resolve) => {
    const go = (): void => {
      res.off('drain', go);
      res.off('close', go);
      resolve();
    };
    res.on('drain', go);
    res.on('close', go);
  });
  if (flow.closed) return;
  flow.held = false;
  flow.drains += 1;
  flow.changed();
}

export async function startEndlessUpstream(): Promise<EndlessUpstream> {
  const sockets = new Set<Socket>();
  const begun = new Set<{ n: number; resolve: (flow: Flow) => void }>();
  const upstream: EndlessUpstream = {
    url: '',
    mode: 'endless',
    requests: [],
    flows: [],
    flow: (n) => {
      const known = upstream.flows[n - 1];
      return known ? Promise.resolve(known) : new Promise<Flow>((resolve) => begun.add({ n, resolve }));
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
  const server = createServer((req, res) => {
    void (async () => {
      const path = req.url ?? '';
      const body = await readRequest(req);
      upstream.requests.push(path);
      const stream = body.stream === true;
      if (upstream.mode === 'ok') {
        const { type, body: text } = okAnswer(path, stream);
        res.writeHead(200, { 'content-type': type }).end(text);
        return;
      }
      const flow = newFlow(res);
      upstream.flows.push(flow);
      for (const waiter of [...begun]) {
        if (waiter.n > upstream.flows.length) continue;
        begun.delete(waiter);
        waiter.resolve(upstream.flows[waiter.n - 1] as Flow);
      }
      res.writeHead(200, { 'content-type': stream ? 'text/event-stream' : 'application/json' });
      const [open, close] = stream ? ['', SSE_END] : jsonFrame(path);
      if (open) await write(res, flow, open, 0);
      while (!flow.closed && !flow.stopped && flow.written < SAFETY_BYTES) {
        if (stream) await write(res, flow, SSE_BATCH, EVENT_CHARS * EVENTS_PER_WRITE);
        else await write(res, flow, JSON_CHUNK, JSON_CHUNK.length);
      }
      if (!flow.closed) res.end(close);
    })().catch(() => res.destroy());
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('the upstream has no port');
  upstream.url = `http://127.0.0.1:${address.port}/v1`;
  return upstream;
}
