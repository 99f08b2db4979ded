/**
 * The dashboard in a real browser (Debian's Chromium driven by playwright-core) against the real
 * `opencode dashboard` / `opencode serve` and the scripted provider: no console errors and no request
 * off the page's origin; a rate-limit wait shows the lane waiting with its countdown as it happens
 * (the latency measured in the page; the 50 ms goal is bench/dashboard.ts's), then the fallback in the log; the cost shown equals `done`'s
 * costUSD; after a server restart the page reconnects and updates again.
 */
import os from 'node:os';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { providerConfig, sandbox, SECRET, type Sandbox } from '../cli/cli-helper.ts';
import { launchChromium, type Headless } from '../support/browser.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { v2Calls } from './sdk-clients.ts';
import { collect, idleOf, untilGone } from './sdk-helper.ts';
import { getJson, serve, type Served } from './serve-helper.ts';

let chrome: Headless;
beforeAll(async () => {
  chrome = await launchChromium();
});
afterAll(async () => {
  await chrome?.close();
});

let sb: Sandbox | undefined;
let model: ScriptedServer | undefined;
let s: Served | undefined;
let page: Page | undefined;
afterEach(async () => {
  await page?.close();
  await s?.stop();
  await model?.close();
  await sb?.remove();
  page = undefined;
  s = undefined;
  model = undefined;
  sb = undefined;
});

const WINDOW = { maxRequests: 1, windowMs: 1500 };

async function project(): Promise<{ box: Sandbox; scripted: ScriptedServer }> {
  const scripted = await startScriptedServer({ apiKey: SECRET, models: { m: {}, f: {} } });
  model = scripted;
  const box = await sandbox();
  sb = box;
  box.write('opencode.json', {
    ...providerConfig(scripted, { m: { cost: { input: 1, output: 2 }, rateLimit: WINDOW }, f: { cost: { input: 3, output: 5 } } }),
    model: 'p/m',
    fallbacks: ['p/f'],
    retry: { maxRetries: 2, baseDelay: 5000 },
    cache: { enabled: false },
  });
  return { box, scripted };
}

/** Opens the page and records console errors, page errors and every request that leaves its origin. */
async function open(url: string): Promise<{ page: Page; errors: string[]; offOrigin: string[] }> {
  const p = await chrome.context.newPage();
  page = p;
  const errors: string[] = [];
  const offOrigin: string[] = [];
  const origin = new URL(url).origin;
  p.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  p.on('pageerror', (e) => errors.push(e.message));
  p.on('request', (r) => {
    const u = new URL(r.url());
    if (u.protocol !== 'data:' && u.origin !== origin) offOrigin.push(r.url());
  });
  await p.goto(url);
  await p.waitForSelector('[data-status="live"]');
  return { page: p, errors, offOrigin };
}

describe('the dashboard in Chromium', () => {
  it('`opencode dashboard` prints its URL; the page loads with no console error, no request to another origin, usable by keyboard, light and dark', async () => {
    const { box } = await project();
    const proc = box.start(['dashboard', '--port=0']);
    const out = await proc.stdoutMatches(/^opencode dashboard at (http:\/\/\S+)$/m);
    const url = (/^opencode dashboard at (http:\/\/\S+)$/m.exec(out) as RegExpExecArray)[1] as string;
    s = { url, proc, stop: async () => (proc.child.kill('SIGTERM'), proc.exited) };
    const res = await fetch(url);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    await res.body?.cancel();
    const { page: p, errors, offOrigin } = await open(url);
    await p.waitForSelector('[data-lane="p/m"][data-state="idle"]');
    expect(await p.locator('[data-lane]').evaluateAll((els) => els.map((e) => e.getAttribute('data-lane')))).toEqual(['p/f', 'p/m']);
    // Keyboard: Tab reaches the log's filters and the chart's buttons; Enter/Space presses a button.
    const focused: string[] = [];
    for (let i = 0; i < 8; i++) {
      await p.keyboard.press('Tab');
      focused.push(await p.evaluate<string>('`${document.activeElement?.tagName}:${document.activeElement?.textContent?.trim().slice(0, 20) ?? ""}`'));
    }
    expect(focused.some((f) => f.startsWith('SELECT'))).toBe(true);
    const hour = p.getByRole('button', { name: 'per hour' });
    await hour.focus();
    await p.keyboard.press('Enter');
    expect(await hour.getAttribute('aria-pressed')).toBe('true');
    // Both colour schemes: the state is a word, not only a colour.
    const background = 'getComputedStyle(document.body).backgroundColor';
    const light = await p.evaluate<string>(background);
    await p.emulateMedia({ colorScheme: 'dark' });
    const dark = await p.evaluate<string>(background);
    expect(light).not.toBe(dark);
    expect(await p.locator('[data-lane="p/m"] .badge').textContent()).toContain('idle');
    expect(errors).toEqual([]);
    expect(offOrigin).toEqual([]);
  });

  it('a rate-limit wait shows the lane waiting and its countdown as it happens (latency measured in the page), then the fallback in the log; the cost shown is done’s costUSD', async () => {
    const { box, scripted } = await project();
    s = await serve(box);
    const { page: p, errors, offOrigin } = await open(s.url);
    // Measured in the page: when the p/m lane first shows "waiting" with a running countdown.
    await p.evaluate(`
      new MutationObserver(() => {
        if (window.shownWaiting) return;
        const count = document.querySelector('[data-lane="p/m"][data-state="waiting"] .countdown');
        if (count && count.textContent !== 'now' && Number(count.getAttribute('data-countdown')) > Date.now()) window.shownWaiting = Date.now();
      }).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
    `);
    const api = v2Calls(s.url, box.project);
    const abort = new AbortController();
    const events = collect(await api.events(abort.signal));
    await events.until((e) => e.type === 'server.connected');
    const id = ((await api.create()).data as { id: string }).id;
    await api.prompt(id, 'first');
    scripted.script('m', { type: 'status', status: 429, retryAfter: 20 });
    await api.prompt(id, 'second');
    await events.until(idleOf(id));
    abort.abort();
    const limited = events.of('pantheon.rate_limited')[0]?.properties as { timestamp: number; model: string };
    expect(limited.model).toBe('p/m');
    const shown = await p.evaluate<number | undefined>('window.shownWaiting');
    expect(shown, 'the waiting lane never showed').toBeDefined();
    const latency = (shown as number) - limited.timestamp;
    expect(latency).toBeGreaterThanOrEqual(0);
    // The 50 ms goal (the side-panel seed's) is a figure bench/dashboard.ts measures; a test asserts
    // no timing it cannot hold on any machine. What it holds: the change is pushed to the page as it
    // happens (a poll, or a page that waits for the turn to end, would miss this bound by seconds).
    const load = os.loadavg()[0] ?? 0;
    console.info(`dashboard: the lane showed waiting ${latency} ms after the event (load ${load.toFixed(1)})`);
    expect(latency, `the lane showed waiting ${latency} ms after the event (load ${load.toFixed(1)})`).toBeLessThanOrEqual(load > os.availableParallelism() ? 1500 : 500);
    const fallback = p.locator('tr[data-type="fallback"]');
    await fallback.waitFor();
    expect(await fallback.textContent()).toContain('p/m → p/f');
    expect(await p.locator('tr[data-type="rate_limited"]').count()).toBe(1);
    const done = events.of('pantheon.done').map((e) => e.properties.costUSD as number);
    const total = done.reduce((a, b) => a + b, 0);
    expect(done).toHaveLength(2);
    const today = p.locator('[data-total-cost]').first();
    // A function, not a string: the page's CSP forbids eval.
    type Doc = { querySelector(s: string): { getAttribute(n: string): string | null } | null };
    await p.waitForFunction((want) => Math.abs(Number((globalThis as unknown as { document: Doc }).document.querySelector('[data-total-cost]')?.getAttribute('data-total-cost')) - want) < 1e-12, total);
    expect(Number(await today.getAttribute('data-total-cost'))).toBeCloseTo(total, 12);
    expect(Number(await p.locator(`[data-session="${id}"] [data-cost]`).getAttribute('data-cost'))).toBeCloseTo(done[1] as number, 12);
    expect(errors).toEqual([]);
    expect(offOrigin).toEqual([]);
  });

  it('reconnects after the server restarts and resumes updates', async () => {
    const { box } = await project();
    s = await serve(box);
    const port = new URL(s.url).port;
    const { page: p, errors } = await open(s.url);
    await s.stop();
    await untilGone(`${s.url}/global/health`);
    await p.waitForSelector('[data-status="reconnecting"]');
    s = await serve(box, [`--port=${port}`]);
    await p.waitForSelector('[data-status="live"]', { timeout: 15_000 });
    const api = v2Calls(s.url, box.project);
    const id = ((await api.create()).data as { id: string }).id;
    await api.prompt(id, 'after the restart');
    await p.waitForSelector(`[data-session="${id}"]`);
    expect(await p.locator(`[data-session="${id}"] .answer`).textContent()).toBe('echo: after the restart');
    expect((await getJson(`${s.url}/api/state`)).status).toBe(200);
    // The only errors are the browser's own reports of the refused connections while the server was down.
    expect(errors.filter((e) => !/ERR_CONNECTION_REFUSED|Failed to load resource|EventSource/i.test(e))).toEqual([]);
  });
});
