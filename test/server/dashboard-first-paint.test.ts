/**
 * The dashboard page carries the state of the moment it was asked for, so its first paint shows the
 * lanes and sessions without waiting for /api/state or its stream (the stream then only brings what
 * changed). The inline state is data, never script: text from a prompt that closes the script element
 * stays text. The chart library (plot.js) comes after the first paint, and is fetched again when it
 * failed.
 */
import { describe, expect, it } from 'vitest';
import type { Route } from 'playwright-core';
import { providerConfig, sandbox, SECRET } from '../cli/cli-helper.ts';
import { chromiumPerFile, ownPerTest } from '../support/per-test.ts';
import { startScriptedServer } from '../support/openai-server.ts';
import { v2Calls } from './sdk-clients.ts';
import { serve } from './serve-helper.ts';

const chrome = chromiumPerFile();
const own = ownPerTest();

const HOSTILE = '</script><script>window.injected = 1</script><!-- <b>bold</b>';

describe('the dashboard’s first paint', () => {
  it('shows the lanes and sessions from the page itself, with the stream held back; the inline state stays data', async () => {
    const model = own(await startScriptedServer({ apiKey: SECRET, models: { m: {}, f: {} } }));
    const sb = own(await sandbox());
    sb.write('opencode.json', { ...providerConfig(model, { m: { rateLimit: { rpm: 10 } }, f: {} }), model: 'p/m' });
    const s = own(await serve(sb));
    const api = v2Calls(s.url, sb.project);
    const id = ((await api.create()).data as { id: string }).id;
    await api.prompt(id, HOSTILE);

    const p = own(await chrome().context.newPage());
    const errors: string[] = [];
    p.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    p.on('pageerror', (e) => errors.push(e.message));
    const asked: string[] = [];
    p.on('request', (r) => asked.push(new URL(r.url()).pathname));
    // The stream is held: nothing the page shows can come from it.
    const held: Route[] = [];
    await p.route('**/api/state/stream**', (route) => {
      held.push(route);
    });
    await p.goto(s.url);
    await p.waitForSelector('[data-lane="p/m"]');
    expect(await p.locator('[data-status]').getAttribute('data-status')).toBe('connecting');
    expect(await p.locator('[data-lane]').evaluateAll((els) => els.map((e) => e.getAttribute('data-lane')))).toEqual(['p/f', 'p/m']);
    expect(await p.locator('[data-lane="p/m"] .limit-text').first().textContent()).toContain('1 / 10');
    // The session of the prompt, its title as the text it was.
    expect(await p.locator(`[data-session="${id}"] h3`).textContent()).toBe(HOSTILE.replace(/\s+/g, ' '));
    expect(await p.locator(`[data-session="${id}"] .answer`).textContent()).toBe(`echo: ${HOSTILE}`);
    expect(await p.evaluate('typeof window.injected')).toBe('undefined');
    expect(await p.locator('#pantheon-state').count()).toBe(0);
    expect(asked.filter((path) => path === '/api/state')).toEqual([]);
    expect(held.length).toBe(1);

    // Let the stream through: the page goes live and follows changes.
    await (held[0] as Route).continue();
    await p.waitForSelector('[data-status="live"]');
    const second = ((await api.create()).data as { id: string }).id;
    await api.prompt(second, 'after the stream opened');
    await p.waitForSelector(`[data-session="${second}"]`);
    expect(errors).toEqual([]);
  });

  it('shows its state before the chart library has loaded, and draws the chart once plot.js can be fetched again', async () => {
    const model = own(await startScriptedServer({ apiKey: SECRET, models: { m: {} } }));
    const sb = own(await sandbox());
    sb.write('opencode.json', { ...providerConfig(model, { m: {} }), model: 'p/m' });
    const s = own(await serve(sb));
    const p = own(await chrome().context.newPage());
    // plot.js fails twice (the server restarting, say), then loads.
    let refused = 0;
    await p.route('**/dashboard/plot.js', async (route) => {
      if (refused < 2) {
        refused += 1;
        await route.abort('connectionrefused');
      } else await route.continue();
    });
    await p.goto(s.url);
    await p.waitForSelector('[data-lane="p/m"]');
    await p.waitForSelector('.chart canvas', { timeout: 15_000 });
    expect(refused).toBe(2);
    expect(await p.locator('.chart canvas').count()).toBe(1);
  });
});
