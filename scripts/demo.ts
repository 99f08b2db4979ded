/**
 * The main job for a newcomer: the real `opencode` CLI against a local OpenAI-compatible server
 * scripted like a free tier — a provider that refuses the key, one that fails and rate-limits,
 * and a working fallback — then parallel runs sharing one rate limit. No network, no API key.
 * Run it with `npm run demo`.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { maxStartsInWindow, startScriptedServer } from '../test/support/openai-server.ts';

const root = path.resolve(import.meta.dirname, '..');
const bin = path.join(root, 'bin', 'opencode.js');
const bold = (s: string) => (process.stdout.isTTY && !process.env.NO_COLOR ? `\x1b[1m${s}\x1b[22m` : s);

const REVIEW = [
  'Three scaling risks stand out.\n',
  '1. The session store is a single Postgres table written on every request: shard it or move hot sessions to Redis.\n',
  '2. The fan-out worker holds one connection per tenant; pool them, or it falls over near 2k tenants.\n',
  '3. Retries have no jitter, so a provider outage becomes a thundering herd when it recovers.\n',
];

const server = await startScriptedServer({
  models: {
    // "Moonshot": the key in the config is wrong, so it answers 401 → Pantheon moves on at once.
    'kimi-k2': { apiKey: 'the-right-key' },
    // "NVIDIA NIM" free tier: a 503, then a 429 asking for 20 s; the server also enforces 4 requests / 4 s.
    'qwen-397b': {
      apiKey: false,
      rateLimit: { maxRequests: 4, windowMs: 4000 },
      script: [{ type: 'status', status: 503 }, { type: 'status', status: 429, retryAfter: 20 }],
      default: { type: 'echo', prefix: 'found it: ', chunkDelayMs: 20 },
    },
    // "OpenCode Zen": free and working.
    'big-pickle': { apiKey: false, default: { type: 'slow', text: REVIEW.join(''), chunks: REVIEW, chunkDelayMs: 120 } },
  },
});

const home = fs.mkdtempSync(path.join(os.tmpdir(), 'pantheon-demo-'));
const project = path.join(home, 'project');
fs.mkdirSync(path.join(project, '.git'), { recursive: true });
const config = {
  provider: {
    'moonshot-sim': { name: 'Moonshot (simulated)', options: { baseURL: server.url, apiKey: 'demo-wrong-key' }, models: { 'kimi-k2.5': { id: 'kimi-k2' } } },
    'nim-sim': {
      name: 'NVIDIA NIM free tier (simulated)',
      options: { baseURL: server.url, apiKey: 'demo-key' },
      rateLimit: { maxRequests: 4, windowMs: 4000 },
      models: { 'qwen-3.5-397b': { id: 'qwen-397b' } },
    },
    'zen-sim': { name: 'OpenCode Zen (simulated)', options: { baseURL: server.url, apiKey: 'demo-key' }, models: { 'big-pickle': { id: 'big-pickle', cost: { input: 0, output: 0 } } } },
  },
  agent: {
    oracle: { model: 'moonshot-sim/kimi-k2.5', fallbacks: ['nim-sim/qwen-3.5-397b', 'zen-sim/big-pickle'] },
    explore: { model: 'nim-sim/qwen-3.5-397b', fallbacks: [] },
  },
  retry: { maxRetries: 2, baseDelay: 300, maxDelay: 5000 },
};
fs.writeFileSync(path.join(project, 'opencode.json'), JSON.stringify(config, null, 2));
const env = {
  ...process.env,
  XDG_CONFIG_HOME: path.join(home, 'config'),
  XDG_DATA_HOME: path.join(home, 'data'),
  XDG_CACHE_HOME: path.join(home, 'cache'),
};

function opencode(args: string[], prefix?: string): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: project, env, stdio: prefix ? ['ignore', 'pipe', 'pipe'] : ['ignore', 'inherit', 'inherit'] });
    if (prefix) {
      for (const stream of [child.stdout, child.stderr]) {
        let rest = '';
        stream?.on('data', (chunk: Buffer) => {
          const lines = (rest + chunk.toString()).split('\n');
          rest = lines.pop() ?? '';
          for (const line of lines) process.stdout.write(`${prefix} ${line}\n`);
        });
        stream?.on('end', () => rest && process.stdout.write(`${prefix} ${rest}\n`));
      }
    }
    child.on('close', (code) => resolve(code ?? 1));
  });
}

console.log(bold(`\nA local OpenAI-compatible server plays three providers at ${server.url}; config: ${path.join(project, 'opencode.json')}\n`));
console.log(bold('1) opencode run --agent oracle "Review this design for scaling problems"'));
console.log('   chain: moonshot-sim/kimi-k2.5 (wrong key) → nim-sim/qwen-3.5-397b (503, then 429 for 20 s) → zen-sim/big-pickle\n');
const first = await opencode(['run', '--agent', 'oracle', 'Review this design for scaling problems']);

console.log(bold('\n2) six `opencode run --agent explore` processes at once, sharing nim-sim\'s limit of 4 requests / 4 s'));
const started = Date.now();
const codes = await Promise.all(
  Array.from({ length: 6 }, (_, i) => opencode(['run', '--agent', 'explore', '--no-cache', `find the auth middleware in module ${i + 1}`], `[run ${i + 1}]`)),
);
const nim = server.log.filter((e) => e.model === 'qwen-397b' && e.outcome === 'ok');
console.log(bold('\nWhat the server saw'));
console.log(`  requests: ${server.log.length} (${server.log.filter((e) => e.status === 401).length} refused key, ${server.log.filter((e) => e.status === 503).length} × 503, ${server.log.filter((e) => e.status === 429 && e.outcome === 'status').length} scripted 429)`);
console.log(`  rate-limit violations the server had to refuse: ${server.log.filter((e) => e.outcome === 'rate_limited').length}`);
console.log(`  most nim-sim starts in any 4 s window: ${maxStartsInWindow(nim, 4000)} (limit 4)`);
console.log(`  part 2 took ${((Date.now() - started) / 1000).toFixed(1)} s for ${codes.length} runs; exit codes: ${[first, ...codes].join(' ')}`);
console.log(`\nSame command line against a real provider: see README ("Against a real provider").`);
await server.close();
fs.rmSync(home, { recursive: true, force: true });
process.exitCode = [first, ...codes].every((c) => c === 0) ? 0 : 1;
