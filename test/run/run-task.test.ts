/**
 * runTask against the scripted server: what the request looks like (model ids, variants, headers,
 * credentials, temperature, streaming), what comes back (text, usage, cost, events), and the
 * errors for refs that do not resolve.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/schema-types.ts';
import type { PantheonError } from '../../src/errors.ts';
import { KEY, configFor, useHarness } from './harness.ts';

const h = useHarness();

describe('the request', () => {
  it('sends models.<id>.id upstream, provider headers, and the variant options in the body', async () => {
    const server = await h.server();
    const config = configFor(server, { model: 'local/big:deep' }, { big: { id: 'vendor/big-model-v2', variants: { deep: { thinking_budget: 2048 } } } });
    const provider = config.provider?.local;
    if (!provider?.options) throw new Error('config shape');
    provider.options.headers = { 'x-team': 'core', 'HTTP-Referer': 'https://example.test' };
    const runtime = await h.runtime(config);
    const { result, rec } = await h.run({ config, runtime, message: 'think' });
    expect(result?.text).toBe('echo: think');
    expect(server.log).toHaveLength(1);
    const entry = server.log[0];
    expect(entry?.model).toBe('vendor/big-model-v2');
    expect(entry?.body).toMatchObject({ thinking_budget: 2048, stream: true });
    expect(entry?.headers).toMatchObject({ 'x-team': 'core', 'http-referer': 'https://example.test', authorization: `Bearer ${KEY}` });
    expect(rec.of('step_finish')[0]).toMatchObject({ provider: 'local', model: 'local/big:deep' });
  });

  it('leaves out the temperature for a model with temperature: false, and sends it to others', async () => {
    const server = await h.server();
    const config = configFor(server, { agent: { coder: { model: 'local/o1', temperature: 0.3, top_p: 0.9 } } }, { o1: { temperature: false }, plain: {} });
    const runtime = await h.runtime(config);
    await h.run({ config, runtime, agent: 'coder', message: 'x' });
    await h.run({ config, runtime, agent: 'coder', model: 'local/plain', message: 'x' });
    expect(server.log.map((e) => [e.model, e.temperature, e.top_p])).toEqual([
      ['o1', undefined, 0.9],
      ['plain', 0.3, 0.9],
    ]);
    expect(server.log[0]?.body).not.toHaveProperty('temperature');
  });

  it('a model with supports.streaming: false gets a non-streamed request; the answer still arrives as text events', async () => {
    const server = await h.server();
    const config = configFor(server, {}, { a: { supports: { streaming: false } } });
    const runtime = await h.runtime(config);
    server.script('a', { type: 'text', text: 'all at once' });
    const { result, rec } = await h.run({ config, runtime, message: 'x' });
    expect(server.log[0]?.stream).toBe(false);
    expect(result?.text).toBe('all at once');
    expect(rec.of('text').map((e) => e.text).join('')).toBe('all at once');
    expect(rec.types()).toEqual(['step_start', 'text', 'step_finish']);
  });

  it('sends the agent prompt as the system message and the user message after it', async () => {
    const server = await h.server();
    const config = configFor(server, { agent: { oracle: { prompt: 'You are the oracle.' } } });
    const runtime = await h.runtime(config);
    await h.run({ config, runtime, agent: 'oracle', message: 'Will it rain?' });
    expect(server.log[0]?.messages).toEqual([
      { role: 'system', content: 'You are the oracle.' },
      { role: 'user', content: 'Will it rain?' },
    ]);
  });
});

describe('credentials', () => {
  async function authorizationSeen(configKey: string | undefined, authKey: string | undefined, envKey: string | undefined): Promise<string | undefined> {
    const server = await h.server();
    const config = configFor(server);
    const options = config.provider?.local?.options;
    if (!options) throw new Error('config shape');
    if (configKey) options.apiKey = configKey;
    else delete options.apiKey;
    const env = await h.env();
    if (authKey) {
      const dir = path.join(env.XDG_DATA_HOME ?? '', 'opencode');
      await fs.mkdir(dir, { recursive: true, mode: 0o700 });
      await fs.writeFile(path.join(dir, 'auth.json'), JSON.stringify({ local: { type: 'api', key: authKey } }), { mode: 0o600 });
    }
    if (envKey) env.LOCAL_API_KEY = envKey;
    const runtime = await h.runtime(config, { env });
    const { error } = await h.run({ config, runtime, message: 'x', env });
    expect(error).toBeUndefined();
    return server.log[0]?.headers.authorization;
  }

  it('config apiKey first, then auth.json, then the environment variable', async () => {
    expect(await authorizationSeen('sk-config', 'sk-auth', 'sk-env')).toBe('Bearer sk-config');
    expect(await authorizationSeen(undefined, 'sk-auth', 'sk-env')).toBe('Bearer sk-auth');
    expect(await authorizationSeen(undefined, undefined, 'sk-env')).toBe('Bearer sk-env');
  });
});

describe('the answer', () => {
  it('reports usage and cost (per million tokens) in the result and the events', async () => {
    const server = await h.server();
    const config = configFor(server, {}, { a: { cost: { input: 2, output: 10 } } });
    const runtime = await h.runtime(config);
    server.script('a', { type: 'text', text: 'priced', usage: { prompt_tokens: 1000, completion_tokens: 500 } });
    const { result, rec } = await h.run({ config, runtime, message: 'x' });
    expect(result?.usage).toEqual({ inputTokens: 1000, outputTokens: 500 });
    expect(result?.costUSD).toBeCloseTo(0.007, 10);
    expect(rec.of('step_finish')[0]?.usage).toEqual({ inputTokens: 1000, outputTokens: 500 });
  });

  it('has no cost when the model has no prices', async () => {
    const server = await h.server();
    const config = configFor(server);
    const runtime = await h.runtime(config);
    const { result } = await h.run({ config, runtime, message: 'x' });
    expect(result).not.toHaveProperty('costUSD');
  });

  it('emits step_start, the text, then step_finish, each tagged with agent, taskID and (where known) provider and model', async () => {
    const server = await h.server();
    const config = configFor(server, { agent: { oracle: { model: 'local/a', fallbacks: ['local/b'] } } });
    const runtime = await h.runtime(config);
    server.script('a', { type: 'status', status: 503, repeat: 3 });
    server.script('b', { type: 'text', chunks: ['Hello', ' from', ' b'] });
    const { result, rec } = await h.run({ config, runtime, agent: 'oracle', message: 'x', taskID: 'task_fixed' });
    expect(result).toMatchObject({ agent: 'oracle', taskID: 'task_fixed', text: 'Hello from b', servedBy: ['local/b'] });
    expect(rec.types()).toEqual(['step_start', 'retry', 'retry', 'fallback', 'text', 'text', 'text', 'step_finish']);
    for (const event of rec.events) {
      expect(event).toMatchObject({ agent: 'oracle', taskID: 'task_fixed', sessionID: 'ses_test' });
      expect(typeof event.timestamp).toBe('number');
      if (event.type !== 'step_start') expect(event.provider).toBe('local');
    }
    expect(rec.of('retry').map((e) => e.model)).toEqual(['local/a', 'local/a']);
    expect(rec.of('text').map((e) => e.model)).toEqual(['local/b', 'local/b', 'local/b']);
    expect(rec.of('step_finish')[0]?.model).toBe('local/b');
  });
});

describe('refs that do not resolve', () => {
  async function errorFor(overrides: Partial<Config>, run: { agent?: string; model?: string }): Promise<PantheonError> {
    const server = await h.server();
    const config = configFor(server, overrides);
    const runtime = await h.runtime(config);
    const { error } = await h.run({ config, runtime, message: 'x', ...run });
    expect(server.log).toHaveLength(0);
    return error as PantheonError;
  }

  it('an unknown provider is UNKNOWN_PROVIDER naming the declared ones', async () => {
    const error = await errorFor({}, { model: 'nowhere/m' });
    expect(error).toMatchObject({ code: 'UNKNOWN_PROVIDER', exitCode: 2 });
    expect(error.message).toContain('"nowhere"');
    expect(error.hint).toContain('local');
  });

  it('an unknown model is UNKNOWN_MODEL listing the provider models', async () => {
    const error = await errorFor({}, { model: 'local/zzz' });
    expect(error).toMatchObject({ code: 'UNKNOWN_MODEL', exitCode: 2 });
    expect(error.hint).toBe('Its models: a, b, c.');
  });

  it('an unknown variant is UNKNOWN_MODEL naming the variant', async () => {
    const error = await errorFor({}, { model: 'local/a:turbo' });
    expect(error).toMatchObject({ code: 'UNKNOWN_MODEL' });
    expect(error.message).toContain('no variant "turbo"');
  });

  it('an unknown fallback fails before any request', async () => {
    const error = await errorFor({ fallbacks: ['local/gone'] }, {});
    expect(error).toMatchObject({ code: 'UNKNOWN_MODEL' });
    expect(error.message).toContain('fallbacks[0]');
  });

  it('an unknown agent is UNKNOWN_AGENT listing the agents', async () => {
    const error = await errorFor({ agent: { oracle: {}, coder: {} } }, { agent: 'orcale' });
    expect(error).toMatchObject({ code: 'UNKNOWN_AGENT', exitCode: 2 });
    expect(error.hint).toBe('Available agents: coder, oracle.');
  });
});

describe('a provider package that is not installed', () => {
  const withGoogle = (server: Parameters<typeof configFor>[0], overrides: Partial<Config>): Config => {
    const config = configFor(server, overrides);
    (config.provider as Record<string, unknown>).gem = { npm: '@ai-sdk/google', options: { apiKey: 'g-key' }, models: { flash: {} } };
    return config;
  };

  it('alone in the chain: PROVIDER_PACKAGE_MISSING saying what to install', async () => {
    const server = await h.server();
    const config = withGoogle(server, { model: 'gem/flash' });
    const runtime = await h.runtime(config);
    const { error } = await h.run({ config, runtime, message: 'x' });
    expect(error).toMatchObject({ code: 'PROVIDER_PACKAGE_MISSING', exitCode: 2 });
    expect((error as PantheonError).hint).toContain('npm install @ai-sdk/google');
    expect(server.log).toHaveLength(0);
  });

  it('with a fallback: the fallback answers (reason package_missing)', async () => {
    const server = await h.server();
    const config = withGoogle(server, { model: 'gem/flash', fallbacks: ['local/a'] });
    const runtime = await h.runtime(config);
    const { result, rec } = await h.run({ config, runtime, message: 'x' });
    expect(result).toMatchObject({ text: 'echo: x', servedBy: ['local/a'] });
    expect(rec.of('fallback')).toEqual([expect.objectContaining({ from: 'gem/flash', to: 'local/a', reason: 'package_missing' })]);
  });

  it('is listed among the attempts when the fallback fails too', async () => {
    const server = await h.server();
    const config = withGoogle(server, { model: 'gem/flash', fallbacks: ['local/a'] });
    const runtime = await h.runtime(config);
    server.script('a', { type: 'status', status: 401, message: 'no such key' });
    const { error } = await h.run({ config, runtime, message: 'x' });
    expect(error).toMatchObject({ code: 'ALL_FALLBACKS_FAILED' });
    expect((error as PantheonError).details).toEqual([expect.stringMatching(/^gem\/flash attempt 1: package_missing .*npm install @ai-sdk\/google/), 'local/a attempt 1: 401 no such key']);
  });
});
