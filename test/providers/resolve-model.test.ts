import { describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/schema-types.ts';
import { findCredential } from '../../src/providers/credentials.ts';
import { formatModelRef, parseModelRef } from '../../src/providers/model-ref.ts';
import { CLIENT_FIELDS } from '../../src/providers/openai-wire.ts';
import { callProviderOptions, resolveModel } from '../../src/providers/resolve-model.ts';
import { startScriptedServer } from '../support/openai-server.ts';

const config: Config = {
  rateLimit: { concurrency: 8 },
  provider: {
    local: {
      options: { baseURL: 'http://127.0.0.1:9/v1', apiKey: 'sk-local', timeout: 5000 },
      rateLimit: { rpm: 40 },
      models: {
        big: { id: 'vendor/big', limit: { output: 4096, context: 128_000 }, options: { seed: 1 }, variants: { high: { reasoningEffort: 'high' } }, rateLimit: { rpd: 1000, tpm: 50_000, maxRequests: 2, windowMs: 1000 } },
        'llama3.1:8b': {},
        vision: { modalities: { input: ['text', 'image'] } },
      },
    },
    slow: { options: { baseURL: 'http://127.0.0.1:9/v1', timeout: false } },
    gem: { npm: '@ai-sdk/google', models: { flash: { variants: { think: { thinkingConfig: { thinkingBudget: 1024 } } } } } },
  },
};

describe('parseModelRef', () => {
  it('splits provider, model and variant', () => {
    expect(parseModelRef('p/m')).toEqual({ provider: 'p', model: 'm' });
    expect(parseModelRef('p/org/m:v')).toEqual({ provider: 'p', model: 'org/m', variant: 'v' });
    expect(parseModelRef({ provider: 'p', id: 'm', variant: 'v' })).toEqual({ provider: 'p', model: 'm', variant: 'v' });
    expect(formatModelRef({ provider: 'p', model: 'm', variant: 'v' })).toBe('p/m:v');
  });

  it('rejects refs without a provider or a model', () => {
    for (const bad of ['m', '/m', 'p/']) expect(() => parseModelRef(bad, '--model')).toThrow(expect.objectContaining({ code: 'USAGE', message: expect.stringContaining('--model') }));
  });
});

describe('resolveModel', () => {
  it('maps the model to its upstream id, limits, options and variant', () => {
    const m = resolveModel(config, 'local/big:high');
    expect(m).toMatchObject({
      label: 'local/big:high',
      key: 'model:local/big',
      provider: 'local',
      upstreamId: 'vendor/big',
      baseURL: 'http://127.0.0.1:9/v1',
      timeoutMs: 5000,
      maxOutputTokens: 4096,
      contextLimit: 128_000,
      streaming: true,
      acceptsTemperature: true,
      acceptsImages: false,
      credential: { key: 'sk-local', source: 'config' },
      providerOptions: { local: { seed: 1, reasoningEffort: 'high' } },
    });
    expect(m.windows).toEqual([
      { key: 'provider:local', maxRequests: 40, windowMs: 60_000 },
      { key: 'model:local/big', maxRequests: 1000, windowMs: 86_400_000 },
      { key: 'model:local/big', maxRequests: 2, windowMs: 1000 },
    ]);
    expect(m.tokens).toEqual([{ key: 'model:local/big', maxTokens: 50_000, windowMs: 60_000 }]);
    expect(m.concurrency).toEqual([{ key: 'default:local', limit: 8 }]);
  });

  it('keys provider options of other packages by the package name', () => {
    expect(resolveModel(config, 'gem/flash:think', { env: {} }).providerOptions).toEqual({ google: { thinkingConfig: { thinkingBudget: 1024 } } });
  });

  it('prefers a declared model whose id contains a colon over a variant', () => {
    expect(resolveModel(config, 'local/llama3.1:8b')).toMatchObject({ modelKey: 'llama3.1:8b', upstreamId: 'llama3.1:8b', label: 'local/llama3.1:8b' });
  });

  it('per-attempt timeout: --timeout wins, `false` means none, 300 s by default', () => {
    expect(resolveModel(config, 'local/big', { timeoutMs: 42 }).timeoutMs).toBe(42);
    expect(resolveModel(config, 'slow/any', { env: {} }).timeoutMs).toBeUndefined();
    expect(resolveModel({ provider: { p: { options: { baseURL: 'http://x' } } } }, 'p/m', { env: {} }).timeoutMs).toBe(300_000);
  });

  it('a well-known provider works without a provider block, with its key from the environment', () => {
    const m = resolveModel({}, 'nvidia-nim/qwen-3.5-397b', { env: { NVIDIA_API_KEY: 'nvapi-env' } });
    expect(m).toMatchObject({ baseURL: 'https://integrate.api.nvidia.com/v1', npm: '@ai-sdk/openai-compatible', credential: { key: 'nvapi-env', source: 'env', from: 'NVIDIA_API_KEY' } });
  });

  it('reads model capabilities', () => {
    expect(resolveModel(config, 'local/vision').acceptsImages).toBe(true);
    const flags: Config = { provider: { p: { options: { baseURL: 'http://x' }, models: { m: { temperature: false, supports: { streaming: false } } } } } };
    expect(resolveModel(flags, 'p/m', { env: {} })).toMatchObject({ acceptsTemperature: false, streaming: false });
  });

  it('unknown provider, model and variant are typed errors naming what exists', () => {
    expect(() => resolveModel(config, 'nope/m')).toThrow(expect.objectContaining({ code: 'UNKNOWN_PROVIDER', hint: 'Declared providers: local, slow, gem.' }));
    expect(() => resolveModel(config, 'local/small')).toThrow(expect.objectContaining({ code: 'UNKNOWN_MODEL', hint: 'Its models: big, llama3.1:8b, vision.' }));
    expect(() => resolveModel(config, 'local/big:low')).toThrow(expect.objectContaining({ code: 'UNKNOWN_MODEL', hint: 'Its variants: high.' }));
  });
});

describe('output asked for by default', () => {
  const asked = (output: number | undefined, env: NodeJS.ProcessEnv = {}) =>
    resolveModel({ provider: { p: { options: { baseURL: 'http://127.0.0.1:9/v1' }, models: { m: output === undefined ? {} : { limit: { context: 200_000, output } } } } } }, 'p/m', { env }).maxOutputTokens;

  it('is the model’s limit.output, capped at 32,000 as OpenCode caps it (OPENCODE_EXPERIMENTAL_OUTPUT_TOKEN_MAX sets the cap); none without a limit', () => {
    expect(asked(8192)).toBe(8192);
    expect(asked(131_072)).toBe(32_000);
    expect(asked(131_072, { OPENCODE_EXPERIMENTAL_OUTPUT_TOKEN_MAX: '64000' })).toBe(64_000);
    expect(asked(131_072, { OPENCODE_EXPERIMENTAL_OUTPUT_TOKEN_MAX: 'lots' })).toBe(32_000);
    expect(asked(undefined)).toBeUndefined();
  });
});

describe('attempt timeouts', () => {
  const timed = (options: object, timeoutMs?: number) => {
    const cfg: Config = { provider: { p: { options: { baseURL: 'http://127.0.0.1:9/v1', ...options }, models: { m: {} } } } };
    const m = resolveModel(cfg, 'p/m', timeoutMs === undefined ? {} : { timeoutMs });
    return { timeoutMs: m.timeoutMs, chunk: 'chunkTimeoutMs' in m ? m.chunkTimeoutMs : 'as timeoutMs' };
  };

  it('OpenCode’s headerTimeout and chunkTimeout each replace the idle timeout for their phase; false turns a phase off; --timeout wins', () => {
    expect(timed({})).toEqual({ timeoutMs: 300_000, chunk: 'as timeoutMs' });
    expect(timed({ timeout: 60_000 })).toEqual({ timeoutMs: 60_000, chunk: 'as timeoutMs' });
    expect(timed({ headerTimeout: 1_800_000, chunkTimeout: 30_000 })).toEqual({ timeoutMs: 1_800_000, chunk: 30_000 });
    expect(timed({ timeout: 60_000, chunkTimeout: false })).toEqual({ timeoutMs: 60_000, chunk: undefined });
    expect(timed({ timeout: false, headerTimeout: 5000 })).toEqual({ timeoutMs: 5000, chunk: undefined });
    expect(timed({ headerTimeout: 5000, chunkTimeout: 100 }, 2000)).toEqual({ timeoutMs: 2000, chunk: 'as timeoutMs' });
  });
});

describe('callProviderOptions', () => {
  const given = { [CLIENT_FIELDS]: { user: 'u-1', seed: 9, top_k: 3 }, other: { x: 1 } };

  it('gives an OpenAI-compatible model the client’s fields as its own options, beneath its configured ones', () => {
    expect(callProviderOptions(resolveModel(config, 'local/big:high'), given)).toEqual({ other: { x: 1 }, local: { user: 'u-1', seed: 1, top_k: 3, reasoningEffort: 'high' } });
    expect(callProviderOptions(resolveModel(config, 'local/llama3.1:8b'), given)).toEqual({ other: { x: 1 }, local: { user: 'u-1', seed: 9, top_k: 3 } });
  });

  it('gives another kind of provider none of them, and leaves a call without them as it was', () => {
    expect(callProviderOptions(resolveModel(config, 'gem/flash:think'), given)).toEqual({ other: { x: 1 }, google: { thinkingConfig: { thinkingBudget: 1024 } } });
    expect(callProviderOptions(resolveModel(config, 'local/big'), { other: { x: 1 } })).toEqual({ other: { x: 1 }, local: { seed: 1 } });
  });

  it('through the AI SDK (an HTTP proxy in the environment), the fields reach the provider as body fields', async () => {
    const server = await startScriptedServer({ models: { m: {} } });
    try {
      const cfg: Config = { provider: { p: { options: { baseURL: server.url, apiKey: 'sk-p' }, models: { m: {} } } } };
      const model = resolveModel(cfg, 'p/m', { env: { HTTPS_PROXY: 'http://127.0.0.1:9' } });
      expect(model.wire).toBeUndefined();
      const lm = await model.languageModel();
      await lm.doGenerate({ prompt: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }], providerOptions: callProviderOptions(model, given) });
      expect(server.log.at(-1)?.body).toMatchObject({ model: 'm', user: 'u-1', seed: 9, top_k: 3 });
      expect(server.log.at(-1)?.body).not.toHaveProperty('other');
    } finally {
      await server.close();
    }
  });
});

describe('a base URL', () => {
  const withBase = (baseURL: string, extra: object = {}): Config => ({ provider: { p: { options: { baseURL, ...extra }, models: { m: {} } } } });

  it('that a request cannot be sent to is CONFIG_INVALID naming the field, its credentials hidden', () => {
    const refused = (baseURL: string) => {
      try {
        resolveModel(withBase(baseURL), 'p/m', { env: {} });
      } catch (error) {
        return error as { code: string; message: string; hint: string };
      }
      throw new Error(`${baseURL} was taken`);
    };
    expect(refused('localhost:8080/v1')).toMatchObject({ code: 'CONFIG_INVALID', message: 'provider.p.options.baseURL: expected an http(s) URL, found "localhost:8080/v1".' });
    expect(refused('127.0.0.1:8080/v1').message).toBe('provider.p.options.baseURL: expected an http(s) URL such as "https://integrate.api.nvidia.com/v1", found "127.0.0.1:8080/v1".');
    expect(refused('//host/v1').message).toBe('provider.p.options.baseURL: expected an http(s) URL such as "https://integrate.api.nvidia.com/v1", found "//host/v1".');
    const escape = refused('https://me:100%s3cret@host/v1');
    expect(escape.message).toBe('provider.p.options.baseURL: expected a user name and password whose "%" each start an escape such as "%25", found "https://***@host/v1".');
    expect(escape.hint).toContain('"%25"');
    expect(() => resolveModel({ provider: { p: { api: 'mailto:me@host', models: { m: {} } } } }, 'p/m', { env: {} })).toThrow('provider.p.api: expected an http(s) URL');
    expect(resolveModel(withBase('HTTPS://me:p%40ss@Host.example/v1/'), 'p/m', { env: {} }).wire?.url.href).toBe('https://me:p%40ss@host.example/v1/chat/completions');
  });

  it('empty (an unset {env:} variable) is CONFIG_INVALID before any attempt', () => {
    expect(() => resolveModel(withBase(''), 'p/m', { env: {} })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', message: 'provider.p.options.baseURL: expected an http(s) URL, found "" (is its {env:} variable set?).' }));
  });

  it('a key with a character HTTP does not allow is CONFIG_INVALID naming where it came from, never the key', () => {
    const refused = (cfg: Config, env: NodeJS.ProcessEnv = {}) => {
      try {
        resolveModel(cfg, 'p/m', { env });
      } catch (error) {
        return error as { code: string; message: string };
      }
      throw new Error('taken');
    };
    const config = refused(withBase('http://h/v1', { apiKey: 'sk-\u201cabc\u201d' }));
    expect(config).toMatchObject({ code: 'CONFIG_INVALID', message: 'provider.p.options.apiKey: the key has a character HTTP does not allow (U+201C at character 4).' });
    const env = refused({ provider: { p: { env: ['P_KEY'], options: { baseURL: 'http://h/v1' }, models: { m: {} } } } }, { P_KEY: 'sk-abc\ndef' });
    expect(env.message).toBe('the environment variable P_KEY (the key of provider "p"): the key has a character HTTP does not allow (U+000A at character 7).');
    expect(`${config.message} ${env.message}`).not.toMatch(/abc/);
  });

  it('with a user and password: through the AI SDK they go as Basic authorization (fetch refuses them in a URL), unless a key is set', async () => {
    const server = await startScriptedServer({ models: { m: {} } });
    try {
      const baseURL = server.url.replace('http://', 'http://me:p%40ss@');
      const prompt = [{ role: 'user' as const, content: [{ type: 'text' as const, text: 'hi' }] }];
      const proxied = { env: { HTTPS_PROXY: 'http://127.0.0.1:9' } };
      const basic = `Basic ${Buffer.from('me:p@ss').toString('base64')}`;
      await (await resolveModel(withBase(baseURL), 'p/m', proxied).languageModel()).doGenerate({ prompt });
      expect(server.log.at(-1)?.headers.authorization).toBe(basic);
      await (await resolveModel(withBase(baseURL), 'p/m', { env: {} }).embeddingModel()).doEmbed({ values: ['a'] });
      expect(server.log.at(-1)).toMatchObject({ endpoint: 'embeddings', headers: { authorization: basic } });
      await (await resolveModel(withBase(baseURL, { apiKey: 'sk-p' }), 'p/m', proxied).languageModel()).doGenerate({ prompt });
      expect(server.log.at(-1)?.headers.authorization).toBe('Bearer sk-p');
      await (await resolveModel(withBase(baseURL, { headers: { Authorization: 'Token t' } }), 'p/m', proxied).languageModel()).doGenerate({ prompt });
      expect(server.log.at(-1)?.headers.authorization).toBe('Token t');
      expect(server.log).toHaveLength(4);
    } finally {
      await server.close();
    }
  });
});

describe('findCredential', () => {
  it('config, then the auth store, then the provider env vars (declared env names first)', () => {
    const store = { p: { type: 'api', key: 'from-store' } };
    const env = { P_API_KEY: 'from-env', MY_KEY: 'from-declared-env' };
    expect(findCredential('p', { configKey: 'from-config', store, env })).toEqual({ key: 'from-config', source: 'config' });
    expect(findCredential('p', { store, env })).toMatchObject({ key: 'from-store', source: 'auth.json' });
    expect(findCredential('p', { store: {}, env, envNames: ['MY_KEY'] })).toEqual({ key: 'from-declared-env', source: 'env', from: 'MY_KEY' });
    expect(findCredential('p', { store: {}, env })).toEqual({ key: 'from-env', source: 'env', from: 'P_API_KEY' });
    expect(findCredential('my-prov', { store: {}, env: { MY_PROV_API_KEY: 'dash' } })).toMatchObject({ key: 'dash', from: 'MY_PROV_API_KEY' });
    expect(findCredential('p', { store: { p: { type: 'oauth', key: 'x' } }, env: {} })).toEqual({ source: 'none' });
  });
});
