/**
 * A page of another site may not change anything on the server: a cross-site POST (a form, or a
 * `text/plain` fetch that needs no preflight) and a page that reaches the server under its own name
 * (DNS rebinding) are refused with a 403 naming the origin, on OpenCode's routes and the gateway's
 * fast path alike, and nothing runs. Programs (no Origin), localhost pages, --cors origins and the
 * server's own page reached by address go on as before.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { providerConfig, sandbox, type Sandbox } from '../cli/cli-helper.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { serve, type Served } from './serve-helper.ts';

let upstream: ScriptedServer;
let sb: Sandbox;
let s: Served;
let port: number;

/** A request with the headers as given (Host included, which fetch will not set). */
function send(method: string, url: string, headers: Record<string, string>, body?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${s.url}${url}`, { method, headers: { ...headers, ...(body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) }) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

beforeAll(async () => {
  upstream = await startScriptedServer();
  sb = await sandbox();
  sb.write('opencode.json', { ...providerConfig(upstream, { m: {} }), model: 'p/m', cache: { enabled: false } });
  s = await serve(sb, ['--cors', 'https://app.example.com']);
  port = Number(new URL(s.url).port);
});

afterAll(async () => {
  await s?.stop();
  await upstream?.close();
  await sb?.remove();
});

describe('pages of other sites', () => {
  it('a cross-site POST is refused with a 403 naming the origin, and nothing runs or is stored', async () => {
    const sessions = async () => JSON.parse((await send('GET', '/session', { 'x-opencode-directory': sb.project })).text) as unknown[];
    const before = (await sessions()).length;
    const created = await send('POST', '/session', { origin: 'https://evil.example', 'content-type': 'text/plain' }, '{}');
    expect(created.status).toBe(403);
    expect(created.text).toContain('A page at \\"https://evil.example\\" may not change anything on this server.');
    expect(created.text).toContain('--cors');
    expect((await sessions()).length).toBe(before);

    const id = (JSON.parse((await send('POST', '/session', { 'content-type': 'application/json', 'x-opencode-directory': sb.project }, '{}')).text) as { id: string }).id;
    const marker = path.join(sb.project, 'pwned');
    const shell = await send('POST', `/session/${id}/shell`, { origin: 'https://evil.example', 'content-type': 'text/plain' }, JSON.stringify({ command: `touch ${marker}` }));
    expect(shell.status).toBe(403);
    expect(fs.existsSync(marker)).toBe(false);

    // POST /mcp starts the command it is given: a page may not add a server.
    const config = { type: 'local', command: [process.execPath, '-e', `require('fs').writeFileSync(${JSON.stringify(marker)}, 'x')`] };
    const mcp = await send('POST', '/mcp', { origin: 'https://evil.example', 'content-type': 'text/plain', 'x-opencode-directory': sb.project }, JSON.stringify({ name: 'evil', config }));
    expect(mcp.status).toBe(403);
    expect(fs.existsSync(marker)).toBe(false);
    expect(JSON.parse((await send('GET', '/mcp', { 'x-opencode-directory': sb.project })).text)).toEqual({});

    const asked = upstream.log.length;
    const chat = await send('POST', '/v1/chat/completions', { origin: 'https://evil.example', 'content-type': 'text/plain' }, JSON.stringify({ model: 'p/m', messages: [{ role: 'user', content: 'spend my quota' }] }));
    expect(chat.status).toBe(403);
    expect(JSON.parse(chat.text)).toMatchObject({ error: { type: 'permission_error', code: 'forbidden_origin' } });
    expect(upstream.log.length).toBe(asked);
  });

  it('DNS rebinding (a site’s name pointed at this machine) is refused; the server’s own page by address, localhost pages, --cors origins and programs go on', async () => {
    const rebound = await send('POST', '/session', { host: `attacker.example:${port}`, origin: `http://attacker.example:${port}`, 'content-type': 'application/json' }, '{}');
    expect(rebound.status).toBe(403);
    const byAddress = await send('POST', '/session', { host: `192.168.1.5:${port}`, origin: `http://192.168.1.5:${port}`, 'content-type': 'application/json', 'x-opencode-directory': sb.project }, '{}');
    expect(byAddress.status).toBe(200);
    for (const origin of ['http://localhost:3000', 'https://app.example.com']) {
      const res = await send('POST', '/session', { origin, 'content-type': 'application/json', 'x-opencode-directory': sb.project }, '{}');
      expect(res.status, origin).toBe(200);
    }
    const program = await send('POST', '/v1/chat/completions', { 'content-type': 'application/json' }, JSON.stringify({ model: 'p/m', messages: [{ role: 'user', content: 'hi' }] }));
    expect(program.status).toBe(200);
    // Reading stays open to any page (CORS decides what it may see).
    expect((await send('GET', '/global/health', { origin: 'https://evil.example' })).status).toBe(200);
  });

  it('a rebound name cannot read either (no password: only this machine’s address or a localhost name is answered)', async () => {
    fs.writeFileSync(path.join(sb.project, 'secret-plan.md'), 'x');
    for (const url of ['/session', `/find/file?query=secret&directory=${encodeURIComponent(sb.project)}`, '/config', '/api/state']) {
      const res = await send('GET', url, { host: `attacker.example:${port}`, origin: `http://attacker.example:${port}` });
      expect(res.status, url).toBe(403);
      expect(JSON.parse(res.text), url).toMatchObject({ data: { message: `This server answers requests for its address or localhost, not for "attacker.example:${port}".` } });
      expect(res.text).not.toContain('secret-plan');
    }
    for (const host of [`localhost:${port}`, `localhost.:${port}`, `app.localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, `10.1.2.3:${port}`]) {
      const res = await send('GET', `/find/file?query=secret&directory=${encodeURIComponent(sb.project)}`, { host });
      expect(res.status, host).toBe(200);
      expect(res.text, host).toContain('secret-plan.md');
    }
  });
});

describe('with a password, any name', () => {
  it('a request under another name is answered once authorized (the password is what keeps pages out)', async () => {
    const locked = await serve(sb, [], { OPENCODE_SERVER_PASSWORD: 'pw-origin-guard-0123' });
    try {
      const lockedPort = new URL(locked.url).port;
      const auth = `Basic ${Buffer.from('opencode:pw-origin-guard-0123').toString('base64')}`;
      const asked = await new Promise<number>((resolve, reject) => {
        const req = http.request(`${locked.url}/session`, { headers: { host: `box.example.com:${lockedPort}`, authorization: auth, 'x-opencode-directory': sb.project } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end();
      });
      expect(asked).toBe(200);
    } finally {
      await locked.stop();
    }
  });
});
