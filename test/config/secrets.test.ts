import { describe, expect, it } from 'vitest';
import { configSecrets, environmentSecrets, headerSecrets, secretMasker } from '../../src/config/secrets.ts';
import { redactUrlCredentials } from '../../src/config/url-credentials.ts';

const KEY = 'sk-live-0123456789abcdefXY';

describe('secretMasker', () => {
  const mask = secretMasker([KEY, 'hunter22', 'abc', undefined]);

  it('masks every whole secret, longest first; values under 4 characters are left alone', () => {
    expect(mask(`Bearer ${KEY} was refused; again ${KEY}; abc`)).toBe('Bearer sk-l…efXY was refused; again sk-l…efXY; abc');
    expect(mask('password hunter22 is wrong')).toBe('password **** is wrong');
    expect(secretMasker([])('anything')).toBe('anything');
  });

  it('masks a piece of a secret that an excerpt cut at the text’s end (before its … or ...) or start', () => {
    const cut = `${'A'.repeat(20)}Bearer ${KEY}`.slice(0, 40);
    expect(mask(cut)).toBe(`${'A'.repeat(20)}Bearer ****`);
    expect(mask(`${cut}...`)).toBe(`${'A'.repeat(20)}Bearer ****...`);
    expect(mask(`${cut}\u2026`)).toBe(`${'A'.repeat(20)}Bearer ****\u2026`);
    expect(mask(`${KEY.slice(9)} trailing`)).toBe('**** trailing');
    // A piece under 6 characters, or one that does not touch the cut, is left alone.
    expect(mask('ends with sk-li')).toBe('ends with sk-li');
    expect(mask(`${KEY.slice(0, 12)} in the middle`)).toBe(`${KEY.slice(0, 12)} in the middle`);
  });

  it('takes time linear in what it reads: a 1 MiB secret in a 1 MiB text, cut at both ends', () => {
    const big = `sk-${'a1b2c3d4'.repeat(131_072)}`;
    const text = `${big.slice(500_000)} and ${big.slice(0, 600_000)}`;
    const started = performance.now();
    expect(secretMasker([big])(text)).toBe('**** and ****');
    expect(performance.now() - started).toBeLessThan(2_000); // a correctness bound: the quadratic search took minutes
  });
});

describe('a config’s secrets', () => {
  it('header values under a credential’s name or shaped like a key; environment values under a credential’s name', () => {
    expect(headerSecrets({ 'X-Custom-Key': 'short', 'Ocp-Apim-Subscription-Key': '0123456789abcdef', 'X-Auth': 'tok1', 'X-Model-Sig': 's1g', 'X-Tenant': 'c0ffee00-1234-4d2a', Accept: 'application/json', 'anthropic-version': '2023-06-01', Referer: 'https://opencode.ai/' })).toEqual([
      'short',
      '0123456789abcdef',
      'tok1',
      's1g',
      'c0ffee00-1234-4d2a',
    ]);
    expect(environmentSecrets({ GH_PAT: 'p', API_TOKEN: 't', DB_PASSWD: 'w', LOG_LEVEL: 'debug', PATH: '/usr/bin', PATTERN: 'x' })).toEqual(['p', 't', 'w']);
  });

  it('configSecrets: provider keys and headers, model headers, MCP headers and environment, server keys, webhook secrets', () => {
    const secrets = configSecrets({
      provider: { p: { options: { apiKey: 'pk-000001', headers: { 'X-Custom-Key': 'hk-000002' } }, models: { m: { headers: { Authorization: 'Bearer mk-000003' } } } } },
      mcp: { s: { type: 'local', command: ['x'], environment: { GITHUB_PERSONAL_ACCESS_TOKEN: 'ek-000004', LOG: 'info' } }, r: { type: 'remote', url: 'http://h', headers: { 'X-Mcp-Auth': 'rk-000005' } } },
      server: { keys: ['sk-000006', { key: 'sk-000007', name: 'ci' }], webhooks: [{ url: 'http://w', secret: 'wk-000008' }] },
    } as never);
    expect(secrets.sort()).toEqual(['Bearer mk-000003', 'ek-000004', 'hk-000002', 'pk-000001', 'rk-000005', 'sk-000006', 'sk-000007', 'wk-000008']);
  });
});

describe('redactUrlCredentials', () => {
  it('hides the values of query parameters named as credentials, and leaves the others', () => {
    expect(redactUrlCredentials('GET https://h/v1?key=AIza0123&alt=sse and http://x/y?access_token=t0k#f')).toBe('GET https://h/v1?key=***&alt=sse and http://x/y?access_token=***#f');
    expect(redactUrlCredentials('https://h/v1?api-version=2024-10-21&sig=abc')).toBe('https://h/v1?api-version=2024-10-21&sig=***');
  });
});
