/**
 * Two machines sharing their state through Redis, each with its own local model server at the same
 * provider and model name (`local/m`, as an Ollama on each machine's localhost would be). Machine A's
 * is down: its runs cannot reach it and fall back. That says nothing of machine B's, which is up: B's
 * runs must still be answered by it, not skip it for a cooldown A's failures would have put in the
 * shared store. Real CLI processes, a real redis-server, a real closed port.
 */
import { expect, it } from 'vitest';
import { RedisLedger } from '../../src/state/ledger-redis.ts';
import { SECRET } from '../cli/cli-helper.ts';
import { freePort } from '../support/redis-server.ts';
import { answerOf as answer, events, fallbackConfig, fallbackWorld, machines, type Machine } from './machines.ts';

const keyPrefix = 'unreachable:';
const world = fallbackWorld('from B’s local server');

it("one machine's unreachable local server cools the model down on that machine only: the other machine's runs are still answered by its own", async () => {
  const { redis, cloud, model: localOfB } = world;
  const config = (localURL: string) => fallbackConfig(world, keyPrefix, 'local', localURL, SECRET);
  const list = (world.list = await machines(2, {}));
  const [a, b] = list as [Machine, Machine];
  a.sb.write('opencode.json', config(`http://127.0.0.1:${await freePort()}/v1`));
  b.sb.write('opencode.json', config(localOfB.url));

  // A: its local server is down; the run falls back to the cloud.
  const first = await a.start(['run', '--format', 'json', 'question one']).exited;
  expect(first.code, first.stderr).toBe(0);
  expect(answer(first.stdout)).toBe('from the cloud');
  expect(events(first.stdout).filter((e) => e.type === 'fallback')).toEqual([expect.objectContaining({ from: 'local/m', to: 'cloud/fallback' })]);

  // Nothing of it in the shared store.
  const store = await RedisLedger.open({ url: redis.url, keyPrefix });
  try {
    expect(await store.cooldownUntil('model:local/m')).toBeUndefined();
  } finally {
    await store.close();
  }

  // B: its own local server answers.
  const onB = await b.start(['run', '--format', 'json', 'question two']).exited;
  expect(onB.code, onB.stderr).toBe(0);
  expect(answer(onB.stdout)).toBe('from B’s local server');
  expect(events(onB.stdout).filter((e) => e.type === 'fallback')).toEqual([]);
  expect(localOfB.log).toHaveLength(1);
  expect(cloud.log).toHaveLength(1);
});
