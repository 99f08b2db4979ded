/**
 * How long "always" lasts, as in OpenCode 1.18: an answer through v1's reply route (its TUI's, which
 * tells the person "until OpenCode is restarted") is held until the server stops, as OpenCode's v1
 * Permission service holds it; one through v2's reply route is kept, as OpenCode's PermissionV2 keeps
 * it in its database: in `$XDG_DATA_HOME/pantheon/permissions/<project id>.json` (0600), listed by
 * the next server and honoured by its turns with nobody there to ask, shared by two servers of the
 * project, taken back for good through `DELETE /api/permission/saved/{id}`, and not honoured by
 * `opencode run` (OpenCode's `run` asks through v1, which never reads them). A file that cannot be
 * read is moved aside with one warning naming it and the project starts empty; the count is capped,
 * the oldest going first. Real servers, the real CLI, @opencode-ai/sdk's v2 client, the scripted
 * model calling `bash`.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createOpencodeClient } from '@opencode-ai/sdk/v2';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { providerConfig, sandbox, type Sandbox } from '../cli/cli-helper.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { listen, toolResult, untilNotBusy } from './asks-helper.ts';
import { type OcEventLike } from './sdk-helper.ts';
import { serve, type Served } from './serve-helper.ts';

let model: ScriptedServer;
let sb: Sandbox;
const running: Served[] = [];

beforeEach(async () => {
  model = await startScriptedServer();
  sb = await sandbox();
  sb.write('opencode.json', { ...providerConfig(model, { m: {} }), model: 'p/m', cache: { enabled: false }, permission: { bash: 'ask' } });
});

afterEach(async () => {
  for (const s of running.splice(0)) await s.stop();
  await model?.close();
  await sb?.remove();
});

async function start(): Promise<{ s: Served; client: ReturnType<typeof createOpencodeClient> }> {
  const s = await serve(sb);
  running.push(s);
  return { s, client: createOpencodeClient({ baseUrl: s.url, directory: sb.project }) };
}

async function stop(s: Served): Promise<string> {
  running.splice(running.indexOf(s), 1);
  const ended = await s.stop();
  expect(ended.code).toBe(0);
  return ended.stderr;
}

const projectID = () => createHash('sha256').update(sb.project).digest('hex').slice(0, 16);
const savedFile = () => path.join(sb.dataHome, 'pantheon', 'permissions', `${projectID()}.json`);
const onDisk = () => (JSON.parse(fs.readFileSync(savedFile(), 'utf8')) as { version: number; projectRoot: string; approvals: { id: string; action: string; resource: string }[] });

/** The model calls bash with `command`, then says done; the call's id. */
function scriptBash(command: string): string {
  const id = `call_${Math.random().toString(36).slice(2, 10)}`;
  model.script('m', { type: 'tool_calls', calls: [{ name: 'bash', arguments: { command }, id }] }, { type: 'text', text: 'done.' });
  return id;
}

/** Answers `always` to the question a turn running `command` raises (a client listening meanwhile), through v1's route (the TUI's) or v2's. */
async function approveAlways(client: ReturnType<typeof createOpencodeClient>, command: string, via: 'v1' | 'v2' = 'v2', url?: string): Promise<void> {
  const listener = await listen(client);
  try {
    const session = ((await client.session.create({})).data as { id: string }).id;
    scriptBash(command);
    await client.session.promptAsync({ sessionID: session, parts: [{ type: 'text', text: `run ${command}` }] });
    const asked = await listener.stream.until((e: OcEventLike) => e.type === 'permission.asked' && e.properties.sessionID === session);
    const requestID = (asked.properties as { id: string }).id;
    if (via === 'v1') await client.permission.reply({ requestID, reply: 'always' });
    else {
      const res = await fetch(`${url}/api/session/${session}/permission/${requestID}/reply`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ reply: 'always' }) });
      expect(res.status).toBe(204);
    }
    await untilNotBusy(client, session);
  } finally {
    listener.stop();
  }
}

/** A turn with nobody listening, in which the model runs `command`: what the model was told. */
async function unheardTurn(client: ReturnType<typeof createOpencodeClient>, command: string): Promise<string> {
  const session = ((await client.session.create({})).data as { id: string }).id;
  const id = scriptBash(command);
  const reply = await client.session.prompt({ sessionID: session, parts: [{ type: 'text', text: `run ${command}` }] });
  expect(reply.response.status).toBe(200);
  return toolResult(model, id);
}

/** `opencode run` in the project (no --auto), the model running `command`: what the model was told. */
async function cliTurn(command: string): Promise<string> {
  const id = scriptBash(command);
  const r = await sb.run(['run', `run ${command}`]);
  expect(r.code, r.stderr).toBe(0);
  return toolResult(model, id);
}

async function listed(s: Served): Promise<{ id: string; projectID: string; action: string; resource: string }[]> {
  const res = await fetch(`${s.url}/api/permission/saved?directory=${encodeURIComponent(sb.project)}`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { data: { id: string; projectID: string; action: string; resource: string }[] }).data;
}

describe('saved "always" approvals', () => {
  it('v2’s always outlasts the server: listed by the next one and honoured by its turns, not by `opencode run`; taken back for good', async () => {
    const first = await start();
    await approveAlways(first.client, 'echo kept-one', 'v2', first.s.url);
    expect(onDisk()).toEqual({ version: 1, projectRoot: sb.project, approvals: [{ id: expect.stringMatching(/^psv/), action: 'bash', resource: 'echo *', time: expect.any(Number) }] });
    expect(fs.statSync(savedFile()).mode & 0o777).toBe(0o600);
    const [saved] = await listed(first.s);
    expect(saved).toMatchObject({ projectID: projectID(), action: 'bash', resource: 'echo *' });
    await stop(first.s);

    // A new server: the approval is there, and a turn nobody could be asked in runs the command.
    const second = await start();
    expect(await listed(second.s)).toEqual([saved]);
    // Named by its project id, from a request of no project in particular (the server's own folder is another).
    const byId = await fetch(`${second.s.url}/api/permission/saved?projectID=${projectID()}&directory=${encodeURIComponent(sb.home)}`);
    expect(((await byId.json()) as { data: unknown[] }).data).toEqual([saved]);
    const ran = await unheardTurn(second.client, 'echo after-restart');
    expect(ran).not.toContain('permission denied');
    expect(ran).toContain('after-restart');
    expect(await unheardTurn(second.client, 'ls')).toContain('no OpenCode client listens');
    // `opencode run` asks as OpenCode's does (its v1 rules, never the kept approvals): not approved without --auto.
    expect(await cliTurn('echo from-run')).toContain('pass --auto');

    // Taken back: gone from the file, not listed by the next server, and asked about again.
    const removed = await fetch(`${second.s.url}/api/permission/saved/${saved?.id}`, { method: 'DELETE' });
    expect(removed.status).toBe(204);
    expect(onDisk().approvals).toEqual([]);
    await stop(second.s);
    const third = await start();
    expect(await listed(third.s)).toEqual([]);
    expect(await unheardTurn(third.client, 'echo taken-back')).toContain('no OpenCode client listens');
  });

  it('v1’s always (the TUI’s, "until OpenCode is restarted") is held until the server stops, never written', async () => {
    const first = await start();
    await approveAlways(first.client, 'echo held', 'v1');
    const [held] = await listed(first.s);
    expect(held).toMatchObject({ projectID: projectID(), action: 'bash', resource: 'echo *' });
    const ran = await unheardTurn(first.client, 'echo while-up');
    expect(ran).not.toContain('permission denied');
    expect(fs.existsSync(savedFile())).toBe(false);
    await stop(first.s);
    const second = await start();
    expect(await listed(second.s)).toEqual([]);
    expect(await unheardTurn(second.client, 'echo after-restart')).toContain('no OpenCode client listens');
  });

  it('two servers of one project at once: each keeps what the other saved, and honours it without a restart', async () => {
    const a = await start();
    const b = await start();
    expect(await listed(a.s)).toEqual([]);
    expect(await listed(b.s)).toEqual([]);
    await approveAlways(a.client, 'echo from-a', 'v2', a.s.url);
    // B read the file before A saved: its save reads it again under the lock and keeps A's.
    await approveAlways(b.client, 'ls -l', 'v2', b.s.url);
    expect(onDisk().approvals.map((x) => x.resource)).toEqual(['echo *', 'ls *']);
    const onA = await unheardTurn(a.client, 'ls -a');
    expect(onA).not.toContain('permission denied');
    const onB = await unheardTurn(b.client, 'echo seen-by-b');
    expect(onB).not.toContain('permission denied');
    expect(onB).toContain('seen-by-b');
  });

  it('a file that cannot be read: one warning naming it, moved aside untouched, the project starts empty and saves anew', async () => {
    const broken = '{"version": 1, "approvals": [ oops';
    fs.mkdirSync(path.dirname(savedFile()), { recursive: true });
    fs.writeFileSync(savedFile(), broken);
    const { s, client } = await start();
    expect(await listed(s)).toEqual([]);
    const aside = fs.readdirSync(path.dirname(savedFile())).filter((n) => n.startsWith(`${projectID()}.json.corrupt-`));
    expect(aside).toHaveLength(1);
    expect(fs.readFileSync(path.join(path.dirname(savedFile()), aside[0] as string), 'utf8')).toBe(broken);
    expect(fs.existsSync(savedFile())).toBe(false);

    await approveAlways(client, 'echo fresh', 'v2', s.url);
    expect(onDisk().approvals.map((a) => a.resource)).toEqual(['echo *']);
    const stderr = await stop(s);
    const warnings = stderr.split('\n').filter((l) => l.includes('saved permission approvals file'));
    expect(warnings).toEqual([`warning: the saved permission approvals file ${savedFile()} is not valid JSON; it was moved to ${path.join(path.dirname(savedFile()), aside[0] as string)} and this project's "always" approvals start empty.`]);
  });

  it('bounded: beyond 1000 the oldest go, with a warning', async () => {
    const approvals = Array.from({ length: 1000 }, (_, i) => ({ id: `psv_old${String(i).padStart(4, '0')}`, action: 'bash', resource: `tool${i} *`, time: i }));
    fs.mkdirSync(path.dirname(savedFile()), { recursive: true });
    fs.writeFileSync(savedFile(), JSON.stringify({ version: 1, projectRoot: sb.project, approvals }));
    const { s, client } = await start();
    expect(await listed(s)).toHaveLength(1000);
    await approveAlways(client, 'echo newest', 'v2', s.url);
    const kept = onDisk().approvals;
    expect(kept).toHaveLength(1000);
    expect(kept[0]?.id).toBe('psv_old0001');
    expect(kept.at(-1)?.resource).toBe('echo *');
    const stderr = await stop(s);
    expect(stderr).toContain(`warning: the project ${sb.project} has more than 1000 saved "always" approvals; the oldest 1 was dropped.`);
  });
});
