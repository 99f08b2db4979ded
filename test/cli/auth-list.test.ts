import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SECRET, hasStack, sandbox, type CliResult, type Sandbox } from './cli-helper.ts';

const STORE_KEY = 'sk-or-v1-0123456789abcdef';
const ENV_KEY = 'nvapi-0123456789env9Qa';

const STORE = {
  openrouter: { type: 'api', key: STORE_KEY },
  anthropic: { type: 'oauth', refresh: 'rt-0123456789abcdef', access: 'at-0123456789abcdef', expires: 1 },
};

function noSecrets(r: CliResult): void {
  for (const key of [SECRET, STORE_KEY, ENV_KEY, 'rt-0123456789abcdef', 'at-0123456789abcdef']) {
    expect(r.stdout).not.toContain(key);
    expect(r.stderr).not.toContain(key);
  }
  expect(hasStack(r.stderr)).toBe(false);
}

describe('opencode auth list / ls / status', () => {
  let sb: Sandbox;
  let store: string;
  const env = { NVIDIA_API_KEY: ENV_KEY };

  beforeAll(async () => {
    sb = await sandbox();
    store = path.join(sb.dataHome, 'opencode', 'auth.json');
    await fs.mkdir(path.dirname(store), { recursive: true });
    await fs.writeFile(store, JSON.stringify(STORE, null, 2), { mode: 0o600 });
    sb.write('opencode.json', {
      provider: { p: { options: { baseURL: 'https://p.example/v1', apiKey: SECRET }, models: { m: {} } } },
      model: 'p/m',
      agent: {
        oracle: { model: 'google/gemini-3-pro', fallbacks: ['openrouter/x', 'nvidia-nim/y'] },
        explore: { model: 'openrouter/x' },
      },
    });
  });
  afterAll(async () => {
    await sb.remove();
  });

  it('each provider with its source (config, auth.json, env) and masked key; a warning per agent without a credential', async () => {
    const r = await sb.run(['auth', 'list'], { env });
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines.map((l) => l.split(/\s{2,}/))).toEqual([
      ['PROVIDER', 'SOURCE', 'KEY', 'NOTE'],
      ['anthropic', 'none', '-', 'auth.json holds a "oauth" login, used only by a plugin\'s auth hook; opencode auth login anthropic, or set ANTHROPIC_API_KEY'],
      ['google', 'none', '-', 'opencode auth login google, or set GOOGLE_GENERATIVE_AI_API_KEY'],
      ['nvidia-nim', 'env NVIDIA_API_KEY', 'nvap…v9Qa'],
      ['openrouter', 'auth.json', 'sk-o…cdef'],
      ['p', 'config', 'sk-a…p9Qa'],
      [`store: ${store}`],
    ]);
    expect(r.stderr).toBe(
      'warning: agent "oracle" has no credential for google (run `opencode auth login google` or set GOOGLE_GENERATIVE_AI_API_KEY).\n',
    );
    noSecrets(r);
  });

  it('ls and status are the same command', async () => {
    const [list, ls, status] = await Promise.all(['list', 'ls', 'status'].map((a) => sb.run(['auth', a], { env })));
    expect(ls).toEqual(list);
    expect(status).toEqual(list);
  });

  it('--json: one document with sources, masked keys and the warnings', async () => {
    const r = await sb.run(['auth', 'list', '--json'], { env });
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { store: string; providers: { id: string; source: string; from?: string; maskedKey?: string }[]; warnings: { agent: string; providers: string[] }[] };
    expect(doc.store).toBe(store);
    const by = Object.fromEntries(doc.providers.map((p) => [p.id, p]));
    expect(by.p).toMatchObject({ source: 'config', maskedKey: 'sk-a…p9Qa', configured: true, used: true });
    expect(by.openrouter).toMatchObject({ source: 'auth.json', from: store, maskedKey: 'sk-o…cdef', stored: 'api' });
    expect(by['nvidia-nim']).toMatchObject({ source: 'env', from: 'NVIDIA_API_KEY', maskedKey: 'nvap…v9Qa' });
    expect(doc.warnings).toEqual([expect.objectContaining({ agent: 'oracle', providers: ['google'] })]);
    noSecrets(r);
  });

  it('without the env key, nvidia-nim drops out of the list and oracle is warned about it too', async () => {
    const r = await sb.run(['auth', 'list']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^nvidia-nim\s+none\s+-\s+opencode auth login nvidia-nim, or set NVIDIA_API_KEY$/m);
    expect(r.stderr).toContain('agent "oracle" has no credential for google (run `opencode auth login google` or set GOOGLE_GENERATIVE_AI_API_KEY), nvidia-nim (run `opencode auth login nvidia-nim` or set NVIDIA_API_KEY).');
  });

  it('a key in auth.json that the config overrides is flagged as unused', async () => {
    const other = await sandbox();
    try {
      const file = path.join(other.dataHome, 'opencode', 'auth.json');
      await fs.mkdir(path.dirname(file), { recursive: true });
      await fs.writeFile(file, JSON.stringify({ p: { type: 'api', key: STORE_KEY } }));
      other.write('opencode.json', { provider: { p: { options: { baseURL: 'https://p.example/v1', apiKey: SECRET } } } });
      const r = await other.run(['auth', 'list']);
      expect(r.stdout.split('\n')[1]?.split(/\s{2,}/)).toEqual(['p', 'config', 'sk-a…p9Qa', "its auth.json key is unused: the config's apiKey wins"]);
      noSecrets(r);
    } finally {
      await other.remove();
    }
  });

  it('agents missing the same credentials share one warning line: one agent, a few named, many counted', async () => {
    const other = await sandbox();
    try {
      const agents: Record<string, object> = { oracle: { model: 'google/g' }, explore: { model: 'openrouter/x' }, librarian: { model: 'openrouter/x' } };
      for (const name of ['a1', 'a2', 'a3', 'a4', 'a5']) agents[name] = { model: 'nvidia-nim/y' };
      other.write('opencode.json', { agent: agents });
      const r = await other.run(['auth', 'list']);
      expect(r.code).toBe(0);
      const warnings = r.stderr.split('\n').filter((l) => l.startsWith('warning: '));
      expect(warnings).toContain('warning: agent "oracle" has no credential for google (run `opencode auth login google` or set GOOGLE_GENERATIVE_AI_API_KEY).');
      expect(warnings).toContain('warning: agents "explore", "librarian" have no credential for openrouter (run `opencode auth login openrouter` or set OPENROUTER_API_KEY).');
      expect(warnings.filter((l) => l.includes('nvidia-nim'))).toEqual([
        expect.stringMatching(/^warning: \d+ agents \((?:[\w-]+, ){2}[\w-]+ \(\+\d+ more\)\) have no credential for nvidia-nim \(run `opencode auth login nvidia-nim` or set NVIDIA_API_KEY\)\.$/),
      ]);
      // --json keeps one warning per agent.
      const doc = JSON.parse((await other.run(['auth', 'list', '--json'])).stdout) as { warnings: { agent: string }[] };
      expect(doc.warnings.map((w) => w.agent)).toEqual(expect.arrayContaining(['oracle', 'explore', 'librarian', 'a1', 'a5']));
    } finally {
      await other.remove();
    }
  });

  it('auth --help lists its actions; login --help its flags', async () => {
    const [auth, login] = await Promise.all([sb.run(['auth', '--help']), sb.run(['auth', 'login', '--help'])]);
    expect(auth.code).toBe(0);
    for (const word of ['auth login [provider]', 'auth list', 'ls, status', 'auth logout']) expect(auth.stdout).toContain(word);
    for (const flag of ['--key-stdin', '--verify', '--no-verify']) expect(login.stdout).toContain(flag);
  });

  it('a corrupt store: exit 1, one sentence and a hint, the file untouched', async () => {
    const other = await sandbox();
    try {
      const file = path.join(other.dataHome, 'opencode', 'auth.json');
      await fs.mkdir(path.dirname(file), { recursive: true });
      await fs.writeFile(file, `{"openrouter": {"type": "api", "key": "${STORE_KEY}"`);
      const before = await other.snapshot();
      const r = await other.run(['auth', 'list']);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^error: The credential store .*auth\.json is not valid JSON at line 1, column \d+; it was left untouched\.\nhint: .+\n$/);
      expect(await other.snapshot()).toEqual(before);
      noSecrets(r);
    } finally {
      await other.remove();
    }
  });
});
