import fs from 'node:fs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { SECRET, hasStack, sandbox, type Sandbox } from './cli-helper.ts';

const COUNT = 1_000_000_000;
const DAY_MS = 86_400_000;
const WEEK_MS = 604_800_000;

describe('numbers at and above their maximum', () => {
  let server: ScriptedServer;
  let sb: Sandbox;
  beforeAll(async () => {
    server = await startScriptedServer({ apiKey: SECRET });
  });
  afterAll(async () => {
    await server.close();
  });
  beforeEach(async () => {
    server.reset();
    sb = await sandbox();
  });
  afterEach(async () => {
    await sb.remove();
  });

  it('rateLimit.rpd: 1.797e308 is refused by `config validate` and `run`: exit 2, file:line:col, no request', async () => {
    sb.write('opencode.json', `{\n  "model": "p/m",\n  "provider": { "p": { "options": { "baseURL": "${server.url}", "apiKey": "${SECRET}" }, "models": { "m": {} } } },\n  "rateLimit": { "rpd": 1.797e308 }\n}\n`);
    for (const args of [['config', 'validate'], ['run', 'hi']]) {
      const r = await sb.run(args);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(`${sb.project}/opencode.json:4:18 rateLimit.rpd: expected an integer from 1 to 1,000,000,000, found 1.797e+308`);
      expect(r.stderr).not.toMatch(/datatype mismatch|ledger/);
      expect(hasStack(r.stderr)).toBe(false);
    }
    expect(server.log).toHaveLength(0);
  });

  it('options.timeout: 1.797e308 is refused at load, without a TimeoutOverflowWarning', async () => {
    sb.write('opencode.json', { model: 'p/m', provider: { p: { options: { baseURL: server.url, apiKey: SECRET, timeout: 1.797e308 } } } });
    const r = await sb.run(['run', 'hi']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/opencode\.json:\d+:\d+ provider\.p\.options\.timeout: expected an integer from 1 to 86,400,000, found 1\.797e\+308/);
    expect(r.stderr).not.toMatch(/TimeoutOverflowWarning|No model configured/);
    expect(server.log).toHaveLength(0);
  });

  it('--timeout above 24 h is a usage error (exit 2), not a timer overflow', async () => {
    sb.write('opencode.json', { model: 'p/m', provider: { p: { options: { baseURL: server.url, apiKey: SECRET } } } });
    const r = await sb.run(['run', '--timeout', '99999999999', 'hi']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error: --timeout: expected a whole number of milliseconds from 1 to 86,400,000 (24 h), found "99999999999".');
    expect(r.stderr).not.toMatch(/TimeoutOverflowWarning/);
  });

  it('every number at its maximum loads and runs end to end (timers, the SQLite ledger, the cache)', async () => {
    server.script('m', { type: 'text', text: 'all limits at their ceiling' });
    const limits = { rpm: COUNT, rpd: COUNT, tpm: COUNT, concurrency: COUNT };
    sb.write('opencode.json', {
      model: 'p/m',
      provider: {
        p: {
          options: { baseURL: server.url, apiKey: SECRET, timeout: DAY_MS },
          rateLimit: { maxRequests: COUNT, windowMs: WEEK_MS },
          models: {
            m: {
              limit: { context: COUNT, output: COUNT, input: COUNT },
              cost: { input: 1_000_000, output: 1_000_000, cache_read: 1_000_000, cache_write: 1_000_000 },
              rateLimit: limits,
            },
          },
        },
      },
      rateLimit: limits,
      agent: { solo: { steps: COUNT, mode: 'primary' } },
      default_agent: 'solo',
      mcp: { off: { type: 'local', command: ['true'], enabled: false, timeout: DAY_MS } },
      workflow: { one: { concurrency: COUNT, steps: [{ id: 'a', agent: 'solo', prompt: 'hi' }] } },
      cache: { ttl: 31_536_000, maxSize: COUNT },
      retry: { maxRetries: 20, baseDelay: DAY_MS, maxDelay: DAY_MS, backoffMultiplier: 10 },
      cooldown: { afterFailures: COUNT, ms: WEEK_MS },
    });
    const validate = await sb.run(['config', 'validate']);
    expect(validate.code, validate.stderr).toBe(0);
    const r = await sb.run(['run', '--timeout', String(DAY_MS), 'hi']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('all limits at their ceiling\n');
    expect(r.stderr).not.toMatch(/warning|Overflow/i);
    // The answer was cached (ttl a year) and the ledger took the limits: a second run is a cache hit.
    const again = await sb.run(['run', '--timeout', String(DAY_MS), 'hi']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/cache hit/);
    expect(server.log).toHaveLength(1);
    expect(fs.existsSync(`${sb.dataHome}/pantheon/ledger.sqlite`)).toBe(true);
  });
});
