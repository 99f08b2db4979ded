/** `GET /metrics`: the host's Prometheus metrics (text exposition format), behind the same auth as every route. */
import type { RouteGroup } from '../route.ts';

export const metricsRoutes: RouteGroup = {
  name: 'metrics',
  description: 'Prometheus metrics: model requests, latency, tokens, cost, rate-limit waits, retries, fallbacks, queue depth per provider and model, gateway overhead.',
  routes: [
    {
      method: 'get',
      path: '/metrics',
      operationId: 'metrics.get',
      summary: 'Prometheus metrics',
      description:
        'Series (all per provider and model where that applies): pantheon_model_requests_total{outcome}, pantheon_model_request_duration_seconds, pantheon_tokens_total{direction}, pantheon_cost_usd_total, pantheon_rate_limit_wait_seconds, pantheon_retries_total{status}, pantheon_fallbacks_total{from,to,reason}, pantheon_cache_hits_total, pantheon_errors_total{code}, pantheon_turns_total{status}, pantheon_turn_duration_seconds, pantheon_queue_depth, pantheon_requests_in_flight, pantheon_sessions_busy, pantheon_gateway_overhead_seconds, and prom-client’s process_* and nodejs_* series.',
      responses: { 200: { description: 'Prometheus text format 0.0.4', contentType: 'text/plain', schema: { type: 'string' } } },
      handler: async (c) => {
        const metrics = c.get('state').host.metrics;
        return c.body(await metrics.render(), 200, { 'content-type': metrics.contentType, 'cache-control': 'no-store' });
      },
    },
  ],
};
