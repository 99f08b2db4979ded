import { APICallError } from '@ai-sdk/provider';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { reserveSent } from './ledger-support.ts';
import { PantheonError } from '../../src/errors.ts';
import type { EventInput } from '../../src/events.ts';
import { MemoryLedger } from '../../src/scheduler/ledger-memory.ts';
import type { RetryPolicy } from '../../src/scheduler/retry-policy.ts';
import { Scheduler, type Attempt, type CooldownPolicy, type ScheduledModel } from '../../src/scheduler/scheduler.ts';

const POLICY: RetryPolicy = { maxRetries: 2, baseDelay: 100, maxDelay: 1000, backoffMultiplier: 2, retryOn: [429, 500, 502, 503, 504] };

function model(label: string, extra: Partial<ScheduledModel> = {}): ScheduledModel {
  return { label, provider: 'p', key: `model:${label}`, windows: [], tokens: [], concurrency: [], ...extra };
}

function http(statusCode: number, headers: Record<string, string> = {}): APICallError {
  return new APICallError({ message: `HTTP ${statusCode}`, url: 'http://x', requestBodyValues: {}, statusCode, responseHeaders: headers, responseBody: '' });
}

/** An attempt function answering from a per-model plan: 'ok' succeeds, anything else is thrown. */
function planned(plan: Record<string, unknown[]>): { attempt: Attempt<string>; calls: string[] } {
  const calls: string[] = [];
  const attempt: Attempt<string> = async (m) => {
    calls.push(m.label);
    const next = plan[m.label]?.shift() ?? 'ok';
    if (next === 'ok') return `served by ${m.label}`;
    throw next;
  };
  return { attempt, calls };
}

interface Setup {
  scheduler: Scheduler;
  ledger: MemoryLedger;
  events: EventInput[];
  sleeps: number[];
  ctx: { emit: (e: EventInput) => void; tags: { agent: string; taskID: string }; signal?: AbortSignal };
}

function setup(options: { retry?: Partial<RetryPolicy>; cooldown?: Partial<CooldownPolicy>; now?: () => number; sleep?: (ms: number, signal?: AbortSignal) => Promise<void> } = {}): Setup {
  const events: EventInput[] = [];
  const sleeps: number[] = [];
  const ledger = new MemoryLedger(options.now ? { now: options.now } : {});
  const scheduler = new Scheduler({
    ledger,
    retry: { ...POLICY, ...options.retry },
    cooldown: { afterFailures: 3, ms: 60_000, ...options.cooldown },
    random: () => 1,
    ...(options.now ? { now: options.now } : {}),
    sleep:
      options.sleep ??
      (async (ms) => {
        sleeps.push(ms);
      }),
  });
  return { scheduler, ledger, events, sleeps, ctx: { emit: (e) => events.push(e), tags: { agent: 'oracle', taskID: 't1' } } };
}

async function run(s: Setup, chain: ScheduledModel[], attempt: Attempt<string>): Promise<string> {
  const { value, lease } = await s.scheduler.execute(chain, attempt, s.ctx);
  await lease.release();
  return value;
}

function failureOf(promise: Promise<unknown>): Promise<PantheonError> {
  return promise.then(
    () => {
      throw new Error('expected a failure');
    },
    (error: unknown) => error as PantheonError,
  );
}

const strip = (events: EventInput[]) => events.map((e) => ({ ...e, message: undefined }));

describe('Scheduler.execute: a request that never reached the provider', () => {
  const connectError = (code: string, syscall: string) =>
    new APICallError({ message: `Cannot connect to API: ${syscall} ${code}`, url: 'http://x', requestBodyValues: {}, isRetryable: true, cause: Object.assign(new Error(`${syscall} ${code}`), { code, syscall }) });
  const a = model('a', { windows: [{ key: 'model:a', maxRequests: 1, windowMs: 60_000 }] });
  /** As fetch does through markingSends: the start is marked sent once the fetch settles, then what it threw is thrown. */
  const sending = (plan: unknown[]): Attempt<string> => async (_m, lease) => {
    await lease.markSent();
    const next = plan.shift() ?? 'ok';
    if (next === 'ok') return 'served';
    throw next;
  };

  it('gives its start back (a refused connection, a failed name lookup): the retries go after their backoff, not after the rate window', async () => {
    const s = setup();
    s.ctx = { ...s.ctx, maxWaitMs: 1000 } as Setup['ctx'];
    expect(await run(s, [a], sending([connectError('ECONNREFUSED', 'connect'), connectError('ENOTFOUND', 'getaddrinfo')]))).toBe('served');
    expect(s.sleeps).toEqual([100, 200]);
    expect(s.events.map((e) => e.type)).toEqual(['retry', 'retry']);
    // The answered request alone counts in the window.
    const wait = await s.ledger.peekWait({ windows: a.windows, tokens: [], concurrency: [], leaseMs: 1000 });
    expect(wait).toBeGreaterThan(59_000);
    expect(wait).toBeLessThanOrEqual(60_001);
  });

  it('moves to the next model at once, without a backoff, when there is one; a reset (the provider may have seen it) is retried on the same model first', async () => {
    const s = setup();
    const { attempt, calls } = planned({ a: [connectError('ECONNREFUSED', 'connect')] });
    expect(await run(s, [model('a'), model('b')], attempt)).toBe('served by b');
    expect(calls).toEqual(['a', 'b']);
    expect(s.sleeps).toEqual([]);
    expect(s.events).toEqual([expect.objectContaining({ type: 'fallback', from: 'a', to: 'b', reason: 'network' })]);
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    const second = planned({ a: [reset] });
    s.events.length = 0;
    expect(await run(s, [model('a'), model('b')], second.attempt)).toBe('served by a');
    expect(second.calls).toEqual(['a', 'a']);
    expect(s.events.map((e) => e.type)).toEqual(['retry']);
  });

  it('counts toward a cooldown of this process alone: skipped here after afterFailures such tasks, never cooled in the shared ledger', async () => {
    let clock = 1_000_000;
    const s = setup({ now: () => clock, cooldown: { afterFailures: 2, ms: 5000 } });
    const chain = [model('a'), model('b')];
    const { attempt, calls } = planned({ a: Array.from({ length: 20 }, () => connectError('ECONNREFUSED', 'connect')) });
    await run(s, chain, attempt);
    await run(s, chain, attempt);
    expect(calls.filter((m) => m === 'a').length).toBeGreaterThanOrEqual(2);
    const before = calls.length;
    s.events.length = 0;
    await run(s, chain, attempt);
    expect(calls.slice(before)).toEqual(['b']);
    expect(s.events).toEqual([expect.objectContaining({ type: 'fallback', from: 'a', to: 'b', reason: 'cooldown' })]);
    // Nothing in the ledger: another process (another machine, on a shared store) still tries a first.
    expect(await s.ledger.cooldownUntil('model:a')).toBeUndefined();
    const other = new Scheduler({ ledger: s.ledger, retry: POLICY, cooldown: { afterFailures: 2, ms: 5000 }, random: () => 1, now: () => clock, sleep: async () => undefined });
    const elsewhere = planned({});
    const served = await other.execute(chain, elsewhere.attempt, s.ctx);
    await served.lease.release();
    expect(elsewhere.calls).toEqual(['a']);
    // Here, a is tried again once the cooldown is over, and an answer ends its count.
    clock += 5000;
    const back = planned({});
    await run(s, chain, back.attempt);
    expect(back.calls).toEqual(['a']);
  });

  it('a model that answers with an error still cools down for every process', async () => {
    const s = setup({ cooldown: { afterFailures: 1, ms: 60_000 } });
    const { attempt } = planned({ a: [http(503), http(503), http(503)] });
    await run(s, [model('a'), model('b')], attempt);
    expect(await s.ledger.cooldownUntil('model:a')).toBeGreaterThan(Date.now());
  });

  it('keeps the start of a request that may have reached it (a reset after connecting): the retry waits for the window', async () => {
    const s = setup();
    s.ctx = { ...s.ctx, maxWaitMs: 1000 } as Setup['ctx'];
    const failure = await failureOf(run(s, [a], sending([connectError('ECONNRESET', 'read')])));
    expect(failure.code).toBe('RATE_LIMITED');
    expect(s.events.map((e) => e.type)).toEqual(['retry']);
  });
});

describe('Scheduler.execute: retry', () => {
  it('retries retryable failures with exponential backoff, then returns the answer', async () => {
    const s = setup();
    const { attempt, calls } = planned({ a: [http(500), http(503)] });
    expect(await run(s, [model('a')], attempt)).toBe('served by a');
    expect(calls).toEqual(['a', 'a', 'a']);
    expect(s.sleeps).toEqual([100, 200]);
    expect(strip(s.events)).toEqual([
      { agent: 'oracle', taskID: 't1', provider: 'p', model: 'a', type: 'retry', attempt: 1, delayMs: 100, status: 500, message: undefined },
      { agent: 'oracle', taskID: 't1', provider: 'p', model: 'a', type: 'retry', attempt: 2, delayMs: 200, status: 503, message: undefined },
    ]);
  });

  it('waits what Retry-After says when there is no fallback, however long', async () => {
    const s = setup();
    const { attempt } = planned({ a: [http(429, { 'retry-after': '30' }), http(429, { 'retry-after-ms': '40' })] });
    await run(s, [model('a')], attempt);
    expect(s.sleeps).toEqual([30_000, 40]);
  });

  it('retries a network TypeError (the attempt wraps it: a TypeError as such is a bug and is not retried)', async () => {
    const s = setup();
    const cut = Object.assign(new TypeError('terminated'), { cause: Object.assign(new Error('closed'), { code: 'UND_ERR_SOCKET' }) });
    const { attempt, calls } = planned({ a: [cut] });
    expect(await run(s, [model('a')], attempt)).toBe('served by a');
    expect(calls).toEqual(['a', 'a']);
    expect(s.events[0]).toMatchObject({ type: 'retry', status: 'network' });
  });

  it('uses up maxRetries on its own backoff before the fallback (reason retries_exhausted)', async () => {
    const s = setup();
    const { attempt, calls } = planned({ a: [http(502), http(502), http(502)] });
    expect(await run(s, [model('a'), model('b')], attempt)).toBe('served by b');
    expect(calls).toEqual(['a', 'a', 'a', 'b']);
    expect(s.events.map((e) => e.type)).toEqual(['retry', 'retry', 'fallback']);
    expect(s.events[2]).toMatchObject({ from: 'a', to: 'b', reason: 'retries_exhausted', model: 'a', agent: 'oracle', taskID: 't1' });
  });

  it('takes a free fallback instead of waiting a long Retry-After', async () => {
    const s = setup();
    const { attempt, calls } = planned({ a: [http(429, { 'retry-after': '20' })] });
    expect(await run(s, [model('a'), model('b')], attempt)).toBe('served by b');
    expect(calls).toEqual(['a', 'b']);
    expect(s.sleeps).toEqual([]);
    expect(s.events).toEqual([expect.objectContaining({ type: 'fallback', from: 'a', to: 'b', reason: 'rate_limited' })]);
  });

  it('waits a Retry-After shorter than one base delay even with a fallback', async () => {
    const s = setup();
    const { attempt, calls } = planned({ a: [http(429, { 'retry-after-ms': '60' })] });
    expect(await run(s, [model('a'), model('b')], attempt)).toBe('served by a');
    expect(calls).toEqual(['a', 'a']);
    expect(s.sleeps).toEqual([60]);
  });

  it('waits a long Retry-After when the fallback would start even later', async () => {
    const s = setup();
    const b = model('b', { windows: [{ key: 'model:b', maxRequests: 1, windowMs: 60_000 }] });
    await reserveSent(s.ledger, { windows: b.windows, tokens: [], concurrency: [], leaseMs: 1000 });
    const { attempt, calls } = planned({ a: [http(503, { 'retry-after': '0.5' })] });
    expect(await run(s, [model('a'), b], attempt)).toBe('served by a');
    expect(calls).toEqual(['a', 'a']);
    expect(s.sleeps).toEqual([500]);
  });
});

describe('Scheduler.execute: refusals and failures', () => {
  it.each([401, 403])('moves to the next model at once on %i', async (status) => {
    const s = setup();
    const { attempt, calls } = planned({ a: [http(status)] });
    expect(await run(s, [model('a'), model('b')], attempt)).toBe('served by b');
    expect(calls).toEqual(['a', 'b']);
    expect(s.sleeps).toEqual([]);
    expect(s.events).toEqual([expect.objectContaining({ type: 'fallback', reason: 'auth' })]);
  });

  it('fails the task at once on 400, without trying the fallback', async () => {
    const s = setup();
    const { attempt, calls } = planned({ a: [http(400)] });
    const error = await failureOf(run(s, [model('a'), model('b')], attempt));
    expect(error.code).toBe('PROVIDER_BAD_REQUEST');
    expect(error.details).toEqual(['a attempt 1: 400 HTTP 400']);
    expect(calls).toEqual(['a']);
    expect(s.events).toEqual([]);
  });

  it('lists every attempt of every model when all fail', async () => {
    const s = setup({ retry: { maxRetries: 1 } });
    const { attempt, calls } = planned({ a: [http(500), http(500)], b: [http(401)], c: [http(503), http(429)] });
    const error = await failureOf(run(s, [model('a'), model('b'), model('c')], attempt));
    expect(error.code).toBe('ALL_FALLBACKS_FAILED');
    expect(error.message).toContain('a → b → c');
    expect(error.details).toEqual([
      'a attempt 1: 500 HTTP 500',
      'a attempt 2: 500 HTTP 500',
      'b attempt 1: 401 HTTP 401',
      'c attempt 1: 503 HTTP 503',
      'c attempt 2: 429 HTTP 429',
    ]);
    expect(calls).toEqual(['a', 'a', 'b', 'c', 'c']);
    expect(s.events.filter((e) => e.type === 'fallback').map((e) => (e as { reason: string }).reason)).toEqual(['retries_exhausted', 'auth']);
    expect(error.hint).toBe('Check the keys and limits with `opencode doctor`, or add fallbacks on another provider.');
  });

  it('treats a missing provider package as a refused model, and names it when nothing else is left', async () => {
    const missing = () => new PantheonError('PROVIDER_PACKAGE_MISSING', 'provider.g.npm: the package "@ai-sdk/google" is not installed.', { hint: 'Install it next to Pantheon: npm install @ai-sdk/google' });
    const s = setup();
    const chainWith = planned({ g: [missing()] });
    expect(await run(s, [model('g'), model('a')], chainWith.attempt)).toBe('served by a');
    expect(s.events).toEqual([expect.objectContaining({ type: 'fallback', from: 'g', to: 'a', reason: 'package_missing' })]);
    const alone = planned({ g: [missing()] });
    const error = await failureOf(run(setup(), [model('g')], alone.attempt));
    expect(error.code).toBe('PROVIDER_PACKAGE_MISSING');
    expect(error.hint).toContain('npm install @ai-sdk/google');
    expect(error.details).toEqual([expect.stringMatching(/^g attempt 1: package_missing .*npm install @ai-sdk\/google/)]);
  });
});

describe('Scheduler.execute: rate limits and cooldown', () => {
  it('falls back from a rate-limited head without counting it as a failure', async () => {
    const s = setup({ cooldown: { afterFailures: 1 } });
    const a = model('a', { windows: [{ key: 'model:a', maxRequests: 1, windowMs: 60_000 }] });
    const { attempt, calls } = planned({});
    await run(s, [a, model('b')], attempt);
    await run(s, [a, model('b')], attempt);
    expect(calls).toEqual(['a', 'b']);
    expect(s.events).toEqual([expect.objectContaining({ type: 'fallback', from: 'a', to: 'b', reason: 'rate_limited' })]);
    expect(await s.ledger.cooldownUntil('model:a')).toBeUndefined();
  });

  it('lists a skipped rate-limited model among the attempts when the fallback fails too', async () => {
    const s = setup();
    const a = model('a', { windows: [{ key: 'model:a', maxRequests: 1, windowMs: 60_000 }] });
    await reserveSent(s.ledger, { windows: a.windows, tokens: [], concurrency: [], leaseMs: 1000 });
    const error = await failureOf(run(s, [a, model('b')], planned({ b: [http(401)] }).attempt));
    expect(error.details).toEqual([expect.stringMatching(/^a attempt 1: rate_limited not sent: .*model:a rpm/), 'b attempt 1: 401 HTTP 401']);
  });

  it('emits rate_limited and waits when there is no fallback', async () => {
    // Fake timers (the clock moves only when told): the second run is decided at the first's start
    // whatever the machine's load (on the real clock, a pause of over 80 ms between them let the
    // second in without a wait: CI at load 15).
    vi.useFakeTimers({ now: 1_000_000 });
    try {
      const s = setup();
      const a = model('a', { windows: [{ key: 'model:a', maxRequests: 1, windowMs: 80 }] });
      const { attempt } = planned({});
      const startedAt: number[] = [];
      const timed: Attempt<string> = (m, ...rest) => {
        startedAt.push(Date.now());
        return attempt(m, ...rest);
      };
      const both = Promise.all([run(s, [a], timed), run(s, [a], timed)]);
      await vi.advanceTimersByTimeAsync(200);
      await both;
      expect(s.events).toEqual([expect.objectContaining({ type: 'rate_limited', limit: 'model:a 1/80ms', model: 'a', taskID: 't1' })]);
      expect((s.events[0] as { waitMs: number }).waitMs).toBeGreaterThan(0);
      // The second started once the first's start had left the window, not before.
      expect(startedAt).toHaveLength(2);
      expect((startedAt[1] as number) - (startedAt[0] as number)).toBeGreaterThanOrEqual(80);
    } finally {
      vi.useRealTimers();
    }
  });

  it('skips a model in cooldown after afterFailures failed tasks, and tries it again after ms', async () => {
    let clock = 1_000_000;
    const s = setup({ now: () => clock, cooldown: { afterFailures: 2, ms: 5000 } });
    const chain = [model('a'), model('b')];
    const { attempt, calls } = planned({ a: [http(401), http(401)] });
    await run(s, chain, attempt);
    await run(s, chain, attempt);
    expect(calls).toEqual(['a', 'b', 'a', 'b']);
    expect(await s.ledger.cooldownUntil('model:a')).toBe(1_005_000);
    s.events.length = 0;
    clock += 4999;
    await run(s, chain, attempt);
    expect(calls.slice(4)).toEqual(['b']);
    expect(s.events).toEqual([expect.objectContaining({ type: 'fallback', from: 'a', to: 'b', reason: 'cooldown', model: 'a' })]);
    clock += 1;
    s.events.length = 0;
    await run(s, chain, attempt);
    expect(calls.slice(5)).toEqual(['a']);
    expect(s.events).toEqual([]);
  });

  it('counts a start from the moment the attempt marks it sent', async () => {
    let clock = 1_000_000;
    const s = setup({ now: () => clock });
    const a = model('a', { windows: [{ key: 'model:a', maxRequests: 1, windowMs: 1000 }] });
    const attempt: Attempt<string> = async (_m, lease) => {
      clock += 400; // slow to send (a provider package loading)
      await lease.markSent();
      return 'sent';
    };
    await run(s, [a], attempt);
    clock += 999;
    expect(await s.ledger.peekWait({ windows: a.windows, tokens: [], concurrency: [], leaseMs: 1000 })).toBe(2);
  });

  it('still tries models in cooldown when every model is cooling', async () => {
    const clock = 1_000_000;
    const s = setup({ now: () => clock, cooldown: { afterFailures: 1, ms: 5000 } });
    await s.ledger.recordFailure('model:a', 1, 5000);
    const { attempt, calls } = planned({});
    expect(await run(s, [model('a')], attempt)).toBe('served by a');
    expect(calls).toEqual(['a']);
    expect(await s.ledger.cooldownUntil('model:a')).toBeUndefined();
  });
});

describe('Scheduler.execute: timeouts and cancellation', () => {
  it('aborts an attempt that shows no progress for timeoutMs, and retries it', async () => {
    const s = setup();
    const seen: string[] = [];
    const attempt: Attempt<string> = (m, lease) =>
      new Promise((resolve, reject) => {
        seen.push(m.label);
        if (seen.length === 2) return resolve('second try');
        lease.signal.addEventListener('abort', () => reject(lease.signal.reason), { once: true });
      });
    expect(await run(s, [model('a', { timeoutMs: 30 })], attempt)).toBe('second try');
    expect(s.events).toEqual([expect.objectContaining({ type: 'retry', status: 'timeout', message: 'no response for 30 ms' })]);
  });

  it('cancels during a retry wait, and frees the concurrency slot', async () => {
    const controller = new AbortController();
    const s = setup({
      sleep: (ms, signal) =>
        new Promise((resolve, reject) => {
          signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
          controller.abort();
        }),
    });
    s.ctx.signal = controller.signal;
    const limited = model('a', { concurrency: [{ key: 'model:a', limit: 1 }] });
    const error = await failureOf(run(s, [limited], planned({ a: [http(500)] }).attempt));
    expect(error.code).toBe('CANCELLED');
    const again = await reserveSent(s.ledger, { windows: [], tokens: [], concurrency: limited.concurrency, leaseMs: 1000 });
    expect(again.ok).toBe(true);
  });

  it('cancels an attempt in flight: CANCELLED, not a retry', async () => {
    const controller = new AbortController();
    const s = setup();
    s.ctx.signal = controller.signal;
    const attempt: Attempt<string> = (_m, lease) =>
      new Promise((_resolve, reject) => {
        lease.signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
        controller.abort();
      });
    const error = await failureOf(run(s, [model('a'), model('b')], attempt));
    expect(error.code).toBe('CANCELLED');
    expect(s.events).toEqual([]);
  });
});

describe('Scheduler with fake timers', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('sleeps exactly the backoff delay before the next attempt', async () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const events: EventInput[] = [];
    const scheduler = new Scheduler({ ledger: new MemoryLedger(), retry: POLICY, cooldown: { afterFailures: 3, ms: 1000 }, random: () => 0.5 });
    const { attempt, calls } = planned({ a: [http(500), http(500)] });
    const done = scheduler.execute([model('a')], attempt, { emit: (e) => events.push(e) });
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toHaveLength(1);
    expect(events).toEqual([expect.objectContaining({ type: 'retry', delayMs: 75 })]);
    await vi.advanceTimersByTimeAsync(74);
    expect(calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toHaveLength(2);
    expect(events[1]).toMatchObject({ type: 'retry', delayMs: 150 });
    await vi.advanceTimersByTimeAsync(149);
    expect(calls).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    const { value, lease } = await done;
    await lease.release();
    expect(value).toBe('served by a');
    expect(calls).toHaveLength(3);
  });

  it('sleeps exactly the HTTP-date Retry-After', async () => {
    vi.useFakeTimers({ now: Date.UTC(2026, 10, 23, 12, 0, 0) });
    const scheduler = new Scheduler({ ledger: new MemoryLedger(), retry: POLICY, cooldown: { afterFailures: 3, ms: 1000 } });
    const { attempt, calls } = planned({ a: [http(429, { 'retry-after': new Date(Date.UTC(2026, 10, 23, 12, 0, 5)).toUTCString() })] });
    const done = scheduler.execute([model('a')], attempt, { emit: () => undefined });
    await vi.advanceTimersByTimeAsync(4999);
    expect(calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    const { lease } = await done;
    await lease.release();
    expect(calls).toHaveLength(2);
  });
});

describe('Scheduler.execute: clients in turn on a busy lane', () => {
  const one = model('one', { concurrency: [{ key: 'model:one', limit: 1 }] });

  /** The holder takes the lane's one slot; `queued` requests join the lane one after another (each once it announced its wait), then the holder lets go. */
  async function order(queued: { name: string; fairness?: string }[]): Promise<string[]> {
    const scheduler = new Scheduler({ ledger: new MemoryLedger(), retry: POLICY, cooldown: { afterFailures: 3, ms: 60_000 } });
    const holder = await scheduler.execute([one], async () => 'held', { emit: () => undefined });
    const served: string[] = [];
    const waits: Promise<void>[] = [];
    for (const { name, fairness } of queued) {
      let waiting!: () => void;
      const announced = new Promise<void>((resolve) => (waiting = resolve));
      const emit = (e: EventInput) => {
        if (e.type === 'rate_limited') waiting();
      };
      waits.push(
        scheduler.execute([one], async () => name, { emit, ...(fairness ? { fairness } : {}) }).then(async ({ lease }) => {
          served.push(name);
          await lease.release();
        }),
      );
      await announced;
    }
    await holder.lease.release();
    await Promise.all(waits);
    return served;
  }

  it('a client with many queued goes in turn with one that comes later; without a client, first come first served', async () => {
    const heavy = [1, 2, 3, 4].map((n) => ({ name: `a${n}`, fairness: 'alpha' }));
    expect(await order([...heavy, { name: 'b1', fairness: 'beta' }, { name: 'b2', fairness: 'beta' }])).toEqual(['a1', 'b1', 'a2', 'b2', 'a3', 'a4']);
    expect(await order([...heavy.map(({ name }) => ({ name })), { name: 'b1' }, { name: 'b2' }])).toEqual(['a1', 'a2', 'a3', 'a4', 'b1', 'b2']);
  });
});
