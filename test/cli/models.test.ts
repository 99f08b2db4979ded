import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sandbox, type Sandbox } from './cli-helper.ts';

describe('opencode models', () => {
  let sb: Sandbox;
  beforeEach(async () => {
    sb = await sandbox();
    sb.write('opencode.json', {
      model: 'local/big',
      provider: {
        local: {
          options: { baseURL: 'http://127.0.0.1:9/v1' },
          rateLimit: { rpm: 40 },
          models: { big: { limit: { context: 128000, output: 8192 }, cost: { input: 3, output: 15 }, rateLimit: { concurrency: 2 } } },
        },
      },
      agent: { oracle: { model: 'opencode-zen/grok-code' } },
    });
  });
  afterEach(async () => {
    await sb.remove();
  });

  it('--json: configured and referenced models with limits, effective rate limits, cost and users', async () => {
    const r = await sb.run(['models', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const models = JSON.parse(r.stdout) as { ref: string; agents: string[]; limit?: object; cost?: object; rateLimits: object }[];
    expect(models.map((m) => m.ref)).toEqual(['local/big', 'opencode-zen/grok-code']);
    expect(models[0]).toMatchObject({
      limit: { context: 128000, output: 8192 },
      cost: { input: 3, output: 15 },
      rateLimits: { windows: [{ scope: 'provider', maxRequests: 40, windowMs: 60000 }], concurrency: [{ scope: 'model', limit: 2 }] },
    });
    expect(models[0]?.agents).toContain('sisyphus');
    expect(models[0]?.agents).not.toContain('oracle');
    expect(models[1]?.agents).toEqual(['oracle']);
  });

  it('text, for one provider', async () => {
    const r = await sb.run(['models', 'local', '--table']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^MODEL\s+CONTEXT\s+OUTPUT\s+RATE LIMITS\s+COST \$\/1M IN\/OUT\s+USED BY$/m);
    expect(r.stdout).toMatch(/^local\/big\s+128000\s+8192\s+40\/min \(provider\) · 2 at once \(model\)\s+\$3\/\$15\s+atlas, .*\(model\)$/m);
    expect(r.stdout).not.toMatch(/grok-code/);
  });

  it('an unknown provider is exit 2', async () => {
    const r = await sb.run(['models', 'nope']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no configured provider "nope"/);
  });
});
