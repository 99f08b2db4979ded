import { describe, expect, it } from 'vitest';
import { WELL_KNOWN_PROVIDERS, apiKeyEnvName, envVarsFor } from '../../src/providers/catalog.ts';

const providers = Object.entries(WELL_KNOWN_PROVIDERS);

describe('WELL_KNOWN_PROVIDERS', () => {
  it('lists the providers the presets and the docs rely on', () => {
    const ids = Object.keys(WELL_KNOWN_PROVIDERS);
    for (const id of [
      'nvidia-nim', 'opencode-zen', 'opencode', 'moonshot-ai', 'kimi-for-coding', 'openai', 'anthropic', 'google',
      'openrouter', 'groq', 'mistral', 'deepseek', 'together', 'fireworks', 'xai', 'cerebras', 'qwencode',
      'ollama', 'lmstudio', 'llama-cpp',
    ]) {
      expect(ids).toContain(id);
    }
  });

  it('keys every entry by its own id, and ids are unique', () => {
    for (const [key, provider] of providers) expect(provider.id).toBe(key);
    const ids = providers.map(([, p]) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('has valid env var names, package names and URLs', () => {
    for (const [id, provider] of providers) {
      expect(provider.name.length, id).toBeGreaterThan(0);
      expect(provider.npm, id).toMatch(/^@ai-sdk\/[a-z-]+$/);
      for (const name of provider.env) expect(name, id).toMatch(/^[A-Z_][A-Z0-9_]*$/);
      expect(new Set(provider.env).size, id).toBe(provider.env.length);
      if (provider.baseURL !== undefined) {
        const url = new URL(provider.baseURL);
        if (provider.needsKey) expect(url.protocol, id).toBe('https:');
        else expect(url.hostname, id).toBe('127.0.0.1');
        expect(provider.baseURL.endsWith('/'), id).toBe(false);
      }
      if (provider.keysUrl !== undefined) expect(new URL(provider.keysUrl).protocol, id).toBe('https:');
      if (provider.needsKey) expect(provider.keysUrl !== undefined || provider.env.length > 0, id).toBe(true);
    }
  });

  it('describes the seed providers as the public docs do', () => {
    expect(WELL_KNOWN_PROVIDERS['nvidia-nim']).toMatchObject({
      baseURL: 'https://integrate.api.nvidia.com/v1',
      env: ['NVIDIA_API_KEY', 'NVIDIA_NIM_API_KEY'],
      npm: '@ai-sdk/openai-compatible',
    });
    expect(WELL_KNOWN_PROVIDERS['nvidia-nim']?.keysUrl).toContain('build.nvidia.com');
    for (const id of ['opencode-zen', 'opencode']) {
      expect(WELL_KNOWN_PROVIDERS[id]).toMatchObject({ baseURL: 'https://opencode.ai/zen/v1', env: ['OPENCODE_API_KEY'] });
    }
    expect(WELL_KNOWN_PROVIDERS['moonshot-ai']).toMatchObject({ baseURL: 'https://api.moonshot.ai/v1', env: ['MOONSHOT_API_KEY'] });
    expect(WELL_KNOWN_PROVIDERS['kimi-for-coding']).toMatchObject({ baseURL: 'https://api.kimi.com/coding/v1', env: ['KIMI_API_KEY'] });
    expect(WELL_KNOWN_PROVIDERS.openai).toMatchObject({ npm: '@ai-sdk/openai', env: ['OPENAI_API_KEY'] });
    expect(WELL_KNOWN_PROVIDERS.anthropic).toMatchObject({ npm: '@ai-sdk/anthropic', env: ['ANTHROPIC_API_KEY'] });
    expect(WELL_KNOWN_PROVIDERS.google).toMatchObject({ npm: '@ai-sdk/google', env: ['GOOGLE_GENERATIVE_AI_API_KEY', 'GEMINI_API_KEY'] });
  });

  it('marks local servers as needing no key', () => {
    expect(WELL_KNOWN_PROVIDERS.ollama).toMatchObject({ baseURL: 'http://127.0.0.1:11434/v1', needsKey: false });
    expect(WELL_KNOWN_PROVIDERS.lmstudio).toMatchObject({ baseURL: 'http://127.0.0.1:1234/v1', needsKey: false });
    expect(WELL_KNOWN_PROVIDERS['llama-cpp']).toMatchObject({ baseURL: 'http://127.0.0.1:8080/v1', needsKey: false });
    const keyless = providers.filter(([, p]) => !p.needsKey).map(([id]) => id).sort();
    expect(keyless).toEqual(['llama-cpp', 'lmstudio', 'ollama']);
  });

  it('cannot be changed at run time', () => {
    const nim = WELL_KNOWN_PROVIDERS['nvidia-nim'];
    expect(Object.isFrozen(WELL_KNOWN_PROVIDERS)).toBe(true);
    expect(() => {
      (nim as { baseURL?: string }).baseURL = 'http://evil.example';
    }).toThrow(TypeError);
    expect(() => (nim?.env as string[]).push('STOLEN')).toThrow(TypeError);
    expect(nim?.baseURL).toBe('https://integrate.api.nvidia.com/v1');
  });
});

describe('envVarsFor', () => {
  it('puts the provider\'s own <ID>_API_KEY first, then the catalogue\'s names', () => {
    expect(envVarsFor('nvidia-nim')).toEqual(['NVIDIA_NIM_API_KEY', 'NVIDIA_API_KEY']);
    expect(envVarsFor('google')).toEqual(['GOOGLE_API_KEY', 'GOOGLE_GENERATIVE_AI_API_KEY', 'GEMINI_API_KEY']);
    expect(envVarsFor('opencode-zen')).toEqual(['OPENCODE_ZEN_API_KEY', 'OPENCODE_API_KEY']);
    expect(envVarsFor('kimi-for-coding')).toEqual(['KIMI_FOR_CODING_API_KEY', 'KIMI_API_KEY']);
  });

  it('does not repeat a name the catalogue also lists', () => {
    expect(envVarsFor('openai')).toEqual(['OPENAI_API_KEY']);
    expect(envVarsFor('opencode')).toEqual(['OPENCODE_API_KEY']);
    expect(envVarsFor('moonshot-ai')).toEqual(['MOONSHOT_AI_API_KEY', 'MOONSHOT_API_KEY']);
  });

  it('derives a name for providers the catalogue does not know', () => {
    expect(envVarsFor('my-proxy')).toEqual(['MY_PROXY_API_KEY']);
    expect(envVarsFor('local')).toEqual(['LOCAL_API_KEY']);
    expect(envVarsFor('ollama')).toEqual(['OLLAMA_API_KEY']);
    expect(envVarsFor('toString')).toEqual(['TOSTRING_API_KEY']);
    expect(envVarsFor('__proto__')).toEqual(['__PROTO___API_KEY']);
  });

  it('always yields valid environment variable names', () => {
    expect(apiKeyEnvName('acme.ai')).toBe('ACME_AI_API_KEY');
    for (const id of [...Object.keys(WELL_KNOWN_PROVIDERS), 'acme.ai', 'a b']) {
      for (const name of envVarsFor(id)) expect(name).toMatch(/^[A-Z_][A-Z0-9_]*$/);
    }
  });

  it('returns a fresh array each time', () => {
    const first = envVarsFor('nvidia-nim');
    first.push('MUTATED');
    expect(envVarsFor('nvidia-nim')).toEqual(['NVIDIA_NIM_API_KEY', 'NVIDIA_API_KEY']);
  });
});
