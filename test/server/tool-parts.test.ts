/**
 * The rest of OpenCode's tool parts as its TUI, app and SDK users read them (OpenCode 1.18.33's
 * server compared call by call): `read`'s `{preview, truncated, loaded, display}` (the TUI lists
 * `loaded` under the call), `bash`'s `exit`, `skill`'s `{name, dir}`, `webfetch`'s and an MCP tool's
 * `truncated` (and no title for the MCP tool), `webfetch`'s title (the URL and the content type), `todowrite`'s title ("1 todos"), and a failed call's
 * error as its message alone (a call a deny rule refused led by OpenCode's words for it). The same live as read back, through `@opencode-ai/sdk`.
 */
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { providerConfig, sandbox, type Sandbox } from '../cli/cli-helper.ts';
import { serve } from './serve-helper.ts';
import { idleOf, watchedSession } from './sdk-helper.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';

let server: ScriptedServer;
let sb: Sandbox;
let pages: http.Server;
let pagesUrl = '';
// Answers with a C1 control character (CSI, which a terminal takes as ESC [) in its Content-Type: fetch lets such a byte through.
let hostile: net.Server;
let hostileUrl = '';

beforeAll(async () => {
  server = await startScriptedServer();
  pages = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(req.url === '/big' ? `<html><body><p>${'word '.repeat(20_000)}</p></body></html>` : '<html><body><h1>Hello page</h1></body></html>');
  });
  await new Promise<void>((resolve) => pages.listen(0, '127.0.0.1', resolve));
  pagesUrl = `http://127.0.0.1:${(pages.address() as AddressInfo).port}`;
  hostile = net.createServer((socket) => {
    socket.once('data', () => socket.end(Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: text/plain; x=\x9b31mred\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi', 'latin1')));
  });
  await new Promise<void>((resolve) => hostile.listen(0, '127.0.0.1', resolve));
  hostileUrl = `http://127.0.0.1:${(hostile.address() as AddressInfo).port}/x`;
  sb = await sandbox();
  sb.write('opencode.json', {
    ...providerConfig(server, { m: {} }),
    model: 'p/m',
    permission: { edit: 'allow', bash: { '*': 'allow', 'rm *': 'deny' }, webfetch: 'allow', skill: 'allow' },
    mcp: { demo: { type: 'local', command: [process.execPath, path.join(import.meta.dirname, 'fixtures', 'failing-tool-mcp.mjs')], timeout: 30_000 } },
    cache: { enabled: false },
  });
  sb.write('a.txt', 'one\ntwo\nthree\n');
  sb.write('long.txt', Array.from({ length: 2500 }, (_, i) => `line ${i + 1}`).join('\n'));
  sb.write('.opencode/skill/demo/SKILL.md', '---\nname: demo\ndescription: A demo skill.\n---\n# Demo\nDo the demo thing.\n');
});

afterAll(async () => {
  await server?.close();
  await new Promise((resolve) => pages?.close(resolve));
  await new Promise((resolve) => hostile?.close(resolve));
  await sb?.remove();
});

type State = { status: string; title?: string; metadata?: Record<string, unknown>; error?: string };
type Part = { type: string; callID?: string; state?: State };

describe('tool parts as OpenCode’s are', () => {
  it('read, bash, skill, webfetch, todowrite, an MCP tool and failed calls: live and read back', async () => {
    const served = await serve(sb);
    try {
      const { client, id, stream, close } = await watchedSession(served.url, sb.project);
      server.script(
        'm',
        {
          type: 'tool_calls',
          calls: [
            { id: 'c_read', name: 'read', arguments: { filePath: 'a.txt' } },
            { id: 'c_long', name: 'read', arguments: { filePath: 'long.txt' } },
            { id: 'c_missing', name: 'read', arguments: { filePath: 'missing.txt' } },
            { id: 'c_bash', name: 'bash', arguments: { command: 'echo hi' } },
            { id: 'c_exit', name: 'bash', arguments: { command: 'exit 3' } },
            { id: 'c_denied', name: 'bash', arguments: { command: 'rm -rf nothing' } },
            { id: 'c_skill', name: 'skill', arguments: { name: 'demo' } },
            { id: 'c_page', name: 'webfetch', arguments: { url: `${pagesUrl}/page` } },
            { id: 'c_big', name: 'webfetch', arguments: { url: `${pagesUrl}/big` } },
            { id: 'c_hostile', name: 'webfetch', arguments: { url: hostileUrl } },
            { id: 'c_todo', name: 'todowrite', arguments: { todos: [{ id: '1', content: 'first', status: 'completed', priority: 'high' }, { id: '2', content: 'second', status: 'pending', priority: 'low' }] } },
            { id: 'c_mcp', name: 'demo_echo', arguments: { text: 'hey' } },
            { id: 'c_mcp_fail', name: 'demo_fail', arguments: {} },
          ],
        },
        { type: 'text', text: 'Done.' },
      );
      await client.session.prompt({ path: { id }, body: { parts: [{ type: 'text', text: 'go' }] } });
      await stream.until(idleOf(id));
      const longText = Array.from({ length: 2000 }, (_, i) => `line ${i + 1}`);
      const expected: Record<string, Partial<State>> = {
        c_read: {
          title: 'a.txt',
          metadata: {
            preview: 'one\ntwo\nthree',
            truncated: false,
            loaded: [],
            display: { type: 'file', path: path.join(sb.project, 'a.txt'), text: 'one\ntwo\nthree', lineStart: 1, lineEnd: 3, totalLines: 3, truncated: false },
          },
        },
        c_long: {
          title: 'long.txt',
          metadata: {
            preview: longText.slice(0, 20).join('\n'),
            truncated: true,
            loaded: [],
            display: { type: 'file', path: path.join(sb.project, 'long.txt'), text: longText.join('\n'), lineStart: 1, lineEnd: 2000, totalLines: 2500, truncated: true },
          },
        },
        c_missing: { status: 'error', error: `File not found: ${path.join(sb.project, 'missing.txt')}` },
        c_bash: { title: 'echo hi', metadata: { output: 'hi', exit: 0, truncated: false } },
        c_exit: { title: 'exit 3', metadata: { output: '(no output)\n\n(exit code 3)', exit: 3, truncated: false } },
        // OpenCode's words first: its TUI strikes such a call through rather than drawing it as failed.
        c_denied: { status: 'error', error: expect.stringMatching(/^The user has specified a rule which prevents you from using this specific tool call\. \(permission denied: bash `rm -rf nothing` \(rule "rm \*": deny/) },
        c_skill: { title: 'Loaded skill: demo', metadata: { name: 'demo', dir: path.join(sb.project, '.opencode/skill/demo'), truncated: false } },
        // OpenCode's title: the URL and the content type it was answered with.
        c_page: { title: `${pagesUrl}/page (text/html; charset=utf-8)`, metadata: { truncated: false } },
        c_big: { metadata: { truncated: true } },
        c_hostile: { title: `${hostileUrl} (text/plain; x=\\x9b31mred)` },
        c_todo: { title: '1 todos', metadata: { todos: expect.any(Array), truncated: false } },
        c_mcp: { title: '', metadata: { truncated: false } },
        c_mcp_fail: { status: 'error', error: 'it broke' },
      };
      const live = new Map<string, State | undefined>();
      for (const e of stream.events) {
        const part = (e.properties as { part?: Part }).part;
        if (e.type === 'message.part.updated' && part?.type === 'tool' && (part.state?.status === 'completed' || part.state?.status === 'error')) live.set(part.callID ?? '', part.state);
      }
      const messages = (await client.session.messages({ path: { id } })).data ?? [];
      const saved = new Map((messages.flatMap((m) => m.parts) as Part[]).filter((p) => p.type === 'tool').map((p) => [p.callID ?? '', p.state]));
      for (const [callID, state] of Object.entries(expected)) {
        const want = { status: 'completed', ...state };
        expect(live.get(callID), `live ${callID}`).toMatchObject(want);
        expect(saved.get(callID), `saved ${callID}`).toMatchObject(want);
        // A failed call has no metadata, as OpenCode's has none.
        if (want.status === 'error') expect(saved.get(callID)?.metadata, callID).toBeUndefined();
      }
      close();
    } finally {
      await served.stop();
    }
  });
});
