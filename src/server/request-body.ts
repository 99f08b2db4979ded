/**
 * A request body as a route takes it, whichever way the request was dispatched (Hono, or the fast
 * path): bounded in size (413), parsed as JSON (400 naming the parse error) and checked against the
 * route's schema (400 naming the field).
 */
import { checkBody } from './check-body.ts';
import { HttpError } from './http-error.ts';
import type { JsonSchema, RouteDef, RouteGroup } from './route.ts';
import { jsonFault } from '../json-fault.ts';

/** How much more of a body over the limit is read and dropped (so the client sees the 413) before the connection is cut. */
export const DRAIN_FACTOR = 3;

export function tooLarge(limit: number): HttpError {
  return new HttpError(413, 'BODY_TOO_LARGE', `The request body is larger than ${limit} bytes.`, { hint: 'Send less at once (attach large files by path with a file:// URL).' });
}

/** Every group's named schemas, for `$ref`s in route bodies. */
export function routeSchemas(groups: readonly RouteGroup[]): Record<string, JsonSchema> {
  return Object.assign({}, ...groups.map((g) => g.schemas ?? {}));
}

/** The body text of a request to `route` as the route takes it: parsed and checked (undefined when it takes none, or may leave it out). */
export function bodyOf(text: string, route: RouteDef, schemas: Record<string, JsonSchema>): unknown {
  if (!text.trim()) {
    if (route.bodyOptional) return undefined;
    throw new HttpError(400, 'BAD_REQUEST', `${route.method.toUpperCase()} ${route.path} needs a JSON body.`, { hint: 'See /doc for its fields.', details: { kind: 'Body' } });
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    const why = jsonFault(error);
    throw new HttpError(400, 'BAD_JSON', `The request body is not valid JSON (${why}).`, { hint: 'Send a JSON object with content-type application/json.', details: { kind: 'Body' } });
  }
  const problem = checkBody(body, route.body as JsonSchema, schemas);
  if (problem) {
    const where = problem.field ? `body field "${problem.field}"` : 'the request body';
    throw new HttpError(400, 'BAD_REQUEST', `${where}: ${problem.message}.`, { hint: `See /doc for the fields of ${route.method.toUpperCase()} ${route.path}.`, details: { kind: 'Body', field: problem.field } });
  }
  return body;
}
