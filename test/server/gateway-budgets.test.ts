/**
 * Budgets on the gateway: a `/v1/chat/completions` request (official `openai` client) and an
 * `/api/v1` prompt (sync and async) against a real `opencode serve` are checked and reserved against
 * the config's `budget` like a CLI request — today's spend shared with the CLI through the ledger,
 * `agent/<name>` against that agent's budget, each /v1 request its own `perRun` — with
 * `budget_warning` / `budget_exceeded` on the event stream. `fail` answers 429 `insufficient_quota`
 * / `budget_exceeded` with `x-should-retry: false`; `downgrade` serves from the downgrade chain and
 * `x-pantheon-model` names it.
 */
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { sandbox, SECRET, type Sandbox } from '../cli/cli-helper.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { v1Calls } from './sdk-clients.ts';
import { collect } from './sdk-helper.ts';
import { getJson, serve, type Served } from './serve-helper.ts';

/**
 * Every answer reports 100 + 100 tokens; p/m costs $1 per million input and $1999 per million output
 * tokens: $0.20 an answer. A first request is expected to cost about $0.02 (a short prompt, 10 output
 * tokens); p/free has no price.
 */
const models = { m: { cost: { input: 1, output: 1999 }, limit: { context: 100_000, output: 10 } }, free: { limit: { context: 100_000, output: 10 } } };
const USAGE = { prompt_tokens: 100, completion_tokens: 100 };
const day = (): string => new Date().toISOString().slice(0, 10);
const json = (body: unknown) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

let sb: Sandbox | undefined;
let upstream: ScriptedServer | undefined;
let s: Served | undefined;
let abort: AbortController | undefined;

afterEach(async () => {
  abort?.abort();
  await s?.stop();
  await upstream?.close();
  await sb?.remove();
  s = undefined;
  upstream = undefined;
  sb = undefined;
  abort = undefined;
});

async function setup(budget: object, extra: object = {}) {
  upstream = await startScriptedServer({ apiKey: SECRET, default: { type: 'text', text: 'ok', usage: USAGE } });
  sb = await sandbox();
  sb.write('opencode.json', {
    provider: { p: { options: { baseURL: upstream.url, apiKey: SECRET }, models } },
    model: 'p/m',
    agent: { helper: { model: 'p/m', fallbacks: [] } },
    cache: { enabled: false },
    budget: { timeZone: 'UTC', ...budget },
    ...extra,
  });
  s = await serve(sb);
  abort = new AbortController();
  const events = collect(await v1Calls(s.url, sb.project).events(abort.signal));
  await events.until((e) => e.type === 'server.connected');
  const client = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: 'unused-open-server', maxRetries: 2 });
  return { client, events, url: s.url };
}

const ask = (client: OpenAI, model = 'p/m', content = 'hi') => client.chat.completions.create({ model, messages: [{ role: 'user', content }] }).withResponse();

describe('budgets on the gateway', () => {
  it('perDay "fail": a 429 insufficient_quota / budget_exceeded the client does not retry, once warned at 80 %; nothing is sent', async () => {
    const { client, events } = await setup({ perDay: { usd: 0.45 } });
    // $0.20 an answer, each expected at about $0.02: the third is reserved at 93 % (warned), the fourth would cross.
    for (let i = 0; i < 3; i += 1) expect((await ask(client)).data.choices[0]?.message.content).toBe('ok');
    const warning = await events.until((e) => e.type === 'pantheon.budget_warning');
    expect(warning.properties).toMatchObject({ budget: `perDay (${day()})`, limitUSD: 0.45, percent: 93, sessionID: expect.stringMatching(/^gw_/) });
    const refused = await ask(client).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OpenAI.RateLimitError);
    const error = refused as InstanceType<typeof OpenAI.RateLimitError>;
    expect(error.status).toBe(429);
    expect(error.type).toBe('insufficient_quota');
    expect(error.code).toBe('budget_exceeded');
    expect(error.message).toContain(`The perDay (${day()}) budget would be exceeded: $0.60 of $0.45 spent.`);
    expect(error.headers.get('x-should-retry')).toBe('false');
    expect(upstream?.log).toHaveLength(3);
    const exceeded = await events.until((e) => e.type === 'pantheon.budget_exceeded');
    expect(exceeded.properties).toMatchObject({ action: 'fail', budget: `perDay (${day()})`, spentUSD: expect.closeTo(0.6, 6), limitUSD: 0.45, sessionID: expect.stringMatching(/^gw_/) });
  });

  it('the day’s spend is shared with the CLI: a CLI run after the gateway’s requests is refused too', async () => {
    const { client } = await setup({ perDay: { usd: 0.21 } });
    await ask(client);
    const run = await (sb as Sandbox).run(['run', 'two']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`The perDay (${day()}) budget would be exceeded: $0.20 of $0.21 spent.`);
  });

  it('"downgrade": served from the downgrade chain, x-pantheon-model names it, JSON and streamed', async () => {
    const { client, events } = await setup({ perDay: { usd: 0.21 }, onExceeded: 'downgrade', downgrade: ['p/free'] });
    expect((await ask(client)).response.headers.get('x-pantheon-model')).toBe('p/m');
    const second = await ask(client);
    expect(second.response.headers.get('x-pantheon-model')).toBe('p/free');
    expect(second.data.model).toBe('p/free');
    const { data: stream, response } = await client.chat.completions.create({ model: 'p/m', messages: [{ role: 'user', content: 'hi' }], stream: true }).withResponse();
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe('ok');
    expect(response.headers.get('x-pantheon-model')).toBe('p/free');
    expect(upstream?.log.map((e) => e.model)).toEqual(['m', 'free', 'free']);
    const downgraded = await events.until((e) => e.type === 'pantheon.budget_exceeded');
    expect(downgraded.properties).toMatchObject({ action: 'downgrade', to: 'p/free' });
    expect(events.of('pantheon.fallback').map((e) => e.properties)).toContainEqual(expect.objectContaining({ from: 'p/m', to: 'p/free', reason: 'budget' }));
  });

  it('agent/<name> counts against that agent’s budget (done shows the spend); a model ref does not; a stream is refused before it starts', async () => {
    const { client, events } = await setup({ perAgent: { helper: { usd: 0.21 } } });
    expect((await ask(client, 'agent/helper')).data.choices[0]?.message.content).toBe('ok');
    const done = await events.until((e) => e.type === 'pantheon.done' && Array.isArray(e.properties.budgets));
    expect(done.properties).toMatchObject({ agent: 'helper', status: 'success', budgets: [{ budget: `perAgent.helper (${day()})`, spentUSD: expect.closeTo(0.2, 6), limitUSD: 0.21, spentTokens: 200 }] });
    const refused = (await ask(client, 'agent/helper').catch((e: unknown) => e)) as InstanceType<typeof OpenAI.RateLimitError>;
    expect(refused.code).toBe('budget_exceeded');
    expect(refused.message).toContain(`The perAgent.helper (${day()}) budget would be exceeded`);
    const streamed = await client.chat.completions.create({ model: 'agent/helper', messages: [{ role: 'user', content: 'hi' }], stream: true }).catch((e: unknown) => e);
    expect(streamed).toBeInstanceOf(OpenAI.RateLimitError);
    expect((streamed as InstanceType<typeof OpenAI.RateLimitError>).code).toBe('budget_exceeded');
    expect((await ask(client, 'p/m')).data.choices[0]?.message.content).toBe('ok');
    expect(upstream?.log).toHaveLength(2);
  });

  it('perRun is per request: every request fits on its own, one expected to cost more is refused', async () => {
    const { client } = await setup({ perRun: { tokens: 1000 } });
    for (let i = 0; i < 6; i += 1) expect((await ask(client)).data.choices[0]?.message.content).toBe('ok');
    const big = await client.chat.completions.create({ model: 'p/m', max_tokens: 2000, messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    expect((big as InstanceType<typeof OpenAI.RateLimitError>).code).toBe('budget_exceeded');
    expect((big as Error).message).toContain('The perRun budget would be exceeded');
    expect(upstream?.log).toHaveLength(6);
  });

  it('/api/v1: a sync prompt over budget is a 429 rate_limited naming the budget; an async one ends failed with BUDGET_EXCEEDED', async () => {
    const { url, client } = await setup({ perDay: { usd: 0.21 } });
    await ask(client);
    const api = `${url}/api/v1`;
    const id = ((await getJson(`${api}/sessions`, json({}))).body as { id: string }).id;
    const sync = await getJson(`${api}/sessions/${id}/prompt`, json({ parts: [{ type: 'text', text: 'hello' }] }));
    expect(sync.status).toBe(429);
    expect(sync.headers.get('x-should-retry')).toBe('false');
    expect(sync.body).toMatchObject({
      error: { code: 'rate_limited', message: expect.stringContaining(`The perDay (${day()}) budget would be exceeded`), details: { pantheon_code: 'BUDGET_EXCEEDED', budget: { budget: `perDay (${day()})`, limitUSD: 0.21 } } },
    });
    const accepted = (await getJson(`${api}/sessions/${id}/prompt_async`, json({ parts: [{ type: 'text', text: 'later' }] }))).body as { status_url: string };
    let task: { status: string; error?: { code: string; message: string } };
    for (;;) {
      task = (await getJson(accepted.status_url)).body as typeof task;
      if (task.status === 'completed' || task.status === 'failed') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(task).toMatchObject({ status: 'failed', error: { code: 'BUDGET_EXCEEDED', message: expect.stringContaining('budget would be exceeded') } });
    expect(upstream?.log).toHaveLength(1);
  });
});
