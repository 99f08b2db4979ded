import { describe, expect, it } from 'vitest';
import { maskConfig } from '../../src/config/mask.ts';
import { maskSecret } from '../../src/config/secrets.ts';

describe('maskSecret', () => {
  it('keeps the first and last 4 characters of long secrets', () => {
    expect(maskSecret('nvapi-abcdefgh-x9Qa')).toBe('nvap…x9Qa');
    expect(maskSecret('123456789012')).toBe('1234…9012');
  });
  it('hides short secrets entirely', () => {
    expect(maskSecret('12345678901')).toBe('****');
    expect(maskSecret('')).toBe('****');
  });
});

describe('maskConfig', () => {
  const config = {
    model: 'nim/qwen',
    provider: {
      nim: {
        options: {
          apiKey: 'nvapi-SECRET-SECRET-x9Qa',
          baseURL: 'https://integrate.api.nvidia.com/v1',
          headers: { Authorization: 'Bearer sk-live-abcdefghijkl', 'X-Api-Key': 'key-1234567890', 'x-auth-token': 'tok', 'User-Agent': 'pantheon/1', 'Ocp-Apim-Subscription-Key': '0123456789abcdef', 'X-Tenant': 'c0ffee00-1234-4d2a-9b1e-5f6a7b8c9d0e', 'anthropic-version': '2023-06-01' },
        },
      },
    },
    mcp: {
      github: {
        type: 'local',
        command: ['gh-mcp'],
        environment: { GITHUB_TOKEN: 'ghp_abcdefghijklmnop', DB_PASSWORD: 'hunter2', AWS_CREDENTIALS: 'aws-credential-value', LOG_LEVEL: 'debug', GH_PAT: 'github_pat_0123456789', PATH: '/usr/bin' },
      },
      remote: { type: 'remote', url: 'https://mcp.example.com', headers: { Cookie: 'session=abcdefghijklmnop', Accept: 'application/json' } },
    },
  };

  it('masks apiKey, credential-like or key-shaped headers and mcp environment values under a credential’s name, and nothing else', () => {
    expect(maskConfig(config)).toEqual({
      model: 'nim/qwen',
      provider: {
        nim: {
          options: {
            apiKey: 'nvap…x9Qa',
            baseURL: 'https://integrate.api.nvidia.com/v1',
            headers: { Authorization: 'Bear…ijkl', 'X-Api-Key': 'key-…7890', 'x-auth-token': '****', 'User-Agent': 'pantheon/1', 'Ocp-Apim-Subscription-Key': '0123…cdef', 'X-Tenant': 'c0ff…9d0e', 'anthropic-version': '2023-06-01' },
          },
        },
      },
      mcp: {
        github: {
          type: 'local',
          command: ['gh-mcp'],
          environment: { GITHUB_TOKEN: 'ghp_…mnop', DB_PASSWORD: '****', AWS_CREDENTIALS: 'aws-…alue', LOG_LEVEL: 'debug', GH_PAT: 'gith…6789', PATH: '/usr/bin' },
        },
        remote: { type: 'remote', url: 'https://mcp.example.com', headers: { Cookie: 'sess…mnop', Accept: 'application/json' } },
      },
    });
  });

  it('returns a copy and leaves the original (even a frozen one) untouched', () => {
    const frozen = Object.freeze(structuredClone(config));
    const masked = maskConfig(frozen);
    expect(masked).not.toBe(frozen);
    expect(frozen.provider.nim.options.apiKey).toBe('nvapi-SECRET-SECRET-x9Qa');
    expect(JSON.stringify(masked)).not.toContain('SECRET');
    expect(JSON.stringify(masked)).not.toContain('hunter2');
  });
});
