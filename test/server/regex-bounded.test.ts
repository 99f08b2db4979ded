/**
 * A regular expression that backtracks without end does not stop the server: under the real
 * `opencode serve`, a pathological `GET /find?pattern=` and a pathological `grep` tool call (the
 * scripted model asking for it, through OpenCode's API and @opencode-ai/sdk) run while
 * `GET /global/health` answers at once, and each ends with one clear error naming the pattern's
 * trouble and the file, within the per-file budget (FILE_BUDGET_MS). Ordinary searches still answer.
 */
import { createOpencodeClient } from '@opencode-ai/sdk/v2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FILE_BUDGET_MS } from '../../src/tools/regex-search.ts';
import { providerConfig, sandbox, type Sandbox } from '../cli/cli-helper.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { idleOf } from './sdk-helper.ts';
import { listen, toolResult } from './asks-helper.ts';
import { getJson, serve, type Served } from './serve-helper.ts';

let model: ScriptedServer;
let sb: Sandbox;
let s: Served;
let client: ReturnType<typeof createOpencodeClient>;

// Either takes 2^n steps on a line of n `a`s / `x`s that does not end the match: hours at these lengths.
const EVIL_FIND = '(a+)+$';
const EVIL_GREP = '(x+x+)+y';

beforeAll(async () => {
  model = await startScriptedServer();
  sb = await sandbox();
  sb.write('opencode.json', { ...providerConfig(model, { m: {} }), model: 'p/m', cache: { enabled: false } });
  sb.write('ok.txt', 'needle here\n');
  sb.write('zz/slow.txt', `${'a'.repeat(5000)}!\n${'x'.repeat(5000)}\n`);
  s = await serve(sb);
  client = createOpencodeClient({ baseUrl: s.url, directory: sb.project });
});

afterAll(async () => {
  await s?.stop();
  await model?.close();
  await sb?.remove();
});

/**
 * Health answers, twice in turn, while `pending` has not settled: the proof that the search does
 * not hold the event loop (a search on it would answer first, then health). Not timed: a loaded
 * machine made an answer take 1.5 s with the search off the main thread (a CI run).
 */
async function healthWhile(pending: { settled: boolean }, times = 2): Promise<void> {
  for (let i = 0; i < times; i++) {
    const health = await getJson(`${s.url}/global/health`);
    expect(health.status).toBe(200);
    expect(pending.settled, 'the search ended before the health checks: they prove nothing').toBe(false);
  }
}

function track<T>(promise: Promise<T>): { promise: Promise<T>; settled: boolean } {
  const tracked = { promise, settled: false };
  void promise.finally(() => (tracked.settled = true)).catch(() => undefined);
  return tracked;
}

describe('regular expressions run in bounded time, off the main thread', () => {
  it('GET /find with a catastrophic pattern: health answers meanwhile; a 400 naming pattern and the file within the budget', async () => {
    const started = performance.now();
    const find = track(getJson(`${s.url}/find?pattern=${encodeURIComponent(EVIL_FIND)}&directory=${encodeURIComponent(sb.project)}`));
    await healthWhile(find);
    const res = await find.promise;
    const took = performance.now() - started;
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({
      name: 'BadRequest',
      data: { message: `query parameter "pattern": took over ${FILE_BUDGET_MS / 1000} s on zz/slow.txt and was stopped.`, hint: expect.stringMatching(/^Simplify the pattern: nested or overlapping quantifiers/), field: 'pattern' },
    });
    expect(took).toBeGreaterThanOrEqual(FILE_BUDGET_MS);
    expect(took).toBeLessThan(FILE_BUDGET_MS + 5_000);
    // The next search gets a new worker and answers as before.
    const ok = await getJson(`${s.url}/find?pattern=${encodeURIComponent('needle|(?<=n)eedle\\b')}&directory=${encodeURIComponent(sb.project)}`);
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual([{ path: { text: 'ok.txt' }, lines: { text: 'needle here\n' }, line_number: 1, absolute_offset: 0, submatches: [{ match: { text: 'needle' }, start: 0, end: 6 }] }]);
  });

  it('a grep tool call with a catastrophic pattern: health answers meanwhile; the model gets a tool error naming the file', async () => {
    const listener = await listen(client);
    try {
      const sessionID = ((await client.session.create({})).data as { id: string }).id;
      const callID = 'call_evil_grep';
      model.script('m', { type: 'tool_calls', calls: [{ name: 'grep', arguments: { pattern: EVIL_GREP }, id: callID }] }, { type: 'text', text: 'done.' });
      const sent = await client.session.promptAsync({ sessionID, parts: [{ type: 'text', text: 'search' }] });
      expect(sent.response.status).toBeLessThan(300);
      // The model has answered with the call (the tool runs next) before the health checks begin.
      await model.waitFor(() => model.log.some((entry) => entry.step === 'tool_calls' && entry.endedAt !== null && (entry.messages as { content: unknown }[]).some((m) => m.content === 'search')));
      const started = performance.now();
      const turn = track(listener.stream.until(idleOf(sessionID)));
      await healthWhile(turn);
      await turn.promise;
      expect(performance.now() - started).toBeLessThan(FILE_BUDGET_MS + 5_000);
      const used = listener.stream.events.find((e) => e.type === 'pantheon.tool_use' && e.properties.callID === callID);
      expect(used?.properties.durationMs).toBeGreaterThanOrEqual(FILE_BUDGET_MS);
      expect(toolResult(model, callID)).toContain(`the pattern "${EVIL_GREP}" took over ${FILE_BUDGET_MS / 1000} s on zz/slow.txt and was stopped; simplify it: nested or overlapping quantifiers`);
    } finally {
      listener.stop();
    }
  });

  it('a grep call and five /find searches at once (more than the four workers): health answers meanwhile; all end with their error, the last within two budgets', async () => {
    const listener = await listen(client);
    try {
      const sessionID = ((await client.session.create({})).data as { id: string }).id;
      const callID = 'call_evil_grep_2';
      model.script('m', { type: 'tool_calls', calls: [{ name: 'grep', arguments: { pattern: EVIL_GREP }, id: callID }] }, { type: 'text', text: 'done.' });
      expect((await client.session.promptAsync({ sessionID, parts: [{ type: 'text', text: 'search again' }] })).response.status).toBeLessThan(300);
      await model.waitFor(() => model.log.some((entry) => entry.step === 'tool_calls' && entry.endedAt !== null && (entry.messages as { content: unknown }[]).some((m) => m.content === 'search again')));
      const started = performance.now();
      const finds = Array.from({ length: 5 }, () => getJson(`${s.url}/find?pattern=${encodeURIComponent(EVIL_FIND)}&directory=${encodeURIComponent(sb.project)}`));
      const all = track(Promise.all([listener.stream.until(idleOf(sessionID)), ...finds]));
      await healthWhile(all);
      const [, ...answers] = await all.promise;
      expect(answers.map((a) => a.status)).toEqual([400, 400, 400, 400, 400]);
      expect(performance.now() - started).toBeLessThan(2 * FILE_BUDGET_MS + 5_000);
      expect(toolResult(model, callID)).toContain('took over 2 s on zz/slow.txt and was stopped');
    } finally {
      listener.stop();
    }
  });

  it('clients that go away in the middle of catastrophic /find searches: the server serves on, and the next searches answer', async () => {
    const url = `${s.url}/find?pattern=${encodeURIComponent(EVIL_FIND)}&directory=${encodeURIComponent(sb.project)}`;
    const gone = Array.from({ length: 4 }, () => new AbortController());
    const sent = gone.map((c) => fetch(url, { signal: c.signal }).then(() => 'answered', () => 'aborted'));
    // Whether a search has begun or not when its client leaves, the outcome must be the same.
    expect((await getJson(`${s.url}/global/health`)).status).toBe(200);
    for (const c of gone) c.abort();
    expect(await Promise.all(sent)).toEqual(['aborted', 'aborted', 'aborted', 'aborted']);
    expect((await getJson(`${s.url}/global/health`)).status).toBe(200);
    const ok = await getJson(`${s.url}/find?pattern=needle&directory=${encodeURIComponent(sb.project)}`);
    expect(ok.status).toBe(200);
    expect((ok.body as { path: { text: string } }[]).map((m) => m.path.text)).toEqual(['ok.txt']);
    // And a catastrophic one still ends with its own clear error.
    expect((await getJson(url)).status).toBe(400);
  });
});
