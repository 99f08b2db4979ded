/**
 * Test harness for the run core: scripted servers, temp XDG dirs and runtimes closed after each
 * test, inline configs pointing at the server, and an event recorder.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';
import type { Config } from '../../src/config/schema-types.ts';
import { EventBus, type PantheonEvent } from '../../src/events.ts';
import { runTask, type RunTaskOptions, type RunTaskResult } from '../../src/run/run-task.ts';
import { openRuntime, type Runtime, type RuntimeOptions } from '../../src/run/runtime.ts';
import { MemoryLedger } from '../../src/scheduler/ledger-memory.ts';
import { startScriptedServer } from '../support/openai-server.ts';
import type { ScriptedServer, ScriptedServerOptions } from '../support/openai-server.ts';

export const KEY = 'sk-test-secret-0123456789';

/** Fast retry settings for tests: 10 ms base, 200 ms cap, no jitter surprises above that. */
export const FAST_RETRY = { maxRetries: 2, baseDelay: 10, maxDelay: 200 } as const;

export interface Recorder {
  events: PantheonEvent[];
  bus: EventBus;
  types: () => string[];
  of: <T extends PantheonEvent['type']>(type: T) => Extract<PantheonEvent, { type: T }>[];
}

export function recorder(): Recorder {
  const bus = new EventBus('ses_test');
  const events: PantheonEvent[] = [];
  bus.subscribe((event) => events.push(event));
  return {
    events,
    bus,
    types: () => events.map((e) => e.type),
    of: (type) => events.filter((e) => e.type === type) as never,
  };
}

/** A config with one provider `local` at the server, models `a`, `b`, `c` unless given. */
export function configFor(server: ScriptedServer, overrides: Partial<Config> = {}, models: Record<string, object> = { a: {}, b: {}, c: {} }): Config {
  return {
    model: 'local/a',
    provider: { local: { options: { baseURL: server.url, apiKey: KEY }, models } },
    retry: { ...FAST_RETRY },
    cache: { enabled: false },
    ...overrides,
  } as Config;
}

export interface Harness {
  server: (options?: ScriptedServerOptions) => Promise<ScriptedServer>;
  tempDir: () => Promise<string>;
  runtime: (config: Config, options?: RuntimeOptions) => Promise<Runtime>;
  /** runTask with a fresh recorder; never throws: the error (if any) is returned. */
  run: (options: Omit<RunTaskOptions, 'bus'> & { bus?: EventBus }) => Promise<{ result?: RunTaskResult; error?: unknown; rec: Recorder }>;
  /** An env with XDG dirs in a fresh temp dir (no keys from the real environment). */
  env: () => Promise<NodeJS.ProcessEnv>;
}

export function useHarness(): Harness {
  const servers: ScriptedServer[] = [];
  const runtimes: Runtime[] = [];
  const dirs: string[] = [];
  afterEach(async () => {
    await Promise.all(runtimes.splice(0).map((r) => r.close()));
    await Promise.all(servers.splice(0).map((s) => s.close()));
    await Promise.all(dirs.splice(0).map((d) => fs.rm(d, { recursive: true, force: true })));
  });
  const tempDir = async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pantheon-run-'));
    dirs.push(dir);
    return dir;
  };
  const env = async (): Promise<NodeJS.ProcessEnv> => {
    const dir = await tempDir();
    return { XDG_DATA_HOME: path.join(dir, 'data'), XDG_CACHE_HOME: path.join(dir, 'cache'), XDG_CONFIG_HOME: path.join(dir, 'config') };
  };
  return {
    tempDir,
    env,
    async server(options = {}) {
      const server = await startScriptedServer(options);
      servers.push(server);
      return server;
    },
    async runtime(config, options = {}) {
      const runtime = await openRuntime(config, { ledger: new MemoryLedger(), env: options.env ?? (await env()), ...options });
      runtimes.push(runtime);
      return runtime;
    },
    async run(options) {
      const rec = options.bus ? wrap(options.bus) : recorder();
      const envOf = options.env ?? (await env());
      try {
        const result = await runTask({ ...options, env: envOf, bus: rec.bus });
        return { result, rec };
      } catch (error) {
        return { error, rec };
      }
    },
  };
}

function wrap(bus: EventBus): Recorder {
  const events: PantheonEvent[] = [];
  bus.subscribe((event) => events.push(event));
  return { events, bus, types: () => events.map((e) => e.type), of: (type) => events.filter((e) => e.type === type) as never };
}
