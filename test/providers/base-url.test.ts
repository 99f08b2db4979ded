import { describe, expect, it } from 'vitest';
import { fetchableUrl, withoutCredentials } from '../../src/basic-auth.ts';
import { baseURLProblem, modelsUrl } from '../../src/providers/base-url.ts';

describe('a provider base URL', () => {
  it('takes any http(s) URL a request can be sent to', () => {
    for (const ok of ['http://127.0.0.1:8080/v1', 'https://integrate.api.nvidia.com/v1/', 'http://[::1]:11434/v1', 'HTTPS://Host.example', 'https://me@host/v1', 'https://me:p%40ss@host/v1', 'https://host/v1/50%off']) {
      expect(baseURLProblem(ok), ok).toBeUndefined();
    }
  });

  it('says what is wrong with one that is not: no scheme, another scheme, a query, a "%" that starts no escape in its credentials', () => {
    expect(baseURLProblem('integrate.api.nvidia.com/v1')).toBe('expected an http(s) URL such as "https://integrate.api.nvidia.com/v1"');
    expect(baseURLProblem('http://[::1/v1')).toBe('expected an http(s) URL such as "https://integrate.api.nvidia.com/v1"');
    expect(baseURLProblem('ws://host/v1')).toBe('expected an http(s) URL');
    expect(baseURLProblem('localhost:8080')).toBe('expected an http(s) URL');
    // `<baseURL>/chat/completions` would land in the query or the fragment.
    expect(baseURLProblem('https://generativelanguage.googleapis.com/v1beta?key=AIza0123')).toBe('expected no query string or fragment (query parameters go in options.queryParams)');
    expect(baseURLProblem('http://h/v1#x')).toBe('expected no query string or fragment (query parameters go in options.queryParams)');
    for (const bad of ['http://a%zz:b@host/v1', 'http://a:100%@host/v1', 'http://a:%4@host/v1']) {
      expect(baseURLProblem(bad), bad).toBe('expected a user name and password whose "%" each start an escape such as "%25"');
    }
  });

  it('<baseURL>/models joins without doubled slashes and adds the query parameters', () => {
    expect(modelsUrl('http://h/v1/').href).toBe('http://h/v1/models');
    expect(modelsUrl('https://x.test/v1', { a: 'b c' }).href).toBe('https://x.test/v1/models?a=b+c');
    expect(modelsUrl('http://h/openai', { 'api-version': '2024-10-21' }).href).toBe('http://h/openai/models?api-version=2024-10-21');
  });

  it('goes to fetch without its user and password, which become Basic authorization unless the request is authorized otherwise', () => {
    const basic = `Basic ${Buffer.from('me:p@ss').toString('base64')}`;
    const url = new URL('https://me:p%40ss@host/v1/models?a=1');
    expect(fetchableUrl(url, { accept: 'json' })).toEqual({ href: 'https://host/v1/models?a=1', headers: { authorization: basic, accept: 'json' } });
    expect(fetchableUrl(url, { AUTHORIZATION: 'Token t' })).toEqual({ href: 'https://host/v1/models?a=1', headers: { AUTHORIZATION: 'Token t' } });
    expect(fetchableUrl(url, {}, true)).toEqual({ href: 'https://host/v1/models?a=1', headers: {} });
    expect(fetchableUrl(new URL('https://host/v1'))).toEqual({ href: 'https://host/v1', headers: {} });
    expect(withoutCredentials('https://me:p%40ss@host/v1')).toBe('https://host/v1');
    expect(withoutCredentials('https://host/v1')).toBe('https://host/v1');
    expect(withoutCredentials('not a url')).toBe('not a url');
  });
});
