/**
 * The fault matrix of issue 3 through runTask against the scripted server: outcome, attempts
 * (from the server's log), timing and the event sequence.
 */
import type { ModelMessage } from 'ai';
import { describe, expect, it } from 'vitest';
import type { PantheonError } from '../../src/errors.ts';
import type { RequestLogEntry } from '../support/openai-server.ts';
import { configFor, KEY, useHarness, type Recorder } from './harness.ts';

const h = useHarness();

const models = (log: RequestLogEntry[]) => log.map((e) => e.model);
/**
 * How late a timer may fire on a loaded 2-core machine (seconds, under CPU hogs). The upper bounds
 * below tell "honoured the wait" from "misread it" (seconds as ms, a header ignored for a backoff
 * of its own), which are off by far more; the lower bounds are exact.
 */
const LATE_MS = 3000;
const gap = (log: RequestLogEntry[], i: number) => (log[i]?.startedAt ?? NaN) - (log[i - 1]?.startedAt ?? NaN);
/** Event types, with retry and fallback details that matter here. */
const sequence = (rec: Recorder) =>
  rec.events
    .filter((e) => e.type !== 'text')
    .map((e) => (e.type === 'retry' ? `retry:${e.status}` : e.type === 'fallback' ? `fallback:${e.reason}` : e.type));

async function setup(overrides: Parameters<typeof configFor>[1] = {}) {
  const server = await h.server();
  const config = configFor(server, overrides);
  const runtime = await h.runtime(config);
  return { server, config, runtime };
}

describe('429', () => {
  it('honours Retry-After in seconds', async () => {
    const { server, config, runtime } = await setup();
    server.script('a', { type: 'status', status: 429, retryAfter: 1 }, { type: 'text', text: 'after the wait' });
    const { result, rec } = await h.run({ config, runtime, message: 'hi' });
    expect(result?.text).toBe('after the wait');
    expect(models(server.log)).toEqual(['a', 'a']);
    expect(gap(server.log, 1)).toBeGreaterThanOrEqual(1000);
    expect(gap(server.log, 1)).toBeLessThan(1000 + LATE_MS);
    expect(rec.of('retry')).toEqual([expect.objectContaining({ attempt: 1, delayMs: 1000, status: 429, provider: 'local', model: 'local/a' })]);
    expect(sequence(rec)).toEqual(['step_start', 'retry:429', 'step_finish']);
  });

  it('honours Retry-After as an HTTP date', async () => {
    const { server, config, runtime } = await setup();
    // A whole second (HTTP dates have no milliseconds) at least 300 ms away.
    const target = Math.ceil((Date.now() + 300) / 1000) * 1000;
    server.script('a', { type: 'status', status: 429, retryAfter: new Date(target).toUTCString() }, { type: 'text', text: 'on time' });
    const { result, rec } = await h.run({ config, runtime, message: 'hi' });
    expect(result?.text).toBe('on time');
    expect(models(server.log)).toEqual(['a', 'a']);
    expect(server.log[1]?.startedAt).toBeGreaterThanOrEqual(target);
    expect(server.log[1]?.startedAt).toBeLessThan(target + LATE_MS);
    expect(rec.of('retry')[0]?.delayMs).toBeGreaterThan(0);
  });

  it('honours retry-after-ms', async () => {
    const { server, config, runtime } = await setup();
    server.script('a', { type: 'status', status: 429, retryAfterMs: 300 }, { type: 'text', text: 'ok' });
    const { result, rec } = await h.run({ config, runtime, message: 'hi' });
    expect(result?.text).toBe('ok');
    expect(gap(server.log, 1)).toBeGreaterThanOrEqual(300);
    expect(gap(server.log, 1)).toBeLessThan(300 + LATE_MS);
    expect(rec.of('retry')[0]).toMatchObject({ delayMs: 300, status: 429 });
  });

  it('backs off with jitter when no header says how long', async () => {
    const { server, config, runtime } = await setup({ retry: { maxRetries: 2, baseDelay: 200, maxDelay: 1000 } });
    server.script('a', { type: 'status', status: 429 }, { type: 'text', text: 'ok' });
    const { result, rec } = await h.run({ config, runtime, message: 'hi' });
    expect(result?.text).toBe('ok');
    const delay = rec.of('retry')[0]?.delayMs ?? NaN;
    expect(delay).toBeGreaterThanOrEqual(100);
    expect(delay).toBeLessThanOrEqual(200);
    expect(gap(server.log, 1)).toBeGreaterThanOrEqual(delay);
    expect(gap(server.log, 1)).toBeLessThan(delay + LATE_MS);
  });

  it('takes the fallback instead of waiting a long Retry-After', async () => {
    const { server, config, runtime } = await setup({ fallbacks: ['local/b'] });
    server.script('a', { type: 'status', status: 429, retryAfter: 30 });
    server.script('b', { type: 'text', text: 'from b' });
    const started = Date.now();
    const { result, rec } = await h.run({ config, runtime, message: 'hi' });
    expect(Date.now() - started).toBeLessThan(30_000 - LATE_MS);
    expect(result).toMatchObject({ text: 'from b', servedBy: ['local/b'] });
    expect(models(server.log)).toEqual(['a', 'b']);
    expect(rec.of('fallback')).toEqual([expect.objectContaining({ from: 'local/a', to: 'local/b', reason: 'rate_limited', provider: 'local', model: 'local/a' })]);
    expect(rec.of('retry')).toEqual([]);
  });
});

describe('5xx', () => {
  it.each([500, 502, 503, 504] as const)('%i is retried up to retry.maxRetries, then the fallback answers', async (status) => {
    const { server, config, runtime } = await setup({ fallbacks: ['local/b'] });
    server.script('a', { type: 'status', status, repeat: 3 });
    server.script('b', { type: 'text', text: 'from b' });
    const { result, rec } = await h.run({ config, runtime, message: 'hi' });
    expect(result?.text).toBe('from b');
    expect(models(server.log)).toEqual(['a', 'a', 'a', 'b']);
    expect(sequence(rec)).toEqual(['step_start', `retry:${status}`, `retry:${status}`, 'fallback:retries_exhausted', 'step_finish']);
    expect(rec.of('retry').map((e) => e.attempt)).toEqual([1, 2]);
    expect(rec.of('step_finish')[0]).toMatchObject({ provider: 'local', model: 'local/b' });
  });
});

describe('refusals', () => {
  it.each([401, 403] as const)('%i moves to the next model at once, with one request only', async (status) => {
    const { server, config, runtime } = await setup({ fallbacks: ['local/b'] });
    server.script('a', { type: 'status', status });
    server.script('b', { type: 'text', text: 'from b' });
    const { result, rec } = await h.run({ config, runtime, message: 'hi' });
    expect(result?.text).toBe('from b');
    expect(models(server.log)).toEqual(['a', 'b']);
    expect(sequence(rec)).toEqual(['step_start', 'fallback:auth', 'step_finish']);
  });

  it('400 fails the task at once with PROVIDER_BAD_REQUEST and no fallback', async () => {
    const { server, config, runtime } = await setup({ fallbacks: ['local/b'] });
    server.script('a', { type: 'status', status: 400, message: "Invalid value for 'messages'." });
    const { result, error, rec } = await h.run({ config, runtime, message: 'hi' });
    expect(result).toBeUndefined();
    expect(error).toMatchObject({ code: 'PROVIDER_BAD_REQUEST', details: ["local/a attempt 1: 400 Invalid value for 'messages'."] });
    expect((error as PantheonError).message).toContain("Invalid value for 'messages'.");
    expect(models(server.log)).toEqual(['a']);
    expect(sequence(rec)).toEqual(['step_start']);
  });

  it('when every model fails: ALL_FALLBACKS_FAILED listing every attempt (model, status, message)', async () => {
    const { server, config, runtime } = await setup({ fallbacks: ['local/b', 'local/c'], retry: { maxRetries: 1, baseDelay: 10, maxDelay: 100 } });
    server.script('a', { type: 'status', status: 500, message: 'kaput', forever: true });
    server.script('b', { type: 'status', status: 401, message: 'bad key' });
    server.script('c', { type: 'reset' }, { type: 'status', status: 503, message: 'overloaded' });
    const { error, rec } = await h.run({ config, runtime, message: 'hi' });
    expect(error).toMatchObject({ code: 'ALL_FALLBACKS_FAILED', exitCode: 1 });
    expect((error as PantheonError).details).toEqual([
      'local/a attempt 1: 500 kaput',
      'local/a attempt 2: 500 kaput',
      'local/b attempt 1: 401 bad key',
      expect.stringMatching(/^local\/c attempt 1: reset /),
      'local/c attempt 2: 503 overloaded',
    ]);
    expect(models(server.log)).toEqual(['a', 'a', 'b', 'c', 'c']);
    expect(sequence(rec)).toEqual(['step_start', 'retry:500', 'fallback:retries_exhausted', 'fallback:auth', 'retry:reset']);
  });
});

describe('broken responses', () => {
  it('a hung request hits the per-attempt timeout and is retried', async () => {
    const { server, config, runtime } = await setup();
    server.script('a', { type: 'hang' }, { type: 'text', text: 'awake' });
    // The timeout must end the hung attempt and not the answered one: 150 ms was within what a loaded
    // machine may take to show the retry's first byte (then a third attempt, answered by the echo).
    const { result, rec } = await h.run({ config, runtime, message: 'hi', timeoutMs: 1000 });
    expect(result?.text).toBe('awake');
    await server.waitFor((log) => log[0]?.endedAt != null);
    expect(server.log[0]).toMatchObject({ outcome: 'hang', clientAborted: true });
    // The idle timer starts after step_start and the retry is announced once it fired.
    const waited = (rec.of('retry')[0]?.timestamp ?? 0) - (rec.of('step_start')[0]?.timestamp ?? Infinity);
    expect(waited).toBeGreaterThanOrEqual(1000);
    expect(waited).toBeLessThan(1000 + LATE_MS); // not the default per-attempt timeout (minutes)
    expect(rec.of('retry')).toEqual([expect.objectContaining({ status: 'timeout', message: 'no response for 1000 ms' })]);
  });

  it('OpenCode’s headerTimeout and chunkTimeout time their own phase: a slow first byte within headerTimeout is waited for, a stall between parts longer than chunkTimeout is retried', async () => {
    const server = await h.server();
    const config = configFor(server);
    (config.provider as Record<string, { options: object }>).local!.options = { baseURL: server.url, apiKey: KEY, headerTimeout: 10_000, chunkTimeout: 1000 };
    const runtime = await h.runtime(config);
    server.script('a', { type: 'text', text: 'slow to start', delayMs: 2500 });
    const first = await h.run({ config, runtime, message: 'hi' });
    expect(first.result?.text).toBe('slow to start');
    expect(first.rec.of('retry')).toEqual([]);
    server.script('a', { type: 'slow', text: 'one two', chunks: ['one ', 'two'], chunkDelayMs: 4000 }, { type: 'text', text: 'recovered' });
    const second = await h.run({ config, runtime, message: 'again' });
    expect(second.result?.text).toBe('recovered');
    expect(second.rec.of('retry')).toEqual([expect.objectContaining({ status: 'timeout', message: 'the answer stalled: nothing more of it for 1000 ms' })]);
  });

  it('a connection reset is retried', async () => {
    const { server, config, runtime } = await setup();
    server.script('a', { type: 'reset' }, { type: 'text', text: 'connected' });
    const { result, rec } = await h.run({ config, runtime, message: 'hi' });
    expect(result?.text).toBe('connected');
    expect(server.log.map((e) => e.outcome)).toEqual(['reset', 'ok']);
    expect(sequence(rec)).toEqual(['step_start', 'retry:reset', 'step_finish']);
  });

  it('a body that is not JSON is retried', async () => {
    const { server, config, runtime } = await setup();
    server.script('a', { type: 'bad_json' }, { type: 'text', text: 'parsed' });
    const { result, rec } = await h.run({ config, runtime, message: 'hi' });
    expect(result?.text).toBe('parsed');
    expect(server.log.map((e) => e.outcome)).toEqual(['bad_json', 'ok']);
    expect(sequence(rec)).toEqual(['step_start', 'retry:bad_response', 'step_finish']);
  });

  it('a stream cut before any content is retried without showing anything of it', async () => {
    const { server, config, runtime } = await setup();
    server.script('a', { type: 'truncated', text: '' }, { type: 'text', text: 'whole answer' });
    const { result, rec } = await h.run({ config, runtime, message: 'hi' });
    expect(result?.text).toBe('whole answer');
    expect(rec.of('text').map((e) => e.text).join('')).toBe('whole answer');
    expect(server.log.map((e) => e.outcome)).toEqual(['truncated', 'ok']);
    expect(sequence(rec)).toEqual(['step_start', 'retry:truncated', 'step_finish']);
  });

  it.each([false, true])('a stream cut after content (abrupt: %s) gives a retry event and the complete answer once', async (abrupt) => {
    const { server, config, runtime } = await setup();
    server.script('a', { type: 'truncated', text: 'The answer', abrupt }, { type: 'text', text: 'The answer is 42.' });
    const { result, rec } = await h.run({ config, runtime, message: 'hi' });
    expect(result?.text).toBe('The answer is 42.');
    expect(rec.of('text').map((e) => e.text).join('')).toBe('The answer is 42.');
    expect(rec.types()).toEqual(['step_start', 'text', 'text', 'retry', 'text', 'text', 'step_finish']);
    expect(rec.of('retry')[0]).toMatchObject({ status: 'truncated', attempt: 1, model: 'local/a' });
    expect(server.log.map((e) => e.outcome)).toEqual(['truncated', 'ok']);
  });

  it('a cut-off answer followed by a different one keeps only the new answer', async () => {
    const { server, config, runtime } = await setup();
    server.script('a', { type: 'truncated', text: 'The answer' }, { type: 'text', text: 'Another reply.' });
    const turn: ModelMessage[] = [];
    const { result, rec } = await h.run({ config, runtime, message: 'hi', turn });
    expect(result?.text).toBe('Another reply.');
    expect(rec.of('retry')[0]).toMatchObject({ status: 'truncated' });
    // The session keeps what the user saw: the new answer only.
    expect(turn[1]).toEqual({ role: 'assistant', content: [{ type: 'text', text: 'Another reply.' }] });
  });

  it('a stream that stalls after content times out and is asked again', async () => {
    const { server, config, runtime } = await setup();
    server.script('a', { type: 'hang', text: 'Half' }, { type: 'text', text: 'Half and whole' });
    const { result, rec } = await h.run({ config, runtime, message: 'hi', timeoutMs: 1000 });
    expect(result?.text).toBe('Half and whole');
    expect(rec.of('retry')[0]).toMatchObject({ status: 'timeout' });
    expect(server.log[0]).toMatchObject({ outcome: 'hang', clientAborted: true });
  });
});
