/**
 * MCP OAuth through the built CLI, against a real OAuth-protected MCP server (the SDK's
 * authorization server and bearer middleware): `mcp auth NAME` (the test plays the browser),
 * tokens saved where OpenCode keeps them (mcp-auth.json, 0600, OpenCode's shape), used on connect,
 * refreshed when refused, `needs_auth` when the refresh is refused, `needs_client_registration`,
 * a state that does not match, a callback that never comes, `mcp auth list`, `mcp logout`; no
 * token ever in the output.
 */
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { freePort } from '../mcp/helpers.ts';
import { followAuthorization, startOAuthMcpServer, type OAuthMcpServer } from '../support/oauth-mcp-server.ts';
import { hasStack, sandbox, type Sandbox } from './cli-helper.ts';

const URL_LINE = /\n {2}(http:\/\/127\.0\.0\.1:\d+\/authorize\?\S+)\n/;

describe('opencode mcp auth (OAuth)', () => {
  let sb: Sandbox;
  let server: OAuthMcpServer;
  let port: number;
  const storeFile = () => path.join(sb.dataHome, 'opencode', 'mcp-auth.json');
  const store = async () => JSON.parse(await readFile(storeFile(), 'utf8')) as Record<string, Record<string, Record<string, unknown> | string>>;
  const noSecrets = (text: string) => {
    for (const secret of server.secrets()) expect(text).not.toContain(secret);
  };

  beforeEach(async () => {
    sb = await sandbox();
    server = await startOAuthMcpServer();
    port = await freePort();
    sb.write('opencode.json', { mcp: { linear: { type: 'remote', url: server.url, oauth: { callbackPort: port } } } });
  });
  afterEach(async () => {
    await sb.remove();
    await server.close();
  });

  /** Runs `mcp auth linear`, plays the browser, and answers the CLI's result. */
  async function signIn(args: string[] = []) {
    const cli = sb.start(['mcp', 'auth', 'linear', ...args]);
    const [, url] = URL_LINE.exec(await cli.stderrMatches(URL_LINE)) as RegExpExecArray;
    const page = await followAuthorization(url as string);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Authorization successful');
    return cli.exited;
  }

  it('signs in: URL printed, callback on the loopback port, tokens saved in OpenCode’s shape (0600); then used on connect', async () => {
    const r = await signIn();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`Signed in to MCP server "linear"; its tokens are in ${storeFile()}. It connects: 1 tool.\n`);
    expect(r.stderr).toContain(`Open this URL in a browser to sign in to MCP server "linear":`);
    expect(r.stderr).toContain(`redirect_uri=${encodeURIComponent(`http://127.0.0.1:${port}/mcp/oauth/callback`)}`);
    expect(server.registrations()).toBe(1);
    const saved = await store();
    expect(saved.linear).toEqual({
      tokens: { accessToken: expect.stringMatching(/^at-/), refreshToken: expect.stringMatching(/^rt-/), expiresAt: expect.any(Number), issuer: expect.any(String) },
      clientInfo: { clientId: expect.stringMatching(/^client-/), clientIdIssuedAt: expect.any(Number), issuer: expect.any(String) },
      serverUrl: server.url,
    });
    expect(((await stat(storeFile())).mode & 0o777).toString(8)).toBe('600');
    expect(server.validAccessTokens()).toContain((saved.linear?.tokens as Record<string, unknown>).accessToken);

    const list = await sb.run(['mcp', 'list']);
    expect(list.stdout).toMatch(/^linear {2}connected {2}1 tool · streamable-http/);
    const auth = await sb.run(['mcp', 'auth', 'list']);
    expect(auth.stdout).toBe(`\u2713 linear  authenticated      ${server.url}\n`);
    const call = await sb.run(['mcp', 'call', 'linear', 'echo', '--args', '{"a":1}']);
    expect(call.stdout).toBe('echo: {"a":1}\n');
    const debug = await sb.run(['mcp', 'debug', 'linear']);
    expect(debug.code, debug.stderr).toBe(0);
    expect(debug.stdout).toContain('Auth status: \u2713 authenticated\n  Access token: present (not shown)\n  Expires: ');
    expect(debug.stdout).toContain('\nHTTP response to an initialize without an OAuth token: 401 Unauthorized\nWWW-Authenticate: Bearer error="invalid_token"');
    expect(debug.stdout).toContain('\nConnection with the stored credentials: connected, 1 tool\n');
    noSecrets(r.stdout + r.stderr + list.stdout + list.stderr + auth.stdout + call.stdout + call.stderr + debug.stdout + debug.stderr);
  });

  it('a token OpenCode saved (no issuer stamp) is used; refused as expired, it is refreshed and the new one saved; a refused refresh is needs_auth', async () => {
    await signIn();
    // As OpenCode writes it: no `issuer`, expiresAt in seconds, other entries kept.
    const saved = await store();
    const { issuer: _i, ...tokens } = saved.linear?.tokens as Record<string, unknown>;
    const { issuer: _c, ...clientInfo } = saved.linear?.clientInfo as Record<string, unknown>;
    await writeFile(storeFile(), JSON.stringify({ other: { tokens: { accessToken: 'keep-me' } }, linear: { tokens, clientInfo, serverUrl: server.url } }, null, 2), { mode: 0o600 });
    server.expireAccessTokens();
    const list = await sb.run(['mcp', 'list', '--json']);
    expect(JSON.parse(list.stdout).servers[0]).toMatchObject({ name: 'linear', state: 'connected', toolCount: 1 });
    expect(list.stderr).toBe('');
    expect(server.refreshes()).toBe(1);
    const after = await store();
    expect((after.linear?.tokens as Record<string, unknown>).accessToken).not.toBe(tokens.accessToken);
    expect(server.validAccessTokens()).toContain((after.linear?.tokens as Record<string, unknown>).accessToken);
    expect(after.other).toEqual({ tokens: { accessToken: 'keep-me' } });

    server.expireAccessTokens();
    server.refuseRefresh(true);
    const refused = await sb.run(['mcp', 'list', '--json']);
    expect(JSON.parse(refused.stdout).servers[0]).toMatchObject({
      name: 'linear',
      state: 'needs_auth',
      reason: `HTTP 401 from ${server.url}: the server wants you to sign in: run \`opencode mcp auth linear\``,
    });
    // The refused tokens are dropped (as OpenCode does); the client registration stays.
    expect((await store()).linear).toEqual({ clientInfo: expect.objectContaining({ clientId: clientInfo.clientId }), serverUrl: server.url });
    const auth = await sb.run(['mcp', 'auth', 'list']);
    expect(auth.stdout).toBe(`\u2717 linear  not authenticated  ${server.url}\n`);
    noSecrets(list.stdout + list.stderr + refused.stdout + refused.stderr + auth.stdout + auth.stderr);
  });

  it('an authorization server on another origin never gets the config’s headers (sign-in, registration, exchange, refresh); the MCP server does', async () => {
    await server.close();
    server = await startOAuthMcpServer({ separateAuthorizationServer: true });
    expect(new URL(server.issuer).origin).not.toBe(new URL(server.url).origin);
    sb.write('opencode.json', { mcp: { linear: { type: 'remote', url: server.url, headers: { 'X-API-Key': '{env:K}' }, oauth: { callbackPort: port } } } });
    const cli = sb.start(['mcp', 'auth', 'linear'], { env: { K: 'key-for-mcp-only' } });
    const [, url] = URL_LINE.exec(await cli.stderrMatches(URL_LINE)) as RegExpExecArray;
    expect((await followAuthorization(url as string)).status).toBe(200);
    const r = await cli.exited;
    expect(r.code, r.stderr).toBe(0);
    server.expireAccessTokens();
    const list = await sb.run(['mcp', 'list', '--json'], { env: { K: 'key-for-mcp-only' } });
    expect(JSON.parse(list.stdout).servers[0]).toMatchObject({ name: 'linear', state: 'connected' });
    expect(server.refreshes()).toBe(1);
    const seen = server.requestsSeen();
    const asPaths = seen.filter((q) => q.origin === 'as').map((q) => q.path.split('?')[0]);
    expect(asPaths).toEqual(expect.arrayContaining(['/.well-known/oauth-authorization-server', '/register', '/token']));
    for (const q of seen.filter((q) => q.origin === 'as')) expect(q.headers['x-api-key'], q.path).toBeUndefined();
    expect(seen.filter((q) => q.origin === 'mcp' && q.headers['x-api-key'] === 'key-for-mcp-only').length).toBeGreaterThan(0);
    // `mcp debug` sends them too (as OpenCode's does), and says so.
    const debug = await sb.run(['mcp', 'debug', 'linear'], { env: { K: 'key-for-mcp-only' } });
    expect(debug.stdout).toContain('\nHTTP response to an initialize without an OAuth token (sent with mcp.linear.headers): 401 Unauthorized\n');
    expect(debug.stdout + debug.stderr).not.toContain('key-for-mcp-only');
  });

  it('no token: needs_auth saying to run `opencode mcp auth NAME`; nothing registered or saved by a start', async () => {
    const r = await sb.run(['mcp', 'list']);
    expect(r.stdout).toBe(`linear  needs_auth HTTP 401 from ${server.url}: the server wants you to sign in: run \`opencode mcp auth linear\`\n`);
    expect(server.registrations()).toBe(0);
    await expect(stat(storeFile())).rejects.toThrow();
  });

  it('a callback whose state does not match is refused (400) and the flow goes on waiting; logout removes the entry', async () => {
    const cli = sb.start(['mcp', 'auth', 'linear']);
    const [, url] = URL_LINE.exec(await cli.stderrMatches(URL_LINE)) as RegExpExecArray;
    const forged = await followAuthorization(url as string, { state: 'not-the-state' });
    expect(forged.status).toBe(400);
    expect(await forged.text()).toContain('matches no authorization in progress');
    const bare = await fetch(`http://127.0.0.1:${port}/mcp/oauth/callback?code=x`);
    expect(bare.status).toBe(400);
    const real = await followAuthorization(url as string);
    expect(real.status).toBe(200);
    const r = await cli.exited;
    expect(r.code, r.stderr).toBe(0);

    const out = await sb.run(['mcp', 'logout', 'linear']);
    expect([out.code, out.stdout]).toEqual([0, 'Removed the OAuth credentials of MCP server "linear".\n']);
    expect(await store()).toEqual({});
    const again = await sb.run(['mcp', 'logout', 'linear']);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/^error: No MCP OAuth credentials are stored for "linear"\.\n/);
  });

  it('the browser never comes back: one sentence after --timeout, exit 1, nothing saved, the port freed', async () => {
    const r = await sb.run(['mcp', 'auth', 'linear', '--timeout', '1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`\\nerror: No authorization came back to http://127\\.0\\.0\\.1:${port}/mcp/oauth/callback within 1 s, so nothing was saved\\.\\nhint: `));
    expect(hasStack(r.stderr)).toBe(false);
    await expect(stat(storeFile())).rejects.toThrow();
    const bad = await sb.run(['mcp', 'auth', 'linear', '--timeout', 'soon']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^error: --timeout: expected the seconds to wait for the browser, 1 to 3600, found "NaN"|^error: --timeout/);
  });

  it('no registration endpoint and no clientId: needs_client_registration; with oauth.clientId it signs in', async () => {
    await server.close();
    server = await startOAuthMcpServer({ registration: false, clients: { 'pre-registered': 'shh-client-secret' } });
    sb.write('opencode.json', { mcp: { linear: { type: 'remote', url: server.url, oauth: { callbackPort: port } } } });
    const list = await sb.run(['mcp', 'list', '--json']);
    expect(JSON.parse(list.stdout).servers[0]).toMatchObject({ state: 'needs_client_registration', reason: expect.stringContaining('does not support dynamic client registration; set oauth.clientId') });
    const auth = await sb.run(['mcp', 'auth', 'linear']);
    expect(auth.code).toBe(1);
    expect(auth.stderr).toMatch(/^error: MCP server "linear" needs a registered OAuth client: .*\nhint: Add "oauth": \{"clientId": "your-client-id"/);

    sb.write('opencode.json', { mcp: { linear: { type: 'remote', url: server.url, oauth: { callbackPort: port, clientId: 'pre-registered', clientSecret: '{env:CLIENT_SECRET}' } } } });
    const cli = sb.start(['mcp', 'auth', 'linear'], { env: { CLIENT_SECRET: 'shh-client-secret' } });
    const [, url] = URL_LINE.exec(await cli.stderrMatches(URL_LINE)) as RegExpExecArray;
    expect((await followAuthorization(url as string)).status).toBe(200);
    const r = await cli.exited;
    expect(r.code, r.stderr).toBe(0);
    // A configured client is not stored (as OpenCode).
    expect((await store()).linear).toEqual({ tokens: expect.any(Object), serverUrl: server.url });
    noSecrets(r.stdout + r.stderr + list.stdout + auth.stderr);
  });

  it('a local server, oauth: false and an unknown name are usage errors', async () => {
    sb.write('opencode.json', { mcp: { linear: { type: 'remote', url: server.url, oauth: false }, loc: { type: 'local', command: ['x'] } } });
    const off = await sb.run(['mcp', 'auth', 'linear']);
    expect([off.code, off.stderr.split('\n')[0]]).toEqual([2, 'error: MCP server "linear" has OAuth turned off (mcp.linear.oauth is false).']);
    const local = await sb.run(['mcp', 'auth', 'loc']);
    expect([local.code, local.stderr.split('\n')[0]]).toEqual([2, 'error: MCP server "loc" is a local server: OAuth is for remote servers.']);
    const unknown = await sb.run(['mcp', 'auth', 'linea']);
    expect([unknown.code, unknown.stderr.split('\n')[0]]).toEqual([2, 'error: No MCP server named "linea"; did you mean "linear"?']);
    const list = await sb.run(['mcp', 'list']);
    expect(list.stdout).toContain('the server wants authentication, and OAuth is off for it (oauth: false): set a token in mcp.linear.headers');
  });

  it('a server the config gives its own Authorization: no OAuth (its requests would carry it), the refusal said', async () => {
    sb.write('opencode.json', { mcp: { linear: { type: 'remote', url: server.url, headers: { authorization: 'Bearer static-secret-123' } } } });
    const registered = server.registrations();
    const list = await sb.run(['mcp', 'list']);
    expect(list.stdout).toContain('the server refused the credentials sent (mcp.linear.headers); OAuth is not used while the config sends its own Authorization, so check the token there');
    const auth = await sb.run(['mcp', 'auth', 'linear']);
    expect([auth.code, auth.stderr.split('\n')[0]]).toEqual([2, 'error: MCP server "linear" gets its own credentials from the config (an Authorization in mcp.linear.headers, or a user in its URL), so OAuth is not used for it.']);
    expect(server.registrations()).toBe(registered);
    expect(list.stdout + list.stderr + auth.stdout + auth.stderr).not.toContain('static-secret-123');
  });
});

describe('opencode mcp auth: the callback port in use', () => {
  it('says so before anything is registered; exit 1', async () => {
    const sb = await sandbox();
    const server = await startOAuthMcpServer();
    const { createServer } = await import('node:http');
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const port = (busy.address() as { port: number }).port;
    try {
      sb.write('opencode.json', { mcp: { linear: { type: 'remote', url: server.url, oauth: { callbackPort: port } } } });
      const r = await sb.run(['mcp', 'auth', 'linear']);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(`error: Cannot listen for the OAuth callback on 127.0.0.1:${port} (EADDRINUSE).\nhint: Another program (another \`opencode mcp auth\`?) holds the port: let it finish, or set a free port in mcp.<name>.oauth.callbackPort.\n`);
      expect(server.registrations()).toBe(0);
    } finally {
      busy.close();
      await server.close();
      await sb.remove();
    }
  });
});
