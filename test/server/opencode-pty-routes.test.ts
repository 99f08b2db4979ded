/**
 * OpenCode's terminal routes on the real `opencode serve`: through `@opencode-ai/sdk`'s v1 and v2
 * clients and a real WebSocket client (`ws`), a shell on a real pseudo-terminal is typed into and
 * read (`echo hi`), resized (`stty size`), reconnected to (its output replayed from a cursor),
 * exited (`pty.exited`, close 1000) and deleted, which ends every process it started, a job that
 * ignores SIGHUP too; so does stopping the server. A page of another site is refused the upgrade,
 * so is a client without the password (or with a wrong one, or a spent ticket); bad input is a 400
 * naming the field; a machine without the native module answers POST /pty with a clear 501.
 */
import fs from 'node:fs';
import { createOpencodeClient as createV1 } from '@opencode-ai/sdk';
import { createOpencodeClient as createV2 } from '@opencode-ai/sdk/v2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandbox, type Sandbox } from '../cli/cli-helper.ts';
import { attached, connectTerminal, refused } from './pty-client.ts';
import { basic, getJson, serve, watchEvents, type Served } from './serve-helper.ts';

/** Where this machine keeps @lydell/node-pty when it is not in node_modules (a checkout that has not installed it yet). */
const NODE_PATH: Record<string, string> = process.env.NODE_PATH ? { NODE_PATH: process.env.NODE_PATH } : {};
const PASSWORD = 'pty-secret-9Qa';
const AUTH = basic('opencode', PASSWORD);

/** Whether a process is gone (a zombie nobody has reaped yet counts as gone). */
function gone(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

/** Resolves once every pid is gone; fails after `ms`. */
async function allGone(pids: number[], ms = 8000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pids.every(gone)) {
    if (Date.now() > deadline) throw new Error(`still running: ${pids.filter((p) => !gone(p)).join(', ')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts two jobs in the terminal's shell (one ignoring SIGHUP) and returns their pids. */
async function startJobs(url: string, id: string, headers: Record<string, string> = {}): Promise<number[]> {
  const t = attached(await connectTerminal(url, `/pty/${id}/connect`, headers));
  t.ws.send('sleep 1000 & echo "BG=$!"\r');
  t.ws.send('nohup sleep 1001 >/dev/null 2>&1 & echo "NH=$!"\r');
  const text = await t.until(/NH=\d+\r\n/);
  t.ws.close();
  return [Number(/BG=(\d+)\r\n/.exec(text)?.[1]), Number(/NH=(\d+)\r\n/.exec(text)?.[1])];
}

describe('terminals without a password', () => {
  let sb: Sandbox;
  let s: Served;
  beforeAll(async () => {
    sb = await sandbox();
    s = await serve(sb, ['--cors', 'https://app.example.com'], { SHELL: '/bin/bash', ...NODE_PATH });
  });
  afterAll(async () => {
    await s?.stop();
    await sb?.remove();
  });

  it('opens a shell, types `echo hi` over the WebSocket and reads it; resizes, replays, exits, announcing each', async () => {
    const events = await watchEvents(s.url);
    const v1 = createV1({ baseUrl: s.url });
    const created = await v1.pty.create({ body: { title: 'first' } });
    expect(created.response.status).toBe(200);
    const info = created.data as { id: string; title: string; command: string; args: string[]; cwd: string; status: string; pid: number };
    expect(info).toMatchObject({ title: 'first', command: '/bin/bash', args: ['-l'], cwd: sb.project, status: 'running' });
    expect(info.id).toMatch(/^pty_/);
    expect(info.pid).toBeGreaterThan(1);
    await events.until(/"type":"pty\.created".*"title":"first"/);
    expect((await v1.pty.list()).data).toEqual([info]);
    expect((await v1.pty.get({ path: { id: info.id } })).data).toEqual(info);

    const t = attached(await connectTerminal(s.url, `/pty/${info.id}/connect`));
    t.ws.send('echo hi\r');
    await t.until(/[\r\n]hi\r\n/);
    expect(t.cursors).toHaveLength(1);

    const resized = await v1.pty.update({ path: { id: info.id }, body: { size: { rows: 33, cols: 97 }, title: 'renamed' } });
    expect(resized.data).toMatchObject({ id: info.id, title: 'renamed' });
    await events.until(/"type":"pty\.updated".*"title":"renamed"/);
    t.ws.send('stty size\r');
    await t.until(/[\r\n]33 97\r\n/);

    // A second client from the start gets everything so far, then the cursor; one at the end gets only the cursor.
    const again = attached(await connectTerminal(s.url, `/pty/${info.id}/connect?cursor=0`));
    await again.until(/33 97/);
    expect(again.output()).toMatch(/[\r\n]hi\r\n/);
    const late = attached(await connectTerminal(s.url, `/pty/${info.id}/connect?cursor=-1`));
    late.ws.send('echo late\r');
    await late.until(/[\r\n]late\r\n/);
    expect(late.output()).not.toContain('33 97');
    expect(late.cursors[0]).toBeGreaterThan(0);

    t.ws.send('exit 3\r');
    expect(await t.closed).toBe(1000);
    expect(await again.closed).toBe(1000);
    await events.until(new RegExp(`"type":"pty\\.exited","properties":\\{"id":"${info.id}","exitCode":3\\}`));
    await events.until(new RegExp(`"type":"pty\\.deleted","properties":\\{"id":"${info.id}"\\}`));
    events.close();
    expect((await v1.pty.get({ path: { id: info.id } })).response.status).toBe(404);
    expect((await v1.pty.list()).data).toEqual([]);
    await allGone([info.pid]);
  });

  it('DELETE ends every process the terminal started, a job that ignores SIGHUP too', async () => {
    const v1 = createV1({ baseUrl: s.url });
    const info = (await v1.pty.create({ body: {} })).data as { id: string; pid: number };
    const jobs = await startJobs(s.url, info.id);
    expect(jobs.every((pid) => pid > 1 && !gone(pid))).toBe(true);
    const removed = await v1.pty.remove({ path: { id: info.id } });
    expect(removed.data).toBe(true);
    await allGone([info.pid, ...jobs]);
    expect((await v1.pty.remove({ path: { id: info.id } })).response.status).toBe(404);
  });

  it('refuses the upgrade to a page of another site, and lets localhost and --cors pages in', async () => {
    const v1 = createV1({ baseUrl: s.url });
    const info = (await v1.pty.create({ body: { command: '/bin/cat' } })).data as { id: string; pid: number };
    const evil = refused(await connectTerminal(s.url, `/pty/${info.id}/connect`, { Origin: 'https://evil.example' }));
    expect(evil.status).toBe(403);
    expect(JSON.parse(evil.body)).toMatchObject({ name: 'ForbiddenError', data: { code: 'FORBIDDEN_ORIGIN' } });
    const rebound = refused(await connectTerminal(s.url, `/pty/${info.id}/connect`, { Host: 'evil.example', Origin: 'http://evil.example' }));
    expect(rebound.status).toBe(403);
    const crossSite = refused(await connectTerminal(s.url, `/pty/${info.id}/connect`, { 'Sec-Fetch-Site': 'cross-site' }));
    expect(crossSite.status).toBe(403);
    for (const origin of ['http://localhost:3000', 'https://app.example.com']) {
      const ok = attached(await connectTerminal(s.url, `/pty/${info.id}/connect`, { Origin: origin }));
      ok.ws.send('typed\r');
      await ok.until(/typed/);
      ok.ws.close();
    }
    // The ticket route asks for its header, and is a POST: the origin guard refuses another site's page.
    const v2 = createV2({ baseUrl: s.url });
    expect((await v2.pty.connectToken({ ptyID: info.id })).response.status).toBe(403);
    expect((await v2.pty.connectToken({ ptyID: info.id }, { headers: { 'x-opencode-ticket': '1', Origin: 'https://evil.example' } })).response.status).toBe(403);
    await v1.pty.remove({ path: { id: info.id } });
    await allGone([info.pid]);
  });

  it('answers bad input with a 400 naming the field, unknown terminals with a 404, a plain GET of the socket with a 426', async () => {
    const post = (body: unknown) => getJson(`${s.url}/pty`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const noCwd = await post({ cwd: '/no/such/folder' });
    expect(noCwd.status).toBe(400);
    expect(JSON.stringify(noCwd.body)).toMatch(/cwd: .*is not a folder/);
    const noCommand = await post({ command: 'no-such-program-xyz' });
    expect(noCommand.status).toBe(400);
    expect(JSON.stringify(noCommand.body)).toMatch(/command: .*not an executable file/);
    expect((await post({ args: 'not-a-list' })).status).toBe(400);
    const nul = await post({ args: ['a\u0000b'] });
    expect(nul.status).toBe(400);
    expect(JSON.stringify(nul.body)).toContain('args[0]: contains a NUL character');
    expect((await post({ env: { 'A=B': 'x' } })).status).toBe(400);
    const info = (await post({ command: '/bin/cat' })).body as { id: string; pid: number };
    const put = (body: unknown) => getJson(`${s.url}/pty/${info.id}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const zero = await put({ size: { rows: 0, cols: 80 } });
    expect(zero.status).toBe(400);
    expect(JSON.stringify(zero.body)).toContain('rows');
    expect((await put({ size: { rows: 10 } })).status).toBe(400);
    const badId = await getJson(`${s.url}/pty/nope`);
    expect(badId.status).toBe(400);
    expect(JSON.stringify(badId.body)).toContain('ptyID');
    expect((await getJson(`${s.url}/pty/pty_nope`)).status).toBe(404);
    expect((await getJson(`${s.url}/pty/${info.id}/connect`)).status).toBe(426);
    expect(refused(await connectTerminal(s.url, '/pty/pty_nope/connect')).status).toBe(404);
    expect(refused(await connectTerminal(s.url, '/pty/nope/connect')).status).toBe(400);
    expect(refused(await connectTerminal(s.url, '/no/such/socket')).status).toBe(404);
    // A message over 1 MiB closes that socket (1009); the server and the terminal serve on.
    const big = attached(await connectTerminal(s.url, `/pty/${info.id}/connect`));
    big.ws.send('x'.repeat(2 * 1024 * 1024));
    expect(await big.closed).toBe(1009);
    expect((await getJson(`${s.url}/pty/${info.id}`)).status).toBe(200);
    expect((await getJson(`${s.url}/pty/${info.id}`, { method: 'DELETE' })).status).toBe(200);
    await allGone([info.pid]);
  });

  it('disconnects a client that stops reading (1013) once 4 MiB pile up for it, and serves the others on', async () => {
    const info = (await getJson(`${s.url}/pty`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).body as { id: string; pid: number };
    const stalled = attached(await connectTerminal(s.url, `/pty/${info.id}/connect`));
    const reader = attached(await connectTerminal(s.url, `/pty/${info.id}/connect`));
    await reader.until(/\$ $|# $/);
    stalled.ws._socket.pause();
    // 30 MB of output: more than the kernel's buffers on both ends of the stalled socket and the 4 MiB the server keeps for it.
    reader.ws.send("head -c 30000000 /dev/zero | tr '\\0' x; echo; echo DONE\r");
    await reader.until(/[\r\n]DONE\r\n/);
    stalled.ws._socket.resume();
    expect(await stalled.closed).toBe(1013);
    reader.ws.send('echo still-here\r');
    await reader.until(/[\r\n]still-here\r\n/);
    await getJson(`${s.url}/pty/${info.id}`, { method: 'DELETE' });
    await allGone([info.pid]);
  });

  it('keeps at most 16 terminals (429 past it)', async () => {
    const post = () => getJson(`${s.url}/pty`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ command: '/bin/cat' }) });
    const made: { id: string; pid: number }[] = [];
    for (let i = 0; i < 16; i++) made.push((await post()).body as { id: string; pid: number });
    const over = await post();
    expect(over.status).toBe(429);
    expect(JSON.stringify(over.body)).toContain('TOO_MANY_TERMINALS');
    for (const t of made) await getJson(`${s.url}/pty/${t.id}`, { method: 'DELETE' });
    await allGone(made.map((t) => t.pid));
  });

  it('serves the v2 twins under /api/pty as {location, data}, and the shells', async () => {
    const v2 = createV2({ baseUrl: s.url });
    const shells = (await v2.pty.shells()).data ?? [];
    expect(shells.some((sh) => sh.path === '/bin/sh' && sh.name === 'sh' && sh.acceptable)).toBe(true);
    const created = await v2.v2.pty.create({ command: '/bin/cat', title: 'v2' });
    const data = (created.data as { location: { directory: string }; data: { id: string; pid: number; title: string } }).data;
    expect(created.data?.location.directory).toBe(sb.project);
    expect(data.title).toBe('v2');
    expect((await v2.v2.pty.list()).data?.data.map((p) => p.id)).toContain(data.id);
    expect((await v2.v2.pty.update({ ptyID: data.id, size: { rows: 5, cols: 6 } })).data?.data.id).toBe(data.id);
    const ticket = await v2.v2.pty.connectToken({ ptyID: data.id }, { headers: { 'x-opencode-ticket': '1' } });
    expect(ticket.data?.data).toMatchObject({ expires_in: 60 });
    const removed = await v2.v2.pty.remove({ ptyID: data.id });
    expect(removed.response.status).toBe(204);
    const missing = await getJson(`${s.url}/api/pty/${data.id}`);
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ _tag: 'PtyNotFoundError', ptyID: data.id });
    await allGone([data.pid]);
  });
});

describe('terminals behind the server password', () => {
  let sb: Sandbox;
  let s: Served;
  beforeAll(async () => {
    sb = await sandbox();
    s = await serve(sb, [], { OPENCODE_SERVER_PASSWORD: PASSWORD, SHELL: '/bin/bash', ...NODE_PATH });
  });
  afterAll(async () => {
    await s?.stop();
    await sb?.remove();
  });

  it('refuses a client without the password or with a wrong one; takes Basic, ?auth_token= and a ticket once', async () => {
    expect((await getJson(`${s.url}/pty`, { method: 'POST' })).status).toBe(401);
    const v2 = createV2({ baseUrl: s.url, headers: { Authorization: AUTH } });
    const info = (await v2.pty.create({ command: '/bin/bash' })).data as { id: string; pid: number };
    const path = `/pty/${info.id}/connect`;
    const none = refused(await connectTerminal(s.url, path));
    expect(none.status).toBe(401);
    expect(JSON.parse(none.body)).toMatchObject({ name: 'UnauthorizedError' });
    expect(refused(await connectTerminal(s.url, path, { Authorization: basic('opencode', 'wrong') })).status).toBe(401);
    expect(refused(await connectTerminal(s.url, `${path}?auth_token=${Buffer.from('opencode:wrong').toString('base64')}`)).status).toBe(401);
    // A made-up ticket is refused before the folder it names is looked at (no config read, no MCP server started for it).
    const madeUp = refused(await connectTerminal(s.url, `${path}?ticket=made-up&directory=${encodeURIComponent('/no/such/folder')}`));
    expect(madeUp.status).toBe(403);
    expect(madeUp.body).toContain('PTY_TICKET_REFUSED');

    const byHeader = attached(await connectTerminal(s.url, path, { Authorization: AUTH }));
    // The server's password is not handed to the shell.
    byHeader.ws.send('echo "PW=[$OPENCODE_SERVER_PASSWORD]"\r');
    await byHeader.until(/[\r\n]PW=\[\]\r\n/);
    byHeader.ws.close();
    attached(await connectTerminal(s.url, `${path}?auth_token=${Buffer.from(`opencode:${PASSWORD}`).toString('base64')}`)).ws.close();

    const token = await v2.pty.connectToken({ ptyID: info.id }, { headers: { 'x-opencode-ticket': '1' } });
    const ticket = (token.data as { ticket: string }).ticket;
    const byTicket = attached(await connectTerminal(s.url, `${path}?ticket=${ticket}`));
    byTicket.ws.send('echo ticketed\r');
    await byTicket.until(/[\r\n]ticketed\r\n/);
    byTicket.ws.close();
    expect(refused(await connectTerminal(s.url, `${path}?ticket=${ticket}`)).status).toBe(403);
  });

  it('ends every terminal and its jobs when the server stops', async () => {
    const v2 = createV2({ baseUrl: s.url, headers: { Authorization: AUTH } });
    const info = (await v2.pty.create({})).data as { id: string; pid: number };
    const jobs = await startJobs(s.url, info.id, { Authorization: AUTH });
    const watching = attached(await connectTerminal(s.url, `/pty/${info.id}/connect`, { Authorization: AUTH }));
    const { code } = await s.stop();
    expect(code).toBe(0);
    expect(await watching.closed).toBe(1001);
    await allGone([info.pid, ...jobs]);
  });
});

describe('a machine without the native module', () => {
  let sb: Sandbox;
  let s: Served;
  beforeAll(async () => {
    sb = await sandbox();
    s = await serve(sb, [], { PANTHEON_PTY_MODULE: '@pantheon/no-such-pty-module' });
  });
  afterAll(async () => {
    await s?.stop();
    await sb?.remove();
  });

  it('answers POST /pty with a clear 501 and serves on', async () => {
    const made = await getJson(`${s.url}/pty`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(made.status).toBe(501);
    expect((made.body as { data: { message: string; code: string } }).data).toMatchObject({ code: 'PTY_UNAVAILABLE', message: expect.stringMatching(/^Terminals are not available on this machine: @lydell\/node-pty could not be loaded/) });
    expect((await getJson(`${s.url}/pty`)).body).toEqual([]);
    expect((await getJson(`${s.url}/global/health`)).status).toBe(200);
  });
});
