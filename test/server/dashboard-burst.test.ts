/**
 * The dashboard under a burst (issue 15: "1,000 events per second into an open page"): the real
 * `opencode serve`, turns whose answers stream hundreds of chunks (a `text` event each) and answers
 * from the cache (a log row each), eight at a time, with the page open in Chromium. While the burst
 * runs the page stays live and answers the keyboard; afterwards it shows the newest log entries and
 * the totals the server and `done` report, and keeps only the log rows in view in the DOM.
 */
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { providerConfig, sandbox, SECRET } from '../cli/cli-helper.ts';
import { chromiumPerFile, ownPerTest } from '../support/per-test.ts';
import { startScriptedServer } from '../support/openai-server.ts';
import { v2Calls } from './sdk-clients.ts';
import { collect } from './sdk-helper.ts';
import { getJson, serve } from './serve-helper.ts';

const chrome = chromiumPerFile();
const own = ownPerTest();

/** An answer of 300 words: the scripted provider streams each as a chunk, a `text` event each. */
const ANSWER = Array.from({ length: 300 }, (_, i) => `w${i}`).join(' ');
const TURNS = 48;
const AT_ONCE = 8;
/** Four questions asked again and again: after the first answer to each, the rest come from the cache (a `cache_hit` log row each); every other turn asks a new one (300 `text` events). */
const QUESTIONS = ['alpha', 'beta', 'gamma', 'delta'];
const CACHED = TURNS / 2;

interface State {
  log: { seq: number; type: string }[];
  usage: { today: { costUSD: number; requests: number }; sinceStart: { costUSD: number; requests: number } };
}

describe('the dashboard under a burst of events', () => {
  // 14 s on a quiet 2-core machine, 97 s with the suite under CPU hogs (load average 20): the bound
  // only reports a hang.
  it('stays live and responsive, then shows the newest log entries and the right totals; only the rows in view are in the DOM', { timeout: 300_000 }, async () => {
    const model = own(await startScriptedServer({ apiKey: SECRET, models: { m: { default: { type: 'text', text: ANSWER } } } }));
    const sb = own(await sandbox());
    sb.write('opencode.json', { ...providerConfig(model, { m: { cost: { input: 1, output: 2 } } }), model: 'p/m', cache: { enabled: true, store: 'memory' } });
    const s = own(await serve(sb));
    const p = own(await chrome().context.newPage());
    const errors: string[] = [];
    p.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    p.on('pageerror', (e) => errors.push(e.message));
    await p.goto(s.url);
    await p.waitForSelector('[data-status="live"]');
    const api = v2Calls(s.url, sb.project);
    const abort = new AbortController();
    const events = collect(await api.events(abort.signal));
    await events.until((e) => e.type === 'server.connected');
    const newSession = async (): Promise<string> => {
      const r = await api.create();
      if (!r.data) throw new Error(`POST /session: HTTP ${r.status} ${JSON.stringify(r.error)}`);
      return (r.data as { id: string }).id;
    };
    // The first answer to each question fills the cache.
    for (const q of QUESTIONS) await api.prompt(await newSession(), q);
    const before = events.events.length;
    const started = performance.now();
    let next = 0;
    const burst = Promise.all(
      Array.from({ length: AT_ONCE }, async () => {
        while (next < TURNS) {
          const q = next % 2 === 0 ? (QUESTIONS[(next / 2) % QUESTIONS.length] as string) : `question ${next}`;
          next += 1;
          await api.prompt(await newSession(), q);
        }
      }),
    );
    // While the burst runs, the page answers the keyboard and the mouse, and stays live.
    await events.until(() => events.of('pantheon.cache_hit').length >= 8);
    const hour = p.getByRole('button', { name: 'per hour' });
    await hour.focus();
    await p.keyboard.press('Enter');
    expect(await hour.getAttribute('aria-pressed')).toBe('true');
    await p.getByRole('button', { name: 'per minute' }).click();
    const provider = p.getByLabel('provider');
    await provider.selectOption('p');
    expect(await provider.inputValue()).toBe('p');
    expect(await p.locator('[data-status]').getAttribute('data-status')).toBe('live');
    await burst;
    const ms = performance.now() - started;
    await events.until(() => events.of('pantheon.done').length === TURNS + QUESTIONS.length);
    abort.abort();
    const pantheon = events.events.slice(before).filter((e) => e.type.startsWith('pantheon.')).length;
    console.info(`dashboard burst: ${pantheon} events in ${(ms / 1000).toFixed(1)} s, ${Math.round((pantheon / ms) * 1000)} events/s (load ${(os.loadavg()[0] ?? 0).toFixed(1)})`);
    expect(pantheon).toBeGreaterThan(((TURNS - CACHED) * 300));
    expect(events.of('pantheon.cache_hit').length).toBe(CACHED);

    // Afterwards: what the server holds, the page shows.
    const state = (await getJson(`${s.url}/api/state`)).body as State;
    // Every log entry is one of the burst's cache hits (anything else, such as a warning, is named here).
    expect(state.log.filter((e) => e.type !== 'cache_hit')).toEqual([]);
    expect(state.log).toHaveLength(CACHED);
    const newest = state.log.at(-1)?.seq as number;
    const doneCost = events.of('pantheon.done').reduce((sum, e) => sum + ((e.properties.costUSD as number | undefined) ?? 0), 0);
    const stepCost = events.of('pantheon.step_finish').reduce((sum, e) => sum + ((e.properties.costUSD as number | undefined) ?? 0), 0);
    expect(state.usage.today.costUSD).toBeCloseTo(doneCost, 9);
    // A function, not a string: the page's CSP forbids eval.
    type Doc = { querySelector(s: string): { getAttribute(n: string): string | null } | null };
    await p
      .waitForFunction(
        (want) => {
          const doc = (globalThis as unknown as { document: Doc }).document;
          return doc.querySelector('tbody tr[data-seq]')?.getAttribute('data-seq') === String(want.newest) && Number(doc.querySelector('[data-totals="today"]')?.getAttribute('data-requests')) === want.today;
        },
        { newest, today: state.usage.today.requests },
      )
      .catch(() => undefined);
    expect(await p.locator('tbody tr[data-seq]').first().getAttribute('data-seq'), 'the newest entry is the first row').toBe(String(newest));
    expect(Number(await p.locator('[data-log-count]').getAttribute('data-log-count'))).toBe(CACHED);
    expect(Number(await p.locator('[data-totals="today"] [data-total-cost]').getAttribute('data-total-cost'))).toBeCloseTo(doneCost, 9);
    expect(Number(await p.locator('[data-totals="today"]').getAttribute('data-requests'))).toBe(state.usage.today.requests);
    expect(Number(await p.locator('[data-totals="sinceStart"] [data-total-cost]').getAttribute('data-total-cost'))).toBeCloseTo(stepCost, 9);
    expect(Number(await p.locator('[data-totals="sinceStart"]').getAttribute('data-requests'))).toBe(events.of('pantheon.step_finish').length);
    // Virtualised: the rows in view (and a few around them), not all 24.
    const rows = await p.locator('tbody tr[data-seq]').count();
    expect(rows).toBeGreaterThan(5);
    expect(rows).toBeLessThan(40);
    // Scrolled to the end, the oldest entry of the burst is there.
    await p.locator('.log-scroll').evaluate((el) => el.scrollTo({ top: el.scrollHeight }));
    const oldest = state.log[0]?.seq as number;
    await p.waitForSelector(`tbody tr[data-seq="${oldest}"]`);
    expect(errors).toEqual([]);
  });
});
