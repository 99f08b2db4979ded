/**
 * Counts every HTTP request the server answers, for /metrics (`pantheon_http_requests_total`,
 * `pantheon_http_request_duration_seconds`: Metrics.httpRequest), by method, route template and
 * status. Hono's app names the route a request matched (`markRoute`); one that matched none counts
 * as `unmatched` — label values are never the raw path, so their number stays bounded. The gateway's
 * fast routes (fast-dispatch.ts) count their own requests.
 */
import type { IncomingMessage, RequestListener } from 'node:http';
import type { Metrics } from '../core/metrics.ts';

const routes = new WeakMap<IncomingMessage, string>();

/** The route template (`/api/v1/sessions/{session_id}`) the request matched. */
export function markRoute(incoming: IncomingMessage | undefined, template: string): void {
  if (incoming) routes.set(incoming, template);
}

/**
 * `listener`, with each request counted once its response has ended or its connection closed; a
 * client that left before any answer counts as 499 (nginx's "client closed request").
 */
export function countingRequests(metrics: Metrics, listener: RequestListener): RequestListener {
  return (incoming, res) => {
    const started = performance.now();
    res.once('close', () => {
      metrics.httpRequest(incoming.method ?? '', routes.get(incoming) ?? 'unmatched', res.headersSent ? res.statusCode : 499, (performance.now() - started) / 1000);
    });
    listener(incoming, res);
  };
}
