/**
 * The route table: every route is a plain object that carries its method, path, parameters, body
 * schema and responses (the OpenAPI document at /doc is generated from them) and its handler. Route
 * groups (the OpenCode API, /api/v1, /v1, health, metrics, the dashboard) each live in their own file
 * under routes/ and are registered in one place (routes/index.ts).
 */
import type { Context } from 'hono';
import type { Client } from './client-keys.ts';
import type { HttpError } from './http-error.ts';
import type { ServerState } from './state.ts';

/** The JSON Schema subset the route table uses (checked by check-body.ts, published by /doc). */
export interface JsonSchema {
  type?: 'object' | 'array' | 'string' | 'number' | 'integer' | 'boolean' | 'null' | ('object' | 'array' | 'string' | 'number' | 'integer' | 'boolean' | 'null')[];
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  enum?: readonly (string | number | boolean | null)[];
  const?: string | number | boolean;
  /** Exactly one matches; for tagged unions, the branch is chosen by `discriminator`. */
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  discriminator?: { propertyName: string };
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  format?: string;
  $ref?: string;
  examples?: unknown[];
}

export interface ParamDoc {
  description: string;
  schema?: JsonSchema;
  required?: boolean;
}

export interface ResponseDoc {
  description: string;
  /** Default `application/json`; `text/event-stream` for streams, `text/plain` for /metrics. */
  contentType?: string;
  schema?: JsonSchema;
}

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface ServerEnv {
  Variables: {
    state: ServerState;
    requestId: string;
    /** The request as `serve` routes and group gates see it. */
    req: RouteRequest;
    /** What the group's `admit` holds for the request until its answer has been sent or dropped. */
    release?: () => void;
  };
}

export type ServerContext = Context<ServerEnv>;

export interface RouteInput {
  params: Record<string, string>;
  query: Record<string, string>;
  /** The parsed body, checked against `body` (undefined when the route takes none). */
  body: unknown;
}

/**
 * A route's view of its request whichever way it was dispatched: through Hono, or straight from
 * Node's request listener (fast-dispatch.ts, for the gateway's hot routes). Routes that answer with
 * `serve` see only this, so one definition serves both.
 */
export interface RouteRequest {
  readonly state: ServerState;
  readonly requestId: string;
  /** A request header (any case of its name). */
  header(name: string): string | undefined;
  /** A query parameter. */
  query(name: string): string | undefined;
  /** Aborted when the client goes away before the answer is sent. */
  readonly signal: AbortSignal;
  /** Who called a gateway route (set by its group's gate). */
  client: Client | undefined;
  /** Sets a header of the answer (kept on an error answer too). */
  setHeader(name: string, value: string): void;
  /** The server stops the request before its answer is complete (shutdown): `signal` aborts with `reason`. */
  stop(reason: unknown): void;
}

/**
 * What a `serve` route answers: a JSON body, or a stream of bytes (SSE). `after`: work left to do
 * once the answer has been sent, or dropped by a client that went away (the gateway's bookkeeping
 * of a call, which the client need not wait for); the dispatcher runs it exactly once and logs its
 * failure.
 */
export type RouteAnswer = { status: number; headers?: Record<string, string>; after?: () => Promise<void> } & ({ json: unknown } | { stream: ReadableStream<Uint8Array> });

interface RouteDoc {
  method: Method;
  /** OpenAPI form: `/session/{sessionID}`; a last parameter `{name+}` takes the rest of the path, slashes too (see honoPath). */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  params?: Record<string, ParamDoc>;
  query?: Record<string, ParamDoc>;
  /** The request body's schema; a body that does not match is a 400 naming the field. */
  body?: JsonSchema;
  /** Whether the body may be left out (default: required when `body` is given). */
  bodyOptional?: boolean;
  responses: Record<number, ResponseDoc>;
}

/**
 * A route: its documentation and checks, and exactly one of a Hono `handler` or `serve` (framework-
 * free: a RouteRequest in, a RouteAnswer out, which both Hono and the fast path can dispatch).
 */
export interface RouteDef extends RouteDoc {
  handler?: (c: ServerContext, input: RouteInput) => Response | Promise<Response>;
  serve?: (req: RouteRequest, input: RouteInput) => Promise<RouteAnswer>;
}

export interface RouteGroup {
  name: string;
  description: string;
  /** Paths under this prefix render their errors with `renderError` (also unknown routes there). */
  prefix?: string;
  routes: RouteDef[];
  /** Named schemas, published under components.schemas (referenced as `#/components/schemas/NAME`). */
  schemas?: Record<string, JsonSchema>;
  /** The error body of this API (default: OpenCode's `{name, data: {message}}`). */
  renderError?: (error: HttpError, requestId: string) => unknown;
  /**
   * The group's own gate for every request under `prefix` but CORS preflights, in place of the
   * server password's Basic auth (the gateway groups accept bearer keys from `server.keys` and set
   * `client`), run before any of the body is read. It throws an HttpError (rendered by
   * `renderError`) to refuse.
   */
  gate?: (req: RouteRequest) => Promise<void>;
  /**
   * With `gate`: counts a request to one of the group's routes against its client's own limits once
   * its body has arrived (a client still sending one holds no slot), or throws the 429. Returns what
   * to call once the answer has been sent or dropped (undefined: nothing to hold).
   */
  admit?: (req: RouteRequest) => (() => void) | undefined;
}

/**
 * `/session/{sessionID}` → `/session/:sessionID` (Hono's form). A parameter written `{name+}` takes
 * the rest of the path, slashes too (`/v1/models/{model+}`: `nvidia-nim/meta/llama-3.3-70b-instruct`).
 */
export function honoPath(routePath: string): string {
  return routePath.replace(/\{([^}]+)\}/g, (_, name: string) => (name.endsWith('+') ? `:${name.slice(0, -1)}{.+}` : `:${name}`));
}

/** The route's path as OpenAPI writes it (`{name+}` → `{name}`). */
export function openApiPath(routePath: string): string {
  return routePath.replace(/\{([^}+]+)\+\}/g, '{$1}');
}

/** Whether `path` is one of the route's paths, whatever the method. */
export function pathMatches(routePath: string, path: string): boolean {
  const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  let pattern = '';
  let last = 0;
  for (const m of routePath.matchAll(/\{([^}]+)\}/g)) {
    pattern += literal(routePath.slice(last, m.index)) + ((m[1] as string).endsWith('+') ? '.+' : '[^/]+');
    last = m.index + m[0].length;
  }
  return new RegExp(`^${pattern}${literal(routePath.slice(last))}$`).test(path);
}

/** A `$ref` to a named schema of some group. */
export function ref(name: string): JsonSchema {
  return { $ref: `#/components/schemas/${name}` };
}
