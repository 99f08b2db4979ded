/**
 * The gateway's hot routes (`POST /v1/chat/completions`, `GET /v1/models`: every route with `serve`,
 * a fixed path and a group gate) dispatched straight from Node's request listener, ahead of Hono and
 * without web Request/Response objects; every other request goes on to Hono. What a request gets is
 * what app.ts gives it: the request id, CORS headers, the group's gate (key check; once the body is
 * in, the per-key limit and `X-RateLimit-*`), the body's size limit (413) and the server's body budget (503), JSON parse and schema check, errors in the group's
 * shape, the route's answer (JSON, or a stream), and cancellation when the client goes away. The
 * route is the one of the route table: only its dispatch differs.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorAnswer, logFailure, requestIdOf, runAfter } from './app.ts';
import type { Client } from './client-keys.ts';
import { corsHeaders, foreignOrigin, originMayChange } from './cors.ts';
import { budgetFull, type BodyBudget } from './body-budget.ts';
import { shuttingDown } from './calls-in-flight.ts';
import { serverFault, toHttpError } from './http-error.ts';
import { SEND_STALL_MS, StallWatch } from './send-stall.ts';
import { bodyOf, DRAIN_FACTOR, routeSchemas, tooLarge } from './request-body.ts';
import type { JsonSchema, RouteAnswer, RouteDef, RouteGroup, RouteRequest } from './route.ts';
import type { ServerState } from './state.ts';

export type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

interface FastRoute {
  route: RouteDef;
  serve: NonNullable<RouteDef['serve']>;
  gate: NonNullable<RouteGroup['gate']>;
  admit: RouteGroup['admit'];
}

const GONE = 'Client connection prematurely closed.';

/** A request on the fast path, as routes see it. */
class NodeRequest implements RouteRequest {
  readonly state: ServerState;
  readonly requestId: string;
  /** The answer's headers so far (names in lower case). */
  readonly headers: Record<string, string>;
  client: Client | undefined = undefined;
  readonly #incoming: IncomingMessage;
  readonly #search: string;
  #params: URLSearchParams | undefined;
  #abort: AbortController | undefined;
  #gone = false;

  constructor(state: ServerState, incoming: IncomingMessage, search: string, requestId: string, headers: Record<string, string>) {
    this.state = state;
    this.#incoming = incoming;
    this.#search = search;
    this.requestId = requestId;
    this.headers = headers;
  }

  header(name: string): string | undefined {
    const value = this.#incoming.headers[name.toLowerCase()];
    return Array.isArray(value) ? value.join(', ') : value;
  }

  query(name: string): string | undefined {
    if (!this.#search) return undefined;
    this.#params ??= new URLSearchParams(this.#search);
    return this.#params.get(name) ?? undefined;
  }

  queryAll(): Record<string, string> {
    if (!this.#search) return {};
    this.#params ??= new URLSearchParams(this.#search);
    return Object.fromEntries(this.#params);
  }

  get signal(): AbortSignal {
    if (!this.#abort) {
      this.#abort = new AbortController();
      if (this.#gone) this.#abort.abort(new Error(GONE));
    }
    return this.#abort.signal;
  }

  setHeader(name: string, value: string): void {
    this.headers[name.toLowerCase()] = value;
  }

  stop(reason: unknown): void {
    this.#abort ??= new AbortController();
    this.#abort.abort(reason);
  }

  /** The client went away before its answer was sent. */
  gone(reason: unknown): void {
    this.#gone = true;
    this.#abort?.abort(reason);
  }
}

/** Reads and drops up to `bytes` more of a body, then cuts the connection if there is still more. */
function drain(incoming: IncomingMessage, bytes: number): void {
  let left = bytes;
  incoming.removeAllListeners('data');
  incoming.on('data', (chunk: Buffer) => {
    left -= chunk.length;
    if (left < 0) incoming.socket?.destroy();
  });
  incoming.resume();
}

/**
 * The body's text, at most `limit` bytes (else a 413, the rest read and dropped meanwhile): at once
 * when node:http holds all the bytes its `content-length` declares (a small body comes with the
 * request's head), else as it arrives, within the server's body budget (else a 503, body-budget.ts).
 */
function readBody(incoming: IncomingMessage, limit: number, budget: BodyBudget): string | Promise<string> {
  const declared = incoming.headers['content-length'];
  const length = Number(declared);
  if (length > limit) {
    drain(incoming, DRAIN_FACTOR * limit);
    return Promise.reject(tooLarge(limit));
  }
  if (declared !== undefined && incoming.readableFlowing === null && incoming.readableLength === length) {
    const whole = incoming.read(length) as Buffer | null;
    // What is left of the message (its end) is let through, so the request ends as a read one does.
    incoming.resume();
    return whole ? whole.toString('utf8') : '';
  }
  // The budget the body takes: its declared length now, or its bytes as they come.
  let held = 0;
  if (declared !== undefined) {
    if (!budget.take(length)) {
      drain(incoming, DRAIN_FACTOR * limit);
      return Promise.reject(budgetFull(budget));
    }
    held = length;
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const free = () => {
      budget.give(held);
      held = 0;
    };
    const fail = (error: unknown) => {
      free();
      incoming.off('end', done);
      incoming.off('error', fail);
      incoming.off('close', cut);
      reject(error);
    };
    const cut = () => fail(new Error(GONE));
    const done = () => {
      free();
      incoming.off('error', fail);
      incoming.off('close', cut);
      resolve(chunks.length === 1 ? (chunks[0] as Buffer).toString('utf8') : Buffer.concat(chunks).toString('utf8'));
    };
    incoming.on('data', (chunk: Buffer) => {
      total += chunk.length;
      // Answer 413 (or 503) now and read the rest of the body meanwhile, dropping it (a client still
      // sending would otherwise see its connection reset instead of the answer), up to 4× the limit.
      if (total > limit) {
        drain(incoming, DRAIN_FACTOR * limit);
        return fail(tooLarge(limit));
      }
      if (total > held) {
        if (!budget.take(total - held)) {
          drain(incoming, DRAIN_FACTOR * limit);
          return fail(budgetFull(budget));
        }
        held = total;
      }
      chunks.push(chunk);
    });
    incoming.once('end', done);
    incoming.once('error', fail);
    incoming.once('close', cut);
  });
}

/**
 * Sends a stream's bytes as they come, honouring back-pressure; a client that goes away cancels it,
 * and so does one that takes nothing for `stallMs` (send-stall.ts): its connection is cut.
 */
async function pump(stream: ReadableStream<Uint8Array>, res: ServerResponse, stallMs: number): Promise<void> {
  const reader = stream.getReader();
  // Made once the connection is first full (most answers never fill it).
  let stall: StallWatch | undefined;
  let gone = false;
  const onClose = () => {
    if (res.writableFinished) return;
    gone = true;
    reader.cancel(new Error(GONE)).catch(() => undefined);
  };
  res.once('close', onClose);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done || gone) break;
      const full = !res.write(value);
      if (full) stall ??= new StallWatch(res, stallMs, () => res.destroy());
      stall?.wrote(value.byteLength);
      if (full) {
        await new Promise<void>((resolve) => {
          const go = () => {
            res.off('drain', go);
            res.off('close', go);
            resolve();
          };
          res.on('drain', go);
          res.on('close', go);
        });
      }
    }
    if (!gone) res.end();
  } catch (error) {
    if (!gone) res.destroy(error instanceof Error ? error : new Error(String(error)));
  } finally {
    stall?.close();
  }
}

function send(res: ServerResponse, answer: RouteAnswer, headers: Record<string, string>, stallMs = SEND_STALL_MS): Promise<void> | undefined {
  if (answer.headers) for (const name in answer.headers) headers[name.toLowerCase()] = answer.headers[name] as string;
  if ('json' in answer) {
    const text = JSON.stringify(answer.json);
    headers['content-type'] ??= 'application/json';
    headers['content-length'] = String(Buffer.byteLength(text));
    res.writeHead(answer.status, headers).end(text);
    return undefined;
  }
  res.writeHead(answer.status, headers);
  res.flushHeaders();
  return pump(answer.stream, res, stallMs);
}

/**
 * A request listener that serves the fast routes of `state`'s route table itself and hands every
 * other request to `fallback` (Hono's listener).
 */
export function fastDispatch(state: ServerState, fallback: RequestListener): RequestListener {
  const routes = new Map<string, FastRoute>();
  for (const group of state.groups) {
    if (!group.gate) continue;
    for (const route of group.routes) {
      if (!route.serve || route.path.includes('{')) continue;
      routes.set(`${route.method.toUpperCase()} ${route.path}`, { route, serve: route.serve, gate: group.gate, admit: group.admit });
    }
  }
  const schemas = routeSchemas(state.groups);
  return (incoming, res) => {
    const url = incoming.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    if (state.calls.closing) return refuse(state, incoming, res, path);
    const fast = routes.get(`${incoming.method ?? ''} ${path}`);
    if (!fast) return fallback(incoming, res);
    dispatch(state, schemas, fast, incoming, res, path, q < 0 ? '' : url.slice(q + 1)).catch((error: unknown) => {
      // Only a failure to write the answer itself gets here.
      logFailure(state, incoming.method ?? '', path, error);
      res.destroy();
    });
  };
}

/**
 * A request that comes in while the server is stopping (on a connection still open): 503 with
 * Retry-After in its API's error shape, and the connection closed once it is sent.
 */
function refuse(state: ServerState, incoming: IncomingMessage, res: ServerResponse, path: string): void {
  const given = incoming.headers['x-request-id'];
  const requestId = requestIdOf(typeof given === 'string' ? given : undefined);
  const headers: Record<string, string> = { 'x-request-id': requestId, connection: 'close' };
  corsHeaders(incoming.headers.origin, state.options.cors, (name, value) => (headers[name] = value));
  const { body, headers: more } = errorAnswer(state.groups, path, shuttingDown(), requestId);
  incoming.resume();
  void send(res, { status: 503, headers: more, json: body }, headers);
}

async function dispatch(state: ServerState, schemas: Record<string, JsonSchema>, fast: FastRoute, incoming: IncomingMessage, res: ServerResponse, path: string, search: string): Promise<void> {
  const given = incoming.headers['x-request-id'];
  const requestId = requestIdOf(typeof given === 'string' ? given : undefined);
  const headers: Record<string, string> = { 'x-request-id': requestId };
  corsHeaders(incoming.headers.origin, state.options.cors, (name, value) => (headers[name] = value));
  const req = new NodeRequest(state, incoming, search, requestId, headers);
  const started = performance.now();
  let closed = false;
  res.once('close', () => {
    closed = true;
    if (incoming.errored) req.gone(incoming.errored);
    else if (!res.writableFinished) req.gone(new Error(GONE));
    // Counted here rather than by request-metrics.ts's wrapper: one listener a request on the hot path.
    state.host.metrics.httpRequest(incoming.method ?? '', fast.route.path, res.headersSent ? res.statusCode : 499, (performance.now() - started) / 1000);
  });
  let after: (() => Promise<void>) | undefined;
  try {
    const origin = incoming.headers.origin;
    if (!originMayChange(incoming.method ?? '', origin, incoming.headers.host, state.options.cors)) throw foreignOrigin(origin as string);
    // Who it is first (nobody's body is read before that); its key's slot only once the body is in.
    await fast.gate(req);
    const { route } = fast;
    const read = route.body ? readBody(incoming, state.options.maxBodyBytes, state.bodies) : undefined;
    const text = read === undefined || typeof read === 'string' ? read : await read;
    const release = fast.admit?.(req);
    if (release) {
      if (closed) release();
      else res.once('close', release);
    }
    const body = text === undefined ? undefined : bodyOf(text, route, schemas);
    const answer = await fast.serve(req, { params: {}, query: req.queryAll(), body });
    after = answer.after;
    await send(res, answer, headers, state.options.sendStallMs ?? SEND_STALL_MS);
  } catch (error) {
    if (res.headersSent || res.destroyed) {
      if (!res.writableEnded) res.destroy();
      return;
    }
    const http = toHttpError(error);
    if (serverFault(http)) logFailure(state, incoming.method ?? '', path, error);
    const { body, headers: more } = errorAnswer(state.groups, path, http, requestId);
    await send(res, { status: http.status, headers: more, json: body }, headers);
  } finally {
    // The answer is out (or its client gone): what the route left for afterwards.
    if (after) await runAfter(state, after, incoming.method ?? '', path);
  }
}
