/**
 * OpenCode's MCP OAuth routes through `@opencode-ai/sdk`, against `opencode serve` and a real
 * OAuth-protected MCP server (test/support/oauth-mcp-server.ts): `GET /mcp` says `needs_auth`,
 * `POST /mcp/{name}/auth` answers the authorization URL and state, the code finishes the flow
 * through `/auth/callback` or through the loopback callback (`/auth/authenticate` waiting for it),
 * the server reconnects with the tokens (saved in OpenCode's mcp-auth.json), `DELETE` removes them;
 * no token in any answer or in the server's output.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { createOpencodeClient } from '@opencode-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { providerConfig, sandbox, type Sandbox } from '../cli/cli-helper.ts';
import { freePort } from '../mcp/helpers.ts';
import { followAuthorization, startOAuthMcpServer, type OAuthMcpServer } from '../support/oauth-mcp-server.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { getJson, serve, type Served } from './serve-helper.ts';

let upstream: ScriptedServer;
let oauth: OAuthMcpServer;
let sb: Sandbox;
let s: Served;
let client: ReturnType<typeof createOpencodeClient>;
let port: number;
const answers: string[] = [];

beforeAll(async () => {
  [upstream, oauth, port] = await Promise.all([startScriptedServer(), startOAuthMcpServer(), freePort()]);
  sb = await sandbox();
  sb.write('opencode.json', {
    ...providerConfig(upstream, { m: {} }),
    model: 'p/m',
    cache: { enabled: false },
    mcp: { linear: { type: 'remote', url: oauth.url, oauth: { callbackPort: port }, timeout: 30_000 } },
  });
  s = await serve(sb);
  client = createOpencodeClient({ baseUrl: s.url, directory: sb.project });
});

afterAll(async () => {
  await s?.stop();
  await Promise.all([upstream?.close(), oauth?.close()]);
  await sb?.remove();
});

const storeFile = () => path.join(sb.dataHome, 'opencode', 'mcp-auth.json');

async function status(): Promise<unknown> {
  const res = await getJson(`${s.url}/mcp?directory=${encodeURIComponent(sb.project)}`);
  answers.push(JSON.stringify(res.body));
  return (res.body as Record<string, unknown>).linear;
}

describe('MCP OAuth routes', () => {
  it('needs_auth, then POST /auth + the code through /auth/callback: connected, tokens saved; DELETE removes them', async () => {
    expect(await status()).toEqual({ status: 'needs_auth', error: `MCP server "linear" needs authentication: HTTP 401 from ${oauth.url}: the server wants you to sign in: run \`opencode mcp auth linear\`` });
    const started = await client.mcp.auth.start({ path: { name: 'linear' } });
    expect(started.response.status).toBe(200);
    const { authorizationUrl, oauthState } = started.data as { authorizationUrl: string; oauthState: string };
    expect(authorizationUrl).toContain(`${oauth.issuer}/authorize?`);
    expect(new URL(authorizationUrl).searchParams.get('state')).toBe(oauthState);
    // The browser's redirect, read but not followed: the code goes to the route instead.
    const redirect = await fetch(authorizationUrl, { redirect: 'manual' });
    const code = new URL(redirect.headers.get('location') as string).searchParams.get('code') as string;
    const done = await client.mcp.auth.callback({ path: { name: 'linear' }, body: { code } });
    answers.push(JSON.stringify(done.data ?? done.error));
    expect(done.response.status).toBe(200);
    expect(done.data).toEqual({ status: 'connected' });
    expect(await status()).toEqual({ status: 'connected' });
    const saved = JSON.parse(await readFile(storeFile(), 'utf8')) as Record<string, { tokens: { accessToken: string }; serverUrl: string }>;
    expect(saved.linear?.serverUrl).toBe(oauth.url);
    expect(oauth.validAccessTokens()).toContain(saved.linear?.tokens.accessToken);
    // The loopback listener was let go once the flow finished through the route.
    await expect(fetch(`http://127.0.0.1:${port}/mcp/oauth/callback?state=${oauthState}&code=x`)).rejects.toThrow();
    // The same code again: no flow in progress.
    const again = await client.mcp.auth.callback({ path: { name: 'linear' }, body: { code } });
    expect(again.response.status).toBe(400);

    const removed = await client.mcp.auth.remove({ path: { name: 'linear' } });
    expect(removed.data).toEqual({ success: true });
    expect(JSON.parse(await readFile(storeFile(), 'utf8'))).toEqual({});
  });

  it('/auth/authenticate waits for the browser at the loopback callback (a forged state refused), then answers connected', async () => {
    await client.mcp.disconnect({ path: { name: 'linear' } });
    const events = await fetch(`${s.url}/event?directory=${encodeURIComponent(sb.project)}`);
    const reader = (events.body as ReadableStream<Uint8Array>).getReader();
    const pending = client.mcp.auth.authenticate({ path: { name: 'linear' } });
    // No display here: OpenCode's event with the URL to open, for a client to show.
    let seen = '';
    const BROWSER = /"type":"mcp\.browser\.open\.failed","properties":\{"mcpName":"linear","url":"([^"]+)"\}/;
    for (;;) {
      if (BROWSER.test(seen)) break;
      const { value, done } = await reader.read();
      if (done) throw new Error('the event stream ended');
      seen += new TextDecoder().decode(value);
    }
    const match = BROWSER.exec(seen) as RegExpExecArray;
    await reader.cancel();
    const authorizationUrl = match[1] as string;
    const forged = await fetch(`http://127.0.0.1:${port}/mcp/oauth/callback?state=forged&code=x`);
    expect(forged.status).toBe(400);
    expect((await followAuthorization(authorizationUrl)).status).toBe(200);
    const res = await pending;
    answers.push(JSON.stringify(res.data ?? res.error));
    expect(res.response.status).toBe(200);
    expect(res.data).toEqual({ status: 'connected' });
    expect(await status()).toEqual({ status: 'connected' });
  });

  it('two starts at once leave one flow: the other’s callback wait is gone (its state refused), the one left signs in', async () => {
    await client.mcp.disconnect({ path: { name: 'linear' } });
    const both = await Promise.all([client.mcp.auth.start({ path: { name: 'linear' } }), client.mcp.auth.start({ path: { name: 'linear' } })]);
    const urls = both.map((r) => {
      expect(r.response.status).toBe(200);
      return (r.data as { authorizationUrl: string }).authorizationUrl;
    });
    // The replaced flow's state is refused while the other waits (or its listener is already closed once that finished).
    const outcomes: string[] = [];
    for (const url of urls) outcomes.push(await followAuthorization(url).then((r) => String(r.status), () => 'closed'));
    expect(outcomes.filter((o) => o === '200')).toHaveLength(1);
    expect(outcomes.filter((o) => o !== '200')).toEqual([outcomes[0] === '200' ? 'closed' : '400']);
    // The flow finishes (tokens exchanged, the server reconnected) after the callback page is answered: wait for that.
    for (let i = 0; i < 200 && JSON.stringify(await status()) !== '{"status":"connected"}'; i++) await new Promise((r) => setTimeout(r, 50));
    expect(await status()).toEqual({ status: 'connected' });
  });

  it('no token anywhere in the answers or the server’s output', () => {
    const text = answers.join('\n') + s.proc.stdout() + s.proc.stderr();
    for (const secret of oauth.secrets()) expect(text).not.toContain(secret);
  });
});
