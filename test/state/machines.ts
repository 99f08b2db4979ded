/**
 * "Machines" for the cross-machine tests: each one is a sandbox (test/cli/cli-helper.ts) with its own
 * HOME, XDG config, data and cache folders and project, and they share nothing but the Redis URL in
 * their config. Every process a machine starts is the real CLI (`npm run build` first).
 */
import path from 'node:path';
import { afterAll, beforeAll, onTestFailed } from 'vitest';
import { providerConfig, sandbox, SECRET, type CliProcess, type RunOptions, type Sandbox } from '../cli/cli-helper.ts';
import { startScriptedServer, type RequestLogEntry, type ScriptedServer } from '../support/openai-server.ts';
import { startRedis, type TestRedis } from '../support/redis-server.ts';

export interface Machine {
  name: string;
  sb: Sandbox;
  /** Every process this machine started. */
  procs: CliProcess[];
  start(args: string[], options?: RunOptions): CliProcess;
  /** Sends `signal` to every process of the machine that still runs, and waits for them to end. */
  kill(signal: NodeJS.Signals): Promise<void>;
}

/** The clock-offset hook for one machine's processes (test/state/fixtures/clock-offset.ts). */
export function clockOffsetEnv(ms: number): Record<string, string> {
  return { NODE_OPTIONS: `--import=${path.join(import.meta.dirname, 'fixtures', 'clock-offset.ts')}`, PANTHEON_TEST_CLOCK_OFFSET_MS: String(ms) };
}

/** `count` machines whose project config is `config` (the same on each). */
export async function machines(count: number, config: object, env: (i: number) => Record<string, string> = () => ({})): Promise<Machine[]> {
  const out: Machine[] = [];
  for (let i = 0; i < count; i++) {
    const sb = await sandbox();
    sb.write('opencode.json', config);
    const procs: CliProcess[] = [];
    out.push({
      name: String.fromCharCode(65 + i),
      sb,
      procs,
      start(args, options = {}) {
        const p = sb.start(args, { ...options, env: { ...env(i), ...options.env } });
        procs.push(p);
        return p;
      },
      async kill(signal) {
        const live = procs.filter((p) => p.child.exitCode === null && p.child.signalCode === null);
        for (const p of live) p.child.kill(signal);
        await Promise.allSettled(live.map((p) => p.exited));
      },
    });
  }
  return out;
}

/**
 * When the running test fails (a timeout included), prints where it was (`stage()`) and every
 * process of every machine: still running or how it ended, and the end of its output. A test that
 * hangs once in many runs under load then says which process and which step it hung on.
 */
export function explainFailure(list: () => Machine[], stage: () => string): void {
  onTestFailed(() => {
    const tail = (text: string): string => text.slice(-1500).replace(/\n/g, '\n    ');
    const lines = [`failed at: ${stage()}`];
    for (const m of list()) {
      m.procs.forEach((p, i) => {
        const state = p.child.exitCode === null && p.child.signalCode === null ? 'RUNNING' : `exited ${String(p.child.exitCode ?? p.child.signalCode)}`;
        lines.push(`machine ${m.name} process ${i} (pid ${String(p.child.pid)}): ${state}`, `  stdout: ${tail(p.stdout())}`, `  stderr: ${tail(p.stderr())}`);
      });
    }
    console.error(lines.join('\n'));
  });
}

export async function removeMachines(list: Machine[]): Promise<void> {
  await Promise.allSettled(list.map((m) => m.sb.remove()));
}

/** The config every machine gets: provider `p` at the scripted server, model `p/lim`, state on Redis. */
export function machineConfig(server: ScriptedServer, redisUrl: string, keyPrefix: string, lim: object, extra: object = {}): object {
  return {
    ...providerConfig(server, { lim: { rateLimit: lim } }),
    model: 'p/lim',
    retry: { maxRetries: 0 },
    cache: { enabled: false },
    state: { store: redisUrl, keyPrefix },
    ...extra,
  };
}

/** NDJSON events a `--format json` process printed. */
export function events(stdout: string): { type: string; [k: string]: unknown }[] {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { type: string });
}

/** The answer's text, from a `--format json` run's events. */
export function answerOf(stdout: string): string {
  return events(stdout)
    .filter((e) => e.type === 'text')
    .map((e) => e.text)
    .join('');
}

/** Request starts (server clock) whose user text matches `pattern`, sorted. */
export function startsOf(log: readonly RequestLogEntry[], pick: (entry: RequestLogEntry) => boolean = () => true): number[] {
  return log
    .filter(pick)
    .map((e) => e.startedAt)
    .sort((a, b) => a - b);
}

/** The most starts in any window [t, t + windowMs] among `starts` (sorted), counting a span of exactly windowMs as inside. */
export function maxInWindow(starts: number[], windowMs: number, keep: (from: number, to: number) => boolean = () => true): number {
  let best = 0;
  let lo = 0;
  for (let hi = 0; hi < starts.length; hi++) {
    while ((starts[hi] ?? 0) - (starts[lo] ?? 0) > windowMs) lo++;
    if (keep(starts[lo] ?? 0, starts[hi] ?? 0)) best = Math.max(best, hi - lo + 1);
  }
  return best;
}

/**
 * The setting of the tests of what one machine's failures do to the others: a Redis, a `cloud`
 * provider whose `fallback` answers "from the cloud", a `model` server whose `m` answers `text`,
 * and the machines a test makes (`list`); started before the file's tests, stopped after.
 */
export interface FallbackWorld {
  redis: TestRedis;
  cloud: ScriptedServer;
  model: ScriptedServer;
  list: Machine[];
}

export function fallbackWorld(text: string): FallbackWorld {
  const world = { list: [] } as unknown as FallbackWorld;
  beforeAll(async () => {
    world.redis = await startRedis({ password: 'machines-pw' });
    world.cloud = await startScriptedServer({ apiKey: SECRET, models: { fallback: { default: { type: 'text', text: 'from the cloud' } } } });
    world.model = await startScriptedServer({ apiKey: SECRET, models: { m: { default: { type: 'text', text } } } });
  });
  afterAll(async () => {
    await removeMachines(world.list);
    await world.cloud?.close();
    await world.model?.close();
    await world.redis?.stop();
  });
  return world;
}

/**
 * A machine's config in that setting: `<provider>/m` at `baseURL` called with `apiKey`, falling back
 * to `cloud/fallback`; no retries, and one failed task cools a model down (were it counted where it
 * should not be, another machine would skip the model).
 */
export function fallbackConfig(world: FallbackWorld, keyPrefix: string, provider: string, baseURL: string, apiKey: string): object {
  return {
    provider: {
      [provider]: { options: { baseURL, apiKey }, models: { m: {} } },
      cloud: { options: { baseURL: world.cloud.url, apiKey: SECRET }, models: { fallback: {} } },
    },
    model: `${provider}/m`,
    fallbacks: ['cloud/fallback'],
    retry: { maxRetries: 0 },
    cooldown: { afterFailures: 1, ms: 60_000 },
    cache: { enabled: false },
    state: { store: world.redis.url, keyPrefix },
  };
}
