/**
 * The Hono application: request ids, CORS, auth, then every route group's routes from the route
 * table, each body bounded in size and checked against its schema (a gated group's per-client
 * limits are counted once the body is in). Errors and unknown routes answer
 * JSON in the error shape of the API the path belongs to; nothing answers HTML.
 */
// The server loads node:crypto anyway (keys, webhooks); its randomUUID draws on a buffer of its own (~0.15 µs, no file reads).
import { randomUUID } from 'node:crypto';
import { Hono } from 'hono';
import type { HttpBindings } from '@hono/node-server';
import { basicAuth } from './auth.ts';
import { budgetFull, type BodyBudget } from './body-budget.ts';
import { corsMiddleware } from './cors.ts';
import { hasDotSegment, pathAsSent } from './dot-segments.ts';
import { refuseWebhookDeliveries } from './webhook-loop.ts';
import { HttpError, serverFault, toHttpError } from './http-error.ts';
import { honoPath, pathMatches, type RouteGroup, type RouteRequest, type ServerContext, type ServerEnv } from './route.ts';
import { bodyOf, DRAIN_FACTOR, routeSchemas, tooLarge } from './request-body.ts';
import { markRoute } from './request-metrics.ts';
import { STREAM_TAKEN_OVER } from './sse-stream.ts';
import type { ServerState } from './state.ts';

const STATUS_NAMES: Record<number, string> = {
  400: 'BadRequest',
  401: 'UnauthorizedError',
  403: 'ForbiddenError',
  404: 'NotFoundError',
  405: 'MethodNotAllowed',
  409: 'SessionBusyError',
  413: 'PayloadTooLarge',
  503: 'ServiceUnavailable',
};

/**
 * The errors OpenCode 1.18.33's v1 routes answer tagged (`{_tag, <id>, message}`, as its SDK's types
 * declare them: a permission reply's 404, a question's, a session's 409 while a turn runs), by
 * Pantheon's error code, with the id each names.
 */
const TAGGED: Record<string, { tag: string; id: 'sessionID' | 'requestID' }> = {
  PERMISSION_NOT_FOUND: { tag: 'PermissionNotFoundError', id: 'requestID' },
  QUESTION_NOT_FOUND: { tag: 'QuestionNotFoundError', id: 'requestID' },
  SESSION_BUSY: { tag: 'SessionBusyError', id: 'sessionID' },
};

/**
 * OpenCode's error body (`{name, data: {message}}`), with Pantheon's code and hint in `data`; for the
 * errors OpenCode tags, its tagged fields beside them, so clients reading either shape find theirs.
 */
export function openCodeError(error: HttpError): unknown {
  const name = error.errorName ?? STATUS_NAMES[error.status] ?? 'UnknownError';
  const body = { name, data: { message: error.message, code: error.code, ...(error.hint ? { hint: error.hint } : {}), ...error.details } };
  const tagged = TAGGED[error.code];
  const id = tagged ? error.details[tagged.id] : undefined;
  return tagged && typeof id === 'string' ? { _tag: tagged.tag, [tagged.id]: id, message: error.message, ...body } : body;
}

export function groupOf(groups: readonly RouteGroup[], path: string): RouteGroup | undefined {
  return groups.find((g) => g.prefix !== undefined && (path === g.prefix || path.startsWith(`${g.prefix}/`)));
}

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** The request's id: the client's `x-request-id` when it is a sane one, else a new one. */
export function requestIdOf(given: string | undefined): string {
  return given && REQUEST_ID.test(given) ? given : randomUUID();
}

/** An error's body in the shape of the API `path` belongs to, and the headers it adds (Retry-After, x-should-retry). */
export function errorAnswer(groups: readonly RouteGroup[], path: string, error: HttpError, requestId: string): { body: unknown; headers: Record<string, string> } {
  const group = groupOf(groups, path);
  const headers: Record<string, string> = {};
  if (error.retryAfter !== undefined) headers['retry-after'] = String(Math.max(0, Math.ceil(error.retryAfter)));
  if (error.final) headers['x-should-retry'] = 'false';
  return { body: group?.renderError ? group.renderError(error, requestId) : openCodeError(error), headers };
}

/** An error's stack and those of its causes (what a wrapped failure came from), for `--debug`. */
function withCauses(error: Error): string {
  const lines = [error.stack ?? error.message];
  let cause: unknown = error.cause;
  for (let depth = 0; depth < 5 && cause instanceof Error; depth++, cause = cause.cause) lines.push(`caused by: ${cause.stack ?? cause.message}`);
  return lines.join('\n');
}

/** What the operator sees of a failure (status 500 and above), on stderr. */
export function logFailure(state: ServerState, method: string, path: string, error: unknown): void {
  // Redis away: said once when it goes and once when it is back (store-outage-log.ts), not for each request refused meanwhile.
  if (!state.options.debug && toHttpError(error).code === 'STATE_UNAVAILABLE') return;
  state.log(`error: ${method} ${path}: ${state.options.debug && error instanceof Error ? withCauses(error) : error instanceof Error ? error.message : String(error)}`);
}

/** Whether the request's client went away (its connection closed, or the request broke off) before it was answered. */
function clientGone(c: ServerContext): boolean {
  const incoming = (c.env as HttpBindings | undefined)?.incoming;
  return incoming !== undefined && (incoming.errored !== null || incoming.socket?.destroyed === true);
}

/** Runs a route's `after` (RouteAnswer.after) once, logging its failure; the server's close waits for it. */
export function runAfter(state: ServerState, after: () => Promise<void>, method: string, path: string): Promise<void> {
  const running: Promise<void> = after()
    .catch((error: unknown) => logFailure(state, method, path, error))
    .finally(() => state.afterAnswers.delete(running));
  state.afterAnswers.add(running);
  return running;
}

function respondError(c: ServerContext, error: HttpError, groups: readonly RouteGroup[]): Response {
  const { body, headers } = errorAnswer(groups, c.req.path, error, c.get('requestId'));
  for (const name in headers) c.header(name, headers[name]);
  return c.json(body as object, error.status as 400);
}

/** Reads and drops up to `bytes` more of a body, then cuts the connection if there is still more. */
async function drain(reader: ReadableStreamDefaultReader<Uint8Array>, bytes: number): Promise<void> {
  let left = bytes;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      left -= value.byteLength;
      if (left < 0) return void (await reader.cancel());
    }
  } catch {
    // The client went away: nothing left to drop.
  }
}

/** The body's text, at most `limit` bytes (413), within the server's body budget (503, body-budget.ts). */
async function readBody(c: ServerContext, limit: number, budget: BodyBudget): Promise<string> {
  const declared = c.req.header('content-length');
  if (Number(declared) > limit) throw tooLarge(limit);
  // With a length (what HTTP clients send) Node's parser reads exactly that much: @hono/node-server
  // reads it straight from the socket, without a web stream per request.
  if (declared !== undefined && /^\d+$/.test(declared)) {
    const length = Number(declared);
    if (!budget.take(length)) throw budgetFull(budget);
    try {
      return Buffer.from(await c.req.raw.arrayBuffer()).toString('utf8');
    } finally {
      budget.give(length);
    }
  }
  const reader = c.req.raw.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  // The bytes read so far, each taken from the budget as it comes.
  let held = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      // Answer 413 (or 503) now and read the rest of the body meanwhile, dropping it (a client still
      // sending would otherwise see its connection reset instead of the answer), up to 4× the limit.
      if (held + value.byteLength > limit) {
        void drain(reader, DRAIN_FACTOR * limit);
        throw tooLarge(limit);
      }
      if (!budget.take(value.byteLength)) {
        void drain(reader, DRAIN_FACTOR * limit);
        throw budgetFull(budget);
      }
      held += value.byteLength;
      chunks.push(value);
    }
  } finally {
    budget.give(held);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The request as a `serve` route sees it, over Hono's context. */
function honoRequest(c: ServerContext, state: ServerState, requestId: string): RouteRequest {
  // The request's own signal (the client went away), and the server's stop (shutdown), once asked for.
  let own: AbortController | undefined;
  const controller = (): AbortController => {
    if (!own) {
      const made = (own = new AbortController());
      const raw = c.req.raw.signal;
      if (raw.aborted) made.abort(raw.reason);
      else raw.addEventListener('abort', () => made.abort(raw.reason), { once: true });
    }
    return own;
  };
  return {
    state,
    requestId,
    header: (name) => c.req.header(name),
    query: (name) => c.req.query(name),
    get signal() {
      return controller().signal;
    },
    client: undefined,
    setHeader: (name, value) => c.header(name, value),
    stop: (reason) => controller().abort(reason),
  };
}

/** A pass-through stream that calls `done` once its body has been read to the end or dropped. */
function afterBody(done: () => void): TransformStream<Uint8Array, Uint8Array> {
  return new TransformStream({ flush: done, cancel: done } as unknown as ConstructorParameters<typeof TransformStream<Uint8Array, Uint8Array>>[0]);
}

/** Holds the gate's release until the answer's body has been sent or dropped. */
function releaseAfterBody(c: ServerContext, release: () => void): void {
  const body = c.res.body;
  if (!body) return release();
  c.res = new Response(body.pipeThrough(afterBody(release)), c.res);
}

/**
 * The application for `state`: every route of every group, behind CORS and auth. (The gateway's hot
 * routes are usually dispatched before Hono, by fast-dispatch.ts; this serves them otherwise.)
 */
export function createApp(state: ServerState): Hono<ServerEnv> {
  const app = new Hono<ServerEnv>();
  const { groups } = state;
  const schemas = routeSchemas(groups);
  // Hono's path of each route → its template, to name the route a request matched in the metrics.
  const templates = new Map(groups.flatMap((g) => g.routes.map((r) => [honoPath(r.path), r.path] as const)));
  app.use(async (c, next) => {
    const id = requestIdOf(c.req.header('x-request-id'));
    c.set('requestId', id);
    c.set('state', state);
    c.set('req', honoRequest(c, state, id));
    c.header('x-request-id', id);
    await next();
    // The route it matched (also when a gate or a bad body answered before the route's handler).
    const matched = c.req.matchedRoutes.findLast((r) => r.method !== 'ALL');
    const template = matched && templates.get(matched.path);
    if (template) markRoute((c.env as HttpBindings | undefined)?.incoming, template);
  });
  app.use(corsMiddleware(state.options.cors, !state.options.auth));
  app.use(refuseWebhookDeliveries);
  const gated = groups.filter((g) => g.prefix !== undefined && g.gate);
  const basic = state.options.auth ? basicAuth(state.options.auth) : undefined;
  app.use(async (c, next) => {
    const gate = groupOf(gated, c.req.path)?.gate;
    if (!gate) return basic ? basic(c, next) : next();
    if (c.req.method === 'OPTIONS') return next();
    await gate(c.get('req'));
    await next();
    // The route took the client's slot once the body was in (admitted, below).
    const release = c.get('release');
    if (release) releaseAfterBody(c, release);
  });
  app.use(async (c, next) => {
    // The path as the client sent it: Hono's has had its dot segments resolved (dot-segments.ts).
    const target = (c.env as HttpBindings | undefined)?.incoming.url;
    if (target === undefined || !hasDotSegment(target)) return next();
    const path = pathAsSent(target);
    const error = new HttpError(404, 'ROUTE_NOT_FOUND', `No route ${c.req.method} ${path}: no path with a "." or ".." segment (%2e is a dot) names a route.`, { hint: 'GET /doc lists every route.' });
    const { body, headers } = errorAnswer(groups, path, error, c.get('requestId'));
    for (const name in headers) c.header(name, headers[name]);
    return c.json(body as object, 404);
  });
  for (const group of groups) {
    // A gated group counts a request against its client's limits once the body is in.
    const admit = group.prefix !== undefined && group.gate ? group.admit : undefined;
    for (const route of group.routes) {
      const { handler, serve } = route;
      if (!handler === !serve) throw new Error(`route ${route.method} ${route.path}: give exactly one of handler and serve`);
      app.on(route.method.toUpperCase(), honoPath(route.path), async (c) => {
        const text = route.body ? await readBody(c, state.options.maxBodyBytes, state.bodies) : undefined;
        if (admit) {
          const release = admit(c.get('req'));
          if (release) c.set('release', release);
        }
        const body = text === undefined ? undefined : bodyOf(text, route, schemas);
        const input = { params: c.req.param() as Record<string, string>, query: c.req.query(), body };
        if (serve) {
          const answer = await serve(c.get('req'), input);
          const { after } = answer;
          const done = after && (() => void runAfter(state, after, c.req.method, c.req.path));
          if ('json' in answer) {
            done?.();
            return c.json(answer.json as object, answer.status as 200, answer.headers);
          }
          return c.body(done ? answer.stream.pipeThrough(afterBody(done)) : answer.stream, answer.status as 200, answer.headers);
        }
        const res = await (handler as NonNullable<typeof handler>)(c, input);
        // A Response the route made itself gets the headers set before it (x-request-id, CORS); an
        // event stream wrote them itself (sse-stream.ts).
        if (res === STREAM_TAKEN_OVER || res.headers.has('x-request-id')) return res;
        return c.newResponse(res.body, res);
      });
    }
  }
  app.notFound((c) => {
    const known = groups.flatMap((g) => g.routes).filter((r) => pathMatches(r.path, c.req.path));
    const error = known.length
      ? new HttpError(405, 'METHOD_NOT_ALLOWED', `${c.req.method} is not allowed on ${c.req.path} (it takes ${known.map((r) => r.method.toUpperCase()).join(', ')}).`)
      : new HttpError(404, 'ROUTE_NOT_FOUND', `No route ${c.req.method} ${c.req.path}.`, { hint: 'GET /doc lists every route.' });
    return respondError(c, error, groups);
  });
  app.onError((error, c) => {
    const http = toHttpError(error);
    if (!serverFault(http)) return respondError(c, http, groups);
    // A client that went away (in the middle of its body, say) is no failure of the server's: with --debug, a note.
    if (!clientGone(c)) logFailure(state, c.req.method, c.req.path, error);
    else if (state.options.debug) state.log(`debug: ${c.req.method} ${c.req.path}: the client went away before it was answered (${error instanceof Error ? error.message : String(error)}).`);
    return respondError(c, http, groups);
  });
  return app;
}
