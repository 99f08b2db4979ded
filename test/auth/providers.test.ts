import { describe, expect, it } from 'vitest';
import { loginCandidates, providerInfo, requireProvider } from '../../src/auth/providers.ts';
import type { Config } from '../../src/config/schema-types.ts';
import { isPantheonError } from '../../src/errors.ts';
import { WELL_KNOWN_PROVIDERS } from '../../src/providers/catalog.ts';

const config: Config = {
  provider: {
    acme: { name: 'Acme AI', env: ['ACME_TOKEN'], options: { baseURL: 'https://api.acme.test/v1', headers: { 'x-team': 't' } } },
    box: { options: { baseURL: 'http://127.0.0.1:8080/v1' } },
    'nvidia-nim': { options: { baseURL: 'http://localhost:9999/v1' } },
  },
};

function unknown(id: string): { message: string; hint?: string; exitCode: number; code: string } {
  try {
    requireProvider(config, id);
  } catch (error) {
    if (isPantheonError(error)) return error;
    throw error;
  }
  throw new Error('expected UNKNOWN_PROVIDER');
}

describe('providers for auth', () => {
  it('a configured provider: its config over the catalogue, env names in lookup order', () => {
    expect(providerInfo(config, 'acme')).toEqual({
      id: 'acme',
      name: 'Acme AI',
      npm: '@ai-sdk/openai-compatible',
      baseURL: 'https://api.acme.test/v1',
      envVars: ['ACME_TOKEN', 'ACME_API_KEY'],
      envVar: 'ACME_TOKEN',
      needsKey: true,
      configured: true,
      wellKnown: false,
      headers: { 'x-team': 't' },
      queryParams: {},
    });
    const nim = providerInfo(config, 'nvidia-nim');
    expect(nim).toMatchObject({ name: 'NVIDIA NIM', baseURL: 'http://localhost:9999/v1', envVar: 'NVIDIA_API_KEY', keysUrl: 'https://build.nvidia.com', configured: true, wellKnown: true });
  });

  it('needsKey: the catalogue says so; a declared provider on this machine needs none', () => {
    expect(providerInfo(config, 'box')?.needsKey).toBe(false);
    expect(providerInfo(config, 'nvidia-nim')?.needsKey).toBe(false);
    expect(providerInfo({}, 'nvidia-nim')?.needsKey).toBe(true);
    expect(providerInfo({}, 'ollama')?.needsKey).toBe(false);
    expect(providerInfo({}, 'nope')).toBeUndefined();
  });

  it('login candidates: configured first in config order, then the whole catalogue, each once', () => {
    const ids = loginCandidates(config).map((p) => p.id);
    expect(ids.slice(0, 3)).toEqual(['acme', 'box', 'nvidia-nim']);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(expect.arrayContaining(Object.keys(WELL_KNOWN_PROVIDERS)));
  });

  it('an unknown provider: exit 2, did you mean, and the known ones in the hint', () => {
    const typo = unknown('nvidai-nim');
    expect(typo).toMatchObject({ code: 'UNKNOWN_PROVIDER', exitCode: 2, message: 'Unknown provider "nvidai-nim"; did you mean "nvidia-nim"?' });
    expect(typo.hint).toMatch(/^Configured: acme, box, nvidia-nim\. Well-known: .*openrouter/);
    expect(unknown('acne').message).toBe('Unknown provider "acne"; did you mean "acme"?');
    expect(unknown('zzzzzzzz').message).toBe('Unknown provider "zzzzzzzz".');
    expect(requireProvider(config, 'openrouter').id).toBe('openrouter');
  });
});
