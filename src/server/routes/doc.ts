import { openApiDocument } from '../openapi.ts';
import type { RouteGroup } from '../route.ts';

export const docRoutes: RouteGroup = {
  name: 'doc',
  description: 'This document.',
  routes: [
    {
      method: 'get',
      path: '/doc',
      operationId: 'doc.get',
      summary: 'OpenAPI 3.1 document of every route',
      description: 'Generated from the same route table that serves and checks the requests.',
      responses: { 200: { description: 'OpenAPI 3.1 document', schema: { type: 'object' } } },
      handler: (c) => {
        const state = c.get('state');
        return c.json(openApiDocument(state.groups, { version: state.version, auth: Boolean(state.options.auth) }));
      },
    },
  ],
};
