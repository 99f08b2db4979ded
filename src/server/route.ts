/**
 * The route table: every route is a plain object that carries its method, path, parameters, body
 * schema and responses (the OpenAPI document at /doc is generated from them) and its handler. Route
 * groups (the OpenCode API, /api/v1, /v1, health, metrics, the dashboard) each live in their own file
 * under routes/ and are registered in one place (routes/index.ts).
 */
import type { Context, MiddlewareHandler } from 'hono';
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
  enum?: readonly (string | number | boolean)[];
  const?: string | number | boolean;
  /** Exactly one matches; for tagged unions, the branch is chosen by `discriminator`. */
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  discriminator?: { propertyName: string };
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
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
  Variables: { state: ServerState; requestId: string; /** Who called a gateway route (set by its group's middleware). */ client?: { name: string } };
}

export type ServerContext = Context<ServerEnv>;

export interface RouteInput {
  params: Record<string, string>;
  query: Record<string, string>;
  /** The parsed body, checked against `body` (undefined when the route takes none). */
  body: unknown;
}

export interface RouteDef {
  method: Method;
  /** OpenAPI form: `/session/{sessionID}`. */
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
  handler: (c: ServerContext, input: RouteInput) => Response | Promise<Response>;
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
  renderError?: (error: HttpError, c: ServerContext) => unknown;
  /**
   * The group's own gate for every request under `prefix`, in place of the server password's Basic
   * auth (the gateway groups accept bearer keys from `server.keys`, count per-key limits, set the
   * `client` variable). It throws an HttpError (rendered by `renderError`) to refuse.
   */
  middleware?: MiddlewareHandler<ServerEnv>;
}

/** `/session/{sessionID}` → `/session/:sessionID` (Hono's form). */
export function honoPath(openApiPath: string): string {
  return openApiPath.replace(/\{([^}]+)\}/g, ':$1');
}

/** A `$ref` to a named schema of some group. */
export function ref(name: string): JsonSchema {
  return { $ref: `#/components/schemas/${name}` };
}
