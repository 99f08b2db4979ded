/**
 * OpenCode's shell mode (a TUI prompt that starts with `!`) through `@opencode-ai/sdk`: the command
 * runs with `bash` in the project, no model is asked, the session gets a turn of it (OpenCode's
 * synthetic note, the call and its output) that the next prompt's model sees, and the TUI gets the
 * parts as events. Bad bodies are a 400 naming the field.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { providerConfig, sandbox } from '../cli/cli-helper.ts';
import { serve } from '../server/serve-helper.ts';
import { useServedProject } from './served-project.ts';
import { collect, idleOf } from '../server/sdk-helper.ts';

const project = useServedProject({});

type ToolPart = { type: string; tool?: string; state?: { status?: string; input?: { command?: string }; output?: string } };

describe('shell mode', () => {
  it('runs the command in the project without the model; the turn is kept and the next prompt’s model sees it', async () => {
    const id = (await project.client.session.create({ body: {} })).data?.id ?? '';
    const abort = new AbortController();
    const stream = collect((await project.client.event.subscribe({ signal: abort.signal, sseMaxRetryAttempts: 0 } as never)).stream);
    await stream.until((e) => e.type === 'server.connected');
    const asked = project.server.log.length;
    const command = 'pwd && echo hello && echo oops >&2 && exit 3';
    const answered = await project.client.session.shell({ path: { id }, body: { agent: 'build', command } });
    expect(answered.data).toMatchObject({ role: 'assistant', sessionID: id });
    expect(project.server.log.length).toBe(asked);
    const shown = await stream.until((e) => e.type === 'message.part.updated' && (e.properties as { part: ToolPart }).part.tool === 'bash' && (e.properties as { part: ToolPart }).part.state?.status === 'completed');
    const output = (shown.properties as { part: ToolPart }).part.state?.output ?? '';
    expect(output).toContain(fs.realpathSync(project.sb.project));
    expect(output).toContain('hello');
    expect(output).toContain('oops');
    expect(output).toContain('(exit code 3)');
    // While it runs, the reply already names the agent's model (the TUI's footer): no step will say it.
    const live = stream.of('message.updated').find((e) => (e.properties as { info?: { role?: string } }).info?.role === 'assistant');
    expect((live?.properties as { info?: unknown } | undefined)?.info).toMatchObject({ providerID: 'p', modelID: 'm' });
    abort.abort();

    const messages = (await project.client.session.messages({ path: { id } })).data ?? [];
    expect(messages.map((m) => m.info.role)).toEqual(['user', 'assistant']);
    expect(messages[0]?.parts).toEqual([expect.objectContaining({ type: 'text', text: 'The following tool was executed by the user', synthetic: true })]);
    // The TUI draws a bash call's output from its metadata; the reply names the agent's model; the note is no title.
    expect(messages[1]?.parts.find((p) => p.type === 'tool')).toMatchObject({ tool: 'bash', state: { status: 'completed', input: { command }, metadata: { output: expect.stringContaining('hello') } } });
    expect(messages[1]?.info).toMatchObject({ providerID: 'p', modelID: 'm' });
    expect((await project.client.session.get({ path: { id } })).data?.title).not.toContain('The following tool');

    project.server.script('m', { type: 'text', text: 'It printed hello.' });
    await project.client.session.prompt({ path: { id }, body: { parts: [{ type: 'text', text: 'what did it print?' }] } });
    const sent = JSON.stringify(project.server.log[asked]?.messages);
    expect(sent).toContain('pwd && echo hello');
    expect(sent).toContain('(exit code 3)');
  });

  it('a long command is stopped by POST /session/{id}/abort (its process group killed) and the turn ends cancelled', async () => {
    const id = (await project.client.session.create({ body: {} })).data?.id ?? '';
    const marker = path.join(project.sb.project, 'after-sleep');
    const started = Date.now();
    const running = project.client.session.shell({ path: { id }, body: { agent: 'build', command: `sleep 30 && touch ${marker}` } });
    const headers = { 'x-opencode-directory': project.sb.project };
    // Busy once the turn runs (the command is under way).
    while (!JSON.stringify(await (await fetch(`${project.served.url}/session/status`, { headers })).json()).includes(id)) await new Promise((r) => setImmediate(r));
    expect(await (await fetch(`${project.served.url}/session/${id}/abort`, { method: 'POST', headers })).json()).toBe(true);
    const answered = await running;
    expect(answered.data).toMatchObject({ role: 'assistant', error: { name: expect.any(String) } });
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(fs.existsSync(marker)).toBe(false);
  });

  it('a client that goes away does not stop the command: it finishes, the turn is kept, the server goes on', async () => {
    const id = (await project.client.session.create({ body: {} })).data?.id ?? '';
    const abort = new AbortController();
    const events = collect((await project.client.event.subscribe({ signal: abort.signal, sseMaxRetryAttempts: 0 } as never)).stream);
    await events.until((e) => e.type === 'server.connected');
    const headers = { 'content-type': 'application/json', 'x-opencode-directory': project.sb.project };
    const leaving = new AbortController();
    const request = fetch(`${project.served.url}/session/${id}/shell`, { method: 'POST', headers, body: JSON.stringify({ command: 'sleep 1 && echo finished' }), signal: leaving.signal }).catch((error: unknown) => error);
    while (!JSON.stringify(await (await fetch(`${project.served.url}/session/status`, { headers })).json()).includes(id)) await new Promise((r) => setImmediate(r));
    leaving.abort();
    expect(await request).toBeInstanceOf(Error);
    await events.until(idleOf(id));
    abort.abort();
    const messages = (await project.client.session.messages({ path: { id } })).data ?? [];
    expect(messages[1]?.parts.find((p) => p.type === 'tool')).toMatchObject({ tool: 'bash', state: { status: 'completed', output: expect.stringContaining('finished') } });
    expect((await fetch(`${project.served.url}/global/health`)).status).toBe(200);
  });

  it('behind the server’s password: without it a 401 and nothing runs', async () => {
    const own = await sandbox();
    own.write('opencode.json', { ...providerConfig(project.server, { m: {} }), model: 'p/m' });
    const guarded = await serve(own, [], { OPENCODE_SERVER_PASSWORD: 'pw-for-the-shell-test' });
    try {
      const authorization = `Basic ${Buffer.from('opencode:pw-for-the-shell-test').toString('base64')}`;
      const created = await fetch(`${guarded.url}/session`, { method: 'POST', headers: { 'content-type': 'application/json', authorization }, body: '{}' });
      const { id } = (await created.json()) as { id: string };
      const marker = path.join(own.project, 'ran');
      const refused = await fetch(`${guarded.url}/session/${id}/shell`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ command: `touch ${marker}` }) });
      expect(refused.status).toBe(401);
      expect(fs.existsSync(marker)).toBe(false);
      // The other session routes this change added are behind it too.
      for (const [method, route, body] of [
        ['POST', 'revert', { messageID: 'msg_000000000000notthere000000' }],
        ['POST', 'unrevert', undefined],
        ['POST', 'summarize', {}],
        ['GET', 'diff', undefined],
      ] as const) {
        const res = await fetch(`${guarded.url}/session/${id}/${route}`, { method, headers: { 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
        expect(res.status, route).toBe(401);
      }
      const allowed = await fetch(`${guarded.url}/session/${id}/shell`, { method: 'POST', headers: { 'content-type': 'application/json', authorization }, body: JSON.stringify({ command: `touch ${marker}` }) });
      expect(allowed.status).toBe(200);
      expect(fs.existsSync(marker)).toBe(true);
    } finally {
      await guarded.stop();
      await own.remove();
    }
  });

  it('a missing, empty or blank command is a 400 naming the field, and nothing runs', async () => {
    const id = (await project.client.session.create({ body: {} })).data?.id ?? '';
    for (const body of [{}, { command: '' }, { command: '   ' }, { command: 42 }]) {
      const res = await fetch(`${project.served.url}/session/${id}/shell`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-opencode-directory': project.sb.project }, body: JSON.stringify(body) });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(JSON.stringify(await res.json())).toContain('command');
    }
    expect((await project.client.session.messages({ path: { id } })).data).toEqual([]);
  });
});
