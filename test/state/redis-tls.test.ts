/**
 * `rediss://` with a password against a real redis-server speaking TLS only, with a certificate from
 * a throwaway CA made by openssl: trusted through Node's NODE_EXTRA_CA_CERTS (the way to trust a
 * private CA, documented in docs/state.md), the run's admissions land in that Redis; a wrong password
 * or an untrusted certificate stops the run at start with exit 2 and a sentence that names the URL
 * without its password.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createClient } from '@redis/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { freePort, requireRedisServer } from '../support/redis-server.ts';
import { hasStack, providerConfig, sandbox, type Sandbox } from '../cli/cli-helper.ts';

const PW = 'tls-Pa55word-do-not-print';

function makeCertificates(dir: string): { ca: string; cert: string; key: string } {
  const at = (name: string) => path.join(dir, name);
  const openssl = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=pantheon-test-ca']);
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1']);
  fs.writeFileSync(at('ext'), 'subjectAltName=IP:127.0.0.1\n');
  openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'ext']);
  return { ca: at('ca.pem'), cert: at('server.pem'), key: at('server.key') };
}

/** redis-server with TLS only (no plain port) on 127.0.0.1; resolves once it accepts connections. */
async function startTlsRedis(dir: string, certs: { ca: string; cert: string; key: string }): Promise<{ port: number; child: ChildProcess }> {
  requireRedisServer();
  const port = await freePort();
  const args = ['--port', '0', '--tls-port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'];
  args.push('--tls-cert-file', certs.cert, '--tls-key-file', certs.key, '--tls-ca-cert-file', certs.ca, '--tls-auth-clients', 'no', '--requirepass', PW);
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    let log = '';
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${log}`)));
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      log += chunk;
      if (log.includes('Ready to accept connections')) resolve();
    });
  });
  return { port, child };
}

describe('rediss:// with a password (TLS redis-server, private CA)', () => {
  let dir: string;
  let certs: { ca: string; cert: string; key: string };
  let redis: { port: number; child: ChildProcess };
  let server: ScriptedServer;
  let sb: Sandbox;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pantheon-redis-tls-'));
    certs = makeCertificates(dir);
    redis = await startTlsRedis(dir, certs);
    server = await startScriptedServer({ apiKey: 'sk-abcdefghijklmnop9Qa', models: { m: {} } });
    sb = await sandbox();
  }, 60_000);

  afterAll(async () => {
    redis?.child.kill('SIGKILL');
    await server?.close();
    await sb?.remove();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const configWith = (store: string) => ({
    model: 'p/m',
    ...providerConfig(server, { m: { rateLimit: { rpm: 100 } } }),
    state: { store, keyPrefix: 'tls-test:' },
  });

  it('a run admits through Redis over TLS when the CA is trusted (NODE_EXTRA_CA_CERTS)', async () => {
    sb.write('opencode.json', configWith(`rediss://:${PW}@127.0.0.1:${redis.port}`));
    const r = await sb.run(['run', '--no-cache', 'hello over tls'], { env: { NODE_EXTRA_CA_CERTS: certs.ca } });
    expect(r.code, r.stderr).toBe(0);
    expect(server.log).toHaveLength(1);
    expect(r.stdout + r.stderr).not.toContain(PW);
    const client = createClient({ url: `rediss://:${PW}@127.0.0.1:${redis.port}`, socket: { tls: true, ca: fs.readFileSync(certs.ca) } });
    await client.connect();
    try {
      const keys = await client.keys('tls-test:*');
      expect(keys.length).toBeGreaterThan(0);
    } finally {
      await client.close();
    }
  });

  it('a wrong password: exit 2 at start, the URL named without any password, no stack', async () => {
    const wrong = 'not-the-Right-one-42';
    sb.write('opencode.json', configWith(`rediss://:${wrong}@127.0.0.1:${redis.port}`));
    const before = server.log.length;
    const r = await sb.run(['run', '--no-cache', 'hello'], { env: { NODE_EXTRA_CA_CERTS: certs.ca } });
    expect(r.code).toBe(2);
    const out = r.stdout + r.stderr;
    expect(out).toContain(`127.0.0.1:${redis.port}`);
    expect(out).not.toContain(wrong);
    expect(out).not.toContain(PW);
    expect(out).toMatch(/hint: Check the user and password in state\.store/);
    expect(hasStack(out)).toBe(false);
    expect(server.log.length).toBe(before);
  });

  it('a certificate from an untrusted CA: exit 2 at start with a clear sentence, no request made', async () => {
    sb.write('opencode.json', configWith(`rediss://:${PW}@127.0.0.1:${redis.port}`));
    const before = server.log.length;
    const r = await sb.run(['run', '--no-cache', 'hello']);
    expect(r.code).toBe(2);
    const out = r.stdout + r.stderr;
    expect(out).toMatch(/certificate/);
    expect(out).toMatch(/hint: .*NODE_EXTRA_CA_CERTS/);
    expect(out).toContain(`127.0.0.1:${redis.port}`);
    expect(out).not.toContain(PW);
    expect(hasStack(out)).toBe(false);
    expect(server.log.length).toBe(before);
  });
});
