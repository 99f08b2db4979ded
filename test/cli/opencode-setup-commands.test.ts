/**
 * `agent list|show`, `models` and `doctor` on an OpenCode setup: markdown agents with their file,
 * catalogue limits and prices for models the config names without declaring, switched-off
 * providers left out, a provider neither declared nor catalogued reported as a warning, and a base
 * URL no request can be sent to warned of and refused by a run.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sandbox, type Sandbox } from './cli-helper.ts';

describe('commands on an OpenCode setup', () => {
  let sb: Sandbox;
  beforeEach(async () => {
    sb = await sandbox();
  });
  afterEach(async () => {
    await sb.remove();
  });

  it('agent list and show name the markdown file an agent comes from', async () => {
    sb.write('opencode.json', { model: 'opencode-zen/big-pickle' });
    const file = sb.write('.opencode/agent/reviewer.md', '---\ndescription: Reviews diffs\nmode: subagent\ntemperature: 0.2\n---\nYou review diffs.\n');
    const list = await sb.run(['agent', 'list']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/^NAME\s+MODE\s+MODEL\s+DESCRIPTION\s+FROM$/m);
    expect(list.stdout).toMatch(/^reviewer\s+subagent\s+.*Reviews diffs\s+\.opencode\/agent\/reviewer\.md$/m);
    expect(list.stdout).toMatch(/^build\s+primary\s+.*built-in defaults$/m);
    const json = JSON.parse((await sb.run(['agent', 'list', '--json'])).stdout) as { name: string; source: string }[];
    expect(json.find((a) => a.name === 'reviewer')?.source).toBe(file);
    const show = JSON.parse((await sb.run(['agent', 'show', 'reviewer', '--json'])).stdout) as { prompt: string; origins: Record<string, string> };
    expect(show.prompt).toBe('You review diffs.');
    expect(show.origins).toMatchObject({ prompt: file, temperature: file, mode: file });
  });

  it('models: catalogue limits and prices for a named, undeclared model; switched-off providers left out', async () => {
    sb.write('opencode.json', {
      model: 'deepseek/deepseek-v4-pro',
      fallbacks: ['github-copilot/gpt-4.1'],
      provider: { off: { options: { baseURL: 'http://127.0.0.1:9/v1' }, models: { m: {} } } },
      disabled_providers: ['off', 'github-copilot'],
    });
    const r = await sb.run(['models', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const models = JSON.parse(r.stdout) as { ref: string; limit?: { context: number }; cost?: { input: number; output: number } }[];
    expect(models.map((m) => m.ref)).toEqual(['deepseek/deepseek-v4-pro']);
    expect(models[0]).toMatchObject({ limit: { context: 1000000 }, cost: { input: 0.435, output: 0.87 } });
  });

  it('doctor and config validate warn of a provider neither declared nor catalogued', async () => {
    sb.write('opencode.json', { model: 'opencode-zen/big-pickle', agent: { odd: { model: 'nowhere-ai/x1' } } });
    const validate = await sb.run(['config', 'validate']);
    expect(validate.code, validate.stderr).toBe(0);
    expect(validate.stderr).toContain('agent.odd.model: provider "nowhere-ai" is neither declared nor in the models.dev catalogue');
    const doctor = await sb.run(['doctor', '--check', 'config', '--json']);
    const report = JSON.parse(doctor.stdout) as { checks: { status: string; message: string }[] };
    expect(report.checks.find((c) => c.message.includes('"nowhere-ai"'))?.status).toBe('warn');
  });

  it('a base URL a request cannot be sent to: config validate warns, run stops at once (exit 2) naming the field, the password never shown', async () => {
    sb.write('opencode.json', { provider: { p: { options: { baseURL: 'http://me:50%off@127.0.0.1:9/v1' }, models: { m: {} } } }, model: 'p/m' });
    const field = 'provider.p.options.baseURL: expected a user name and password whose "%" each start an escape such as "%25", found "http://***@127.0.0.1:9/v1"';
    const validate = await sb.run(['config', 'validate']);
    expect(validate.code, validate.stderr).toBe(0);
    expect(validate.stderr).toContain(`${field}; a run that uses provider "p" fails`);
    const run = await sb.run(['run', 'hi']);
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toContain(`error: ${field}.`);
    expect(run.stderr).toContain('hint: Give the API’s address with its scheme');
    expect(run.stderr).not.toMatch(/attempt|50%off|URI malformed/);
  });
});
