import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SECRET, hasStack, sandbox, type Sandbox } from './cli-helper.ts';

const MASKED = 'sk-a…p9Qa';

/** The `// from …` comment printed above a top-level key in text mode. */
function originOf(stdout: string, key: string): string | undefined {
  const lines = stdout.split('\n');
  const at = lines.findIndex((l) => l.startsWith(`  ${JSON.stringify(key)}:`));
  const comment = at > 0 ? lines[at - 1] : undefined;
  return comment?.trim().replace(/^\/\/ from /, '');
}

/** Parses text-mode output: the JSON with `// from …` comments removed. */
function parseShown(stdout: string): Record<string, unknown> {
  return JSON.parse(stdout.replace(/^\s*\/\/ from .*$/gm, '')) as Record<string, unknown>;
}

describe('opencode config show', () => {
  let sb: Sandbox;
  beforeEach(async () => {
    sb = await sandbox();
    sb.write('opencode.json', {
      model: 'p/m1',
      provider: {
        p: {
          options: { baseURL: 'http://127.0.0.1:9/v1', apiKey: SECRET, headers: { Authorization: `Bearer ${SECRET}`, 'X-Team': 'blue' } },
          models: { m1: {} },
        },
        q: { options: { baseURL: 'http://127.0.0.1:9/v1', apiKey: '{env:PANTHEON_TEST_KEY}' } },
      },
      mcp: { files: { type: 'local', command: ['true'], environment: { GITHUB_TOKEN: SECRET, MODE: 'ro' } } },
    });
  });
  afterEach(async () => {
    await sb.remove();
  });

  it('text: the merged config with where each top-level value came from', async () => {
    const before = await sb.snapshot();
    const r = await sb.run(['config', 'show'], { env: { PANTHEON_TEST_KEY: SECRET } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const project = path.join(sb.project, 'opencode.json');
    expect(originOf(r.stdout, 'model')).toBe(project);
    expect(originOf(r.stdout, 'provider')).toBe(project);
    expect(originOf(r.stdout, 'retry')).toBe('built-in defaults');
    expect(originOf(r.stdout, 'agent')).toBe('built-in defaults');
    const shown = parseShown(r.stdout);
    expect(shown.model).toBe('p/m1');
    expect(await sb.snapshot()).toEqual(before);
  });

  it('text: a key set by the project over the default preset is credited to the project file', async () => {
    sb.write('opencode.json', { retry: { maxRetries: 1 } });
    const r = await sb.run(['config', 'show']);
    expect(r.code, r.stderr).toBe(0);
    expect(originOf(r.stdout, 'retry')).toBe(path.join(sb.project, 'opencode.json'));
    const retry = parseShown(r.stdout).retry as Record<string, unknown>;
    // objects merge: the preset's other retry fields stay
    expect(retry).toMatchObject({ maxRetries: 1, baseDelay: expect.any(Number) });
  });

  it('masks secrets in text and JSON: API keys (also substituted ones), credential headers, MCP env', async () => {
    const env = { PANTHEON_TEST_KEY: SECRET };
    const [text, json] = await Promise.all([sb.run(['config', 'show'], { env }), sb.run(['config', 'show', '--json'], { env })]);
    for (const r of [text, json]) {
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout + r.stderr).not.toContain(SECRET);
      expect(r.stdout).toContain(MASKED);
    }
    const config = JSON.parse(json.stdout) as {
      provider: Record<string, { options: { apiKey: string; headers?: Record<string, string> } }>;
      mcp: Record<string, { environment: Record<string, string> }>;
    };
    expect(config.provider.p?.options.apiKey).toBe(MASKED);
    expect(config.provider.q?.options.apiKey).toBe(MASKED);
    expect(config.provider.p?.options.headers?.Authorization).not.toContain(SECRET.slice(4, -4));
    expect(config.provider.p?.options.headers?.['X-Team']).toBe('blue');
    expect(config.mcp.files?.environment.GITHUB_TOKEN).not.toContain(SECRET.slice(4, -4));
    expect(config.mcp.files?.environment.MODE).toBe('ro');
  });

  it('--json: the merged configuration as one JSON document', async () => {
    const r = await sb.run(['config', 'show', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const config = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(config.model).toBe('p/m1');
    expect(config.default_agent).toEqual(expect.any(String));
    expect(Object.keys(config.agent as object).length).toBeGreaterThan(0);
    expect(config.retry).toMatchObject({ maxRetries: expect.any(Number) });
  });

  it('an invalid merged config: exit 2 and the error, no stack', async () => {
    sb.write('opencode.json', { model: 'p/m1', agent: { a: { temperature: 'hot' } } });
    const r = await sb.run(['config', 'show']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^error: Invalid config/);
    expect(r.stderr).toContain('agent.a.temperature');
    expect(hasStack(r.stderr)).toBe(false);
  });
});
