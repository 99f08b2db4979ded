/**
 * The server's HTTP requests for /metrics (`pantheon_http_requests_total`,
 * `pantheon_http_request_duration_seconds`), counted in plain maps and turned into series only when
 * scraped: prom-client's own label children hash and check their labels on every call (3–5 µs a
 * request on the gateway's path), a request here costs a Map lookup and a bucket search. The two
 * objects `series()` returns are registered in the prom-client registry, which reads them through
 * `get()` like its own metrics.
 */
const TOTAL = 'pantheon_http_requests_total';
const DURATION = 'pantheon_http_request_duration_seconds';

interface Cell {
  method: string;
  route: string;
  status: string;
  count: number;
  sum: number;
  /** Requests per bucket (not cumulative): index i counts those ≤ buckets[i] and > buckets[i-1]; the last is +Inf. */
  perBucket: number[];
}

interface SeriesValue {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

/** What the registry reads of a metric (prom-client's `get()` shape). */
export interface ScrapedMetric {
  name: string;
  help: string;
  type: 'counter' | 'histogram';
  aggregator: 'sum';
  get(): { name: string; help: string; type: 'counter' | 'histogram'; aggregator: 'sum'; values: SeriesValue[] };
}

export class HttpCounts {
  readonly #buckets: readonly number[];
  readonly #cells = new Map<string, Cell>();

  constructor(buckets: readonly number[]) {
    this.#buckets = buckets;
  }

  record(method: string, route: string, status: number, seconds: number): void {
    const key = `${method} ${status} ${route}`;
    let cell = this.#cells.get(key);
    if (!cell) {
      cell = { method, route, status: String(status), count: 0, sum: 0, perBucket: new Array<number>(this.#buckets.length + 1).fill(0) };
      this.#cells.set(key, cell);
    }
    cell.count += 1;
    cell.sum += seconds;
    let i = 0;
    while (i < this.#buckets.length && seconds > (this.#buckets[i] as number)) i++;
    cell.perBucket[i] = (cell.perBucket[i] as number) + 1;
  }

  /** The counter and the histogram, to register in a prom-client registry. */
  series(): [ScrapedMetric, ScrapedMetric] {
    const counter = (): SeriesValue[] => [...this.#cells.values()].map((c) => ({ labels: { method: c.method, route: c.route, status: c.status }, value: c.count }));
    const histogram = (): SeriesValue[] => {
      // The histogram's labels leave the status out: cells of one method and route add up.
      const byRoute = new Map<string, { method: string; route: string; count: number; sum: number; perBucket: number[] }>();
      for (const c of this.#cells.values()) {
        const key = `${c.method} ${c.route}`;
        const to = byRoute.get(key) ?? { method: c.method, route: c.route, count: 0, sum: 0, perBucket: new Array<number>(c.perBucket.length).fill(0) };
        to.count += c.count;
        to.sum += c.sum;
        c.perBucket.forEach((n, i) => (to.perBucket[i] = (to.perBucket[i] as number) + n));
        byRoute.set(key, to);
      }
      return [...byRoute.values()].flatMap((r) => {
        const labels = { method: r.method, route: r.route };
        let cumulative = 0;
        const buckets = r.perBucket.map((n, i) => {
          cumulative += n;
          return { labels: { le: i < this.#buckets.length ? (this.#buckets[i] as number) : '+Inf', ...labels }, value: cumulative, metricName: `${DURATION}_bucket` };
        });
        return [...buckets, { labels, value: r.sum, metricName: `${DURATION}_sum` }, { labels, value: r.count, metricName: `${DURATION}_count` }];
      });
    };
    const metric = (name: string, help: string, type: 'counter' | 'histogram', values: () => SeriesValue[]): ScrapedMetric => ({
      name,
      help,
      type,
      aggregator: 'sum',
      get: () => ({ name, help, type, aggregator: 'sum', values: values() }),
    });
    return [
      metric(TOTAL, 'HTTP requests the server answered, by method, route template and status', 'counter', counter),
      metric(DURATION, 'An HTTP request from its arrival to the end of its response (an event stream: to its close)', 'histogram', histogram),
    ];
  }
}
