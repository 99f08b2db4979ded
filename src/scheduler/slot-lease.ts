/**
 * Slots reserved ahead (a lease) for a long-lived process's requests on large window limits: k
 * admissions decided and written in one commit, then handed out one per request without a
 * transaction. Each slot is an ordinary pending start (ledger.ts `effectiveStart`): every other
 * process counts it as starting "now" until it is settled, and it is settled no earlier than its
 * request was sent. So a slot handed out later is an admission whose send came late, which the
 * ledger already allows; an unused slot is refunded when the lease ends. Only requests with window
 * limits alone, every one of them large (a lease holds at most 1/LEASE_SHARE of the smallest), are
 * leased; concurrency slots and configured token limits are decided per request as before.
 *
 * A request that also records under its model's learned key (rateLimit.learn) is leased while
 * that key has no learned limit: each slot also writes the learned key's start and a token row of
 * the lease's amount (at least the estimate of the request that took it), so every other process
 * counts it as a request of that size in flight; a slot goes only to a request whose estimate
 * fits it, and only while the learned limits it read just before (as every admission reads them)
 * are none. Once one is learned, the next request of this process is decided on its own and the
 * unused slots are refunded in its commit: as with any admission, a limit learned by another
 * process applies from the next read of the learned table on.
 *
 * A busy process takes its next lease ahead: once a lease of at least AHEAD_MIN slots is three
 * quarters used within the first half of its time, the next one (twice as large, within the cap)
 * is decided and written in a commit of its own while the last slots are handed out, and takes
 * over when they are gone. Without it, every request arriving between the last slot and the next
 * lease's commit waited for that commit (a quarter of the requests of a process running 64 at
 * once: bench/scheduler-overhead.ts). At most two leases of a kind are held, each within its
 * share of every window, each refunded unused when it ends.
 */
import type { ReserveRequest, WindowLimit } from './ledger.ts';

/** A lease's unused slots are refunded this long after it was taken (ledger clock, ms). */
export const LEASE_MS = 1000;
/** Most slots one lease takes. */
export const LEASE_MAX = 256;
/** The smallest lease whose successor is taken ahead (a quarter of it is then still free). */
export const AHEAD_MIN = 16;
/** A lease takes at most this share (1/n) of any of its windows, so other processes keep room. */
export const LEASE_SHARE = 16;
/**
 * Settles of leased slots (markSent, release) and usage rows are committed with the next write,
 * or at most this long after (ms): a start is then counted from the commit, a little later than it
 * was sent, never earlier.
 */
export const DEFER_MS = 100;
/** A deferred settle comes at most this share (1/n) of the request's smallest window late: 20 ms on a 1 s window. */
export const DEFER_SHARE = 50;

/**
 * How long a reservation's settles (markSent, release: its start counted from a later commit) and a
 * correction of its tokens downward may wait for the next write, 0 when they may not: a concurrency
 * slot (a release must free it for others at once), a configured token limit, a small window (fewer
 * than LEASE_SHARE × 2 starts). Else DEFER_MS, or 1/DEFER_SHARE of the smallest window when that is
 * shorter: a start counted that much late barely moves its window. Learned limits count pending
 * starts and tokens as now, so they allow it too.
 */
export function deferWithin(req: ReserveRequest): number {
  if (req.concurrency.length > 0 || req.tokens.length > 0) return 0;
  let within = DEFER_MS;
  for (const w of req.windows) {
    if (w.maxRequests < 2 * LEASE_SHARE) return 0;
    within = Math.min(within, Math.max(1, Math.floor(w.windowMs / DEFER_SHARE)));
  }
  return within;
}

/**
 * The largest lease a request may take: 0 when it is not leased (a concurrency slot, a configured
 * token limit, a small window, a learned limit on its key, or nothing to count at all).
 */
export function leaseCap(req: ReserveRequest): number {
  if (req.tokens.length > 0 || req.concurrency.length > 0) return 0;
  if (req.learned ? req.learned.limits.length > 0 : req.windows.length === 0) return 0;
  let smallest = Infinity;
  for (const w of req.windows) smallest = Math.min(smallest, w.maxRequests);
  const cap = Math.min(LEASE_MAX, Math.floor(smallest / LEASE_SHARE));
  return cap >= 2 ? cap : 0;
}

/**
 * What identifies a request's slots: its windows and learned key (two requests with the same share
 * a lease); '' for a request that is never leased whatever the ledger holds.
 */
export function leaseKey(req: ReserveRequest): string {
  if (req.tokens.length > 0 || req.concurrency.length > 0 || (req.windows.length === 0 && !req.learned)) return '';
  let byLearned = leaseKeys.get(req.windows);
  if (!byLearned) leaseKeys.set(req.windows, (byLearned = new Map()));
  const learned = req.learned?.key ?? '';
  let key = byLearned.get(learned);
  if (key === undefined) byLearned.set(learned, (key = makeLeaseKey(req)));
  return key;
}
/**
 * Each kind of request's key, made once: the scheduler's requests of a model share its windows
 * (the model's own list, never changed), and differ in their learned key alone.
 */
const leaseKeys = new WeakMap<readonly WindowLimit[], Map<string, string>>();

function makeLeaseKey(req: ReserveRequest): string {
  let out = req.learned ? `${req.learned.key}\u0002` : '';
  for (const w of req.windows) out += `${w.key}\u0000${w.maxRequests}\u0000${w.windowMs}\u0001`;
  return out;
}

/** The tokens a request's slot must carry under its learned key (0 without one). */
export function slotTokens(req: ReserveRequest): number {
  return req.learned ? Math.ceil(req.learned.tokens) : 0;
}

/** The same windows with room for `k` starts: granting it grants k admissions at once. */
export function windowsFor(windows: readonly WindowLimit[], k: number): WindowLimit[] {
  return windows.map((w) => ({ key: w.key, maxRequests: w.maxRequests - (k - 1), windowMs: w.windowMs }));
}

/** One request kind's lease: how many of its slots are unused, what makes one, and how large the next lease is. */
export interface SlotPool<Slot = unknown> {
  free: number;
  /** What a slot handed out is made from (the ledger's rows of the lease). */
  slot: Slot;
  /** The tokens each slot carries under the learned key: a request with a larger estimate is not given one. */
  tokens: number;
  /** When the current lease's unused slots are refunded (ledger clock). */
  expires: number;
  /** When the last lease (or plain admission) was taken. */
  at: number;
  /** Slots the last one took. */
  taken: number;
  /** The lease taken ahead, which takes over when this one's slots are gone (or it ends). */
  next?: SlotPool<Slot>;
  /** Its successor was asked for (once per lease). */
  ahead?: boolean;
}

/** Whether the lease's successor is to be taken ahead now: a large lease, three quarters used within the first half of its time. */
export function takeAhead(pool: SlotPool, now: number): boolean {
  return !pool.ahead && pool.taken >= AHEAD_MIN && pool.free <= pool.taken >> 2 && now - pool.at <= LEASE_MS / 2;
}

/**
 * How many slots the next lease takes: twice the last one when all of it was used within the lease
 * (demand keeps up), as many as were used when some were left, one (a plain admission) after a
 * longer pause: a CLI run's few requests are never leased.
 */
export function nextLeaseSize(pool: SlotPool | undefined, cap: number, now: number): number {
  if (!pool || now - pool.at > 2 * LEASE_MS) return 1;
  const used = pool.taken - pool.free;
  const size = pool.free > 0 ? used : now - pool.at <= LEASE_MS ? pool.taken * 2 : pool.taken;
  return Math.max(1, Math.min(cap, size));
}
