import fs from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readAuthStoreFile, removeEntry, saveApiKey, storedApiKey } from '../../src/auth/store.ts';
import { writePrivateFile } from '../../src/auth/private-file.ts';
import { isPantheonError, type PantheonError } from '../../src/errors.ts';
import { readAuthStore } from '../../src/providers/credentials.ts';

const KEY = 'nvapi-abcdefghijklmnopx9Qa';

/** An auth.json as OpenCode writes it: other providers, an OAuth login with odd spacing and number forms. */
const OPENCODE_STORE = `{
  "anthropic": {
    "type": "oauth",
    "refresh": "rt-0123456789abcdef",
    "access": "at-fedcba9876543210",
    "expires": 1764000000000
  },
  "openrouter": { "type": "api", "key": "sk-or-v1-aaaaaaaaaaaaaaaa" },
  "github-copilot": {"type":"oauth","refresh":"gho_x","access":"tid=1;exp=2","expires":0, "enterpriseUrl": null, "scale": 1.50}
}
`;

function mode(stat: { mode: number }): number {
  return stat.mode & 0o777;
}

async function catchError(promise: Promise<unknown> | (() => unknown)): Promise<PantheonError> {
  try {
    if (typeof promise === 'function') promise();
    else await promise;
  } catch (error) {
    if (isPantheonError(error)) return error;
    throw error;
  }
  throw new Error('expected a PantheonError');
}

describe('auth store (auth.json)', () => {
  let root: string;
  let dir: string;
  let file: string;

  beforeEach(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'pantheon-auth-'));
    dir = path.join(root, 'data', 'opencode');
    file = path.join(dir, 'auth.json');
  });
  afterEach(async () => {
    await fs.rm(root, { recursive: true, force: true });
  });

  it('a missing file is an empty store; the first save creates the folder 0700 and the file 0600', async () => {
    expect(readAuthStoreFile(file)).toEqual({ file, text: undefined, entries: {} });
    await saveApiKey(file, 'nvidia-nim', KEY);
    expect(mode(await fs.stat(dir))).toBe(0o700);
    expect(mode(await fs.stat(file))).toBe(0o600);
    expect(JSON.parse(await fs.readFile(file, 'utf8'))).toEqual({ 'nvidia-nim': { type: 'api', key: KEY } });
  });

  it('narrows a 0644 file and a 0755 folder to 0600 / 0700 when writing', async () => {
    await fs.mkdir(dir, { recursive: true, mode: 0o755 });
    await fs.chmod(dir, 0o755);
    await fs.writeFile(file, '{}\n', { mode: 0o644 });
    await fs.chmod(file, 0o644);
    await saveApiKey(file, 'groq', KEY);
    expect(mode(await fs.stat(file))).toBe(0o600);
    expect(mode(await fs.stat(dir))).toBe(0o700);
  });

  it('keeps every other entry byte for byte (OAuth included) when adding, replacing and removing', async () => {
    await fs.mkdir(dir, { recursive: true });
    await fs.writeFile(file, OPENCODE_STORE);
    await saveApiKey(file, 'nvidia-nim', KEY);
    const added = await fs.readFile(file, 'utf8');
    // The original text is untouched up to its closing brace; the new entry follows it.
    const body = OPENCODE_STORE.trimEnd().slice(0, -1).trimEnd();
    expect(added.startsWith(body)).toBe(true);
    expect(JSON.parse(added)).toEqual({ ...JSON.parse(OPENCODE_STORE), 'nvidia-nim': { type: 'api', key: KEY } });
    // "scale": 1.50 survives as written (a JSON round trip would turn it into 1.5).
    expect(added).toContain('"scale": 1.50}');

    await saveApiKey(file, 'openrouter', 'sk-or-v1-bbbbbbbbbbbbbbbb');
    const replaced = await fs.readFile(file, 'utf8');
    expect(replaced).toContain('"github-copilot": {"type":"oauth","refresh":"gho_x","access":"tid=1;exp=2","expires":0, "enterpriseUrl": null, "scale": 1.50}');
    expect(replaced).toContain('"anthropic": {\n    "type": "oauth",\n    "refresh": "rt-0123456789abcdef",');
    expect(storedApiKey(JSON.parse(replaced), 'openrouter')).toBe('sk-or-v1-bbbbbbbbbbbbbbbb');

    expect(await removeEntry(file, 'nvidia-nim')).toBe(true);
    expect(await removeEntry(file, 'openrouter')).toBe(true);
    const removed = JSON.parse(await fs.readFile(file, 'utf8')) as Record<string, unknown>;
    const original = JSON.parse(OPENCODE_STORE) as Record<string, unknown>;
    expect(removed).toEqual({ anthropic: original.anthropic, 'github-copilot': original['github-copilot'] });
    expect(await removeEntry(file, 'nvidia-nim')).toBe(false);
  });

  it('writes atomically: no temp file is left, and a symlinked auth.json stays a link to the real file', async () => {
    const realDir = path.join(root, 'dotfiles');
    await fs.mkdir(realDir);
    await fs.writeFile(path.join(realDir, 'auth.json'), '{}');
    await fs.mkdir(dir, { recursive: true });
    await fs.symlink(path.join(realDir, 'auth.json'), file);
    await saveApiKey(file, 'groq', KEY);
    expect((await fs.lstat(file)).isSymbolicLink()).toBe(true);
    expect(storedApiKey(JSON.parse(await fs.readFile(path.join(realDir, 'auth.json'), 'utf8')), 'groq')).toBe(KEY);
    expect((await fs.readdir(realDir)).sort()).toEqual(['auth.json']);
    expect((await fs.readdir(dir)).sort()).toEqual(['auth.json']);
  });

  it('a failed write leaves no temp file behind and the error reaches the caller', async () => {
    // A non-empty folder where the file should be: the final rename fails.
    const target = path.join(root, 'blocked', 'auth.json');
    await fs.mkdir(path.join(target, 'inside'), { recursive: true });
    await expect(writePrivateFile(target, '{}')).rejects.toMatchObject({ code: expect.stringMatching(/EISDIR|ENOTEMPTY|EEXIST/) });
    expect(await fs.readdir(path.dirname(target))).toEqual(['auth.json']);
  });

  it('a corrupt store is reported (position, never its text) and never overwritten', async () => {
    await fs.mkdir(dir, { recursive: true });
    const corrupt = `{\n  "openrouter": { "type": "api", "key": "sk-or-v1-secretsecretsecret" },\n  oops\n}\n`;
    await fs.writeFile(file, corrupt);
    const before = await fs.stat(file);
    const read = await catchError(() => readAuthStoreFile(file));
    expect(read.code).toBe('STORE_ERROR');
    expect(read.message).toBe(`The credential store ${file} is not valid JSON at line 3, column 3; it was left untouched.`);
    expect(read.hint).toMatch(/never overwrites/);
    expect(JSON.stringify(read)).not.toContain('secret');
    expect(String(read.cause)).not.toContain('secret');
    for (const attempt of [saveApiKey(file, 'groq', KEY), removeEntry(file, 'openrouter')]) {
      expect((await catchError(attempt)).code).toBe('STORE_ERROR');
    }
    const after = await fs.stat(file);
    expect(await fs.readFile(file, 'utf8')).toBe(corrupt);
    expect(after.mtimeMs).toBe(before.mtimeMs);
    expect(await fs.readdir(dir)).toEqual(['auth.json']);
  });

  it('a store that is not an object, or cannot be read, is reported; whitespace only is empty', async () => {
    await fs.mkdir(dir, { recursive: true });
    await fs.writeFile(file, '["not", "an", "object"]');
    expect((await catchError(() => readAuthStoreFile(file))).message).toMatch(/is not a JSON object; it was left untouched\.$/);
    await fs.writeFile(file, ' \n');
    expect(readAuthStoreFile(file).entries).toEqual({});
    await fs.rm(file);
    await fs.mkdir(file);
    const error = await catchError(() => readAuthStoreFile(file));
    expect(error.code).toBe('STORE_ERROR');
    expect(error.message).toBe(`Cannot read the credential store ${file} (it is a folder, not a file).`);
    expect(error.exitCode).toBe(1);
  });

  it('readAuthStore (used by providers) reads the same file through the same reader', async () => {
    const env = { XDG_DATA_HOME: path.join(root, 'data') };
    expect(readAuthStore(env)).toEqual({});
    await fs.mkdir(dir, { recursive: true });
    await fs.writeFile(file, OPENCODE_STORE);
    expect(readAuthStore(env)).toEqual(JSON.parse(OPENCODE_STORE));
    await fs.writeFile(file, '{ broken');
    expect(() => readAuthStore(env)).toThrow(/not valid JSON at line 1/);
    expect(existsSync(file)).toBe(true);
  });
});
