/** OpenCode's MCP OAuth store (mcp-auth.json) as Pantheon reads and writes it, on real files. */
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mcpAuthFor, mcpAuthFile, readMcpAuth, removeMcpAuth, tokensExpired, updateMcpAuth } from '../../src/mcp/oauth-store.ts';

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
});
