/**
 * The RedisLedger as one more implementation in the ledger contract tests: a real redis-server for
 * the file, a fresh key prefix for every ledger (so tests never see each other's rows), and the
 * test's fake clock passed to the scripts instead of Redis's TIME.
 */
import { afterAll, beforeAll } from 'vitest';
import { RedisLedger } from '../../src/state/ledger-redis.ts';
import type { Ledger, LedgerClockOptions } from '../../src/scheduler/ledger.ts';
import { startRedis, type TestRedis } from '../support/redis-server.ts';

export type MakeLedger = (dir: string, clock: LedgerClockOptions) => Ledger | Promise<Ledger>;

let server: TestRedis | undefined;
let prefixes = 0;

/** `[['RedisLedger', make]]` (the server starts before the file's tests; without redis-server they fail, saying so). */
export function redisImplementations(): [string, MakeLedger][] {
  beforeAll(async () => {
    server = await startRedis({ password: 'contract-pw' });
  });
  afterAll(async () => {
    await server?.stop();
  });
  return [
    [
      'RedisLedger',
      (_dir, clock) => {
        if (!server) throw new Error('redis-server did not start');
        return RedisLedger.open({ url: server.url, keyPrefix: `t${process.pid}-${++prefixes}:`, ...clock });
      },
    ],
  ];
}
