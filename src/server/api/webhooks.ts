/**
 * Webhooks (the guide's §33.1): the configured `server.webhooks` get the host's events, and a
 * prompt_async `callback_url` its task's end. Each delivery is a POST of
 * `{event, timestamp, webhook_id, data}` signed `x-opencode-signature: sha256=<hex HMAC-SHA256 of the
 * raw body>` with the webhook's secret, retried with backoff on network errors, 429 and 5xx. It runs
 * beside the turn, never in its way: a hub listener only queues, and a receiver that cannot keep
 * up loses deliveries beyond MAX_PENDING rather than the server's memory. Bodies carry ids, text
 * and usage, never a key or a secret.
 *
 * `message.delta` (the answer as it is written) goes only to webhooks that name it — not to `*` or
 * the default of every event, which would flood receivers set up before it existed — with the
 * text of each DELTA_MS (or what is left when the answer ends) in one delivery.
 */
import { createHmac, randomUUID } from 'node:crypto';
import type { HostEvent } from '../../core/event-hub.ts';
import { guideUsage } from '../../core/guide-usage.ts';
import type { TaskRecord } from '../../core/async-tasks.ts';
import type { ServerState } from '../state.ts';
import { DELIVERY_HEADER } from '../webhook-loop.ts';
import { webhookUrlProblem } from './webhook-url.ts';

export type WebhookEvent = 'session.created' | 'session.completed' | 'message.created' | 'message.delta' | 'task.completed' | 'task.failed' | 'rate_limit.exceeded';

interface RetryPolicy {
  maxRetries: number;
  initialDelay: number;
  maxDelay: number;
  backoffMultiplier: number;
}

export interface Target {
  id: string;
  url: string;
  events: Set<string>;
  secret?: string;
  retry: RetryPolicy;
  /** Deliveries not yet done (sent, retried or waiting to be). */
  pending: number;
  /** Deliveries dropped since the queue was last below MAX_PENDING (logged once per run of drops). */
  dropped: number;
}

/** The text of an answer not yet delivered as `message.delta`. */
interface Delta {
  messageId: string;
  text: string;
  /** Deltas of this message delivered so far (each one's `index`). */
  sent: number;
  timer?: NodeJS.Timeout;
}

interface HookConfig {
  id?: string;
  url: string;
  events?: string[];
  secret?: string;
  active?: boolean;
  retryPolicy?: Partial<RetryPolicy>;
}

const DEFAULT_RETRY: RetryPolicy = { maxRetries: 5, initialDelay: 1000, maxDelay: 60_000, backoffMultiplier: 2 };
const ATTEMPT_TIMEOUT_MS = 10_000;
/** Deliveries one webhook may have under way or waiting; more are dropped (with a log line). */
export const MAX_PENDING = 1000;
/** How often the text of an answer being written goes out as one `message.delta`. */
export const DELTA_MS = 250;

export function signature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export class Webhooks {
  readonly #targets: Target[];
  readonly #log: (line: string) => void;
  readonly #pending = new Set<Promise<void>>();
  readonly #stop = new AbortController();
  /** Per-task callback secrets: kept in memory only, never journaled. */
  readonly callbackSecrets = new Map<string, string>();

  readonly #maxPending: number;

  constructor(targets: Target[], log: (line: string) => void, options: { maxPending?: number } = {}) {
    this.#targets = targets;
    this.#log = log;
    this.#maxPending = options.maxPending ?? MAX_PENDING;
    this.#wantsDeltas = targets.some((t) => t.events.has('message.delta'));
  }

  /** Answers being written, by session, for `message.delta`. */
  readonly #deltas = new Map<string, Delta>();
  readonly #wantsDeltas: boolean;

  /** The host's events as webhook events (a listener: it only queues deliveries). */
  onHostEvent = (e: HostEvent): void => {
    if (e.type === 'session.created' && e.session.parentID === undefined) this.emit('session.created', { session_id: e.sessionID, title: e.session.title, agent: e.session.agent });
    else if (e.type === 'turn.started' && this.#wantsDeltas) this.#deltas.set(e.sessionID, { messageId: e.turn.assistantMessageID, text: '', sent: 0 });
    else if (e.type === 'pantheon' && e.event.type === 'text' && e.event.parentTaskID === undefined) this.#delta(e.sessionID, e.event.text);
    else if (e.type === 'turn.ended') {
      this.#flushDelta(e.sessionID, true);
      const r = e.result;
      const usage = guideUsage(r);
      if (r.status === 'success') this.emit('message.created', { session_id: e.sessionID, message_id: e.turn.assistantMessageID, role: 'assistant', content: r.answer, usage });
      this.emit('session.completed', { session_id: e.sessionID, message_id: e.turn.assistantMessageID, status: r.status, usage });
    } else if (e.type === 'pantheon' && e.event.type === 'rate_limited') {
      this.emit('rate_limit.exceeded', { session_id: e.sessionID, source: 'limit', provider: e.event.provider, model: e.event.model, wait_ms: e.event.waitMs, ...(e.event.limit ? { limit: e.event.limit } : {}) });
    } else if (e.type === 'pantheon' && e.event.type === 'retry' && e.event.status === 429) {
      // The provider itself said its limit is exceeded; the scheduler retries after wait_ms.
      this.emit('rate_limit.exceeded', { session_id: e.sessionID, source: 'provider', provider: e.event.provider, model: e.event.model, wait_ms: e.event.delayMs, status: 429 });
    }
  };

  emit(event: WebhookEvent, data: object): void {
    for (const t of this.#targets) if (t.events.has(event) || (t.events.has('*') && event !== 'message.delta')) this.#queue(t, event, data);
  }

  #delta(sessionID: string, text: string): void {
    const d = this.#deltas.get(sessionID);
    if (!d) return;
    d.text += text;
    d.timer ??= setTimeout(() => this.#flushDelta(sessionID, false), DELTA_MS);
  }

  /** Sends the text written since the last delta; `last`: the answer has ended (the entry goes). */
  #flushDelta(sessionID: string, last: boolean): void {
    const d = this.#deltas.get(sessionID);
    if (!d) return;
    clearTimeout(d.timer);
    d.timer = undefined;
    if (last) this.#deltas.delete(sessionID);
    if (!d.text) return;
    this.emit('message.delta', { session_id: sessionID, message_id: d.messageId, index: d.sent, delta: d.text });
    d.sent += 1;
    d.text = '';
  }

  /** A task ended: the configured webhooks, and the task's own callback_url. */
  taskSettled(task: TaskRecord, view: object): void {
    const event: WebhookEvent = task.status === 'completed' ? 'task.completed' : 'task.failed';
    this.emit(event, view);
    if (task.callbackURL) {
      const secret = this.callbackSecrets.get(task.id);
      this.callbackSecrets.delete(task.id);
      // Its secret died with the server that accepted it: an unsigned callback would not verify.
      if (task.callbackSigned && !secret) return this.#log(`task ${task.id}: its callback is not sent (the server that took its secret stopped); poll its status_url`);
      this.#queue({ id: 'callback', url: task.callbackURL, events: new Set([event]), ...(secret ? { secret } : {}), retry: DEFAULT_RETRY, pending: 0, dropped: 0 }, event, view);
    }
  }

  #queue(t: Target, event: WebhookEvent, data: object): void {
    if (t.pending >= this.#maxPending) {
      if (t.dropped++ === 0) this.#log(`webhook ${t.id}: ${this.#maxPending} deliveries are waiting on ${t.url}; newer events are dropped until it catches up`);
      return;
    }
    if (t.dropped > 0) {
      this.#log(`webhook ${t.id}: ${t.dropped} event(s) were dropped while its receiver was behind`);
      t.dropped = 0;
    }
    t.pending += 1;
    const body = JSON.stringify({ event, timestamp: new Date().toISOString(), webhook_id: t.id, data });
    const p = this.#deliver(t, event, body).finally(() => {
      t.pending -= 1;
      this.#pending.delete(p);
    });
    this.#pending.add(p);
  }

  async #deliver(t: Target, event: string, body: string): Promise<void> {
    const headers: Record<string, string> = { 'content-type': 'application/json', 'x-opencode-event': event, [DELIVERY_HEADER]: randomUUID(), 'user-agent': 'pantheon-webhooks' };
    if (t.secret) headers['x-opencode-signature'] = signature(t.secret, body);
    let delay = t.retry.initialDelay;
    for (let attempt = 0; attempt <= t.retry.maxRetries; attempt++) {
      if (this.#stop.signal.aborted) return;
      let why: string;
      try {
        const res = await fetch(t.url, { method: 'POST', headers, body, redirect: 'manual', signal: AbortSignal.any([this.#stop.signal, AbortSignal.timeout(ATTEMPT_TIMEOUT_MS)]) });
        await res.body?.cancel();
        if (res.status < 300) return;
        why = `HTTP ${res.status}`;
        if (res.status !== 429 && res.status < 500) break;
      } catch (error) {
        why = error instanceof Error ? error.message : String(error);
      }
      if (attempt === t.retry.maxRetries) {
        this.#log(`webhook ${t.id}: ${event} not delivered after ${attempt + 1} attempts (${why})`);
        return;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        this.#stop.signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
      });
      delay = Math.min(t.retry.maxDelay, delay * t.retry.backoffMultiplier);
    }
    this.#log(`webhook ${t.id}: ${event} refused by the receiver`);
  }

  /** Resolves once every delivery queued so far is done (delivered, refused or given up). */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.#pending]);
  }

  /** Gives deliveries under way up to `ms` to finish, then stops retrying. */
  async close(ms = 2000): Promise<void> {
    for (const d of this.#deltas.values()) clearTimeout(d.timer);
    this.#deltas.clear();
    const timer = setTimeout(() => this.#stop.abort(), ms);
    await Promise.allSettled([...this.#pending]);
    clearTimeout(timer);
    this.#stop.abort();
  }
}

const hooks = new WeakMap<ServerState, Promise<Webhooks>>();

/** The server's webhooks from its config (`server.webhooks`), subscribed to the host's events; refuses none silently. */
export function webhooksOf(state: ServerState): Promise<Webhooks> {
  let found = hooks.get(state);
  if (!found) {
    found = state.host.instance().then((instance) => {
      const list = ((instance.config.server ?? {}) as { webhooks?: HookConfig[] }).webhooks ?? [];
      const self = new URL(state.url ?? `http://${state.options.hostname}:${state.options.port}`);
      const targets: Target[] = [];
      list.forEach((h, i) => {
        if (h.active === false) return;
        const problem = webhookUrlProblem(h.url, self);
        if (problem) return state.log(`server.webhooks[${i}]: ${problem}; it is not used`);
        targets.push({ id: h.id ?? `wh_${i + 1}`, url: h.url, events: new Set(h.events ?? ['*']), ...(h.secret ? { secret: h.secret } : {}), retry: { ...DEFAULT_RETRY, ...h.retryPolicy }, pending: 0, dropped: 0 });
      });
      const webhooks = new Webhooks(targets, state.log);
      if (targets.length) state.host.hub.subscribe(webhooks.onHostEvent);
      return webhooks;
    });
    hooks.set(state, found);
  }
  return found;
}

export async function closeWebhooks(state: ServerState): Promise<void> {
  const found = hooks.get(state);
  if (found) await (await found).close();
}
