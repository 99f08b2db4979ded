/**
 * The gateway called from a web page on another localhost origin (a local web app's dev server),
 * with the official `openai` client itself running in Chromium (its ES modules served from
 * node_modules): the CORS preflight lets the client's own headers through (`x-stainless-*`,
 * `x-pantheon-max-wait`), and the page can read what Pantheon says about the answer
 * (`x-pantheon-model`, `x-pantheon-cache`, the lane's `x-ratelimit-*`). A page on an origin that is
 * not local and not given with `--cors` is refused by the browser.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { providerConfig, sandbox, SECRET } from '../cli/cli-helper.ts';
import { startScriptedServer } from '../support/openai-server.ts';
import { chromiumPerFile, ownPerTest } from '../support/per-test.ts';
import { serve } from './serve-helper.ts';

const chrome = chromiumPerFile();
const own = ownPerTest();
const OPENAI_DIR = path.resolve(import.meta.dirname, '../../node_modules/openai');

/** A local web app: a blank page at `/`, the openai package's files under `/openai/`. */
async function webApp(): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/') return res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>app</title>');
    const file = path.join(OPENAI_DIR, path.normalize(url.pathname.replace(/^\/openai\//, '')));
    if (!url.pathname.startsWith('/openai/') || !file.startsWith(OPENAI_DIR) || !fs.existsSync(file)) return res.writeHead(404).end();
    res.writeHead(200, { 'content-type': file.endsWith('.mjs') ? 'text/javascript' : 'application/octet-stream' }).end(fs.readFileSync(file));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

interface PageResult {
  text?: string | null;
  model?: string | null;
  cache?: string | null;
  remaining?: string | null;
  streamed?: string;
  error?: string;
}

describe('/v1 from a web page with the openai client', () => {
  it('a localhost page calls it (JSON and streamed) and reads x-pantheon-model, x-pantheon-cache and the lane’s rate-limit headers', async () => {
    const scripted = own(await startScriptedServer({ apiKey: SECRET, models: { m: {} } }));
    const box = own(await sandbox());
    box.write('opencode.json', { ...providerConfig(scripted, { m: { rateLimit: { maxRequests: 100, windowMs: 60_000 } } }), model: 'p/m', cache: { enabled: true, store: 'memory' } });
    const s = own(await serve(box));
    const app = own(await webApp());
    const page = own(await chrome().context.newPage());
    await page.goto(app.url);
    // A string, not a function: the test runner would rewrite a dynamic import in the function's source.
    const script = `(async (base) => {
      try {
        const { default: OpenAI } = await import(location.origin + '/openai/index.mjs');
        const client = new OpenAI({ baseURL: base + '/v1', apiKey: 'unused-open-server', dangerouslyAllowBrowser: true, maxRetries: 0 });
        const ask = () => client.chat.completions.create({ model: 'p/m', messages: [{ role: 'user', content: 'from the page' }] }, { headers: { 'x-pantheon-max-wait': '5000' } }).withResponse();
        await ask();
        const { data, response } = await ask();
        let streamed = '';
        for await (const chunk of await client.chat.completions.create({ model: 'p/m', messages: [{ role: 'user', content: 'streamed' }], stream: true })) streamed += chunk.choices[0]?.delta?.content ?? '';
        const h = response.headers;
        return { text: data.choices[0].message.content, model: h.get('x-pantheon-model'), cache: h.get('x-pantheon-cache'), remaining: h.get('x-ratelimit-remaining'), streamed };
      } catch (error) {
        return { error: String(error) };
      }
    })(${JSON.stringify(s.url)})`;
    const result = (await page.evaluate(script)) as PageResult;
    expect(result).toEqual({ text: 'echo: from the page', model: 'p/m', cache: 'hit', remaining: expect.stringMatching(/^\d+$/), streamed: 'echo: streamed' });
  });

  it('a page on an origin that is neither local nor given with --cors cannot read an answer', async () => {
    const scripted = own(await startScriptedServer({ apiKey: SECRET, models: { m: {} } }));
    const box = own(await sandbox());
    box.write('opencode.json', { ...providerConfig(scripted, { m: {} }), model: 'p/m' });
    const s = own(await serve(box));
    const page = own(await chrome().context.newPage());
    // The page's origin as the browser sees it: a site on the internet (served here by routing its requests).
    await page.route('http://app.example.com/**', (route) => route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>site</title>' }));
    await page.goto('http://app.example.com/');
    const result = (await page.evaluate(async (base: string) => {
      try {
        const res = await fetch(`${base}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'p/m', messages: [{ role: 'user', content: 'hi' }] }) });
        return { text: await res.text() };
      } catch (error) {
        return { error: String(error) };
      }
    }, s.url)) as PageResult;
    expect(result.error).toMatch(/Failed to fetch/);
    expect(scripted.log).toHaveLength(0);
  });
});
