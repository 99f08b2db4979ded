import { healthReport } from '../../core/health.ts';
import { ref, type JsonSchema, type RouteGroup } from '../route.ts';
import { instanceFor } from '../state.ts';

const check: JsonSchema = { type: 'object', properties: { status: { type: 'string', enum: ['ok', 'degraded', 'error'] }, latency_ms: { type: 'number' }, error: { type: 'string' }, store: { type: 'string' } }, required: ['status'] };

export const healthRoutes: RouteGroup = {
  name: 'health',
  description: 'Liveness for OpenCode clients, and the state stores, providers and MCP servers for operators.',
  schemas: {
    Health: {
      type: 'object',
      description: "The guide's §34.3 health document.",
      properties: {
        status: { type: 'string', enum: ['healthy', 'degraded', 'unhealthy'] },
        timestamp: { type: 'string', format: 'date-time' },
        version: { type: 'string' },
        uptime: { type: 'number', description: 'Seconds since the server started' },
        checks: {
          type: 'object',
          properties: {
            database: check,
            cache: check,
            providers: { type: 'array', items: { type: 'object', properties: { id: { type: 'string' }, status: { type: 'string' }, credential: { type: 'string' }, models: { type: 'array', items: { type: 'string' } }, reason: { type: 'string' } } } },
            mcp: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' }, status: { type: 'string' }, state: { type: 'string' }, tools: { type: 'number' } } } },
          },
        },
      },
      required: ['status', 'timestamp', 'version', 'uptime', 'checks'],
    },
  },
  routes: [
    {
      method: 'get',
      path: '/global/health',
      operationId: 'global.health',
      summary: 'Get health',
      description: 'Whether the server answers, and its version (what OpenCode clients poll).',
      responses: { 200: { description: 'Health information', schema: { type: 'object', properties: { healthy: { type: 'boolean', const: true }, version: { type: 'string' } }, required: ['healthy', 'version'] } } },
      handler: (c) => c.json({ healthy: true, version: c.get('state').version }),
    },
    {
      method: 'get',
      path: '/health',
      operationId: 'health.get',
      summary: 'Health of the stores, providers and MCP servers',
      description: 'healthy, degraded (a provider without a key or cooling down, an MCP server down) or unhealthy (a state store fails: 503).',
      query: { directory: { description: 'Project folder (default: the server’s)' } },
      responses: { 200: { description: 'Healthy or degraded', schema: ref('Health') }, 503: { description: 'Unhealthy', schema: ref('Health') } },
      handler: async (c, { query }) => {
        const state = c.get('state');
        const instance = await instanceFor(state, c.req.header('x-opencode-directory'), query.directory);
        const report = await healthReport(state.host, instance, state.version);
        return c.json(report, report.status === 'unhealthy' ? 503 : 200);
      },
    },
  ],
};
