/**
 * The host's Prometheus metrics (prom-client), kept by a subscriber of the host's event stream:
 * model requests, their latency, tokens, cost, rate-limit waits, retries, fallbacks, cache hits,
 * turns; and, read from the scheduler's lanes at scrape time, requests queued and in flight, rate
 * windows used and the next free slot per provider and model; tool calls and how long they ran.
 * Front-ends record nothing here except what only they can measure: the /v1 gateway's own overhead
 * (`recordGatewayOverhead`) and the server's HTTP requests (`httpRequest`, by route template).
 */
import { createRequire } from 'node:module';
import type * as Prom from 'prom-client';
import type { PantheonEvent } from '../events.ts';
import type { LaneSnapshot } from '../scheduler/lane-snapshot.ts';
import type { EventHub, HostEvent } from './event-hub.ts';
import { HttpCounts } from './http-counts.ts';

// prom-client's own files rather than its index: the index also loads its push gateway (https) and
// OpenTelemetry, which cost `serve` ~5× the start-up time of what is used here (bench/serve.ts).
const require = createRequire(import.meta.url);
const Registry = require('prom-client/lib/registry.js') as typeof Prom.Registry;
const Counter = require('prom-client/lib/counter.js') as typeof Prom.Counter;
const Gauge = require('prom-client/lib/gauge.js') as typeof Prom.Gauge;
const Histogram = require('prom-client/lib/histogram.js') as typeof Prom.Histogram;
type Counter<T extends string> = Prom.Counter<T>;
type Gauge<T extends string> = Prom.Gauge<T>;
type Histogram<T extends string> = Prom.Histogram<T>;

type Labels = { provider: string; model: string };

/** What one task (a turn's top-level task or a delegated one) is doing right now. */
interface TaskState {
  /** A rate-limit wait in progress: since when, on which model. */
  waiting?: { since: number; labels: Labels };
  /** The step's request: when it went out, and whether the cache answered it. */
  step?: { sentAt: number; cacheHit: boolean };
}

const DURATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
const WAIT_BUCKETS = [0.05, 0.25, 1, 2.5, 5, 10, 30, 60, 120, 300, 900];
const OVERHEAD_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];
const HTTP_BUCKETS = [0.001, 0.005, 0.025, 0.1, 0.5, 1, 2.5, 10, 30, 120];
const TOOL_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 120];
/** Distinct tool names counted; a model that keeps calling new ones does not grow the registry past this. */
const MAX_TOOL_LABELS = 200;
const HTTP_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** `provider/model` → its provider and the label itself (events name models by label). */
function labelsOf(label: string): Labels {
  const slash = label.indexOf('/');
  return { provider: slash > 0 ? label.slice(0, slash) : '', model: label };
}

function eventLabels(e: PantheonEvent): Labels {
  return { provider: e.provider ?? (e.model ? labelsOf(e.model).provider : ''), model: e.model ?? '' };
}

export interface MetricsOptions {
  /** Busy sessions right now (a gauge read at scrape time). */
  busySessions?: () => number;
  /** The scheduler's lanes now (queued, in flight, rate windows), read at scrape time. */
  lanes?: () => Promise<LaneSnapshot[]>;
  /** Also export prom-client's process and Node.js metrics (default true). */
  processMetrics?: boolean;
}

export class Metrics {
  readonly registry: Prom.Registry = new Registry();
  /** Process metrics are registered at the first scrape (their module costs start-up time). */
  #processMetrics: boolean;
  /** What each task of each session is doing (waiting, a step in flight), by session then task: `done` ends a session's at once. */
  readonly #tasks = new Map<string, Map<string, TaskState>>();
  readonly #requests: Counter<'provider' | 'model' | 'outcome'>;
  readonly #latency: Histogram<'provider' | 'model'>;
  readonly #tokens: Counter<'provider' | 'model' | 'direction'>;
  readonly #cost: Counter<'provider' | 'model'>;
  readonly #waits: Histogram<'provider' | 'model'>;
  readonly #retries: Counter<'provider' | 'model' | 'status'>;
  readonly #fallbacks: Counter<'from' | 'to' | 'reason'>;
  readonly #cacheHits: Counter<'provider' | 'model'>;
  readonly #errors: Counter<'code'>;
  readonly #turns: Counter<'status'>;
  readonly #turnDuration: Histogram<'status'>;
  readonly #queued: Gauge<'provider' | 'model'>;
  readonly #inFlight: Gauge<'provider' | 'model'>;
  readonly #windowUsed: Gauge<'provider' | 'model' | 'limit'>;
  readonly #windowLimit: Gauge<'provider' | 'model' | 'limit'>;
  readonly #nextSlot: Gauge<'provider' | 'model'>;
  /** Set only when lanes are read (`lanes` given). */
  readonly #storeUp: Gauge<string> | undefined;
  readonly #lanes: (() => Promise<LaneSnapshot[]>) | undefined;
  readonly #overhead: Histogram<'provider' | 'model'>;
  readonly #toolCalls: Counter<'tool' | 'outcome'>;
  readonly #toolDuration: Histogram<'tool'>;
  readonly #toolNames = new Set<string>();
  readonly #http = new HttpCounts(HTTP_BUCKETS);
  #off: (() => void) | undefined;

  constructor(options: MetricsOptions = {}) {
    const registers = [this.registry];
    this.#requests = new Counter({ name: 'pantheon_model_requests_total', help: 'Model calls answered, by provider, model and outcome (ok: the provider answered; cache_hit: the response cache did)', labelNames: ['provider', 'model', 'outcome'], registers });
    this.#latency = new Histogram({ name: 'pantheon_model_request_duration_seconds', help: 'A model call from its request going out to its last token, retries on the same call included (cache hits excluded)', labelNames: ['provider', 'model'], buckets: DURATION_BUCKETS, registers });
    this.#tokens = new Counter({ name: 'pantheon_tokens_total', help: 'Tokens the providers reported, by direction (input, output); cache hits excluded', labelNames: ['provider', 'model', 'direction'], registers });
    this.#cost = new Counter({ name: 'pantheon_cost_usd_total', help: 'Cost in USD of model calls whose model has prices', labelNames: ['provider', 'model'], registers });
    this.#waits = new Histogram({ name: 'pantheon_rate_limit_wait_seconds', help: 'Time requests spent waiting on a rate limit before going out (or moving to a fallback)', labelNames: ['provider', 'model'], buckets: WAIT_BUCKETS, registers });
    this.#retries = new Counter({ name: 'pantheon_retries_total', help: 'Retries of a failed attempt on the same model, by the status that caused them', labelNames: ['provider', 'model', 'status'], registers });
    this.#fallbacks = new Counter({ name: 'pantheon_fallbacks_total', help: 'Moves down a model chain, by the reason', labelNames: ['from', 'to', 'reason'], registers });
    this.#cacheHits = new Counter({ name: 'pantheon_cache_hits_total', help: 'Model calls answered from the response cache', labelNames: ['provider', 'model'], registers });
    this.#errors = new Counter({ name: 'pantheon_errors_total', help: 'Errors reported by turns and tasks, by code', labelNames: ['code'], registers });
    this.#turns = new Counter({ name: 'pantheon_turns_total', help: 'Turns (prompts) that ended, by status (success, failed, cancelled)', labelNames: ['status'], registers });
    this.#turnDuration = new Histogram({ name: 'pantheon_turn_duration_seconds', help: 'A turn from its prompt to its end', labelNames: ['status'], buckets: DURATION_BUCKETS, registers });
    this.#queued = new Gauge({ name: 'pantheon_queue_depth', help: "Requests of this server waiting for a slot in the scheduler's lane, now", labelNames: ['provider', 'model'], registers });
    this.#inFlight = new Gauge({ name: 'pantheon_requests_in_flight', help: 'Requests in flight on the lane now (this server, or the shared ledger when its concurrency count is higher)', labelNames: ['provider', 'model'], registers });
    this.#windowUsed = new Gauge({ name: 'pantheon_rate_window_used', help: 'Request starts counted in a rate window now, every process sharing the ledger', labelNames: ['provider', 'model', 'limit'], registers });
    this.#windowLimit = new Gauge({ name: 'pantheon_rate_window_limit', help: 'The starts a rate window allows', labelNames: ['provider', 'model', 'limit'], registers });
    this.#nextSlot = new Gauge({ name: 'pantheon_next_slot_seconds', help: 'Seconds until a request on the lane could start (0: now)', labelNames: ['provider', 'model'], registers });
    this.#lanes = options.lanes;
    this.#storeUp = options.lanes
      ? new Gauge({ name: 'pantheon_state_store_up', help: "1 when the scheduler's state store (the embedded ledger, or Redis) answered this scrape's read of the lanes, 0 when it could not be read (the lane series are left out then)", registers })
      : undefined;
    this.#toolCalls = new Counter({ name: 'pantheon_tool_calls_total', help: 'Tool calls (built-in, task, MCP as <server>_<tool>) by outcome: ok, error (it ran and failed) or invalid (an unknown tool or bad arguments: not run)', labelNames: ['tool', 'outcome'], registers });
    this.#toolDuration = new Histogram({ name: 'pantheon_tool_duration_seconds', help: 'How long a tool call ran', labelNames: ['tool'], buckets: TOOL_BUCKETS, registers });
    for (const series of this.#http.series()) this.registry.registerMetric(series as unknown as Prom.Metric);
    this.#overhead = new Histogram({ name: 'pantheon_gateway_overhead_seconds', help: 'Time the /v1 gateway spent on a request beyond waiting on the provider (total minus upstream time)', labelNames: ['provider', 'model'], buckets: OVERHEAD_BUCKETS, registers });
    const busy = options.busySessions;
    if (busy) {
      new Gauge({ name: 'pantheon_sessions_busy', help: 'Sessions with a turn running', registers, collect() { this.set(busy()); } });
    }
    this.#processMetrics = options.processMetrics !== false;
  }

  /** Starts counting the hub's events (once). */
  listen(hub: EventHub): void {
    this.#off ??= hub.subscribe((e) => this.handle(e));
  }

  close(): void {
    this.#off?.();
    this.#off = undefined;
  }

  /** Prometheus text exposition format (the lanes read now). */
  async render(): Promise<string> {
    if (this.#processMetrics) {
      this.#processMetrics = false;
      const collectDefaultMetrics = require('prom-client/lib/defaultMetrics.js') as typeof Prom.collectDefaultMetrics;
      collectDefaultMetrics({ register: this.registry });
    }
    if (this.#lanes) {
      let lanes: readonly LaneSnapshot[] = [];
      try {
        lanes = await this.#lanes();
        this.#storeUp?.set(1);
      } catch {
        // The state store is away (Redis down): everything else is still answered, which is when it matters most.
        this.#storeUp?.set(0);
      }
      this.#setLanes(lanes);
    }
    return this.registry.metrics();
  }

  #setLanes(lanes: readonly LaneSnapshot[]): void {
    for (const gauge of [this.#queued, this.#inFlight, this.#windowUsed, this.#windowLimit, this.#nextSlot]) gauge.reset();
    for (const lane of lanes) {
      const labels = { provider: lane.provider, model: lane.model };
      this.#queued.set(labels, lane.queued);
      this.#inFlight.set(labels, lane.inFlight);
      this.#nextSlot.set(labels, lane.nextSlotMs / 1000);
      for (const w of lane.windows) {
        this.#windowUsed.set({ ...labels, limit: w.label }, w.used);
        this.#windowLimit.set({ ...labels, limit: w.label }, w.limit);
      }
    }
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** One /v1 gateway request: its total time and the part spent waiting on the provider (ms). */
  gatewayOverhead(labels: Partial<Labels>, totalMs: number, upstreamMs: number): void {
    const overhead = Math.max(0, totalMs - upstreamMs) / 1000;
    this.#overhead.observe({ provider: labels.provider ?? (labels.model ? labelsOf(labels.model).provider : ''), model: labels.model ?? '' }, overhead);
  }

  /** One HTTP request answered: `route` is its template (`/api/v1/sessions/{session_id}`), never the raw path. */
  httpRequest(method: string, route: string, status: number, seconds: number): void {
    this.#http.record(HTTP_METHODS.has(method) ? method : 'OTHER', route, status, seconds);
  }

  #toolUse(e: Extract<PantheonEvent, { type: 'tool_use' }>): void {
    const ran = e.durationMs !== undefined;
    // An invalid call's name is whatever the model wrote: not a label.
    let tool = ran ? e.tool : '(invalid)';
    if (!this.#toolNames.has(tool)) {
      if (this.#toolNames.size >= MAX_TOOL_LABELS) tool = '(other)';
      else this.#toolNames.add(tool);
    }
    this.#toolCalls.inc({ tool, outcome: !ran ? 'invalid' : e.error === undefined ? 'ok' : 'error' });
    if (ran) this.#toolDuration.observe({ tool }, (e.durationMs ?? 0) / 1000);
  }

  handle(event: HostEvent): void {
    if (event.type === 'turn.ended') {
      this.#turns.inc({ status: event.result.status });
      this.#turnDuration.observe({ status: event.result.status }, Math.max(0, Date.now() - event.turn.time) / 1000);
      return;
    }
    if (event.type === 'pantheon') this.#onEvent(event.event);
  }

  #onEvent(e: PantheonEvent): void {
    const taskID = e.taskID ?? '';
    const session = this.#tasks.get(e.sessionID);
    const task = session?.get(taskID) ?? {};
    switch (e.type) {
      case 'rate_limited':
        if (!task.waiting) task.waiting = { since: e.timestamp, labels: eventLabels(e) };
        break;
      case 'step_start':
        this.#endWait(task, e.timestamp);
        this.#endStep(task);
        task.step = { sentAt: e.timestamp, cacheHit: false };
        break;
      case 'cache_hit':
        this.#cacheHits.inc(eventLabels(e));
        if (task.step) task.step.cacheHit = true;
        break;
      case 'retry':
        this.#endWait(task, e.timestamp);
        this.#retries.inc({ ...eventLabels(e), status: String(e.status) });
        break;
      case 'fallback':
        this.#endWait(task, e.timestamp);
        this.#fallbacks.inc({ from: e.from, to: e.to, reason: e.reason });
        break;
      case 'step_finish': {
        this.#endWait(task, e.timestamp);
        const labels = eventLabels(e);
        const hit = task.step?.cacheHit ?? false;
        this.#requests.inc({ ...labels, outcome: hit ? 'cache_hit' : 'ok' });
        if (!hit) {
          this.#tokens.inc({ ...labels, direction: 'input' }, e.usage.inputTokens);
          this.#tokens.inc({ ...labels, direction: 'output' }, e.usage.outputTokens);
          if (e.costUSD) this.#cost.inc(labels, e.costUSD);
          if (task.step) this.#latency.observe(labels, Math.max(0, e.timestamp - task.step.sentAt) / 1000);
        }
        this.#endStep(task);
        break;
      }
      case 'tool_use':
        this.#toolUse(e);
        return;
      case 'error':
        // Not every error ends a task (a cache write that failed does not); `done` settles the rest.
        this.#errors.inc({ code: e.code });
        return;
      case 'done':
        // The turn is over: whatever its tasks were doing has ended.
        for (const t of session?.values() ?? []) {
          this.#endWait(t, e.timestamp);
          this.#endStep(t);
        }
        this.#tasks.delete(e.sessionID);
        return;
      default:
        return;
    }
    if (task.waiting || task.step) {
      if (session) session.set(taskID, task);
      else this.#tasks.set(e.sessionID, new Map([[taskID, task]]));
    } else if (session) {
      session.delete(taskID);
      if (session.size === 0) this.#tasks.delete(e.sessionID);
    }
  }

  #endWait(task: TaskState, now: number): void {
    if (!task.waiting) return;
    this.#waits.observe(task.waiting.labels, Math.max(0, now - task.waiting.since) / 1000);
    task.waiting = undefined;
  }

  #endStep(task: TaskState): void {
    task.step = undefined;
  }
}

/**
 * Records one /v1 gateway request's overhead: `totalMs` from the request arriving to its response
 * ending, `upstreamMs` of it spent waiting on the provider (rate-limit waits count as upstream).
 */
export function recordGatewayOverhead(metrics: Metrics, sample: { provider?: string; model?: string; totalMs: number; upstreamMs: number }): void {
  metrics.gatewayOverhead({ ...(sample.provider ? { provider: sample.provider } : {}), ...(sample.model ? { model: sample.model } : {}) }, sample.totalMs, sample.upstreamMs);
}
