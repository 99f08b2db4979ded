import { APICallError, InvalidResponseDataError } from '@ai-sdk/provider';
import http from 'node:http';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { PantheonError } from '../../src/errors.ts';
import {
  AttemptError,
  DEFAULT_RETRY,
  backoffDelay,
  classifyFailure,
  neverSent,
  parseRetryAfter,
  preferFallback,
  retryDelay,
  type RetryPolicy,
} from '../../src/scheduler/retry-policy.ts';
import { freePort } from '../support/redis-server.ts';

const policy: RetryPolicy = { maxRetries: 3, baseDelay: 100, maxDelay: 1000, backoffMultiplier: 2, retryOn: [429, 500, 502, 503, 504] };
const NOW = Date.UTC(2026, 10, 23, 12, 0, 0);

function apiError(statusCode: number | undefined, headers: Record<string, string> = {}, body = '', cause?: unknown): APICallError {
  return new APICallError({
    message: `HTTP ${String(statusCode)}`,
    url: 'http://127.0.0.1/v1/chat/completions',
    requestBodyValues: {},
    ...(statusCode === undefined ? {} : { statusCode }),
    responseHeaders: headers,
    responseBody: body,
    ...(cause === undefined ? {} : { cause }),
  });
}

describe('parseRetryAfter', () => {
  it('reads seconds, fractions and HTTP dates as milliseconds from now', () => {
    expect(parseRetryAfter({ 'retry-after': '3' }, NOW)).toBe(3000);
    expect(parseRetryAfter({ 'Retry-After': '0.25' }, NOW)).toBe(250);
    expect(parseRetryAfter({ 'retry-after': new Date(NOW + 7000).toUTCString() }, NOW)).toBe(7000);
    expect(parseRetryAfter({ 'retry-after': new Date(NOW - 7000).toUTCString() }, NOW)).toBe(0);
  });

  it('prefers retry-after-ms, and ignores what it cannot read', () => {
    expect(parseRetryAfter({ 'retry-after': '9', 'retry-after-ms': '1500.2' }, NOW)).toBe(1501);
    expect(parseRetryAfter({ 'retry-after-ms': 'soon', 'retry-after': '2' }, NOW)).toBe(2000);
    expect(parseRetryAfter({ 'retry-after': 'whenever' }, NOW)).toBeUndefined();
    expect(parseRetryAfter({ 'retry-after': '-4' }, NOW)).toBeUndefined();
    // Over a day is a broken value (a timer cannot hold 25 days): the backoff applies instead.
    expect(parseRetryAfter({ 'retry-after': '99999999999' }, NOW)).toBeUndefined();
    expect(parseRetryAfter({ 'retry-after': 'Wed, 21 Oct 2099 07:28:00 GMT' }, NOW)).toBeUndefined();
    expect(parseRetryAfter({ 'retry-after-ms': '1e12', 'retry-after': '5' }, NOW)).toBe(5000);
    expect(parseRetryAfter({ 'retry-after': '86400' }, NOW)).toBe(86_400_000);
    expect(parseRetryAfter({ 'retry-after': ' ' }, NOW)).toBeUndefined();
    expect(parseRetryAfter({}, NOW)).toBeUndefined();
    expect(parseRetryAfter(undefined, NOW)).toBeUndefined();
  });
});

describe('backoffDelay and retryDelay', () => {
  it('grows by the multiplier, jitters between half and all of it, and stops at maxDelay', () => {
    expect([0, 1, 2, 3].map((n) => backoffDelay(n, policy, () => 1))).toEqual([100, 200, 400, 800]);
    expect([0, 1, 2, 3].map((n) => backoffDelay(n, policy, () => 0))).toEqual([50, 100, 200, 400]);
    expect(backoffDelay(2, policy, () => 0.5)).toBe(300);
    expect(backoffDelay(10, policy, () => 1)).toBe(1000);
    expect(backoffDelay(10, policy, () => 0)).toBe(1000);
  });

  it('stays inside [half, full] for random jitter', () => {
    for (let i = 0; i < 200; i++) {
      const d = backoffDelay(1, policy);
      expect(d).toBeGreaterThanOrEqual(100);
      expect(d).toBeLessThanOrEqual(200);
    }
  });

  it('uses the server-requested wait when there is one, uncapped, else backoff', () => {
    expect(retryDelay({ kind: 'retryable', status: 429, message: '', retryAfterMs: 5000 }, 0, policy, () => 1)).toBe(5000);
    expect(retryDelay({ kind: 'retryable', status: 429, message: '', retryAfterMs: 0 }, 3, policy, () => 1)).toBe(0);
    expect(retryDelay({ kind: 'retryable', status: 500, message: '' }, 1, policy, () => 1)).toBe(200);
  });
});

describe('preferFallback', () => {
  it('never without a fallback', () => {
    expect(preferFallback(1_000_000, undefined, policy)).toBe(false);
  });

  it('takes a free fallback over a wait longer than one base delay', () => {
    expect(preferFallback(101, 0, policy)).toBe(true);
    expect(preferFallback(100, 0, policy)).toBe(false);
    expect(preferFallback(30, 0, policy)).toBe(false);
  });

  it('stays when the fallback would start later than the wait', () => {
    expect(preferFallback(500, 800, policy)).toBe(false);
    expect(preferFallback(900, 800, policy)).toBe(true);
  });

  it('always leaves a wait longer than maxDelay', () => {
    expect(preferFallback(1001, 5000, policy)).toBe(true);
  });
});

describe('classifyFailure', () => {
  const classify = (error: unknown, p: RetryPolicy = policy, signal?: AbortSignal) => classifyFailure(error, p, signal, NOW);

  it('retries 429 and 5xx from retryOn, with the Retry-After the server sent', () => {
    expect(classify(apiError(429, { 'retry-after': '2' }))).toMatchObject({ kind: 'retryable', status: 429, retryAfterMs: 2000 });
    for (const status of [500, 502, 503, 504]) expect(classify(apiError(status))).toMatchObject({ kind: 'retryable', status });
    expect(classify(apiError(503)).retryAfterMs).toBeUndefined();
  });

  it('moves to the next model on 401, 403, 404, and on 429/5xx left out of retryOn', () => {
    for (const status of [401, 403, 404, 529]) expect(classify(apiError(status)).kind).toBe('next-model');
    expect(classify(apiError(429), { ...policy, retryOn: [500] }).kind).toBe('next-model');
  });

  it('fails at once on 400 and other client errors, keeping the provider message', () => {
    const failure = classify(apiError(400, {}, JSON.stringify({ error: { message: 'messages: field required' } })));
    expect(failure).toEqual({ kind: 'fatal', status: 400, message: 'messages: field required' });
    expect(classify(apiError(422)).kind).toBe('fatal');
  });

  it('retries resets, network failures, cut-off and unparsable bodies', () => {
    expect(classify(apiError(undefined, {}, '', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })))).toMatchObject({ kind: 'retryable', status: 'reset' });
    expect(classify(apiError(undefined, {}, '', Object.assign(new Error('refused'), { code: 'ECONNREFUSED' })))).toMatchObject({ kind: 'retryable', status: 'network' });
    const cut = Object.assign(new TypeError('terminated'), { cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }) });
    expect(classify(apiError(200, {}, '', cut))).toMatchObject({ kind: 'retryable', status: 'truncated' });
    expect(classify(cut)).toMatchObject({ kind: 'retryable', status: 'network' });
    expect(classify(apiError(200, {}, '', new SyntaxError('Unexpected token')))).toMatchObject({ kind: 'retryable', status: 'bad_response' });
    expect(classify(new InvalidResponseDataError({ data: undefined, message: 'Response stream ended without a finish reason.' }))).toMatchObject({ kind: 'retryable', status: 'truncated' });
    expect(classify(new InvalidResponseDataError({ data: {}, message: 'Expected choices' }))).toMatchObject({ kind: 'retryable', status: 'bad_response' });
  });

  it('retries what the scheduler itself detected (timeouts, truncation)', () => {
    expect(classify(new AttemptError('timeout', 'no response for 50 ms'))).toEqual({ kind: 'retryable', status: 'timeout', message: 'no response for 50 ms' });
  });

  it('moves past a model whose provider package is missing', () => {
    const missing = new PantheonError('PROVIDER_PACKAGE_MISSING', 'provider.g.npm: the package "@ai-sdk/google" is not installed.', { hint: 'Install it next to Pantheon: npm install @ai-sdk/google' });
    expect(classify(missing)).toMatchObject({ kind: 'next-model', status: 'package_missing', message: expect.stringContaining('npm install @ai-sdk/google') });
  });

  it('reports cancellation first, whatever was thrown', () => {
    const controller = new AbortController();
    controller.abort();
    expect(classify(apiError(500), policy, controller.signal).kind).toBe('cancelled');
  });

  it('fails at once on anything unknown', () => {
    expect(classify(new Error('boom'))).toEqual({ kind: 'fatal', status: 'error', message: 'boom' });
  });

  it('has the documented defaults', () => {
    expect(DEFAULT_RETRY).toEqual({ maxRetries: 3, baseDelay: 1000, maxDelay: 60_000, backoffMultiplier: 2, retryOn: [429, 500, 502, 503, 504] });
  });
});

/** What a real POST to 127.0.0.1:`port` fails with. */
function postError(port: number): Promise<Error> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/chat/completions' });
    req.on('response', () => reject(new Error('expected the request to fail')));
    req.on('error', resolve);
    req.end('{"model":"m"}');
  });
}

const classify = (error: unknown) => classifyFailure(error, policy, undefined, NOW);
const wrapped = (cause: unknown) => apiError(undefined, {}, '', Object.assign(new TypeError('fetch failed'), { cause }));

describe('neverSent: whether a failed request reached the provider', () => {
  it('a refused connection (a real one), a failed name lookup, a connect timeout, every address refused: never sent, and the failure says so', async () => {
    const refused = await postError(await freePort());
    expect(refused).toMatchObject({ code: 'ECONNREFUSED', syscall: 'connect' });
    const lookup = Object.assign(new Error('getaddrinfo ENOTFOUND api.example.invalid'), { code: 'ENOTFOUND', syscall: 'getaddrinfo' });
    const again = Object.assign(new Error('getaddrinfo EAI_AGAIN api.example.invalid'), { code: 'EAI_AGAIN', syscall: 'getaddrinfo' });
    const unreachable = Object.assign(new Error('connect EHOSTUNREACH 10.0.0.9:443'), { code: 'EHOSTUNREACH', syscall: 'connect' });
    const connectTimeout = Object.assign(new Error('Connect Timeout Error'), { code: 'UND_ERR_CONNECT_TIMEOUT' });
    const everyAddress = Object.assign(new AggregateError([refused, Object.assign(new Error('connect ECONNREFUSED ::1:9'), { code: 'ECONNREFUSED', syscall: 'connect' })]), { code: 'ECONNREFUSED' });
    for (const error of [refused, lookup, again, unreachable, connectTimeout, everyAddress]) {
      expect(neverSent(error)).toBe(true);
      expect(neverSent(wrapped(error))).toBe(true);
      // Through the AI SDK's fetch (APICallError → TypeError → the socket's error) and raw (the gateway's own client).
      expect(classify(wrapped(error))).toMatchObject({ kind: 'retryable', status: 'network', notSent: true });
      expect(classify(error)).toMatchObject({ kind: 'retryable', status: 'network', notSent: true });
    }
  });

  it('a reset after the connection was made (a real one), a timeout or an unreachable host after it, a 5xx: may have reached it, the start stays', async () => {
    const server = net.createServer((socket) => socket.once('data', () => socket.resetAndDestroy()));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const reset = await postError((server.address() as net.AddressInfo).port);
      expect(reset).toMatchObject({ code: 'ECONNRESET' });
      const lateTimeout = Object.assign(new Error('read ETIMEDOUT'), { code: 'ETIMEDOUT', syscall: 'read' });
      const lateUnreachable = Object.assign(new Error('write EHOSTUNREACH'), { code: 'EHOSTUNREACH', syscall: 'write' });
      const oneAddressReached = new AggregateError([Object.assign(new Error('connect ECONNREFUSED ::1:9'), { code: 'ECONNREFUSED', syscall: 'connect' }), reset]);
      for (const error of [reset, lateTimeout, lateUnreachable, oneAddressReached, new Error('no code at all'), apiError(503)]) {
        expect(neverSent(error)).toBe(false);
        expect(classify(wrapped(error)).notSent).toBeUndefined();
      }
      expect(classify(reset)).toEqual({ kind: 'retryable', status: 'reset', message: 'ECONNRESET' });
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
