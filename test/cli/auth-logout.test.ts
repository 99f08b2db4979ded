import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sandbox, type Sandbox } from './cli-helper.ts';

const STORE = `{
  "anthropic": {"type":"oauth","refresh":"rt-0123456789abcdef","access":"at-0123456789abcdef","expires":1},
  "nvidia-nim": {
    "type": "api",
    "key": "nvapi-0123456789abcdef"
  },
  "openrouter": {
    "type": "api",
    "key": "sk-or-v1-0123456789abcdef"
  }
}
`;

describe('opencode auth logout', () => {
  let sb: Sandbox;
  let store: string;

  beforeEach(async () => {
    sb = await sandbox();
    store = path.join(sb.dataHome, 'opencode', 'auth.json');
    await fs.mkdir(path.dirname(store), { recursive: true });
    await fs.writeFile(store, STORE, { mode: 0o600 });
  });
  afterEach(async () => {
    await sb.remove();
  });

  it('removes that entry only; the others keep their bytes; mode 0600', async () => {
    const r = await sb.run(['auth', 'logout', 'nvidia-nim']);
    expect(r).toMatchObject({ code: 0, stdout: `removed nvidia-nim from ${store}\n`, stderr: '' });
    expect(await fs.readFile(store, 'utf8')).toBe(`{
  "anthropic": {"type":"oauth","refresh":"rt-0123456789abcdef","access":"at-0123456789abcdef","expires":1},
  "openrouter": {
    "type": "api",
    "key": "sk-or-v1-0123456789abcdef"
  }
}
`);
    expect((await fs.stat(store)).mode & 0o777).toBe(0o600);
    expect(`${r.stdout}${r.stderr}`).not.toMatch(/nvapi-0123/);
  });

  it('notes when the provider still has a key in the environment', async () => {
    const r = await sb.run(['auth', 'logout', 'openrouter'], { env: { OPENROUTER_API_KEY: 'sk-or-v1-envenvenvenvenv' } });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('note: openrouter still has a key in the environment (OPENROUTER_API_KEY).\n');
    expect(`${r.stdout}${r.stderr}`).not.toContain('sk-or-v1-env');
  });

  it('a provider with no entry: exit 2, did you mean, the stored providers; nothing written', async () => {
    const before = await sb.snapshot();
    const [typo, prefix, none] = await Promise.all([sb.run(['auth', 'logout', 'openroutr']), sb.run(['auth', 'logout', 'nvidia']), sb.run(['auth', 'logout'])]);
    expect(typo).toMatchObject({
      code: 2,
      stdout: '',
      stderr: `error: auth logout: "openroutr" has no entry in ${store}; did you mean "openrouter"?\nhint: Stored providers: anthropic, nvidia-nim, openrouter.\n`,
    });
    expect(prefix.stderr).toContain('did you mean "nvidia-nim"?');
    expect(none).toMatchObject({ code: 2, stderr: 'error: auth logout: name the provider to remove.\nhint: Stored providers: anthropic, nvidia-nim, openrouter.\n' });
    expect(await sb.snapshot()).toEqual(before);
  });

  it('an empty or missing store says so', async () => {
    await fs.rm(store);
    const r = await sb.run(['auth', 'logout', 'groq']);
    expect(r).toMatchObject({ code: 2, stderr: `error: auth logout: "groq" has no entry in ${store}.\nhint: ${store} holds no entries.\n` });
  });
});
