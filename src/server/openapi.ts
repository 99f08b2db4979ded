/**
 * The OpenAPI 3.1 document of every route, generated from the route table (routes/index.ts): the same
 * definitions that route and check requests describe them, so the document cannot drift.
 */
import { openApiPath, type JsonSchema, type ParamDoc, type RouteDef, type RouteGroup } from './route.ts';

type Doc = Record<string, unknown>;

function parameters(route: RouteDef): Doc[] {
  const path = Object.entries(route.params ?? {}).map(([name, p]) => param(name, 'path', { ...p, required: true }));
  const query = Object.entries(route.query ?? {}).map(([name, p]) => param(name, 'query', p));
  return [...path, ...query];
}

function param(name: string, where: 'path' | 'query', p: ParamDoc): Doc {
  return { name, in: where, required: Boolean(p.required), description: p.description, schema: p.schema ?? { type: 'string' } };
}

function operation(route: RouteDef, group: RouteGroup): Doc {
  const op: Doc = { operationId: route.operationId, summary: route.summary, tags: [group.name] };
  if (route.description) op.description = route.description;
  const params = parameters(route);
  if (params.length) op.parameters = params;
  if (route.body) op.requestBody = { required: !route.bodyOptional, content: { 'application/json': { schema: route.body } } };
  op.responses = Object.fromEntries(
    Object.entries(route.responses).map(([status, r]) => [
      status,
      { description: r.description, ...(r.schema || r.contentType ? { content: { [r.contentType ?? 'application/json']: r.schema ? { schema: r.schema } : {} } } : {}) },
    ]),
  );
  return op;
}

export function openApiDocument(groups: readonly RouteGroup[], info: { version: string; auth: boolean }): Doc {
  const paths: Record<string, Doc> = {};
  const schemas: Record<string, JsonSchema> = {};
  for (const group of groups) {
    Object.assign(schemas, group.schemas ?? {});
    for (const route of group.routes) {
      const path = openApiPath(route.path);
      paths[path] ??= {};
      (paths[path] as Doc)[route.method] = operation(route, group);
    }
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Pantheon',
      version: info.version,
      description: "OpenCode's server API with Pantheon's scheduler behind it: every model request is inside the configured rate limits, retried and falling back.",
    },
    tags: groups.map((g) => ({ name: g.name, description: g.description })),
    paths,
    components: { schemas, securitySchemes: { basic: { type: 'http', scheme: 'basic', description: 'OPENCODE_SERVER_PASSWORD (user OPENCODE_SERVER_USERNAME, default opencode)' } } },
    ...(info.auth ? { security: [{ basic: [] }] } : {}),
  };
}
