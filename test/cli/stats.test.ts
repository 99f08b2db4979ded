/**
 * `opencode stats` through the real CLI against the scripted provider: runs that hit a retry, a
 * fallback, a rate-limit wait and a cache hit, then the figures of `stats --json` checked against
 * what the runs' own events said; filters, bad flags and an empty ledger.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { SECRET, hasStack, sandbox, type Sandbox } from './cli-helper.ts';

interface Event {
  type: string;
  agent?: string;
  provider?: string;
  model?: string;
  usage?: { inputTokens: number; outputTokens: number };
  costUSD?: number;
  byAgent?: Record<string, { usage: { inputTokens: number; outputTokens: number }; costUSD?: number }>;
  byProvider?: Record<string, { usage: { inputTokens: number; outputTokens: number }; costUSD?: number }>;
}
interface Figures {
  requests: number;
  cacheHits: number;
  inputTokens: number;
  outputTokens: number;
  costUSD: number;
  savedUSD: number;
  retries: number;
  fallbacks: number;
  rateLimitWaits: number;
  waitedMs: number;
}
interface Report {
  from: string;
  to: string;
  days: number | null;
  timeZone: string;
  filters: { agent?: string; provider?: string };
  totals: Figures;
  byDay: (Figures & { day: string })[];
  byAgent: Record<string, Figures>;
  byProvider: Record<string, Figures>;
  byModel: Record<string, Figures>;
  notes: string[];
}

const events = (stdout: string): Event[] => stdout.trim().split('\n').map((l) => JSON.parse(l) as Event);
const today = new Date().toISOString().slice(0, 10);

describe('opencode stats (CLI)', () => {
  let sb: Sandbox;
  let server: ScriptedServer;
  const runs: Event[][] = [];

  beforeAll(async () => {
    sb = await sandbox();
    server = await startScriptedServer({ apiKey: SECRET, default: { type: 'text', text: 'ok', usage: { prompt_tokens: 100, completion_tokens: 20 } } });
    sb.write('opencode.json', {
      provider: {
        local: {
          options: { baseURL: server.url, apiKey: SECRET },
          models: {
            m: { cost: { input: 1, output: 5 } },
            f: { cost: { input: 2, output: 10 } },
            w: { cost: { input: 3, output: 15 }, rateLimit: { maxRequests: 1, windowMs: 4000 } },
          },
        },
      },
      agent: { explore: { model: 'local/m', fallbacks: ['local/f'] }, oracle: { model: 'local/w' } },
      budget: { perDay: { usd: 100 }, timeZone: 'UTC' },
    });
    const run = async (args: string[]): Promise<Event[]> => {
      const r = await sb.run(['run', '--format', 'json', ...args]);
      expect(r.code, r.stderr).toBe(0);
      return events(r.stdout);
    };
    // A 429 with a short retry-after-ms: retried on the same model.
    server.script('m', { type: 'status', status: 429, retryAfterMs: 30 });
    runs.push(await run(['--agent', 'explore', 'first question']));
    // A refused key: the fallback answers.
    server.script('m', { type: 'status', status: 401 });
    runs.push(await run(['--agent', 'explore', 'second question']));
    // Two calls on a model held to 1 request per 4 s, started together: one waits for the other's window
    // (one after the other, the second CLI had to start and ask within 4 s of the first's request).
    runs.push(...(await Promise.all([run(['--agent', 'oracle', 'third question']), run(['--agent', 'oracle', 'fourth question'])])));
    // The first question again: answered from the cache.
    runs.push(await run(['--agent', 'explore', 'first question']));
  }, 60_000);
  afterAll(async () => {
    await sb?.remove();
    await server?.close();
  });

  const stats = async (args: string[] = []): Promise<Report> => {
    const r = await sb.run(['stats', '--json', ...args]);
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as Report;
  };

  it('the scripted runs hit a retry, a fallback, a rate-limit wait and a cache hit', () => {
    const all = runs.flat();
    expect(all.filter((e) => e.type === 'retry')).toHaveLength(1);
    expect(all.filter((e) => e.type === 'fallback')).toHaveLength(1);
    expect(all.filter((e) => e.type === 'cache_hit')).toHaveLength(1);
    expect([runs[2], runs[3]].filter((r) => r?.some((e) => e.type === 'rate_limited'))).toHaveLength(1);
  });

  it('stats --json adds up to what the runs\' done events said', async () => {
    const all = runs.flat();
    const dones = all.filter((e) => e.type === 'done');
    expect(dones).toHaveLength(5);
    const sum = (f: (e: Event) => number) => dones.reduce((n, e) => n + f(e), 0);
    const report = await stats();
    expect(report).toMatchObject({ to: today, days: null, timeZone: 'UTC', filters: {}, notes: [] });
    const t = report.totals;
    expect(t.requests).toBe(all.filter((e) => e.type === 'step_finish').length);
    expect(t.requests).toBe(5);
    expect(t.cacheHits).toBe(1);
    expect(t.inputTokens).toBe(sum((e) => e.usage?.inputTokens ?? 0));
    expect(t.outputTokens).toBe(sum((e) => e.usage?.outputTokens ?? 0));
    expect(t.costUSD).toBeCloseTo(sum((e) => e.costUSD ?? 0), 12);
    // The cache hit would have cost what the first answer cost on m: 100 in at $1, 20 out at $5 per million.
    expect(t.savedUSD).toBeCloseTo((100 * 1 + 20 * 5) / 1e6, 12);
    expect(t.retries).toBe(1);
    expect(t.fallbacks).toBe(1);
    expect(t.rateLimitWaits).toBe(1);
    expect(t.waitedMs).toBeGreaterThan(0);
    // Per agent and per provider exactly as `done` broke them down.
    for (const table of ['byAgent', 'byProvider'] as const) {
      const expected: Record<string, { inputTokens: number; outputTokens: number; costUSD: number }> = {};
      for (const done of dones) {
        for (const [name, entry] of Object.entries(done[table] ?? {})) {
          const into = (expected[name] ??= { inputTokens: 0, outputTokens: 0, costUSD: 0 });
          into.inputTokens += entry.usage.inputTokens;
          into.outputTokens += entry.usage.outputTokens;
          into.costUSD += entry.costUSD ?? 0;
        }
      }
      expect(Object.keys(report[table]).sort()).toEqual(Object.keys(expected).sort());
      for (const [name, figures] of Object.entries(expected)) {
        expect(report[table][name]).toMatchObject({ inputTokens: figures.inputTokens, outputTokens: figures.outputTokens, costUSD: expect.closeTo(figures.costUSD, 12) });
      }
    }
    expect(report.byAgent.explore).toMatchObject({ requests: 3, cacheHits: 1, retries: 1, fallbacks: 1, rateLimitWaits: 0 });
    expect(report.byAgent.oracle).toMatchObject({ requests: 2, cacheHits: 0, retries: 0, fallbacks: 0, rateLimitWaits: 1 });
    // Per model: the calls each served (step_finish names the model).
    const steps = all.filter((e) => e.type === 'step_finish');
    for (const model of ['local/m', 'local/f', 'local/w']) {
      expect(report.byModel[model]?.requests).toBe(steps.filter((e) => e.model === model).length);
    }
    expect(report.byDay).toEqual([{ day: today, ...t }]);
  });

  it('--days, --agent and --provider narrow the figures; an unknown name gives an empty result with a note', async () => {
    const all = await stats();
    const week = await stats(['--days', '7']);
    expect(week.byDay.map((d) => d.day)).toHaveLength(7);
    expect(week.byDay.at(-1)).toEqual({ day: today, ...all.totals });
    expect(week.byDay.slice(0, 6).every((d) => d.requests === 0)).toBe(true);
    expect(week.totals).toEqual(all.totals);

    const oracle = await stats(['--agent', 'oracle']);
    expect(oracle.filters).toEqual({ agent: 'oracle' });
    expect(oracle.totals).toEqual(all.byAgent.oracle);
    expect(Object.keys(oracle.byModel)).toEqual(['local/w']);

    const nobody = await stats(['--agent', 'nobody', '--days', '2']);
    expect(nobody.totals.requests).toBe(0);
    expect(nobody.notes).toEqual(['No calls by agent "nobody" in the last 2 days; agents with calls: explore, oracle.']);
    const text = await sb.run(['stats', '--provider', 'elsewhere']);
    expect(text.code).toBe(0);
    expect(text.stderr).toContain('note: No calls by provider "elsewhere" in the usage log; providers with calls: local.');
  });

  it('a repeated --agent or --provider takes the last one, as --days does', async () => {
    const oracle = await stats(['--agent', 'nobody', '--agent', 'oracle', '--provider', 'elsewhere', '--provider', 'local']);
    expect(oracle.filters).toEqual({ agent: 'oracle', provider: 'local' });
    expect(oracle.totals).toEqual((await stats(['--agent', 'oracle'])).totals);
    expect(oracle.totals.requests).toBeGreaterThan(0);
  });

  it.each([
    [['--agent', ''], 'error: --agent: expected an agent name, found nothing.\nhint: For example --agent oracle.\n'],
    [['--agent', ' '], 'error: --agent: expected an agent name, found nothing.\nhint: For example --agent oracle.\n'],
    [['--provider'], 'error: --provider: expected a provider id, found nothing.\nhint: For example --provider nvidia-nim.\n'],
  ])('stats %j is a usage error (exit 2) naming the flag', async (args, stderr) => {
    const r = await sb.run(['stats', ...args]);
    expect(r).toMatchObject({ code: 2, stdout: '', stderr });
  });

  it('prints a summary, a bar chart per day and tables by agent, provider and model', async () => {
    const r = await sb.run(['stats', '--days', '3']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Model calls in the last 3 days \(\d{4}-\d\d-\d\d to \d{4}-\d\d-\d\d\), days in UTC:\n {2}5 requests \(1 from the cache\) · /);
    expect(r.stdout).toMatch(/1 retries · 1 fallbacks · 1 \([\d.]+ s\) rate-limit waits/);
    expect(r.stdout).toMatch(new RegExp(`^${today} +5 +[\\d,]+ +\\$[\\d.]+ +█{24}$`, 'm'));
    expect(r.stdout).toMatch(/^AGENT +REQUESTS +CACHED/m);
    expect(r.stdout).toMatch(/^explore +3 +1 /m);
    expect(r.stdout).toMatch(/^MODEL +REQUESTS/m);
    expect(r.stderr).toBe('');
  });

  it.each([['0'], ['abc'], ['1.5'], ['99999']])('--days %s is a usage error (exit 2) naming the flag', async (value) => {
    const r = await sb.run(['stats', '--days', value]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`error: --days: expected a whole number of days from 1 to 3,650, found "${value}".`);
    expect(hasStack(r.stderr)).toBe(false);
    expect(r.stdout).toBe('');
  });

  it('an empty ledger: zeros, exit 0, and no state created', async () => {
    const empty = await sandbox();
    try {
      const before = await empty.snapshot();
      const json = await empty.run(['stats', '--json', '--days', '1']);
      expect(json.code, json.stderr).toBe(0);
      const report = JSON.parse(json.stdout) as Report;
      expect(report.totals).toEqual({ requests: 0, cacheHits: 0, inputTokens: 0, outputTokens: 0, costUSD: 0, savedUSD: 0, retries: 0, fallbacks: 0, rateLimitWaits: 0, waitedMs: 0 });
      expect(report.byDay).toHaveLength(1);
      const text = await empty.run(['stats']);
      expect(text.code).toBe(0);
      expect(text.stdout).toContain('No model calls recorded in this period.');
      expect(await empty.snapshot()).toEqual(before);
    } finally {
      await empty.remove();
    }
  });
});
