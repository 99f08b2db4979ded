/**
 * `GET /api/stats`: what `opencode stats --json` prints, from the same core function over the
 * server's ledger (every process's usage log) and session store.
 */
import { statsReport } from '../../core/stats-sources.ts';
import { MAX_STATS_DAYS, parseStatsDays } from '../../core/stats.ts';
import { HttpError } from '../http-error.ts';
import type { JsonSchema, RouteGroup } from '../route.ts';

const figures: JsonSchema = {
  type: 'object',
  properties: Object.fromEntries(['requests', 'cacheHits', 'inputTokens', 'outputTokens', 'retries', 'fallbacks', 'rateLimitWaits', 'waitedMs'].map((k) => [k, { type: 'integer' }]).concat([['costUSD', { type: 'number' }], ['savedUSD', { type: 'number' }]])),
};

export const statsRoutes: RouteGroup = {
  name: 'stats',
  /** Pantheon's own: its errors in OpenCode's v1 shape, not v2's (routes/opencode-v2.ts). */
  prefix: '/api/stats',
  description: 'Usage over days: requests, tokens, cost, retries, fallbacks, rate-limit waits and cache savings (what `opencode stats --json` prints).',
  schemas: {
    StatsReport: {
      type: 'object',
      properties: {
        from: { type: 'string', description: 'First day (YYYY-MM-DD)' },
        to: { type: 'string', description: 'Last day (today)' },
        days: { type: ['integer', 'null'] },
        timeZone: { type: 'string' },
        filters: { type: 'object', properties: { agent: { type: 'string' }, provider: { type: 'string' } } },
        totals: figures,
        byDay: { type: 'array', items: { type: 'object', properties: { day: { type: 'string' }, ...figures.properties } } },
        byAgent: { type: 'object', additionalProperties: figures },
        byProvider: { type: 'object', additionalProperties: figures },
        byModel: { type: 'object', additionalProperties: figures },
        notes: { type: 'array', items: { type: 'string' } },
      },
      required: ['from', 'to', 'days', 'timeZone', 'filters', 'totals', 'byDay', 'byAgent', 'byProvider', 'byModel', 'notes'],
    },
  },
  routes: [
    {
      method: 'get',
      path: '/api/stats',
      operationId: 'stats.get',
      summary: 'Usage by day, agent, provider and model',
      description: 'The same report as `opencode stats --json`, from the shared ledger\'s usage log (every process) and older sessions; days in `budget.timeZone` or the server\'s time zone.',
      query: {
        days: { description: `The last N days, today included (1 to ${MAX_STATS_DAYS}); default: everything kept`, schema: { type: 'string' } },
        agent: { description: 'Only this agent\'s calls', schema: { type: 'string' } },
        provider: { description: 'Only this provider\'s calls', schema: { type: 'string' } },
      },
      responses: { 200: { description: 'The report', schema: { $ref: '#/components/schemas/StatsReport' } }, 400: { description: '`days` is not a whole number from 1 to 3650, or `agent` or `provider` is empty' } },
      handler: async (c, input) => {
        const { days: daysText, agent, provider } = input.query;
        const days = daysText === undefined ? undefined : parseStatsDays(daysText);
        if (daysText !== undefined && days === undefined) {
          throw new HttpError(400, 'BAD_REQUEST', `days: expected a whole number of days from 1 to ${MAX_STATS_DAYS}, found ${JSON.stringify(daysText.slice(0, 40))}.`, { hint: 'For example ?days=7.', details: { field: 'days' } });
        }
        for (const [name, value] of [['agent', agent], ['provider', provider]] as const) {
          if (value !== undefined && value.trim() === '') {
            throw new HttpError(400, 'BAD_REQUEST', `${name}: expected ${name === 'agent' ? 'an agent name' : 'a provider id'}, found nothing.`, { hint: `Leave ${name} out for every ${name}'s calls.`, details: { field: name } });
          }
        }
        const host = c.get('state').host;
        const timeZone = (await host.instances.get()).config.budget?.timeZone;
        const report = await statsReport(host.ledger, host.store, {
          now: Date.now(),
          ...(days === undefined ? {} : { days }),
          ...(timeZone ? { timeZone } : {}),
          ...(agent !== undefined ? { agent } : {}),
          ...(provider !== undefined ? { provider } : {}),
        });
        return c.json(report);
      },
    },
  ],
};
