/**
 * A webhook receiver that stops answering must not cost the server its memory: deliveries beyond
 * the bound are dropped with one log line, and the count of what was dropped is logged once the
 * receiver catches up. A real HTTP receiver on 127.0.0.1 that holds requests until told to answer.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { Webhooks, type Target } from '../../src/server/api/webhooks.ts';

const held: ServerResponse[] = [];
let arrived = 0;
let onArrive: (() => void) | undefined;
const server = createServer((req: IncomingMessage, res: ServerResponse) => {
  req.resume().on('end', () => {
    arrived += 1;
    held.push(res);
    onArrive?.();
  });
});

afterEach(async () => {
  for (const res of held.splice(0)) res.end();
  await new Promise<void>((r) => server.close(() => r()));
});

it('holds at most maxPending deliveries per webhook; the rest are dropped and counted in the log', async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  const log: string[] = [];
  const target: Target = { id: 'wh_slow', url, events: new Set(['*']), retry: { maxRetries: 0, initialDelay: 1, maxDelay: 1, backoffMultiplier: 1 }, pending: 0, dropped: 0 };
  const hooks = new Webhooks([target], (line) => log.push(line), { maxPending: 3 });
  const three = new Promise<void>((r) => (onArrive = () => arrived === 3 && r()));
  for (let i = 0; i < 10; i++) hooks.emit('task.completed', { n: i });
  await three;
  expect(target.pending).toBe(3);
  expect(log).toEqual([`webhook wh_slow: 3 deliveries are waiting on ${url}; newer events are dropped until it catches up`]);
  // The receiver answers; the next event goes out, and the log says how many were lost.
  for (const res of held.splice(0)) res.writeHead(200).end();
  await hooks.settled();
  expect(target.pending).toBe(0);
  const fourth = new Promise<void>((r) => (onArrive = () => arrived === 4 && r()));
  hooks.emit('task.completed', { n: 10 });
  await fourth;
  for (const res of held.splice(0)) res.writeHead(200).end();
  await hooks.close(5000);
  expect(log.at(-1)).toBe('webhook wh_slow: 7 event(s) were dropped while its receiver was behind');
});
