import { describe, expect, it } from 'vitest';
import { serverEnvironment } from '../../src/mcp/server-env.ts';

describe('serverEnvironment', () => {
  const parent = {
    PATH: '/usr/bin',
    HOME: '/home/u',
    USER: 'u',
    LANG: 'en_US.UTF-8',
    LC_ALL: 'C',
    LC_TIME: 'de_DE',
    TERM: 'xterm',
    TMPDIR: '/tmp/u',
    HTTPS_PROXY: 'http://proxy:3128',
    OPENAI_API_KEY: 'sk-secret',
    NVIDIA_API_KEY: 'nvapi-secret',
    GITHUB_TOKEN: 'ghp_secret',
    AWS_SECRET_ACCESS_KEY: 'aws',
    NODE_OPTIONS: '--inspect',
    npm_config_registry: 'https://example.test',
    BASH_FUNC_x: '() { echo hi; }',
    SHELL: '() { evil; }',
  };

  it('passes the safe list through and nothing else', () => {
    const env = serverEnvironment(undefined, parent);
    expect(env).toEqual({
      PATH: '/usr/bin',
      HOME: '/home/u',
      USER: 'u',
      LANG: 'en_US.UTF-8',
      LC_ALL: 'C',
      LC_TIME: 'de_DE',
      TERM: 'xterm',
      TMPDIR: '/tmp/u',
      HTTPS_PROXY: 'http://proxy:3128',
    });
  });

  it('merges the server environment over it, secrets included when the user names them', () => {
    const env = serverEnvironment({ GITHUB_TOKEN: 'ghp_for_this_server', PATH: '/opt/bin', EXTRA: '1' }, parent);
    expect(env).toMatchObject({ GITHUB_TOKEN: 'ghp_for_this_server', PATH: '/opt/bin', EXTRA: '1', HOME: '/home/u' });
    expect(env).not.toHaveProperty('OPENAI_API_KEY');
  });

  it('drops exported shell functions even under a safe name', () => {
    expect(serverEnvironment(undefined, parent)).not.toHaveProperty('SHELL');
  });
});
