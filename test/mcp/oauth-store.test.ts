/** OpenCode's MCP OAuth store (mcp-auth.json) as Pantheon reads and writes it, on real files. */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MAX_FILE_BYTES, mcpAuthFor, mcpAuthFile, readMcpAuth, removeMcpAuth, tokensExpired, updateMcpAuth } from '../../src/mcp/oauth-store.ts';

const storeModule = pathToFileURL(path.resolve(import.meta.dirname, '..', '..', 'src', 'mcp', 'oauth-store.ts')).href;

describe('mcp-auth.json', () => {
  let dir: string;
  let file: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'pantheon-mcp-auth-'));
    file = path.join(dir, 'opencode', 'mcp-auth.json');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('lives where OpenCode keeps it', () => {
    expect(mcpAuthFile({ XDG_DATA_HOME: '/x/data' })).toBe('/x/data/opencode/mcp-auth.json');
  });

  it('an update changes one entry: the others, and fields of OpenCode’s own (a flow in progress), stay; mode 0600', async () => {
    await updateMcpAuth('a', () => ({ tokens: { accessToken: 'A' }, serverUrl: 'http://a/mcp' }), file);
    expect(((await stat(file)).mode & 0o777).toString(8)).toBe('600');
    const raw = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    await writeFile(file, JSON.stringify({ ...raw, b: { codeVerifier: 'v', oauthState: 's', serverUrl: 'http://b/mcp' } }));
    await updateMcpAuth('b', (e) => ({ ...e, tokens: { accessToken: 'B', expiresAt: 1 } }), file);
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({
      a: { tokens: { accessToken: 'A' }, serverUrl: 'http://a/mcp' },
      b: { codeVerifier: 'v', oauthState: 's', serverUrl: 'http://b/mcp', tokens: { accessToken: 'B', expiresAt: 1 } },
    });
    expect(await mcpAuthFor('b', 'http://b/mcp', file)).toEqual({ tokens: { accessToken: 'B', expiresAt: 1 }, serverUrl: 'http://b/mcp' });
    // Made for another URL: not this server's.
    expect(await mcpAuthFor('b', 'http://elsewhere/mcp', file)).toBeUndefined();
    expect(tokensExpired({ accessToken: 'B', expiresAt: 1 })).toBe(true);
    expect(await removeMcpAuth('a', file)).toBe(true);
    expect(await removeMcpAuth('a', file)).toBe(false);
    expect(Object.keys(await readMcpAuth(file))).toEqual(['b']);
  });

  it('updates at the same time all land (one at a time)', async () => {
    await Promise.all(['a', 'b', 'c', 'd'].map((n) => updateMcpAuth(n, () => ({ tokens: { accessToken: n } }), file)));
    expect(Object.keys(await readMcpAuth(file)).sort()).toEqual(['a', 'b', 'c', 'd']);
  });

  it('a file that is not a JSON object reads as empty and is never written over', async () => {
    await updateMcpAuth('a', () => ({ tokens: { accessToken: 'A' } }), file);
    await writeFile(file, '{"a": {"tokens": ');
    expect(await readMcpAuth(file)).toEqual({});
    await expect(updateMcpAuth('a', () => undefined, file)).rejects.toMatchObject({ code: 'STORE_ERROR', message: `The MCP credential store ${file} is not a JSON object (or cannot be read); it was left untouched.` });
    expect(await readFile(file, 'utf8')).toBe('{"a": {"tokens": ');
  });

  it('entries of another shape are nothing stored', async () => {
    await updateMcpAuth('a', () => ({ tokens: { accessToken: 'A' } }), file);
    await writeFile(file, JSON.stringify({ a: { tokens: { accessToken: 42 } }, b: 'x', c: { clientInfo: { clientId: 'id' } } }));
    expect(await readMcpAuth(file)).toEqual({ a: {}, c: { clientInfo: { clientId: 'id' } } });
  });

  it('two processes writing different servers’ entries at once: none lost (the lock beside it), 0600, no lock left', async () => {
    const script = path.join(dir, 'writer.mjs');
    await writeFile(
      script,
      `import { updateMcpAuth } from ${JSON.stringify(storeModule)};
const [file, prefix] = process.argv.slice(2);
for (let i = 0; i < 40; i++) await updateMcpAuth(prefix + i, () => ({ tokens: { accessToken: prefix + '-token-' + i } }), file);
`,
    );
    const run = (prefix: string) =>
      new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, [script, file, prefix], { stdio: ['ignore', 'ignore', 'pipe'] });
        let stderr = '';
        child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
        child.on('close', (code) => resolve({ code, stderr }));
      });
    const results = await Promise.all([run('a'), run('b')]);
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    const stored = await readMcpAuth(file);
    const missing = ['a', 'b'].flatMap((p) => Array.from({ length: 40 }, (_, i) => `${p}${i}`)).filter((n) => stored[n]?.tokens?.accessToken !== `${n[0]}-token-${n.slice(1)}`);
    expect(missing).toEqual([]);
    expect(((await stat(file)).mode & 0o777).toString(8)).toBe('600');
    expect((await readdir(path.dirname(file))).sort()).toEqual(['mcp-auth.json']);
  }, 60_000);

  it('a file larger than 1 MiB: one warning naming it, read as holding nothing, never written over', async () => {
    await updateMcpAuth('a', () => ({ tokens: { accessToken: 'A' } }), file);
    const big = JSON.stringify({ a: { tokens: { accessToken: 'A' } }, pad: 'x'.repeat(MAX_FILE_BYTES) });
    await writeFile(file, big);
    const warn = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await readMcpAuth(file)).toEqual({});
      expect(await mcpAuthFor('a', 'http://a/mcp', file)).toBeUndefined();
      await expect(updateMcpAuth('b', () => ({ tokens: { accessToken: 'B' } }), file)).rejects.toMatchObject({ code: 'STORE_ERROR', message: `The MCP credential store ${file} is larger than 1 MiB; it was left untouched.` });
      expect(warn.mock.calls.map(([t]) => String(t))).toEqual([
        `warning: the MCP credential store ${file} is larger than 1 MiB, more than such a file ever holds; it is read as holding nothing and never written over (move it aside to sign in again).\n`,
      ]);
    } finally {
      warn.mockRestore();
    }
    expect(await readFile(file, 'utf8')).toBe(big);
  });
});
