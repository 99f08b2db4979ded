/**
 * What `X-RateLimit-*` report for a client without a limit of its own: the rate window of the model
 * the request is about (the lane every client and every `opencode run` on the machine share, read
 * from the ledger). The ledger is read at most every 100 ms per model, off the request's path once
 * the first read is in; the requests this server sent since the last read are taken off `remaining`,
 * so the figure never overstates what is left. A model without a rate window reports nothing.
 */
import { gatewayChain } from '../core/gateway.ts';
import type { Instance } from '../core/instances.ts';
import { snapshotLanes } from '../scheduler/lane-snapshot.ts';
import type { ScheduledModel } from '../scheduler/scheduler.ts';
import { limitHeaders } from './gateway-gate.ts';
import type { LimitState } from './key-limiter.ts';
import type { RouteRequest } from './route.ts';

const REFRESH_MS = 100;

interface Entry {
  /** The last read's view (undefined: no window), and when it was read (ms since the epoch). */
  state: LimitState | undefined;
  readAt: number;
  /** Requests since that read. */
  since: number;
  reading?: Promise<void>;
}

const entries = new WeakMap<Instance, Map<string, Entry>>();

async function read(instance: Instance, model: ScheduledModel, entry: Entry): Promise<void> {
  const spec = { key: model.key, provider: model.provider, label: model.label, windows: model.windows, tokens: [], concurrency: [] };
  const sentBefore = entry.since;
  const [lane] = await snapshotLanes(instance.runtime.ledger, [spec], []);
  let tightest: LimitState | undefined;
  for (const w of lane?.windows ?? []) {
    const remaining = Math.max(0, w.limit - w.used);
    if (tightest && remaining >= tightest.remaining) continue;
    tightest = { limit: w.limit, remaining, resetAt: (lane?.at ?? Date.now()) + (w.nextFreeMs ?? 0) };
  }
  entry.state = tightest;
  entry.readAt = Date.now();
  // Requests sent while the ledger was read are in its count already.
  entry.since = Math.max(0, entry.since - sentBefore);
}

/**
 * The rate-limit state of `model`'s lane for a request about it (call once per request; `sent`: the
 * request went out, so it counts); undefined when the model has no rate window.
 */
export async function laneLimitState(instance: Instance, model: ScheduledModel, sent = true): Promise<LimitState | undefined> {
  if (model.windows.length === 0) return undefined;
  let byKey = entries.get(instance);
  if (!byKey) entries.set(instance, (byKey = new Map()));
  let entry = byKey.get(model.key);
  if (!entry) {
    entry = { state: undefined, readAt: 0, since: 0 };
    byKey.set(model.key, entry);
    const e = entry;
    await (e.reading = read(instance, model, e)
      .catch(() => undefined)
      .finally(() => (e.reading = undefined)));
  } else {
    if (sent) entry.since += 1;
    if (entry.readAt === 0 && entry.reading) await entry.reading;
    else if (!entry.reading && Date.now() - entry.readAt >= REFRESH_MS) {
      const e = entry;
      e.reading = read(instance, model, e)
        .catch(() => undefined)
        .finally(() => (e.reading = undefined));
    }
  }
  const state = entry.state;
  if (!state) return undefined;
  const now = Date.now();
  return { limit: state.limit, remaining: Math.max(0, state.remaining - entry.since), resetAt: Math.max(now, state.resetAt) };
}

/**
 * Sets `X-RateLimit-*` from the lane of `model` (a ResolvedModel, or a model ref resolved here) for a
 * client without a limit of its own; a key with a limit already has its own in the headers.
 */
export async function laneHeaders(req: Pick<RouteRequest, 'client' | 'setHeader'>, instance: Instance, model: ScheduledModel | string | undefined, sent: boolean): Promise<void> {
  if (model === undefined || req.client?.limiter) return;
  let head: ScheduledModel | undefined;
  try {
    head = typeof model === 'string' ? gatewayChain(instance, model)[0] : model;
  } catch {
    return;
  }
  if (head) limitHeaders(req, await laneLimitState(instance, head, sent));
}
