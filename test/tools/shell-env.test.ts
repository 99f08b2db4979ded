import { describe, expect, it } from 'vitest';
import { shellEnv } from '../../src/tools/shell-env.ts';
import { executeTool } from '../../src/tools/index.ts';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

describe('shellEnv', () => {
  it('drops credential-looking variables and keeps the rest', () => {
    const env = shellEnv({
      PATH: '/usr/bin',
      HOME: '/home/u',
      NVIDIA_API_KEY: 'nvapi-secret',
      OPENAI_API_KEY: 'sk-secret',
      GITHUB_TOKEN: 'ghp_secret',
      MY_SERVICE_SECRET: 'x',
      DB_PASSWORD: 'y',
      GEMINI_API_KEY: 'z',
      MONKEY: 'keeps a name that merely ends in KEY letters',
      EDITOR: 'vim',
    });
    expect(Object.keys(env).sort()).toEqual(['EDITOR', 'HOME', 'MONKEY', 'PATH']);
  });

  it('keeps keys out of what a model sees from `env` in the bash tool', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'pantheon-shellenv-'));
    const output = await executeTool('bash', { command: 'env' }, {
      projectRoot: root,
      permission: { bash: 'allow' },
      auto: false,
      interactive: false,
      env: { PATH: process.env.PATH, NVIDIA_API_KEY: 'nvapi-very-secret-123', VISIBLE_MARKER: 'yes' },
    });
    expect(output).toContain('VISIBLE_MARKER=yes');
    expect(output).not.toContain('nvapi-very-secret-123');
  });
});
