/**
 * `opencode serve` on a Redis state store (with a password) that is down at start, goes down while
 * it serves, and comes back, against a real redis-server and the scripted provider. Down at start
 * (nothing listening, or a port that takes the connection and never answers, as a paused Redis):
 * exit 2 within seconds, naming the URL without its password. Down mid-run: a model call is refused 503
 * (`state_unavailable`, Retry-After) within the reply timeout, never sent; the operator's routes
 * still answer: /health 503 `unhealthy` naming the store, /metrics its series with
 * `pantheon_state_store_up 0`, /api/state and the dashboard page without the lanes (saying why);
 * a dashboard open in Chromium keeps its lanes and says they cannot be read now, until they can.
 * Back: calls are answered again. The password is in no answer, page or line of output.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { providerConfig, sandbox, SECRET, type Sandbox } from '../cli/cli-helper.ts';
import { chromiumPerFile } from '../support/per-test.ts';
import { serve, type Served } from '../server/serve-helper.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { freePort, startRedis, type TestRedis } from '../support/redis-server.ts';

const PASSWORD = 'outage-Pw-7d1c9';
const chrome = chromiumPerFile();
let model: ScriptedServer;
let sb: Sandbox;
let redis: TestRedis | undefined;

const config = (store: string) => ({ ...providerConfig(model, { m: { rateLimit: { rpm: 100, concurrency: 2 } } }), model: 'p/m', cache: { enabled: false }, state: { store } });

beforeAll(async () => {
  model = await startScriptedServer({ apiKey: SECRET, models: { m: {} } });
  sb = await sandbox();
});

afterAll(async () => {
  await redis?.stop();
  await model?.close();
  await sb?.remove();
});

describe('opencode serve on a Redis that goes away', () => {
  it('down at start: exit 2 at once, the URL named without its password', async () => {
    const port = await freePort();
    sb.write('opencode.json', config(`redis://:${PASSWORD}@127.0.0.1:${port}`));
    const r = await sb.run(['serve', '--port=0']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`The state store redis://127.0.0.1:${port} cannot be reached`);
    expect(r.stderr).not.toContain(PASSWORD);
  });

  it('a port that takes the connection and never answers: exit 2 within seconds, not a hang', async () => {
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as net.AddressInfo;
    try {
      sb.write('opencode.json', config(`redis://:${PASSWORD}@127.0.0.1:${port}`));
      // Not a hang: serve gives up on its own, and says it was the 2 s bound (the test's timeout catches a
      // hang; a wall-clock bound here measured the machine's load: 3 s alone, 28 s beside other suites).
      const r = await sb.run(['serve', '--port=0']);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain(`The state store redis://127.0.0.1:${port} cannot be reached: no answer within 2000 ms.`);
      expect(r.stderr).not.toContain(PASSWORD);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('down mid-run: calls refused 503 in bounded time, the operator routes still answer; back: served again', async () => {
    redis = await startRedis({ password: PASSWORD });
    expect(redis.url).toContain(PASSWORD);
    sb.write('opencode.json', config(redis.url));
    let s: Served | undefined = await serve(sb);
    try {
      const url = s.url;
      let n = 0;
      const chat = () =>
        fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'p/m', messages: [{ role: 'user', content: `question ${++n}` }] }) });
      const bodies: string[] = [];
      const text = async (res: Response) => {
        const body = await res.text();
        bodies.push(body);
        return body;
      };
      expect((await chat()).status).toBe(200);
      expect(await text(await fetch(`${url}/metrics`))).toMatch(/^pantheon_state_store_up 1$/m);
      // A dashboard open before the outage.
      const watching = await chrome().context.newPage();
      await watching.goto(url);
      await watching.waitForSelector('[data-status="live"]');
      await watching.waitForSelector('[data-lane="p/m"]');

      await redis.kill('SIGKILL');
      const seen = model.log.length;
      const started = performance.now();
      const refused = await chat();
      // Each command waits at most 2 s for its reply: an outage is a refusal, not a hang.
      expect(performance.now() - started).toBeLessThan(10_000);
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toBe('1');
      const error = JSON.parse(await text(refused)) as { error: { code: string; message: string } };
      expect(error.error.code).toBe('state_unavailable');
      expect(error.error.message).toContain(`The state store redis://127.0.0.1:${redis.port} cannot be reached`);
      expect(model.log.length).toBe(seen);

      const health = await fetch(`${url}/health`);
      expect(health.status).toBe(503);
      const report = JSON.parse(await text(health)) as { status: string; checks: { database: { status: string; error: string } } };
      expect(report.status).toBe('unhealthy');
      expect(report.checks.database).toMatchObject({ status: 'error' });
      expect(report.checks.database.error).toContain(`redis://127.0.0.1:${redis.port}`);

      const metrics = await fetch(`${url}/metrics`);
      expect(metrics.status).toBe(200);
      const series = await text(metrics);
      expect(series).toMatch(/^pantheon_state_store_up 0$/m);
      expect(series).toMatch(/^pantheon_model_requests_total\{provider="p",model="p\/m",outcome="ok"\} 1$/m);

      const live = await fetch(`${url}/api/state`);
      expect(live.status).toBe(200);
      const state = JSON.parse(await text(live)) as { lanes: unknown[]; lanesError: string };
      expect(state.lanes).toEqual([]);
      expect(state.lanesError).toContain(`redis://127.0.0.1:${redis.port} cannot be reached`);
      const page = await fetch(`${url}/`);
      expect(page.status).toBe(200);
      expect(await text(page)).toContain('"lanesError":');

      // The open page keeps its lanes and says why they are not current; one opened now says so too.
      const told = watching.locator('[data-lanes-error]');
      await told.waitFor();
      expect(await told.textContent()).toContain(`redis://127.0.0.1:${redis.port} cannot be reached`);
      expect(await watching.locator('[data-lane="p/m"]').count()).toBe(1);
      const fresh = await chrome().context.newPage();
      await fresh.goto(url);
      await fresh.locator('[data-lanes-error]').waitFor();
      for (const page of [watching, fresh]) bodies.push(await page.content());

      await redis.start();
      // Readiness: the reconnect is the ledger's (at most a second apart); a call is answered once it is back.
      let back = await chat();
      while (back.status === 503) {
        await text(back);
        await new Promise((resolve) => setTimeout(resolve, 100));
        back = await chat();
      }
      expect(back.status).toBe(200);
      await text(back);
      expect(await text(await fetch(`${url}/metrics`))).toMatch(/^pantheon_state_store_up 1$/m);
      expect((await fetch(`${url}/health`)).status).toBe(200);
      // The pages hear that the lanes can be read again (re-read once a second while watched).
      for (const page of [watching, fresh]) {
        await page.locator('[data-lanes-error]').waitFor({ state: 'detached' });
        await page.waitForSelector('[data-lane="p/m"]');
        await page.close();
      }

      const stopped = await s.stop();
      s = undefined;
      expect(stopped.code).toBe(0);
      for (const out of [...bodies, stopped.stdout, stopped.stderr]) expect(out).not.toContain(PASSWORD);
    } finally {
      await s?.stop();
    }
  });
});
