/**
 * A provider that refuses the server's API key, over real HTTP against a real `opencode serve`: the
 * official `openai` client's requests for it are answered by the fallback, the model cools down for
 * that key, and what shows it — `/api/state`'s lane, `/health`, `doctor` on the same machine — says
 * it is the key that was refused, without ever showing the key.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { sandbox, SECRET, type Sandbox } from '../cli/cli-helper.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { serve, type Served } from './serve-helper.ts';

const WRONG = 'sk-revoked-key-0123456789abcdef';
let sb: Sandbox;
let strict: ScriptedServer;
let fallback: ScriptedServer;
let s: Served;

beforeAll(async () => {
  strict = await startScriptedServer({ apiKey: SECRET, models: { m: { default: { type: 'text', text: 'from strict/m' } } } });
  fallback = await startScriptedServer({ apiKey: SECRET, models: { fb: { default: { type: 'text', text: 'from the fallback' } } } });
  sb = await sandbox();
  sb.write('opencode.json', {
    provider: {
      strict: { options: { baseURL: strict.url, apiKey: WRONG }, models: { m: {} } },
      other: { options: { baseURL: fallback.url, apiKey: SECRET }, models: { fb: {} } },
    },
    model: 'strict/m',
    fallbacks: ['other/fb'],
    agent: { scout: { model: 'strict/m' } },
    cache: { enabled: false },
    cooldown: { afterFailures: 2, ms: 60_000 },
  });
  s = await serve(sb);
});

afterAll(async () => {
  await s?.stop();
  await strict?.close();
  await fallback?.close();
  await sb?.remove();
});

it('two refusals (cooldown.afterFailures) and the model is skipped for this key: the fallback answers without a call to it', async () => {
  const client = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  for (let i = 0; i < 3; i++) {
    const { data, response } = await client.chat.completions.create({ model: 'strict/m', messages: [{ role: 'user', content: `hi ${i}` }] }).withResponse();
    expect(response.headers.get('x-pantheon-model')).toBe('other/fb');
    expect(data.choices[0]?.message.content).toBe('from the fallback');
  }
  expect(strict.log.map((e) => e.status)).toEqual([401, 401]);
});

it("/api/state, /health and doctor say the provider refused this server's key (and never show it)", async () => {
  const stateText = await (await fetch(`${s.url}/api/state`)).text();
  const state = JSON.parse(stateText) as { lanes: { model: string; state: string; cooldown?: { failures: number; refusedKey?: boolean; unreachable?: boolean } }[] };
  expect(state.lanes.find((l) => l.model === 'strict/m')).toMatchObject({ state: 'cooling', cooldown: { failures: 2, refusedKey: true } });
  const healthText = await (await fetch(`${s.url}/health`)).text();
  const health = JSON.parse(healthText) as { status: string; checks: { providers: { id: string; status: string; reason?: string; coolingDown: { model: string; refusedKey?: boolean }[] }[] } };
  expect(health.status).toBe('degraded');
  expect(health.checks.providers.find((p) => p.id === 'strict')).toMatchObject({
    status: 'error',
    reason: "1 of 1 models cooling down after the provider refused this server's API key (from config)",
    coolingDown: [{ model: 'strict/m', refusedKey: true }],
  });
  const doctor = await sb.run(['doctor', '--check', 'cache']);
  expect(doctor.stdout).toMatch(/cooldowns +1 model is cooling down: strict\/m for [\d.]+ s more \(its API key from config was refused 2 times in a row\)/);
  for (const text of [stateText, healthText, doctor.stdout + doctor.stderr]) expect(text).not.toContain(WRONG);
});
