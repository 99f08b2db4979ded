/**
 * Takes docs/dashboard.png: the dashboard during a demo-like run. A scripted server plays three
 * providers (one refusing the key, one at 4 requests per 4 s answering a 503 and a 429 "retry in
 * 20 s", one free); `opencode serve` (built) gets eight prompts at once; Chromium shows the page
 * while lanes wait and the log fills, and the screenshot is taken then.
 *
 *   npm run build && node scripts/dashboard-screenshot.ts [out.png]
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { launchChromium } from '../test/support/browser.ts';
import { startScriptedServer } from '../test/support/openai-server.ts';

const root = path.resolve(import.meta.dirname, '..');
const out = process.argv[2] ?? path.join(root, 'docs', 'dashboard.png');
const KEY = 'sk-demo-0123456789';
const model = await startScriptedServer({
  apiKey: KEY,
  models: {
    'kimi-k2': { apiKey: 'another-key' },
    'qwen-3.5': { rateLimit: { maxRequests: 4, windowMs: 4000 }, script: [{ type: 'status', status: 503 }, { type: 'text', text: 'Plan: add a JWT middleware, a login route and tests.' }, { type: 'status', status: 429, retryAfter: 20 }] },
    'big-pickle': {},
  },
});
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pantheon-shot-'));
const project = path.join(dir, 'project');
fs.mkdirSync(path.join(project, '.git'), { recursive: true });
const price = (input: number, output: number) => ({ cost: { input, output } });
fs.writeFileSync(
  path.join(project, 'opencode.json'),
  JSON.stringify({
    provider: {
      moonshot: { options: { baseURL: model.url, apiKey: KEY }, models: { 'kimi-k2': price(0.6, 2.5) } },
      'nvidia-nim': { options: { baseURL: model.url, apiKey: KEY }, rateLimit: { maxRequests: 4, windowMs: 4000 }, models: { 'qwen-3.5': price(0.4, 1.2) } },
      'opencode-zen': { options: { baseURL: model.url, apiKey: KEY }, rateLimit: { rpm: 60, concurrency: 4 }, models: { 'big-pickle': price(0, 0) } },
    },
    model: 'nvidia-nim/qwen-3.5',
    fallbacks: ['opencode-zen/big-pickle'],
    agent: { sisyphus: { model: 'moonshot/kimi-k2', fallbacks: ['nvidia-nim/qwen-3.5', 'opencode-zen/big-pickle'] } },
    retry: { maxRetries: 2, baseDelay: 5000 },
    cache: { enabled: false },
  }),
);
const env = { ...process.env, HOME: dir, XDG_DATA_HOME: path.join(dir, 'data'), XDG_CACHE_HOME: path.join(dir, 'cache'), XDG_CONFIG_HOME: path.join(dir, 'config'), NO_COLOR: '1' };
const child = spawn(process.execPath, [path.join(root, 'bin', 'opencode.js'), 'serve', '--port=0'], { cwd: project, env, stdio: ['ignore', 'pipe', 'inherit'] });
const url = await new Promise<string>((resolve) => {
  let text = '';
  child.stdout.on('data', (c: Buffer) => {
    text += c.toString();
    const m = /listening on (http:\/\/\S+)/.exec(text);
    if (m) resolve(m[1] as string);
  });
});
const chrome = await launchChromium();
try {
  const page = await chrome.context.newPage();
  await page.setViewportSize({ width: 1400, height: 1200 });
  await page.goto(`${url}/`);
  await page.waitForSelector('[data-status="live"]');
  await page.waitForSelector('.chart canvas');
  const headers = { 'content-type': 'application/json', 'x-opencode-directory': encodeURIComponent(project) };
  const topics = ['JWT libraries', 'token refresh', 'password hashing', 'session storage', 'rate limiting', 'CSRF', 'OAuth flows', 'audit logs'];
  const prompts = topics.map(async (topic, i) => {
    const s = (await (await fetch(`${url}/session`, { method: 'POST', headers, body: '{}' })).json()) as { id: string };
    const agent = i < 2 ? 'sisyphus' : i < 5 ? 'librarian' : 'explore';
    await fetch(`${url}/session/${s.id}/message`, { method: 'POST', headers, body: JSON.stringify({ agent, parts: [{ type: 'text', text: `Research ${topic} for "add JWT auth"` }] }) }).then((r) => r.text());
  });
  await page.waitForSelector('tr[data-type="fallback"]', { timeout: 30_000 });
  await page.waitForSelector('[data-state="waiting"], [data-state="full"]', { timeout: 30_000 });
  await page.waitForTimeout(300);
  await page.screenshot({ path: out, fullPage: true });
  process.stdout.write(`wrote ${out}\n`);
  await Promise.allSettled(prompts);
} finally {
  await chrome.close();
  child.kill('SIGTERM');
  await model.close();
  fs.rmSync(dir, { recursive: true, force: true });
}
