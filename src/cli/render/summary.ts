import type { PantheonEvent, Usage } from '../../events.ts';

/** Counts what happened in a run, for the closing summary line. */
export class RunStats {
  retries = 0;
  fallbacks = 0;
  cacheHits = 0;
  requests = 0;
  waitedMs = 0;
  private readonly started: number;
  constructor(now: number = Date.now()) {
    this.started = now;
  }
  handle(e: PantheonEvent): void {
    if (e.type === 'retry') this.retries++;
    else if (e.type === 'fallback') this.fallbacks++;
    else if (e.type === 'cache_hit') this.cacheHits++;
    else if (e.type === 'step_finish') this.requests++;
    else if (e.type === 'rate_limited') this.waitedMs += e.waitMs;
  }
  line(status: string, usage: Usage, costUSD: number | undefined, servedBy: string[], now: number = Date.now()): string {
    const parts = [
      `${status} in ${((now - this.started) / 1000).toFixed(1)} s`,
      servedBy.length ? `by ${[...new Set(servedBy)].join(', ')}` : undefined,
      `${usage.inputTokens} in / ${usage.outputTokens} out tokens`,
      costUSD === undefined ? undefined : `$${costUSD.toFixed(4)}`,
      this.retries ? `${this.retries} retr${this.retries === 1 ? 'y' : 'ies'}` : undefined,
      this.fallbacks ? `${this.fallbacks} fallback${this.fallbacks === 1 ? '' : 's'}` : undefined,
      this.cacheHits ? `${this.cacheHits} cache hit${this.cacheHits === 1 ? '' : 's'}` : undefined,
      this.waitedMs ? `${(this.waitedMs / 1000).toFixed(1)} s waiting on limits` : undefined,
    ];
    return parts.filter(Boolean).join(' · ');
  }
}
