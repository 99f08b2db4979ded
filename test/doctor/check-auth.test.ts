import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SECRET, check, doctorTree, type DoctorTree } from './helper.ts';

const mode = (file: string): number => fs.statSync(file).mode & 0o777;

describe('doctor auth', () => {
  let tree: DoctorTree;

  beforeEach(async () => {
    tree = await doctorTree();
  });
  afterEach(async () => {
    await tree.remove();
  });

  it('says where each used provider\'s key comes from, never the key', async () => {
    tree.write('opencode.json', {
      model: 'nvidia-nim/qwen',
      fallbacks: ['groq/llama', 'p/m', 'ollama/llama3'],
      provider: { p: { options: { baseURL: 'http://127.0.0.1:9/v1', apiKey: SECRET } } },
    });
    tree.writeAuth({ groq: { type: 'api', key: SECRET }, other: { type: 'oauth', refresh: 'x' } });
    tree.env.NVIDIA_API_KEY = SECRET;
    const report = await tree.doctor({ groups: ['auth'] });
    expect(check(report, 'auth', 'nvidia-nim')).toMatchObject({ status: 'ok', message: expect.stringMatching(/^key from \$NVIDIA_API_KEY; used by \d+ agents/) });
    expect(check(report, 'auth', 'groq').message).toMatch(/^key in auth\.json; /);
    expect(check(report, 'auth', 'p').message).toMatch(/^key set in the config \(provider\.p\.options\.apiKey\); /);
    expect(check(report, 'auth', 'ollama').message).toMatch(/^needs no key \(local server\); /);
    expect(check(report, 'auth', 'store').status).toBe('ok');
    expect(check(report, 'auth', 'store folder').status).toBe('ok');
    expect(JSON.stringify(report)).not.toContain(SECRET);
    expect(report.ok).toBe(true);
  });

  it('fails a missing key that leaves agents nothing, warns when the chain can skip it', async () => {
    tree.write('opencode.json', { model: 'nvidia-nim/qwen', fallbacks: ['groq/llama'], agent: { oracle: { model: 'google/gemini', fallbacks: [] } } });
    tree.env.GROQ_API_KEY = SECRET;
    const report = await tree.doctor({ groups: ['auth'] });
    expect(check(report, 'auth', 'nvidia-nim')).toMatchObject({ status: 'warn', message: expect.stringMatching(/^no key: chains skip it/) });
    expect(check(report, 'auth', 'google')).toMatchObject({
      status: 'fail',
      message: 'no key, and nothing else in the chain of oracle',
      hint: 'Run `opencode auth login google`, or set GOOGLE_GENERATIVE_AI_API_KEY.',
    });
    expect(report.ok).toBe(false);
  });

  it('a provider with an OAuth login and no key (a plugin\'s, as opencode-gemini-auth stores it) is a warning naming the plugin\'s hook, not a failure', async () => {
    tree.write('opencode.json', { model: 'google/gemini', fallbacks: [] });
    tree.writeAuth({ google: { type: 'oauth', refresh: 'r', access: 'a', expires: 1 } });
    const report = await tree.doctor({ groups: ['auth'] });
    expect(check(report, 'auth', 'google')).toMatchObject({ status: 'warn', message: expect.stringMatching(/^no key; auth\.json holds a "oauth" login, which only a project plugin's auth hook for google uses; /) });
    expect(report.ok).toBe(true);
  });

  it('warns about an auth.json others can read, and --fix makes it 0600', async () => {
    const file = tree.writeAuth({ groq: { type: 'api', key: SECRET } }, 0o644);
    fs.chmodSync(file, 0o644);
    fs.chmodSync(path.dirname(file), 0o755);
    const before = await tree.doctor({ groups: ['auth'] });
    expect(check(before, 'auth', 'store')).toMatchObject({
      status: 'warn',
      message: `${file} is 0644: others may read your keys`,
      hint: `chmod 600 ${file}, or run \`opencode doctor --fix\`.`,
    });
    expect(check(before, 'auth', 'store folder').status).toBe('warn');
    expect(before.fixed).toEqual([]);
    expect(mode(file)).toBe(0o644);

    const fixed = await tree.doctor({ groups: ['auth'], fix: true });
    expect(fixed.fixed).toEqual([`credential store ${file}: mode 0644 → 0600`, `credential folder ${path.dirname(file)}: mode 0755 → 0700`]);
    expect(mode(file)).toBe(0o600);
    expect(mode(path.dirname(file))).toBe(0o700);
    expect(check(fixed, 'auth', 'store').status).toBe('ok');
    expect(fs.readFileSync(file, 'utf8')).toContain(SECRET);
  });

  it('reports a corrupt auth.json and leaves it untouched, even with --fix', async () => {
    const file = tree.writeAuth({}, 0o600);
    fs.writeFileSync(file, '{ not json');
    const report = await tree.doctor({ groups: ['auth'], fix: true });
    expect(check(report, 'auth', 'store').status).toBe('fail');
    expect(check(report, 'auth', 'store').message).toContain(file);
    expect(fs.readFileSync(file, 'utf8')).toBe('{ not json');
  });
});
