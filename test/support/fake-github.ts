/**
 * A scripted GitHub for the device flow (RFC 8628) on https://127.0.0.1, as GitHub Copilot's login
 * reaches a GitHub Enterprise host: `POST /login/device/code` answers a device code and the code
 * to enter, `POST /login/oauth/access_token` answers the scripted polls in order (the last one
 * again once they run out). Its certificate comes from a throwaway CA made by openssl: a process
 * trusts it with NODE_EXTRA_CA_CERTS=`ca`.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** One answer to a poll: the token, or an OAuth error (`authorization_pending`, `slow_down` with an `interval`, `expired_token`, …). */
export type PollAnswer = { token: string } | { error: string; interval?: number };

export interface FakeGitHubOptions {
  /** The polls' answers, in order. */
  polls: PollAnswer[];
  /** An HTTP status to refuse the device code with. */
  deviceStatus?: number;
  /** The interval the device code asks for (s; default 0). */
  interval?: number;
}

export interface FakeGitHub {
  /** `127.0.0.1:PORT`: the enterprise domain to log in to. */
  host: string;
  /** The CA to trust (NODE_EXTRA_CA_CERTS). */
  ca: string;
  userCode: string;
  /** Every request: its path, lower-cased headers and parsed body. */
  requests: { path: string; headers: Record<string, string>; body: Record<string, unknown> }[];
  close(): Promise<void>;
}

function certificates(dir: string): { ca: string; cert: string; key: string } {
  const openssl = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=pantheon-test-github-ca']);
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1']);
  fs.writeFileSync(path.join(dir, 'ext'), 'subjectAltName=IP:127.0.0.1\n');
  openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'ext']);
  return { ca: path.join(dir, 'ca.pem'), cert: path.join(dir, 'server.pem'), key: path.join(dir, 'server.key') };
}

export async function startFakeGitHub(options: FakeGitHubOptions): Promise<FakeGitHub> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pantheon-github-'));
  const certs = certificates(dir);
  const requests: FakeGitHub['requests'] = [];
  const userCode = 'WDJB-MJHT';
  let poll = 0;
  const server = https.createServer({ cert: fs.readFileSync(certs.cert), key: fs.readFileSync(certs.key) }, (req, res) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (text += chunk));
    req.on('end', () => {
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(text) as Record<string, unknown>;
      } catch {
        // recorded as empty
      }
      requests.push({ path: req.url ?? '', headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)])), body });
      const json = (status: number, value: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(value));
      };
      if (req.method === 'POST' && req.url === '/login/device/code') {
        if (options.deviceStatus) return json(options.deviceStatus, { message: 'Not Found' });
        return json(200, { device_code: 'dev-code-1', user_code: userCode, verification_uri: `https://${host}/login/device`, expires_in: 900, interval: options.interval ?? 0 });
      }
      if (req.method === 'POST' && req.url === '/login/oauth/access_token') {
        const answer = options.polls[Math.min(poll, options.polls.length - 1)] as PollAnswer;
        poll += 1;
        return json(200, 'token' in answer ? { access_token: answer.token, token_type: 'bearer', scope: 'read:user' } : answer);
      }
      json(404, { message: 'Not Found' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    host,
    ca: certs.ca,
    userCode,
    requests,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
