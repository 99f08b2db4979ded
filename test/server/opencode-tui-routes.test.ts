/**
 * OpenCode's `/tui/*` routes, which IDE extensions and SDK scripts call to drive the TUI attached to
 * a server: through `@opencode-ai/sdk`'s v2 and v1 clients, each answered `true` and seen by an
 * `/event` subscriber as the `tui.*` event OpenCode 1.18.33 publishes (the names and payloads checked
 * against its server); bad bodies a 400 naming the field and no event; an unknown session a 404;
 * the control queue's long poll pending until its client leaves, and answered 503 when the server
 * stops; a page of another site refused.
 */
import http from 'node:http';
import { createOpencodeClient as createV1 } from '@opencode-ai/sdk';
import { createOpencodeClient as createV2 } from '@opencode-ai/sdk/v2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandbox, type Sandbox } from '../cli/cli-helper.ts';
import { collect } from './sdk-helper.ts';
import { serve, type Served } from './serve-helper.ts';

let sb: Sandbox;
let s: Served;
let v1: ReturnType<typeof createV1>;
let v2: ReturnType<typeof createV2>;
let events: ReturnType<typeof collect>;
const stopEvents = new AbortController();

beforeAll(async () => {
  sb = await sandbox();
  sb.write('opencode.json', { model: 'p/m', provider: { p: { options: { baseURL: 'http://127.0.0.1:9/v1', apiKey: 'sk-test-123456789' }, models: { m: {} } } } });
  s = await serve(sb);
  v1 = createV1({ baseUrl: s.url, directory: sb.project });
  v2 = createV2({ baseUrl: s.url, directory: sb.project });
  const sse = await v2.event.subscribe({}, { signal: stopEvents.signal, sseMaxRetryAttempts: 0 });
  events = collect(sse.stream);
  await events.until((e) => e.type === 'server.connected');
});

afterAll(async () => {
  stopEvents.abort();
  await s?.stop();
  await sb?.remove();
});

const tuiEvents = () => events.events.filter((e) => e.type.startsWith('tui.'));

/** Runs `call` and returns the tui.* event it published (the first one after those seen so far). */
async function published(call: () => Promise<{ data?: unknown; response: Response }>): Promise<{ type: string; properties: Record<string, unknown> }> {
  const before = tuiEvents().length;
  const result = await call();
  expect(result.response.status).toBe(200);
  expect(result.data).toBe(true);
  return events.until((e) => e.type.startsWith('tui.') && tuiEvents().indexOf(e) >= before);
}

describe('the TUI routes publish what the attached TUI acts on', () => {
  it('append-prompt, show-toast, select-session and publish carry their payloads (v2 client)', async () => {
    expect(await published(() => v2.tui.appendPrompt({ text: 'hello from the IDE' }))).toMatchObject({ type: 'tui.prompt.append', properties: { text: 'hello from the IDE' } });
    const toast = await published(() => v2.tui.showToast({ title: 'Build', message: 'done', variant: 'success' }));
    expect(toast).toMatchObject({ type: 'tui.toast.show' });
    // OpenCode's field order, its default duration filled in.
    expect(toast.properties).toEqual({ title: 'Build', message: 'done', variant: 'success', duration: 5000 });
    expect((await published(() => v2.tui.showToast({ message: 'm', variant: 'error', duration: 1200 }))).properties).toEqual({ message: 'm', variant: 'error', duration: 1200 });

    const session = (await v2.session.create({})).data as { id: string };
    expect(await published(() => v2.tui.selectSession({ sessionID: session.id }))).toMatchObject({ type: 'tui.session.select', properties: { sessionID: session.id } });

    expect(await published(() => v2.tui.publish({ body: { type: 'tui.prompt.append', properties: { text: 'via publish' } } }))).toMatchObject({ type: 'tui.prompt.append', properties: { text: 'via publish' } });
    expect((await published(() => v2.tui.publish({ body: { type: 'tui.toast.show', properties: { message: 'x', variant: 'info' } } }))).properties).toEqual({ message: 'x', variant: 'info', duration: 5000 });
    expect(await published(() => v2.tui.publish({ body: { type: 'tui.command.execute', properties: { command: 'agent.cycle' } } }))).toMatchObject({ properties: { command: 'agent.cycle' } });
  });

  it('the dialog and prompt routes run the TUI’s commands (themes open the theme picker, not the session list)', async () => {
    const commands: [() => Promise<{ data?: unknown; response: Response }>, string][] = [
      [() => v2.tui.clearPrompt(), 'prompt.clear'],
      [() => v2.tui.submitPrompt(), 'prompt.submit'],
      [() => v2.tui.openHelp(), 'help.show'],
      [() => v2.tui.openModels(), 'model.list'],
      [() => v2.tui.openSessions(), 'session.list'],
      [() => v2.tui.openThemes(), 'theme.switch'],
      // OpenCode's names, mapped as it maps them; a TUI command id passed on.
      [() => v2.tui.executeCommand({ command: 'session_new' }), 'session.new'],
      [() => v2.tui.executeCommand({ command: 'messages_half_page_up' }), 'session.half.page.up'],
      [() => v2.tui.executeCommand({ command: 'model.list' }), 'model.list'],
    ];
    for (const [call, command] of commands) expect(await published(call)).toEqual(expect.objectContaining({ type: 'tui.command.execute', properties: { command } }));
  });

  it('the v1 client’s calls work the same', async () => {
    expect(await published(() => v1.tui.appendPrompt({ body: { text: 'v1 text' } }))).toMatchObject({ properties: { text: 'v1 text' } });
    expect(await published(() => v1.tui.showToast({ body: { message: 'v1 toast', variant: 'warning' } }))).toMatchObject({ properties: { message: 'v1 toast', variant: 'warning', duration: 5000 } });
    expect(await published(() => v1.tui.executeCommand({ body: { command: 'agent_cycle' } }))).toMatchObject({ properties: { command: 'agent.cycle' } });
  });

  it('bad bodies are a 400 naming the field, an unknown session a 404, and nothing is published', async () => {
    const before = tuiEvents().length;
    const post = (path: string, body?: unknown) => fetch(`${s.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }) });
    const cases: [string, unknown, number, string | undefined][] = [
      ['/tui/append-prompt', undefined, 400, undefined],
      ['/tui/append-prompt', { text: 5 }, 400, 'text'],
      ['/tui/append-prompt', 'not json', 400, undefined],
      ['/tui/execute-command', {}, 400, 'command'],
      ['/tui/execute-command', { command: 'bogus' }, 400, 'command'],
      ['/tui/show-toast', { message: 'm' }, 400, 'variant'],
      ['/tui/show-toast', { message: 'm', variant: 'loud' }, 400, 'variant'],
      ['/tui/show-toast', { message: 'm', variant: 'info', duration: 0 }, 400, 'duration'],
      ['/tui/show-toast', { message: 'm', variant: 'info', duration: 1.5 }, 400, 'duration'],
      ['/tui/publish', { type: 'tui.other', properties: {} }, 400, 'type'],
      ['/tui/publish', { type: 'tui.prompt.append', properties: {} }, 400, 'properties.text'],
      ['/tui/publish', { type: 'tui.session.select', properties: { sessionID: 'nope' } }, 400, 'properties.sessionID'],
      ['/tui/select-session', {}, 400, 'sessionID'],
      ['/tui/select-session', { sessionID: 'nope' }, 400, 'sessionID'],
      ['/tui/select-session', { sessionID: 'ses_doesnotexist' }, 404, undefined],
      ['/tui/control/response', undefined, 400, undefined],
    ];
    for (const [path, body, status, field] of cases) {
      const res = await post(path, body);
      const answer = (await res.json()) as { name: string; data: { message: string; field?: string } };
      expect(res.status, `${path} ${JSON.stringify(body)}`).toBe(status);
      expect(answer.name).toBe(status === 404 ? 'NotFoundError' : 'BadRequest');
      expect(answer.data.message.length).toBeGreaterThan(10);
      if (field !== undefined) expect(answer.data.field, path).toBe(field);
    }
    // A missing folder is named too.
    expect((await v2.tui.appendPrompt({ text: 'x', directory: `${sb.root}/nowhere` })).response.status).toBe(400);
    // The next good call's event is the first after the bad ones.
    expect(await published(() => v2.tui.appendPrompt({ text: 'after the bad ones' }))).toMatchObject({ properties: { text: 'after the bad ones' } });
    expect(tuiEvents().length).toBe(before + 1);
  });

  it('a page of another site cannot drive the TUI', async () => {
    const before = tuiEvents().length;
    const res = await fetch(`${s.url}/tui/append-prompt`, { method: 'POST', headers: { origin: 'https://evil.example', 'content-type': 'text/plain' }, body: JSON.stringify({ text: 'rm -rf ~' }) });
    expect(res.status).toBe(403);
    expect(await published(() => v2.tui.appendPrompt({ text: 'own' }))).toMatchObject({ properties: { text: 'own' } });
    expect(tuiEvents().length).toBe(before + 1);
  });

  it('control/response takes any JSON; control/next waits until its client leaves', async () => {
    expect((await v2.tui.control.response({ body: { ok: 1 } })).data).toBe(true);
    const leave = new AbortController();
    let settled = false;
    const next = fetch(`${s.url}/tui/control/next`, { signal: leave.signal }).finally(() => (settled = true));
    // Requests sent after it are answered while it waits.
    expect((await v2.tui.control.response({ body: [1, 2] })).data).toBe(true);
    expect((await fetch(`${s.url}/global/health`)).status).toBe(200);
    expect(settled).toBe(false);
    leave.abort();
    await expect(next).rejects.toThrow();
  });
});

describe('a control/next waiting when the server stops', () => {
  it('is answered 503 (SHUTTING_DOWN), and the server exits 0', async () => {
    const other = await sandbox();
    try {
      const served = await serve(other);
      const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = http.get(`${served.url}/tui/control/next`, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (body += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('error', reject);
        req.on('finish', () => sent());
      });
      let sent!: () => void;
      const written = new Promise<void>((resolve) => (sent = resolve));
      // The request is on the server's socket, and a later one on another connection is answered.
      await written;
      expect((await fetch(`${served.url}/global/health`)).status).toBe(200);
      const stopped = served.stop();
      const res = await answer;
      expect(res.status).toBe(503);
      expect((JSON.parse(res.body) as { data: { code: string } }).data.code).toBe('SHUTTING_DOWN');
      expect((await stopped).code).toBe(0);
    } finally {
      await other.remove();
    }
  });
});
