import fs from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { SECRET, filesContaining, hasStack, sandbox, type CliResult, type Sandbox } from './cli-helper.ts';

const WRONG = 'sk-wrong-0123456789zzzz';
const MASKED = 'sk-a…p9Qa';

/** An auth.json as OpenCode leaves it: an OAuth login and another API key. */
const OPENCODE_STORE = `{
  "anthropic": {
    "type": "oauth",
    "refresh": "rt-0123456789abcdef",
    "access": "at-fedcba9876543210",
    "expires": 1764000000000
  },
  "openrouter": {
    "type": "api",
    "key": "sk-or-v1-0123456789abcdef"
  }
}`;

function noSecrets(r: CliResult, ...keys: string[]): void {
  for (const key of [SECRET, WRONG, ...keys]) {
    expect(r.stdout).not.toContain(key);
    expect(r.stderr).not.toContain(key);
  }
  expect(hasStack(r.stderr)).toBe(false);
}

describe('opencode auth login', () => {
  let server: ScriptedServer;
  let sb: Sandbox;
  let store: string;

  beforeAll(async () => {
    server = await startScriptedServer({ apiKey: SECRET, models: { m: {} } });
  });
  afterAll(async () => {
    await server.close();
  });
  beforeEach(async () => {
    sb = await sandbox();
    store = path.join(sb.dataHome, 'opencode', 'auth.json');
    sb.write('opencode.json', { provider: { p: { options: { baseURL: server.url }, models: { m: {} } } }, model: 'p/m' });
  });
  afterEach(async () => {
    await sb.remove();
  });

  const writeStore = async (text: string): Promise<void> => {
    await fs.mkdir(path.dirname(store), { recursive: true });
    await fs.writeFile(store, text, { mode: 0o644 });
    await fs.chmod(store, 0o644);
  };

  it('--key-stdin: trims the key, verifies it (200), saves it 0600 in a 0700 folder, prints it masked', async () => {
    const r = await sb.run(['auth', 'login', 'p', '--key-stdin'], { stdin: `  ${SECRET} \n` });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`saved p key ${MASKED} to ${store}\n`);
    expect(r.stderr).toMatch(new RegExp(`^verified: ${server.url}/models accepted the key \\(200, \\d+ ms\\)\\.\\n$`));
    expect(JSON.parse(await fs.readFile(store, 'utf8'))).toEqual({ p: { type: 'api', key: SECRET } });
    expect((await fs.stat(store)).mode & 0o777).toBe(0o600);
    expect((await fs.stat(path.dirname(store))).mode & 0o777).toBe(0o700);
    noSecrets(r);
    expect(await filesContaining(sb.root, SECRET)).toEqual([store]);
  });

  it('round trip with an existing OpenCode auth.json: other entries (OAuth too) keep their bytes; a 0644 file becomes 0600', async () => {
    await writeStore(OPENCODE_STORE);
    const login = await sb.run(['auth', 'login', 'p', '--key-stdin'], { stdin: SECRET });
    expect(login.code).toBe(0);
    const text = await fs.readFile(store, 'utf8');
    expect(text.startsWith(OPENCODE_STORE.slice(0, -2))).toBe(true);
    const original = JSON.parse(OPENCODE_STORE) as Record<string, unknown>;
    expect(JSON.parse(text)).toEqual({ ...original, p: { type: 'api', key: SECRET } });
    expect((await fs.stat(store)).mode & 0o777).toBe(0o600);
    // The key is read back by `run`'s credential lookup: the provider answers.
    const run = await sb.run(['run', 'hello there']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('hello there');
    // Logging out removes just that entry: the file is OpenCode's again, byte for byte.
    const logout = await sb.run(['auth', 'logout', 'p']);
    expect(logout).toMatchObject({ code: 0, stdout: `removed p from ${store}\n` });
    expect(await fs.readFile(store, 'utf8')).toBe(`${OPENCODE_STORE}\n`);
    noSecrets(login);
    noSecrets(run);
  });

  it('a wrong key: the provider refuses it (401), exit 1, nothing saved', async () => {
    await writeStore(OPENCODE_STORE);
    const before = await sb.snapshot();
    const r = await sb.run(['auth', 'login', 'p', '--key-stdin'], { stdin: WRONG });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      `error: p: the key was refused (401) by GET ${server.url}/models; nothing was saved.\nhint: Check that the whole key was pasted, or pass --no-verify to save it without checking.\n`,
    );
    expect(await sb.snapshot()).toEqual(before);
    noSecrets(r);
  });

  it('--no-verify saves without asking the provider (even a key it would refuse)', async () => {
    const r = await sb.run(['auth', 'login', 'p', '--key-stdin', '--no-verify'], { stdin: WRONG });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('note: the key was not verified (--no-verify).\n');
    expect(JSON.parse(await fs.readFile(store, 'utf8'))).toEqual({ p: { type: 'api', key: WRONG } });
    noSecrets(r);
  });

  it('an unreachable provider: a warning, and the key is saved anyway', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    sb.write('opencode.json', { provider: { q: { options: { baseURL: `http://127.0.0.1:${port}/v1` } } } });
    const r = await sb.run(['auth', 'login', 'q', '--key-stdin'], { stdin: SECRET });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('warning: could not verify the key (connection refused); saving it anyway.\n');
    expect(r.stdout).toBe(`saved q key ${MASKED} to ${store}\n`);
    noSecrets(r);
  });

  it('a provider whose API is not OpenAI-shaped is saved with a note that it was not verified', async () => {
    const r = await sb.run(['auth', 'login', 'anthropic', '--key-stdin'], { stdin: SECRET });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('note: the key was not verified: anthropic uses @ai-sdk/anthropic, whose API has no OpenAI-style /models check.\n');
    noSecrets(r);
  });

  it('bad keys and missing input are usage errors (exit 2) and write nothing', async () => {
    const before = await sb.snapshot();
    const cases: [string[], string | undefined, RegExp][] = [
      [['auth', 'login', 'p', '--key-stdin'], 'sk-abc defghijklmnop', /^error: The key contains whitespace inside it; an API key is a single word\.\nhint: .*--key-stdin/],
      [['auth', 'login', 'p', '--key-stdin'], `${SECRET}\n${SECRET}\n`, /^error: The key spans more than one line/],
      [['auth', 'login', 'p', '--key-stdin'], ' \n', /^error: The key is empty\.\n/],
      [['auth', 'login', 'p', '--key-stdin'], undefined, /^error: The key is empty\.\n/],
      [['auth', 'login', 'p'], undefined, /^error: auth login: there is no terminal to type the key on; pass --key-stdin and pipe the key\.\nhint: For example `printf %s "\$KEY" \| opencode auth login p --key-stdin`\.\n$/],
      [['auth', 'login'], undefined, /^error: auth login: name a provider; there is no terminal to choose one on\.\nhint: .*Configured: p\.\n$/],
      [['auth', 'login', 'nvidai-nim', '--key-stdin'], SECRET, /^error: Unknown provider "nvidai-nim"; did you mean "nvidia-nim"\?\nhint: Configured: p\. Well-known: nvidia-nim, /],
    ];
    const results = await Promise.all(cases.map(([args, stdin]) => sb.run(args, stdin === undefined ? {} : { stdin })));
    results.forEach((r, i) => {
      expect(r.code, String(cases[i]?.[0])).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(cases[i]?.[2] as RegExp);
      expect(r.stderr.trim().split('\n')).toHaveLength(2);
      noSecrets(r, 'abcdefghijklmnop');
    });
    expect(await sb.snapshot()).toEqual(before);
  });

  it('a corrupt auth.json is reported in one sentence and left untouched; no key is asked for', async () => {
    const corrupt = '{ "openrouter": { "type": "api", "key": "sk-or-v1-0123456789abcdef" },,\n}';
    await writeStore(corrupt);
    const before = await sb.snapshot();
    const r = await sb.run(['auth', 'login', 'p', '--key-stdin'], { stdin: SECRET });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `error: The credential store ${store} is not valid JSON at line 1, column 71; it was left untouched.\nhint: Fix the file by hand or move it aside, then run \`opencode auth login\` again; Pantheon never overwrites a store it cannot read.\n`,
    );
    expect(await sb.snapshot()).toEqual(before);
    noSecrets(r, 'sk-or-v1-0123456789abcdef');
  });
});
