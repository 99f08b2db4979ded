/**
 * Text that users and providers control — a prompt (the session's title and answer), a tool name a
 * model made up, a provider's error message — reaches an open dashboard over its stream as text,
 * never as markup or script, in Chromium: closing `</script>` and `</style>`, an `<img onerror>`, a
 * `javascript:` link and control characters are shown as the characters they are; nothing runs, no
 * element or link comes from them, and the page logs no error.
 */
import { describe, expect, it } from 'vitest';
import { providerConfig, sandbox, SECRET } from '../cli/cli-helper.ts';
import { chromiumPerFile, ownPerTest } from '../support/per-test.ts';
import { startScriptedServer } from '../support/openai-server.ts';
import { v2Calls } from './sdk-clients.ts';
import { serve } from './serve-helper.ts';

const chrome = chromiumPerFile();
const own = ownPerTest();

const HOSTILE = '</style></script><script>window.injected = 1</script><img src=x onerror="window.injected = 2"><a href="javascript:window.injected = 3">go</a>\u001b[31m\u0007';

describe('the dashboard shows hostile text as text', () => {
  it('a prompt, a made-up tool name and a provider error, arriving over the stream', async () => {
    const model = own(await startScriptedServer({ apiKey: SECRET, models: { m: {} } }));
    const sb = own(await sandbox());
    sb.write('opencode.json', { ...providerConfig(model, { m: {} }), model: 'p/m', retry: { maxRetries: 0 }, cache: { enabled: false } });
    const s = own(await serve(sb));
    const p = own(await chrome().context.newPage());
    const errors: string[] = [];
    p.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    p.on('pageerror', (e) => errors.push(e.message));
    const asked: string[] = [];
    p.on('request', (r) => asked.push(r.url()));
    await p.goto(s.url);
    await p.waitForSelector('[data-status="live"]');

    const api = v2Calls(s.url, sb.project);
    // A tool the model made up (named with markup), then an answer.
    model.script('m', { type: 'tool_calls', calls: [{ name: HOSTILE.slice(0, 60), arguments: { x: HOSTILE } }] }, { type: 'text', text: `answer ${HOSTILE}` });
    const first = ((await api.create()).data as { id: string }).id;
    await api.prompt(first, HOSTILE);
    // A provider's refusal whose message is markup.
    model.script('m', { type: 'status', status: 400, message: HOSTILE });
    const second = ((await api.create()).data as { id: string }).id;
    await api.prompt(second, 'second');

    const answer = p.locator(`[data-session="${first}"] .answer`);
    await answer.waitFor();
    expect(await answer.textContent()).toBe(`answer ${HOSTILE}`);
    await p.locator(`[data-session="${first}"] h3`).waitFor();
    expect(await p.locator(`[data-session="${first}"] h3`).textContent()).toContain('window.injected = 1');
    // The provider's message in the log, as text.
    await p.locator('.what', { hasText: '<img src=x onerror' }).first().waitFor();

    expect(await p.evaluate('typeof window.injected')).toBe('undefined');
    expect(await p.locator('#app img, #app script, #app style').count()).toBe(0);
    expect(await p.locator('a[href^="javascript:"]').count()).toBe(0);
    expect(asked.filter((u) => !u.startsWith(s.url))).toEqual([]);
    expect(errors).toEqual([]);
  });
});
