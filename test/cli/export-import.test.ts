/**
 * `opencode export` and `opencode import`, as OpenCode's: a session printed as `{info, messages:
 * [{info, parts}]}`, and a session taken in from such a file (OpenCode 1.18.33's own export, kept
 * in test/fixtures/opencode-export) or from an OpenCode share link, then continued with `run -s`.
 */
import { readFileSync, writeFileSync, mkdirSync, readdirSync, existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { FIXTURES, SECRET, hasStack, providerConfig, sandbox, type Sandbox } from './cli-helper.ts';

const OPENCODE_EXPORT = path.join(FIXTURES, 'opencode-export', '1.18.33-session.json');
const OPENCODE_ID = 'ses_db1cd7294ffe9vwLZQ29zbgP2V';

type Part = { id: string; type: string; text?: string; tool?: string; state?: { status: string; input?: unknown; output?: string; error?: string; title?: string } };
type Exported = { info: { id: string; title: string; directory: string; tokens: { input: number; output: number } }; messages: { info: { id: string; role: string; parentID?: string }; parts: Part[] }[] };
type Message = { role: string; content: unknown };

function sessionOf(stderr: string): string {
  const match = /session (ses_[a-z0-9]+)/.exec(stderr);
  if (!match) throw new Error(`no session id in: ${stderr}`);
  return match[1] as string;
}

describe('opencode export and import', () => {
  let server: ScriptedServer;
  let sb: Sandbox;
  const sessionsDir = () => path.join(sb.dataHome, 'pantheon', 'sessions');
  const sessionFiles = () => (existsSync(sessionsDir()) ? readdirSync(sessionsDir()).sort() : []);

  beforeAll(async () => {
    server = await startScriptedServer({ apiKey: SECRET });
  });
  afterAll(async () => {
    await server.close();
  });
  beforeEach(async () => {
    server.reset();
    sb = await sandbox();
    sb.write('opencode.json', { ...providerConfig(server, { m: {} }), model: 'p/m', permission: { bash: 'allow' } });
  });
  afterEach(async () => {
    await sb.remove();
  });

  it('exports a run’s session with its tool call, and an import of that export exports the same, and continues', async () => {
    server.script('m',
      { type: 'tool_calls', text: 'Let me look.', calls: [{ name: 'bash', arguments: { command: 'echo hi-there', description: 'say hi' } }] },
      { type: 'text', text: 'The shell said hi-there.' });
    const run = await sb.run(['run', 'say hi']);
    expect(run.code, run.stderr).toBe(0);
    const id = sessionOf(run.stderr);

    const first = await sb.run(['export', id]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toBe(`Exporting session: ${id}\n`);
    const doc = JSON.parse(first.stdout) as Exported;
    expect(doc.info.id).toBe(id);
    expect(doc.info.directory).toBe(sb.project);
    expect(doc.messages.map((m) => m.info.role)).toEqual(['user', 'assistant']);
    const [user, assistant] = doc.messages as [Exported['messages'][0], Exported['messages'][0]];
    expect(assistant.info.parentID).toBe(user.info.id);
    expect(user.parts.map((p) => [p.type, p.text])).toEqual([['text', 'say hi']]);
    expect(assistant.parts.map((p) => p.type)).toEqual(['step-start', 'text', 'tool', 'step-finish', 'step-start', 'text', 'step-finish']);
    const tool = assistant.parts.find((p) => p.type === 'tool');
    expect(tool?.tool).toBe('bash');
    expect(tool?.state).toMatchObject({ status: 'completed', input: { command: 'echo hi-there' }, title: 'echo hi-there' });
    expect(tool?.state?.output).toContain('hi-there');
    expect(first.stdout).not.toContain(SECRET);

    // Without an id: the newest session of this project.
    const newest = await sb.run(['export']);
    expect(newest.code, newest.stderr).toBe(0);
    expect(newest.stdout).toBe(first.stdout);

    const file = sb.write('session.json', first.stdout);
    expect((await sb.run(['session', 'delete', id])).code).toBe(0);
    const imported = await sb.run(['import', file]);
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stdout).toBe(`Imported session: ${id}\n`);
    expect(imported.stderr).toContain('1 turn into');
    const again = await sb.run(['export', id]);
    expect(again.stdout).toBe(first.stdout);

    server.script('m', { type: 'text', text: 'Still here.' });
    const next = await sb.run(['run', '-s', id, 'and now?']);
    expect(next.code, next.stderr).toBe(0);
    const sent = server.log.at(-1)?.messages as Message[];
    expect(sent.filter((m) => m.role !== 'system').map((m) => m.role)).toEqual(['user', 'assistant', 'tool', 'assistant', 'user']);
    expect(JSON.stringify(sent)).toContain('hi-there');
  });

  it('imports OpenCode 1.18.33’s own export (one assistant message per step) and sends its history to the model on the next turn', async () => {
    const imported = await sb.run(['import', OPENCODE_EXPORT]);
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stdout).toBe(`Imported session: ${OPENCODE_ID}\n`);
    expect(imported.stderr).toContain(`2 turns into ${sb.project}`);

    const listed = await sb.run(['session', 'list', '--json']);
    const sessions = (JSON.parse(listed.stdout) as { sessions: { id: string; title: string; usage: { inputTokens: number; outputTokens: number } }[] }).sessions;
    expect(sessions.map((s) => [s.id, s.title])).toEqual([[OPENCODE_ID, 'Greeting check']]);
    const source = JSON.parse(readFileSync(OPENCODE_EXPORT, 'utf8')) as { messages: { info: { role: string; tokens?: { input: number; output: number } } }[] };
    const input = source.messages.reduce((sum, m) => sum + (m.info.tokens?.input ?? 0), 0);
    expect(sessions[0]?.usage.inputTokens).toBe(input);

    const shown = await sb.run(['session', 'show', OPENCODE_ID, '--json']);
    const record = JSON.parse(shown.stdout) as { projectRoot: string; messages: Message[] };
    expect(record.projectRoot).toBe(sb.project);
    expect(record.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'tool', 'assistant', 'user', 'assistant', 'tool', 'assistant']);
    expect(record.messages[2]?.content).toEqual([{ type: 'tool-result', toolCallId: 'call_2_0', toolName: 'bash', output: { type: 'text', value: 'hi-there\n' } }]);
    // Its turns' durable events, as if they had run here (v2's session history).
    const events = (JSON.parse(shown.stdout) as { events?: { seq: number; type: string }[] }).events ?? [];
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events.filter((e) => e.type === 'session.next.prompted').length).toBe(2);
    expect(record.messages[6]?.content).toEqual([{ type: 'tool-result', toolCallId: 'call_4_0', toolName: 'read', output: { type: 'error-text', value: 'File not found: /home/ada/shop/missing.txt' } }]);

    // Pantheon's export of it keeps OpenCode's message ids, its texts and its tool states.
    const exported = JSON.parse((await sb.run(['export', OPENCODE_ID])).stdout) as Exported;
    expect(exported.messages.map((m) => m.info.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
    // Each turn's user message and the first of OpenCode's assistant messages for it (one per step there, one per turn here).
    const ids = source.messages.filter((m, i, all) => m.info.role === 'user' || all[i - 1]?.info.role === 'user').map((m) => (m.info as { id?: string }).id);
    expect(exported.messages.map((m) => m.info.id)).toEqual(ids);
    const tools = exported.messages.flatMap((m) => m.parts).filter((p) => p.type === 'tool');
    expect(tools.map((p) => [p.tool, p.state?.status])).toEqual([['bash', 'completed'], ['read', 'error']]);
    expect(tools[0]?.state?.title).toBe('echo hi-there');

    server.script('m', { type: 'text', text: 'Back again.' });
    const next = await sb.run(['run', '-s', OPENCODE_ID, 'what did the shell say?']);
    expect(next.code, next.stderr).toBe(0);
    const sent = server.log.at(-1)?.messages as { role: string; content: unknown; tool_calls?: { function: { name: string } }[] }[];
    const history = sent.filter((m) => m.role !== 'system');
    expect(history.map((m) => m.role)).toEqual(['user', 'assistant', 'tool', 'assistant', 'user', 'assistant', 'tool', 'assistant', 'user']);
    expect(history[1]?.tool_calls?.[0]?.function.name).toBe('bash');
    expect(history[2]?.content).toContain('hi-there');
  });

  it('keeps the synthetic parts of a user message (an @-mentioned MCP resource, a read file) synthetic through import and export, and sends them to the model once', async () => {
    const source = JSON.parse(readFileSync(OPENCODE_EXPORT, 'utf8')) as Exported;
    const user = source.messages.find((m) => m.info.role === 'user') as Exported['messages'][0];
    const synthetic = (text: string) => ({ id: 'prt_x', type: 'text', text, synthetic: true }) as Part;
    user.parts.push(synthetic('Reading MCP resource: notes (memo://notes)'), synthetic('NOTE-CONTENT-42'));
    const file = sb.write('with-resource.json', JSON.stringify(source));
    expect((await sb.run(['import', file])).code).toBe(0);
    const exported = JSON.parse((await sb.run(['export', OPENCODE_ID])).stdout) as { messages: { info: { role: string }; parts: (Part & { synthetic?: boolean })[] }[] };
    const parts = exported.messages.find((m) => m.info.role === 'user')?.parts ?? [];
    expect(parts.map((p) => [p.text, p.synthetic ?? false])).toEqual([
      ['"say hi"', false],
      ['Reading MCP resource: notes (memo://notes)', true],
      ['NOTE-CONTENT-42', true],
    ]);
    // Exported again after a second import: the same.
    const again = sb.write('again.json', JSON.stringify(exported));
    expect((await sb.run(['session', 'delete', OPENCODE_ID])).code).toBe(0);
    expect((await sb.run(['import', again])).code).toBe(0);
    const twice = JSON.parse((await sb.run(['export', OPENCODE_ID])).stdout) as typeof exported;
    expect(twice.messages.find((m) => m.info.role === 'user')?.parts.map((p) => [p.text, p.synthetic ?? false])).toEqual(parts.map((p) => [p.text, p.synthetic ?? false]));
    // The model gets them once, each an item of its own, as OpenCode sends them.
    server.script('m', { type: 'text', text: 'Noted.' });
    expect((await sb.run(['run', '-s', OPENCODE_ID, 'and the notes?'])).code).toBe(0);
    const sent = (server.log.at(-1)?.messages as Message[]).filter((m) => m.role === 'user');
    expect(sent[0]?.content).toEqual([
      { type: 'text', text: '"say hi"' },
      { type: 'text', text: 'Reading MCP resource: notes (memo://notes)' },
      { type: 'text', text: 'NOTE-CONTENT-42' },
    ]);
    expect(JSON.stringify(sent).split('NOTE-CONTENT-42').length).toBe(2);
  });

  it('leaves a session of the same id as it is', async () => {
    expect((await sb.run(['import', OPENCODE_EXPORT])).code).toBe(0);
    const file = path.join(sessionsDir(), `${OPENCODE_ID}.json`);
    const before = readFileSync(file, 'utf8');
    const again = await sb.run(['import', OPENCODE_EXPORT]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^error: Session ses_db1cd7294ffe9vwLZQ29zbgP2V is here already; nothing was imported\.\nhint: .*opencode session delete ses_db1cd7294ffe9vwLZQ29zbgP2V/);
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('refuses what is not an export with one sentence naming the file and the field, and saves nothing', async () => {
    const cases: [string, string | undefined, RegExp][] = [
      ['missing.json', undefined, /^error: Cannot import missing\.json: it does not exist\.\n/],
      ['folder', undefined, /^error: Cannot import folder: it is a folder, not a regular file\.\n/],
      ['broken.json', '{"info": ', /^error: broken\.json is not valid JSON \(.+\)\.\n/],
      ['list.json', '[]', /^error: list\.json: the document: expected an object\.\n/],
      ['no-id.json', JSON.stringify({ info: { id: '../../etc/passwd' }, messages: [] }), /^error: no-id\.json: info\.id: expected a session id/],
      ['no-messages.json', JSON.stringify({ info: { id: 'ses_abc' } }), /^error: no-messages\.json: messages: expected a list\.\n/],
      ['robot.json', JSON.stringify({ info: { id: 'ses_abc' }, messages: [{ info: { id: 'msg_1', role: 'robot' }, parts: [] }] }), /^error: robot\.json: messages\[0\]\.info\.role: expected "user" or "assistant"\.\n/],
      ['orphan.json', JSON.stringify({ info: { id: 'ses_abc' }, messages: [{ info: { id: 'msg_1', role: 'assistant' }, parts: [] }] }), /^error: orphan\.json: messages\[0\]\.info\.parentID: expected a user message before the first assistant message\.\n/],
      ['bad-part.json', JSON.stringify({ info: { id: 'ses_abc' }, messages: [{ info: { id: 'msg_1', role: 'user' }, parts: [] }, { info: { id: 'msg_2', role: 'assistant', parentID: 'msg_1' }, parts: [{ type: 'tool', callID: 'c1', tool: 'bash', state: 'done' }] }] }), /^error: bad-part\.json: messages\[1\]\.parts\[0\]\.state: expected an object\.\n/],
      ['bad-msg-id.json', JSON.stringify({ info: { id: 'ses_abc' }, messages: [{ info: { id: 'msg 1\u001b[31m', role: 'user' }, parts: [] }] }), /^error: bad-msg-id\.json: messages\[0\]\.info\.id: expected an id of letters, digits/],
    ];
    mkdirSync(path.join(sb.project, 'folder'));
    for (const [name, content] of cases) {
      if (content !== undefined) writeFileSync(path.join(sb.project, name), content);
      const r = await sb.run(['import', name]);
      expect(r.code, `${name}: ${r.stderr}`).toBe(2);
      expect(r.stderr, name).toMatch(cases.find((c) => c[0] === name)?.[2] as RegExp);
      expect(r.stderr).toMatch(/\nhint: /);
      expect(hasStack(r.stderr)).toBe(false);
      expect(r.stderr).not.toContain('\u001b');
      expect(r.stdout).toBe('');
    }
    expect(sessionFiles()).toEqual([]);
  });

  it('says what to do for a session id that is not here, or a project with none', async () => {
    const none = await sb.run(['export']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain(`error: No sessions in ${sb.project} to export.`);
    const unknown = await sb.run(['export', 'ses_nothere']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('session ses_nothere does not exist.');
    expect(unknown.stdout).toBe('');
  });

  it('--sanitize keeps the shape and redacts what was said and read', async () => {
    expect((await sb.run(['import', OPENCODE_EXPORT])).code).toBe(0);
    const plain = JSON.parse((await sb.run(['export', OPENCODE_ID])).stdout) as Exported;
    const r = await sb.run(['export', OPENCODE_ID, '--sanitize']);
    expect(r.code, r.stderr).toBe(0);
    for (const secret of ['hi-there', 'Let me look', 'say hi', 'missing.txt', 'Greeting check', sb.project]) expect(r.stdout, secret).not.toContain(secret);
    const doc = JSON.parse(r.stdout) as Exported;
    expect(doc.info.title).toBe(`[redacted:session-title:${OPENCODE_ID}]`);
    expect(doc.info.tokens).toEqual(plain.info.tokens);
    expect(doc.messages.map((m) => m.parts.map((p) => [p.id, p.type]))).toEqual(plain.messages.map((m) => m.parts.map((p) => [p.id, p.type])));
    const text = doc.messages[0]?.parts[0];
    expect(text?.text).toBe(`[redacted:text:${text?.id}]`);
  });

  describe('share links', () => {
    let share: Server;
    let base: string;
    const requests: string[] = [];
    beforeAll(async () => {
      const doc = JSON.parse(readFileSync(OPENCODE_EXPORT, 'utf8')) as { info: unknown; messages: { info: { id: string }; parts: unknown[] }[] };
      // OpenCode's share data: the session, then each message and part as its own entry.
      const data = [{ type: 'session', data: doc.info }, ...doc.messages.flatMap((m) => [{ type: 'message', data: m.info }, ...m.parts.map((p) => ({ type: 'part', data: p }))])];
      share = createServer((req, res) => {
        requests.push(req.url ?? '');
        if (req.url === '/api/share/abc123/data') res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(data));
        else if (req.url === '/api/share/empty/data') res.writeHead(200, { 'content-type': 'application/json' }).end('[]');
        else if (req.url === '/api/share/broken/data') res.writeHead(200, { 'content-type': 'application/json' }).end('<html>maintenance</html>');
        else if (req.url === '/api/share/odd/data') res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify([{ type: 'session', data: { id: 'ses_odd' } }, { type: 'message', data: { id: 'msg_1', role: 'robot' } }]));
        else res.writeHead(404).end('not found');
      });
      await new Promise<void>((resolve) => share.listen(0, '127.0.0.1', resolve));
      base = `http://127.0.0.1:${(share.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      await new Promise((resolve) => share.close(resolve));
    });

    it('imports the session behind a share link from its share data', async () => {
      const r = await sb.run(['import', `${base}/share/abc123`]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe(`Imported session: ${OPENCODE_ID}\n`);
      expect(requests).toContain('/api/share/abc123/data');
      const shown = JSON.parse((await sb.run(['session', 'show', OPENCODE_ID, '--json'])).stdout) as { messages: Message[] };
      expect(shown.messages).toHaveLength(8);
    });

    it('refuses a link that is not a share link, a share that is gone or empty, and a server that is not there', async () => {
      // A port nothing listens on: one the system just gave out and took back.
      const probe = createServer();
      await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
      const closed = (probe.address() as AddressInfo).port;
      await new Promise((resolve) => probe.close(resolve));
      const cases: [string, RegExp][] = [
        [`${base}/sessions/abc123`, /is not a share link: expected https:\/\/<host>\/share\/<id>\./],
        [`${base}/share/gone`, /answered 404\.\nhint: The share may have been removed/],
        [`${base}/share/empty`, /The share empty holds no session or no message\./],
        [`${base}/share/broken`, /\/api\/share\/broken\/data is not valid JSON \(Unexpected token '<'\)\./],
        [`${base}/share/odd`, /share\/odd: messages\[0\]\.info\.role: expected "user" or "assistant"\./],
        [`http://127.0.0.1:${closed}/share/abc`, /Cannot fetch the share data of http:\/\/127\.0\.0\.1:\d+\/share\/abc \(ECONNREFUSED\)\./],
      ];
      for (const [link, pattern] of cases) {
        const r = await sb.run(['import', link]);
        expect(r.code, `${link}: ${r.stderr}`).toBe(2);
        expect(r.stderr).toMatch(pattern);
        expect(hasStack(r.stderr)).toBe(false);
      }
      expect(sessionFiles()).toEqual([]);
    });
  });

  // `opencode attach` is Pantheon's too now (OpenCode's TUI on a running server): test/cli/tui-attach.test.ts.
  it('answers OpenCode’s commands it does not have with what to do instead, and takes `providers` for `auth`', async () => {
    const upgrade = await sb.run(['upgrade']);
    expect(upgrade.code).toBe(2);
    expect(upgrade.stderr).toContain('npm install -g pantheon@latest');
    // `web`: the dashboard is the server's `/` (there is no /dashboard page: test/server/dashboard-*.test.ts).
    const web = await sb.run(['web']);
    expect(web.code).toBe(2);
    expect(web.stderr).toContain('`opencode dashboard` (or `opencode serve` and open the URL it prints: the dashboard is its `/`).');
    const providers = await sb.run(['providers', 'list']);
    const auth = await sb.run(['auth', 'list']);
    expect(providers.code).toBe(0);
    expect(providers.stdout).toBe(auth.stdout);
  });
});
