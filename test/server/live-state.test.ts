/**
 * GET /api/state and /api/state/stream against the real `opencode serve` and the scripted provider:
 * configured lanes before any request; a turn held by a rate window shows its lane waiting (with
 * when the wait ends), then the 429 and the fallback in the log; usage and cost equal what `done`
 * reported; the same auth as every route; a stream of turns reaches a subscriber in batches (each
 * log entry once, in order), not a frame per event.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { providerConfig, sandbox, SECRET, type Sandbox } from '../cli/cli-helper.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { before } from '../support/before.ts';
import { v2Calls } from './sdk-clients.ts';
import { collect } from './sdk-helper.ts';
import { basic, getJson, serve, type Served } from './serve-helper.ts';
import { openStateStream } from './state-stream.ts';

let sb: Sandbox | undefined;
let model: ScriptedServer | undefined;
let s: Served | undefined;
afterEach(async () => {
  await s?.stop();
  await model?.close();
  await sb?.remove();
  s = undefined;
  model = undefined;
  sb = undefined;
});

interface Lane {
  model: string;
  state: string;
  queued: number;
  waitUntil?: number;
  windows: { used: number; limit: number }[];
}
interface Entry {
  seq: number;
  type: string;
  sessionID: string;
  agent?: string;
  provider?: string;
  model?: string;
  from?: string;
  to?: string;
  reason?: string;
  waitMs?: number;
  status?: number;
  time: number;
}

// The second turn must still find p/m's window full when it is admitted: between the first's start
// and the second's admission lie the rest of a turn, its reply and a new request, which took more
// than 1.5 s on a loaded machine (load average 18, serve-metrics). 4 s leaves room; the second waits the rest.
const WINDOW = { maxRequests: 1, windowMs: 4000 };
const COST_M = { input: 1, output: 2 };
const COST_F = { input: 3, output: 5 };

async function setup(): Promise<{ sb: Sandbox; model: ScriptedServer }> {
  const scripted = await startScriptedServer({ apiKey: SECRET, models: { m: {}, f: {} } });
  model = scripted;
  sb = await sandbox();
  sb.write('opencode.json', {
    ...providerConfig(model, { m: { cost: COST_M, rateLimit: WINDOW }, f: { cost: COST_F } }),
    model: 'p/m',
    fallbacks: ['p/f'],
    // A long first backoff: a short rate-window wait is waited out on p/m rather than skipped.
    retry: { maxRetries: 2, baseDelay: 5000 },
    cache: { enabled: false },
  });
  return { sb, model: scripted };
}

describe('GET /api/state', () => {
  it('lists the configured lanes before any request, and answers the same auth as every route', async () => {
    ({ sb } = await setup());
    s = await serve(sb, [], { OPENCODE_SERVER_PASSWORD: 'pw' });
    expect((await getJson(`${s.url}/api/state`)).status).toBe(401);
    expect((await getJson(`${s.url}/api/state/stream`)).status).toBe(401);
    // The page and its files (the chart library among them) too.
    for (const path of ['/', '/dashboard/app.js', '/dashboard/plot.js']) {
      expect((await fetch(`${s.url}${path}`)).status, path).toBe(401);
    }
    const plot = await fetch(`${s.url}/dashboard/plot.js`, { headers: { authorization: basic('opencode', 'pw') } });
    expect([plot.status, plot.headers.get('content-type')]).toEqual([200, 'text/javascript; charset=utf-8']);
    await plot.body?.cancel();
    const { status, body } = await getJson(`${s.url}/api/state`, { headers: { authorization: basic('opencode', 'pw') } });
    expect(status).toBe(200);
    const state = body as { lanes: Lane[]; log: unknown[]; sessions: unknown[]; workflows: unknown[]; usage: { today: { costUSD: number } } };
    expect(state.lanes.map((l) => l.model)).toEqual(['p/f', 'p/m']);
    expect(state.lanes.find((l) => l.model === 'p/m')).toMatchObject({ state: 'idle', queued: 0, windows: [{ used: 0, limit: 1 }] });
    expect(state).toMatchObject({ log: [], sessions: [], workflows: [], usage: { today: { costUSD: 0 } } });
    const doc = (await getJson(`${s.url}/doc`, { headers: { authorization: basic('opencode', 'pw') } })).body as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/state', '/api/state/stream', '/']));
  });

  it('streams the lane waiting, then the 429 and the fallback, and counts the cost that done reported', async () => {
    const { sb: box, model: scripted } = await setup();
    s = await serve(box);
    const api = v2Calls(s.url, box.project);
    const stream = await openStateStream(s.url);
    const abort = new AbortController();
    const events = collect(await api.events(abort.signal));
    try {
      await stream.until((f) => f.event === 'snapshot');
      await events.until((e) => e.type === 'server.connected');
      const id = ((await api.create()).data as { id: string }).id;
      await api.prompt(id, 'first');
      // The second turn waits for p/m's window, is answered 429 "retry in 20 s", and falls back to p/f.
      scripted.script('m', { type: 'status', status: 429, retryAfter: 20 });
      const reply = api.prompt(id, 'second');
      const waiting = await before(
        stream.until((f) => f.event === 'lanes' && (f.data as Lane[]).some((l) => l.model === 'p/m' && l.state === 'waiting')),
        reply,
        `the second turn was answered without waiting on p/m's window (${WINDOW.windowMs} ms): the machine took longer than that between the first turn's start and the second's`,
      );
      const lane = (waiting.data as Lane[]).find((l) => l.model === 'p/m') as Lane;
      expect(lane).toMatchObject({ queued: 1, windows: [{ used: 1, limit: 1 }] });
      expect(lane.waitUntil).toBeGreaterThan(Date.now() - 100);
      expect(lane.waitUntil).toBeLessThanOrEqual(Date.now() + WINDOW.windowMs + 100);
      // While it waits, the session's card names the model it waits for (no step has said so yet).
      const during = (await getJson(`${s.url}/api/state`)).body as { sessions: { id: string; status: string; model?: string }[] };
      if (Date.now() < (lane.waitUntil as number)) expect(during.sessions.find((x) => x.id === id)).toMatchObject({ status: expect.stringMatching(/^(busy|retry)$/), model: 'p/m' });
      await reply;
      // Both turns' `done` (the first turn's idle is already in the list).
      await events.until(() => events.of('pantheon.done').length === 2);
      const fallback = await stream.until((f) => f.event === 'log' && (f.data as Entry[]).some((e) => e.type === 'fallback'));
      const log = stream.frames.filter((f) => f.event === 'log').flatMap((f) => f.data as Entry[]);
      expect(log.map((e) => e.type)).toEqual(['rate_limited', 'fallback']);
      expect(log[0]).toMatchObject({ sessionID: id, agent: 'sisyphus', provider: 'p', model: 'p/m' });
      expect(log[0]?.waitMs).toBeGreaterThan(0);
      expect((fallback.data as Entry[]).find((e) => e.type === 'fallback')).toMatchObject({ sessionID: id, from: 'p/m', to: 'p/f', reason: 'rate_limited' });
      expect(scripted.log.map((e) => [e.model, e.status])).toEqual([
        ['m', 200],
        ['m', 429],
        ['f', 200],
      ]);
      const done = events.of('pantheon.done').map((e) => e.properties.costUSD as number);
      expect(done).toHaveLength(2);
      const total = done.reduce((a, b) => a + b, 0);
      expect(total).toBeGreaterThan(0);
      const state = (await getJson(`${s.url}/api/state`)).body as {
        usage: { today: { costUSD: number; requests: number; byModel: Record<string, { costUSD: number }> }; sinceStart: { costUSD: number }; perMinute: { costUSD: number }[] };
        sessions: { id: string; status: string; lastAnswer: string; costUSD: number }[];
        log: Entry[];
      };
      expect(state.usage.today.costUSD).toBeCloseTo(total, 12);
      expect(state.usage.sinceStart.costUSD).toBeCloseTo(total, 12);
      expect(state.usage.today.requests).toBe(2);
      expect(Object.keys(state.usage.today.byModel).sort()).toEqual(['p/f', 'p/m']);
      expect(state.usage.perMinute.reduce((a, b) => a + b.costUSD, 0)).toBeCloseTo(total, 12);
      expect(state.sessions[0]).toMatchObject({ id, status: 'success', lastAnswer: 'echo: second' });
      expect(state.log.map((e) => e.type)).toEqual(['rate_limited', 'fallback']);
    } finally {
      abort.abort();
      stream.close();
    }
  });

  it('sends a stream of turns in batches, a few at once and then at most 4 a second: each log entry once and in order, sessions and usage alongside', async () => {
    const scripted = await startScriptedServer({ apiKey: SECRET, models: { m: {} } });
    model = scripted;
    sb = await sandbox();
    // The cache on (the default): every turn after the first is a cache hit, one log entry each.
    sb.write('opencode.json', { ...providerConfig(model, { m: {} }), model: 'p/m' });
    s = await serve(sb);
    const api = v2Calls(s.url, sb.project);
    const ask = async () => {
      const id = ((await api.create()).data as { id: string }).id;
      await api.prompt(id, 'the same question');
    };
    await ask(); // fills the cache
    const stream = await openStateStream(s.url);
    try {
      await stream.until((f) => f.event === 'snapshot');
      const TURNS = 48;
      const began = Date.now();
      let next = 0;
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          while (next < TURNS) {
            next += 1;
            await ask();
          }
        }),
      );
      const hits = () => stream.frames.filter((f) => f.event === 'log').flatMap((f) => f.data as Entry[]);
      const last = await stream.until((f) => f.event === 'log' && hits().length >= TURNS);
      // The last turn ended after its cache hit was logged: the sessions follow in that batch or the next.
      await stream.until((f) => f.event === 'sessions' && stream.frames.indexOf(f) > stream.frames.indexOf(last));
      const span = Date.now() - began;
      const entries = hits();
      expect(entries.map((e) => e.type)).toEqual(Array.from({ length: TURNS }, () => 'cache_hit'));
      const seqs = entries.map((e) => e.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      expect(new Set(seqs).size).toBe(TURNS);
      // The server sends up to 4 batches at once after a quiet spell, then at most 4 a second: over
      // `span` ms that is at most 4 + span / 250 batches, each with at most one frame of a kind. A
      // frame a turn (48 of them) would exceed that unless the turns took over 11 s.
      const most = 4 + Math.ceil(span / 250);
      for (const kind of ['log', 'sessions', 'usage']) {
        const frames = stream.frames.filter((f) => f.event === kind && f.at >= began).length;
        expect(frames, `${kind} frames over ${span} ms`).toBeLessThanOrEqual(most);
      }
      expect(stream.frames.filter((f) => f.event === 'log').length).toBeLessThan(TURNS);
    } finally {
      stream.close();
    }
  });
});
