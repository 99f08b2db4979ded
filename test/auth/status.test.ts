import { describe, expect, it } from 'vitest';
import { authStatus } from '../../src/auth/status.ts';
import type { Config } from '../../src/config/schema-types.ts';

const STORE = '/data/opencode/auth.json';
const CONFIG_KEY = 'sk-config-0123456789ab';
const STORE_KEY = 'sk-store-0123456789cd';
const ENV_KEY = 'nvapi-env-0123456789ef';

const config: Config = {
  provider: {
    acme: { options: { baseURL: 'https://api.acme.test/v1', apiKey: CONFIG_KEY } },
    bare: { options: { baseURL: 'https://api.bare.test/v1' } },
    local: { options: { baseURL: 'http://127.0.0.1:11434/v1' } },
  },
  model: 'acme/m',
  fallbacks: ['nvidia-nim/qwen'],
  agent: {
    oracle: { model: 'google/gemini', fallbacks: ['openrouter/x', 'bare/y'] },
    explore: { model: 'local/q' },
    sisyphus: {},
    off: { model: 'mystery/z', disable: true },
  },
};

const entries = {
  openrouter: { type: 'api', key: STORE_KEY },
  anthropic: { type: 'oauth', refresh: 'r', access: 'a', expires: 1 },
};

describe('authStatus', () => {
  const status = authStatus(config, { env: { NVIDIA_API_KEY: ENV_KEY, GROQ_API_KEY: 'gsk_0123456789abcdef' }, entries, storeFile: STORE });
  const byId = Object.fromEntries(status.providers.map((p) => [p.id, p]));

  it('lists configured, used, stored and well-known-with-a-key providers, sorted', () => {
    expect(status.providers.map((p) => p.id)).toEqual(['acme', 'anthropic', 'bare', 'google', 'groq', 'local', 'nvidia-nim', 'openrouter']);
    expect(status.store).toBe(STORE);
  });

  it('says where each key comes from, masked', () => {
    expect(byId.acme).toMatchObject({ source: 'config', maskedKey: 'sk-c…89ab', configured: true, used: true });
    expect(byId.openrouter).toMatchObject({ source: 'auth.json', from: STORE, maskedKey: 'sk-s…89cd', stored: 'api', used: true });
    expect(byId['nvidia-nim']).toMatchObject({ source: 'env', from: 'NVIDIA_API_KEY', maskedKey: 'nvap…89ef', used: true });
    expect(byId.groq).toMatchObject({ source: 'env', from: 'GROQ_API_KEY', used: false, configured: false });
    expect(byId.anthropic).toMatchObject({ source: 'none', stored: 'oauth' });
    expect(byId.anthropic).not.toHaveProperty('maskedKey');
    expect(byId.google).toMatchObject({ source: 'none', envVar: 'GOOGLE_GENERATIVE_AI_API_KEY', needsKey: true });
    expect(byId.local).toMatchObject({ source: 'none', needsKey: false });
    expect(JSON.stringify(status)).not.toMatch(/sk-config-0|sk-store-0|nvapi-env-0|gsk_0123/);
  });

  it('warns for each agent whose chain has a provider that needs a key and has none', () => {
    // oracle: google and bare lack keys (openrouter has one); sisyphus uses the top-level chain (acme, nvidia-nim: both have keys);
    // explore's local server needs none; the disabled agent is not checked.
    expect(status.warnings).toEqual([
      {
        agent: 'oracle',
        providers: ['google', 'bare'],
        message:
          'agent "oracle" has no credential for google (run `opencode auth login google` or set GOOGLE_GENERATIVE_AI_API_KEY), bare (run `opencode auth login bare` or set BARE_API_KEY).',
      },
    ]);
  });

  it('a config without any model has no chains to check', () => {
    const bare = authStatus({ agent: { a: {} } }, { env: {}, entries: {}, storeFile: STORE });
    expect(bare).toEqual({ store: STORE, providers: [], warnings: [] });
  });
});
