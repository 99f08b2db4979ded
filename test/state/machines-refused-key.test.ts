/**
 * Two machines sharing their state through Redis, each calling provider `p` with its own API key
 * (as each member of a team has theirs). Machine A's key is wrong: the provider answers 401, A's
 * runs fall back, and A stops trying `p/m` for the cooldown. That says nothing of B's key: B's runs
 * must still be answered by `p/m`, not skip it for a cooldown A's refusals put in the shared store.
 * `doctor` on each machine says whose key the cooldown is for. Real CLI processes, a real
 * redis-server, a scripted provider that checks the key.
 */
import { expect, it } from 'vitest';
import { RedisLedger } from '../../src/state/ledger-redis.ts';
import type { DoctorReport } from '../../src/doctor/types.ts';
import { SECRET } from '../cli/cli-helper.ts';
import { answerOf as answer, events, fallbackConfig, fallbackWorld, machines, type Machine } from './machines.ts';

const keyPrefix = 'refused:';
const WRONG = 'sk-wrong-key-of-machine-a-0123456789';
const cooldowns = (stdout: string) => (JSON.parse(stdout) as DoctorReport).checks.find((c) => c.group === 'cache' && c.name === 'cooldowns');
const world = fallbackWorld('from p/m');

it("one machine's refused API key cools the model down for that key only: the other machine's runs are still answered by it", async () => {
  const { redis, cloud, model: p } = world;
  const config = (key: string) => fallbackConfig(world, keyPrefix, 'p', p.url, key);
  const list = (world.list = await machines(2, {}));
  const [a, b] = list as [Machine, Machine];
  a.sb.write('opencode.json', config(WRONG));
  b.sb.write('opencode.json', config(SECRET));

  // A: p refuses its key; the run falls back to the cloud.
  const first = await a.start(['run', '--format', 'json', 'question one']).exited;
  expect(first.code, first.stderr).toBe(0);
  expect(answer(first.stdout)).toBe('from the cloud');
  expect(events(first.stdout).filter((e) => e.type === 'fallback')).toEqual([expect.objectContaining({ from: 'p/m', to: 'cloud/fallback', reason: 'auth' })]);
  expect(p.log.map((e) => e.status)).toEqual([401]);

  // In the shared store: a cooldown for A's key (named by a fingerprint, never the key), none for the model.
  const store = await RedisLedger.open({ url: redis.url, keyPrefix });
  try {
    expect(await store.cooldownUntil('model:p/m')).toBeUndefined();
    const listed = await store.listCooldowns();
    expect(listed).toEqual([expect.objectContaining({ key: expect.stringMatching(/^model:p\/m#key:[\w-]{12}$/), failures: 1 })]);
    expect(JSON.stringify(listed)).not.toContain(WRONG);
  } finally {
    await store.close();
  }

  // A again: it skips p/m for the cooldown, without calling it.
  const second = await a.start(['run', '--format', 'json', 'question two']).exited;
  expect(second.code, second.stderr).toBe(0);
  expect(answer(second.stdout)).toBe('from the cloud');
  expect(events(second.stdout).filter((e) => e.type === 'fallback')).toEqual([expect.objectContaining({ from: 'p/m', reason: 'cooldown' })]);
  expect(p.log).toHaveLength(1);

  // B: its key is good; p/m answers.
  const onB = await b.start(['run', '--format', 'json', 'question three']).exited;
  expect(onB.code, onB.stderr).toBe(0);
  expect(answer(onB.stdout)).toBe('from p/m');
  expect(events(onB.stdout).filter((e) => e.type === 'fallback')).toEqual([]);
  expect(p.log.map((e) => e.status)).toEqual([401, 200]);
  expect(cloud.log).toHaveLength(2);

  // doctor: A's own key is the one refused (a warning, with what to do); on B the cooldown is another key's.
  const docA = await a.start(['doctor', '--check', 'cache', '--json']).exited;
  const onA = cooldowns(docA.stdout);
  expect(onA).toMatchObject({ status: 'warn', message: expect.stringMatching(/^1 model is cooling down: p\/m for [\d.]+ s more \(its API key from config was refused 1 time in a row\)$/) });
  expect(onA?.hint).toContain('opencode auth login');
  const docB = await b.start(['doctor', '--check', 'cache', '--json']).exited;
  expect(cooldowns(docB.stdout)).toMatchObject({ status: 'ok', message: "none for this machine's API keys; 1 model cooling for another machine's key only" });
  for (const out of [docA.stdout + docA.stderr, docB.stdout + docB.stderr]) expect(out).not.toContain(WRONG);
});
