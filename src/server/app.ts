/**
 * The Hono application: request ids, CORS, auth, then every route group's routes from the route
 * table, each body bounded in size and checked against its schema. Errors and unknown routes answer
 * JSON in the error shape of the API the path belongs to; nothing answers HTML.
 */
import { randomUUID } from 'node:crypto';
import { Hono } from 'hono';
import { basicAuth } from './auth.ts';
import { checkBody } from './check-body.ts';
import { corsMiddleware } from './cors.ts';
import { HttpError, toHttpError } from './http-error.ts';
import { honoPath, type JsonSchema, type RouteDef, type RouteGroup, type ServerContext, type ServerEnv } from './route.ts';
import type { ServerState } from './state.ts';

const STATUS_NAMES: Record<number, string> = {
  400: 'BadRequest',
  401: 'UnauthorizedError',
  404: 'NotFoundError',
  405: 'MethodNotAllowed',
  409: 'SessionBusyError',
  413: 'PayloadTooLarge',
  503: 'ServiceUnavailable',
};

/** OpenCode's error body (`{name, data: {message}}`), with Pantheon's code and hint in `data`. */
export function openCodeError(error: HttpError): unknown {
  const name = STATUS_NAMES[error.status] ?? 'UnknownError';
  return { name, data: { message: error.message, code: error.code, ...(error.hint ? { hint: error.hint } : {}), ...error.details } };
}

function groupOf(groups: readonly RouteGroup[], path: string): RouteGroup | undefined {
  return groups.find((g) => g.prefix !== undefined && (path === g.prefix || path.startsWith(`${g.prefix}/`)));
}

function respondError(c: ServerContext, error: HttpError, groups: readonly RouteGroup[]): Response {
  const group = groupOf(groups, c.req.path);
  const body = group?.renderError ? group.renderError(error, c) : openCodeError(error);
  if (error.retryAfter !== undefined) c.header('Retry-After', String(Math.max(0, Math.ceil(error.retryAfter))));
  if (error.final) c.header('x-should-retry', 'false');
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

async function readBody(c: ServerContext, limit: number): Promise<string> {
  const tooLarge = () => new HttpError(413, 'BODY_TOO_LARGE', `The request body is larger than ${limit} bytes.`, { hint: 'Send less at once (attach large files by path with a file:// URL).' });
  const declared = c.req.header('content-length');
  if (Number(declared) > limit) throw tooLarge();
  // With a length (what HTTP clients send) Node's parser reads exactly that much: @hono/node-server
  // reads it straight from the socket, without a web stream per request.
  if (declared !== undefined && /^\d+$/.test(declared)) return Buffer.from(await c.req.raw.arrayBuffer()).toString('utf8');
  const reader = c.req.raw.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      // Answer 413 now and read the rest of the body meanwhile, dropping it (a client still sending
      // would otherwise see its connection reset instead of the answer), up to 4× the limit.
      void drain(reader, 3 * limit);
      throw tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function parseBody(c: ServerContext, route: RouteDef, state: ServerState, schemas: Record<string, JsonSchema>): Promise<unknown> {
  if (!route.body) return undefined;
  const text = await readBody(c, state.options.maxBodyBytes);
  if (!text.trim()) {
    if (route.bodyOptional) return undefined;
    throw new HttpError(400, 'BAD_REQUEST', `${route.method.toUpperCase()} ${route.path} needs a JSON body.`, { hint: 'See /doc for its fields.', details: { kind: 'Body' } });
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    const why = error instanceof Error ? error.message.split('\n')[0] : 'unreadable';
    throw new HttpError(400, 'BAD_JSON', `The request body is not valid JSON (${why}).`, { hint: 'Send a JSON object with content-type application/json.', details: { kind: 'Body' } });
  }
  const problem = checkBody(body, route.body, schemas);
  if (problem) {
    const where = problem.field ? `body field "${problem.field}"` : 'the request body';
    throw new HttpError(400, 'BAD_REQUEST', `${where}: ${problem.message}.`, { hint: `See /doc for the fields of ${route.method.toUpperCase()} ${route.path}.`, details: { kind: 'Body', field: problem.field } });
  }
  return body;
}

/** The application for `state`: every route of every group, behind CORS and auth. */
export function createApp(state: ServerState): Hono<ServerEnv> {
  const app = new Hono<ServerEnv>();
  const { groups } = state;
  const schemas: Record<string, JsonSchema> = Object.assign({}, ...groups.map((g) => g.schemas ?? {}));
  app.use(async (c, next) => {
    const given = c.req.header('x-request-id');
    const id = given && /^[\w.:-]{1,128}$/.test(given) ? given : randomUUID();
    c.set('requestId', id);
    c.set('state', state);
    c.header('x-request-id', id);
    await next();
  });
  app.use(corsMiddleware(state.options.cors));
  const gated = groups.filter((g) => g.prefix !== undefined && g.middleware);
  const basic = state.options.auth ? basicAuth(state.options.auth) : undefined;
  app.use(async (c, next) => {
    const own = groupOf(gated, c.req.path)?.middleware;
    if (own) return own(c, next);
    return basic ? basic(c, next) : next();
  });
  for (const group of groups) {
    for (const route of group.routes) {
      app.on(route.method.toUpperCase(), honoPath(route.path), async (c) => {
        const body = await parseBody(c, route, state, schemas);
        const res = await route.handler(c, { params: c.req.param() as Record<string, string>, query: c.req.query(), body });
        // A Response the route made itself (a stream) gets the headers set before it (x-request-id, CORS).
        return res.headers.has('x-request-id') ? res : c.newResponse(res.body, res);
      });
    }
  }
  app.notFound((c) => {
    const known = groups.flatMap((g) => g.routes).filter((r) => new RegExp(`^${honoPath(r.path).replace(/:[^/]+/g, '[^/]+')}$`).test(c.req.path));
    const error = known.length
      ? new HttpError(405, 'METHOD_NOT_ALLOWED', `${c.req.method} is not allowed on ${c.req.path} (it takes ${known.map((r) => r.method.toUpperCase()).join(', ')}).`)
      : new HttpError(404, 'ROUTE_NOT_FOUND', `No route ${c.req.method} ${c.req.path}.`, { hint: 'GET /doc lists every route.' });
    return respondError(c, error, groups);
  });
  app.onError((error, c) => {
    const http = toHttpError(error);
    if (http.status >= 500) state.log(`error: ${c.req.method} ${c.req.path}: ${state.options.debug && error instanceof Error ? (error.stack ?? error.message) : error instanceof Error ? error.message : String(error)}`);
    return respondError(c, http, groups);
  });
  return app;
}
