/**
 * A gateway attempt's request and its `step_start` (scheduler/wire-attempt.ts `sendThenTell`): the
 * step is told once per request, and before anything of the request's outcome — its answer, a
 * refused connection, or a cancellation that was there before the request was made; what telling
 * it throws fails the request (it runs in a `nextTick`, where it would otherwise be uncaught).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { WireTarget } from '../../src/providers/openai-wire.ts';
import { sendThenTell } from '../../src/scheduler/wire-attempt.ts';

let server: http.Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
});

const target = (port: number): WireTarget => ({ url: new URL(`http://127.0.0.1:${port}/v1/chat/completions`), headers: { 'content-type': 'application/json' }, fields: {}, includeUsage: true, structuredOutputs: false });

/** Runs one request, noting in order when the step is told and how the request ended. */
async function noted(port: number, signal: AbortSignal): Promise<string[]> {
  const seen: string[] = [];
  await sendThenTell(target(port), '{}', signal, () => seen.push('told')).then(
    (res) => {
      seen.push(`answered ${res.statusCode}`);
      res.resume();
    },
    (error: unknown) => seen.push(`failed ${(error as { code?: string; message: string }).code ?? (error as Error).message}`),
  );
  return seen;
}

describe('sendThenTell', () => {
  it('tells the step once, before the answer', async () => {
    server = http.createServer((req, res) => {
      req.resume();
      res.end('{}');
    });
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    expect(await noted(port, new AbortController().signal)).toEqual(['told', 'answered 200']);
  });

  it('tells the step before a refused connection fails the request', async () => {
    // A port that was just free: nothing listens there.
    const probe = http.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise((resolve) => probe.close(resolve));
    expect(await noted(port, new AbortController().signal)).toEqual(['told', 'failed ECONNREFUSED']);
  });

  it('fails the request with what telling the step threw, and lets its connection go', async () => {
    let closed = false;
    server = http.createServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json' });
      // The answer never ends: only the client's letting go closes it.
      res.write('{');
      res.on('close', () => (closed = true));
    });
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await expect(
      sendThenTell(target(port), '{}', new AbortController().signal, () => {
        throw new Error('a listener failed');
      }),
    ).rejects.toThrow('a listener failed');
    await expect.poll(() => closed).toBe(true);
  });

  it('tells the step before a request cancelled already fails, at once', async () => {
    const abort = new AbortController();
    abort.abort(new Error('cancelled by the client'));
    // The port is never reached: the request fails before it is made.
    expect(await noted(9, abort.signal)).toEqual(['told', 'failed cancelled by the client']);
  });
});
