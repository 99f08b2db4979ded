/**
 * What `opencode serve` on a Redis state store writes to its log while Redis is away, against a
 * real redis-server that is killed and started again: one line when the outage starts (the store
 * without its password, why, what the server does meanwhile) and one when it is back, however many
 * requests come in between (each refused request used to log a line of its own, and the return
 * none). The same with `state.onUnavailable: "local"` (the switch to this machine's ledger and back).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { providerConfig, sandbox, SECRET, type Sandbox } from '../cli/cli-helper.ts';
import { serve, type Served } from '../server/serve-helper.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { startRedis, type TestRedis } from '../support/redis-server.ts';

const PASSWORD = 'outage-Log-3f9a1';
let model: ScriptedServer;
let sb: Sandbox;
let redis: TestRedis | undefined;

beforeAll(async () => {
  model = await startScriptedServer({ apiKey: SECRET, models: { m: {} } });
  sb = await sandbox();
});

afterAll(async () => {
  await redis?.stop();
  await model?.close();
  await sb?.remove();
});

function linesOf(stderr: string, pattern: RegExp): string[] {
  return stderr.split('\n').filter((line) => pattern.test(line));
}

/** The lines matching `pattern` so far, once there are `count` of them (stderr is the readiness signal). */
async function logged(s: Served, pattern: string, count: number): Promise<void> {
  await s.proc.stderrMatches(new RegExp(`(?:${pattern}[^\\n]*\\n[^]*){${count}}`, 'm'));
}

describe('opencode serve on Redis: the log during an outage', () => {
  it('onUnavailable "fail": one line as each outage starts, one as it ends, whatever the requests meanwhile', async () => {
    redis = await startRedis({ password: PASSWORD });
    sb.write('opencode.json', { ...providerConfig(model, { m: { rateLimit: { rpm: 1000, concurrency: 4 } } }), model: 'p/m', cache: { enabled: false }, state: { store: redis.url } });
    const s = await serve(sb);
    const store = `redis://127.0.0.1:${redis.port}`;
    const DOWN = new RegExp(`^warning: the state store ${store.replace(/[./]/g, '\\$&')} cannot be reached: `);
    const UP = new RegExp(`^note: the state store ${store.replace(/[./]/g, '\\$&')} answers again`);
    const chat = async (): Promise<number> => {
      const res = await fetch(`${s.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'p/m', messages: [{ role: 'user', content: 'q' }] }) });
      await res.text();
      return res.status;
    };
    try {
      expect(await chat()).toBe(200);
      for (let outage = 1; outage <= 2; outage++) {
        await redis.kill('SIGKILL');
        // Many requests, in parallel and one after another, and the operator's routes.
        const statuses = await Promise.all(Array.from({ length: 8 }, () => chat()));
        for (let i = 0; i < 8; i++) statuses.push(await chat());
        expect(new Set(statuses)).toEqual(new Set([503]));
        for (const route of ['/health', '/metrics', '/api/state', '/']) await (await fetch(`${s.url}${route}`)).text();
        await logged(s, DOWN.source.slice(1), outage);
        await redis.start();
        await logged(s, UP.source.slice(1), outage);
        expect(await chat()).toBe(200);
        expect(await chat()).toBe(200);
      }
    } finally {
      const stopped = await s.stop();
      expect(stopped.code).toBe(0);
      const down = linesOf(stopped.stderr, DOWN);
      expect(down, stopped.stderr).toHaveLength(2);
      for (const line of down) {
        expect(line).toMatch(/cannot be reached: [^\n]+\. Until it answers, requests that need the shared limits are refused \(503, Retry-After: 1\) and never sent to a provider; \/health, \/metrics and the dashboard go on answering\.$/);
      }
      expect(linesOf(stopped.stderr, UP)).toEqual([expect.stringMatching(/ answers again after \d+\.\d s: requests are served again\.$/), expect.stringMatching(/ answers again after \d+\.\d s: requests are served again\.$/)]);
      // Nothing else: no line per refused request, and never the password.
      expect(stopped.stderr.split('\n').filter((line) => line && !DOWN.test(line) && !UP.test(line) && !line.startsWith('SIGTERM:')), stopped.stderr).toEqual([]);
      expect(stopped.stderr).not.toContain(PASSWORD);
    }
  });

  it('onUnavailable "local": requests go on, and the log says once that limits are held per machine, and once that they are shared again', async () => {
    redis ??= await startRedis({ password: PASSWORD });
    sb.write('opencode.json', { ...providerConfig(model, { m: {} }), model: 'p/m', cache: { enabled: false }, state: { store: redis.url, onUnavailable: 'local' } });
    const s = await serve(sb);
    const chat = async (): Promise<number> => {
      const res = await fetch(`${s.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'p/m', messages: [{ role: 'user', content: 'q' }] }) });
      await res.text();
      return res.status;
    };
    try {
      expect(await chat()).toBe(200);
      await redis.kill('SIGKILL');
      for (let i = 0; i < 6; i++) expect(await chat()).toBe(200);
      await logged(s, '^warning: the state store ', 1);
      await redis.start();
      // The ledger goes back to Redis at its next admission once the connection is up again: requests until it has.
      let back = false;
      const switched = logged(s, '^note: the state store ', 1).then(() => (back = true));
      while (!back) {
        expect(await chat()).toBe(200);
        await Promise.race([switched, new Promise((resolve) => setTimeout(resolve, 100))]);
      }
      expect(await chat()).toBe(200);
    } finally {
      const stopped = await s.stop();
      const lines = stopped.stderr.split('\n').filter((line) => line && !line.startsWith('SIGTERM:'));
      expect(lines, stopped.stderr).toEqual([
        expect.stringMatching(new RegExp(`^warning: the state store redis://127\\.0\\.0\\.1:${redis.port} cannot be reached: .+; using this machine's ledger until it is back \\(limits are held per machine meanwhile\\)\\.$`)),
        `note: the state store redis://127.0.0.1:${redis.port} answers again: limits are shared across machines again.`,
      ]);
      expect(stopped.stderr).not.toContain(PASSWORD);
    }
  });
});
