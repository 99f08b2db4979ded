/**
 * A scripted auth.openai.com and chatgpt.com (the Codex Responses endpoint) on 127.0.0.1, reached
 * by the CLI under test the way a machine behind a corporate proxy reaches them: Node's own proxy
 * support (NODE_USE_ENV_PROXY=1, HTTPS_PROXY) sends each HTTPS request through the CONNECT proxy
 * here, which hands it to one local HTTPS server with a certificate for both names, signed by a
 * test CA the CLI trusts through NODE_EXTRA_CA_CERTS (codex-tls/). Nothing in Pantheon knows it is
 * being tested.
 *
 * auth.openai.com: `/oauth/token` (an authorization code it handed out, or the current refresh
 * token, which it rotates; an old refresh token is refused with `invalid_grant`), the device code
 * endpoints (approved at the first poll). chatgpt.com: `/backend-api/codex/responses`, answering
 * the current access token only (401 otherwise) with the scripted replies, as server-sent events.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';

const TLS = path.join(import.meta.dirname, 'codex-tls');
export const CODEX_CA = path.join(TLS, 'ca.pem');

export type CodexReply = { text: string } | { tool: string; args: Record<string, unknown> };

export interface CodexRequest {
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown>;
  /** The status it was answered. */
  status: number;
}

export interface CodexFakes {
  /** Environment for the CLI: the proxy and the CA. */
  env: Record<string, string>;
  /** The Codex requests, in order. */
  requests: CodexRequest[];
  /** How many refresh-token grants were asked (and how many succeeded). */
  refreshes: { asked: number; granted: number };
  /** Hosts the proxy was asked for. */
  hosts: string[];
  /** The current tokens (what a fresh login or the last refresh handed out). */
  tokens: { access: string; refresh: string };
  /** The account id in the tokens' claims. */
  account: string;
  /** Queues replies of the Codex endpoint. */
  reply(...replies: CodexReply[]): void;
  /** Makes auth.openai.com refuse every refresh token from now on (the login was revoked). */
  revoke(): void;
  /** Forgets the requests, the counts, the replies not given and a revocation (between tests). */
  reset(): void;
  /** An access token in OpenCode's JWT shape, with the account id claim. */
  jwt(extra?: Record<string, unknown>): string;
  close(): Promise<void>;
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

function sse(reply: CodexReply, n: number): string {
  const events: Record<string, unknown>[] = [{ type: 'response.created', response: { id: `resp_${n}`, model: 'gpt-5.4', created_at: 1 } }];
  // The events as the Responses API streams them (every field @ai-sdk/openai's schemas require).
  if ('text' in reply) {
    const id = `msg_${n}`;
    events.push({ type: 'response.output_item.added', output_index: 0, item: { type: 'message', id, status: 'in_progress', role: 'assistant', content: [] } });
    for (const piece of reply.text.match(/.{1,8}/gs) ?? []) events.push({ type: 'response.output_text.delta', item_id: id, output_index: 0, content_index: 0, delta: piece });
    events.push({ type: 'response.output_item.done', output_index: 0, item: { type: 'message', id, status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: reply.text, annotations: [] }] } });
  } else {
    const id = `fc_${n}`;
    const args = JSON.stringify(reply.args);
    events.push({ type: 'response.output_item.added', output_index: 0, item: { type: 'function_call', id, call_id: `call_${n}`, name: reply.tool, arguments: '', status: 'in_progress' } });
    events.push({ type: 'response.function_call_arguments.delta', item_id: id, output_index: 0, delta: args });
    events.push({ type: 'response.output_item.done', output_index: 0, item: { type: 'function_call', id, call_id: `call_${n}`, name: reply.tool, arguments: args, status: 'completed' } });
  }
  events.push({ type: 'response.completed', response: { id: `resp_${n}`, usage: { input_tokens: 11, output_tokens: 7, input_tokens_details: { cached_tokens: 0 }, output_tokens_details: { reasoning_tokens: 0 } } } });
  return events.map((e) => `event: ${String(e.type)}\ndata: ${JSON.stringify(e)}\n\n`).join('');
}

async function bodyOf(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startCodexFakes(): Promise<CodexFakes> {
  const account = 'acct-7f3e2a';
  let serial = 0;
  const jwt = (extra: Record<string, unknown> = {}) => `${b64({ alg: 'none' })}.${b64({ 'https://api.openai.com/auth': { chatgpt_account_id: account }, n: ++serial, ...extra })}.sig`;
  const fakes = {
    requests: [] as CodexRequest[],
    refreshes: { asked: 0, granted: 0 },
    hosts: [] as string[],
    tokens: { access: jwt(), refresh: `rt-${serial}` },
    account,
  };
  const replies: CodexReply[] = [];
  const codes = new Set<string>(['code-from-browser']);
  let revoked = false;
  let answered = 0;

  const tokenAnswer = () => ({ access_token: fakes.tokens.access, refresh_token: fakes.tokens.refresh, id_token: jwt(), expires_in: 3600 });
  const rotate = () => {
    fakes.tokens = { access: jwt(), refresh: `rt-${serial}` };
  };

  const server = https.createServer({ key: readFileSync(path.join(TLS, 'server.key')), cert: readFileSync(path.join(TLS, 'server.pem')) }, (req, res) => {
    void (async () => {
      const text = await bodyOf(req);
      const host = (req.headers.host ?? '').split(':')[0];
      const url = new URL(req.url ?? '/', `https://${host}`);
      const json = (status: number, value: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
      if (host === 'auth.openai.com' && url.pathname === '/oauth/token') {
        const form = new URLSearchParams(text);
        if (form.get('client_id') !== 'app_EMoamEEZ73f0CkXaXp7hrann') return json(400, { error: 'invalid_client' });
        if (form.get('grant_type') === 'authorization_code') {
          const code = form.get('code') ?? '';
          if (!codes.has(code) || !form.get('code_verifier')) return json(400, { error: 'invalid_grant' });
          codes.delete(code);
          rotate();
          return json(200, tokenAnswer());
        }
        if (form.get('grant_type') === 'refresh_token') {
          fakes.refreshes.asked += 1;
          if (revoked || form.get('refresh_token') !== fakes.tokens.refresh) return json(400, { error: 'invalid_grant', error_description: 'refresh token already used' });
          fakes.refreshes.granted += 1;
          rotate();
          return json(200, tokenAnswer());
        }
        return json(400, { error: 'unsupported_grant_type' });
      }
      if (host === 'auth.openai.com' && url.pathname === '/api/accounts/deviceauth/usercode') {
        return json(200, { device_auth_id: 'dev-1', user_code: 'ABCD-1234', interval: '1' });
      }
      if (host === 'auth.openai.com' && url.pathname === '/api/accounts/deviceauth/token') {
        const given = JSON.parse(text || '{}') as Record<string, unknown>;
        if (given.device_auth_id !== 'dev-1' || given.user_code !== 'ABCD-1234') return json(404, {});
        codes.add('code-from-device');
        return json(200, { authorization_code: 'code-from-device', code_verifier: 'device-verifier' });
      }
      if (host === 'chatgpt.com' && url.pathname === '/backend-api/codex/responses') {
        const body = JSON.parse(text || '{}') as Record<string, unknown>;
        const ok = req.headers.authorization === `Bearer ${fakes.tokens.access}`;
        const reply = ok ? replies.shift() : undefined;
        const status = !ok ? 401 : reply ? 200 : 500;
        fakes.requests.push({ headers: req.headers, body, status });
        if (status === 401) return json(401, { detail: 'Could not validate your credentials' });
        if (!reply) return json(500, { detail: 'no scripted reply left' });
        answered += 1;
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end(sse(reply, answered));
        return;
      }
      json(404, { detail: `no fake for ${host}${url.pathname}` });
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const tlsPort = (server.address() as net.AddressInfo).port;

  const sockets = new Set<net.Socket>();
  const proxy = http.createServer((_req, res) => res.writeHead(405).end());
  proxy.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    const target = req.url ?? '';
    fakes.hosts.push(target);
    if (target !== 'auth.openai.com:443' && target !== 'chatgpt.com:443') {
      client.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    const upstream = net.connect(tlsPort, '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    for (const s of [upstream, client]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const proxyPort = (proxy.address() as net.AddressInfo).port;

  return Object.assign(fakes, {
    env: { NODE_USE_ENV_PROXY: '1', HTTPS_PROXY: `http://127.0.0.1:${proxyPort}`, NO_PROXY: 'localhost,127.0.0.1', NODE_EXTRA_CA_CERTS: CODEX_CA },
    reply: (...more: CodexReply[]) => void replies.push(...more),
    revoke: () => void (revoked = true),
    reset() {
      revoked = false;
      replies.length = 0;
      fakes.requests.length = 0;
      fakes.refreshes.asked = 0;
      fakes.refreshes.granted = 0;
    },
    jwt,
    async close() {
      for (const s of sockets) s.destroy();
      server.closeAllConnections();
      await Promise.all([new Promise((r) => server.close(r)), new Promise((r) => proxy.close(r))]);
    },
  });
}
