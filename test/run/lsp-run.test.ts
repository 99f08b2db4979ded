/**
 * The config's language servers through the front-ends (the client itself: test/lsp): `opencode
 * run` with a server given by command (test/fixtures/lsp/marker-server.mjs): the model's `write`
 * brings in an error, the next request to the model carries OpenCode's sentence and the error, and
 * the server is shut down when the run ends (no process left); `serve`: a turn starts it, `GET /lsp`
 * through `@opencode-ai/sdk` lists it, `POST /instance/dispose` ends it, and so does stopping serve.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createOpencodeClient } from '@opencode-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { providerConfig, sandbox, type Sandbox } from '../cli/cli-helper.ts';
import { serve, watchEvents } from '../server/serve-helper.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { alive } from '../support/proc-children.ts';

const MARKER = path.resolve(import.meta.dirname, '../fixtures/lsp/marker-server.mjs');

let server: ScriptedServer;
let sb: Sandbox;
let log: string;

const config = (lsp: unknown) => ({ ...providerConfig(server, { m: {} }), model: 'p/m', permission: { edit: 'allow' }, cache: { enabled: false }, ...(lsp === undefined ? {} : { lsp }) });
const marker = () => ({ marker: { command: [process.execPath, MARKER], extensions: ['.txt'], env: { LSP_FIXTURE_LOG: log } } });

function events(): { pid: number; event: string }[] {
  let text: string;
  try {
    text = readFileSync(log, 'utf8');
  } catch {
    return [];
  }
  return text
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { pid: number; event: string });
}

const started = () => events().filter((e) => e.event === 'initialize');

beforeAll(async () => {
  server = await startScriptedServer();
  sb = await sandbox();
  log = path.join(sb.project, '..', 'lsp-log.jsonl');
});

afterAll(async () => {
  await server?.close();
  await sb?.remove();
});

describe('language servers through the front-ends', () => {
  it('opencode run: the next request to the model carries the errors; the server ends with the run', async () => {
    sb.write('opencode.json', config(marker()));
    server.script('m', { type: 'tool_calls', calls: [{ name: 'write', arguments: { filePath: 'notes.txt', content: 'ok\nBAD\n' } }] }, { type: 'text', text: 'Done.' });
    const before = server.log.length;
    const run = await sb.run(['run', 'write notes']);
    expect(run.code, run.stderr).toBe(0);
    const told = JSON.stringify(server.log[before + 1]?.messages);
    expect(told).toContain('LSP errors detected in this file, please fix:');
    expect(told).toContain('ERROR [2:1] marker BAD found');
    const runs = started();
    expect(runs).toHaveLength(1);
    expect(alive(runs[0]?.pid as number)).toBe(false);
    // Shut down cleanly (not only killed on the way out).
    expect(events().filter((e) => e.pid === runs[0]?.pid).map((e) => e.event)).toEqual(['initialize', 'didOpen', 'shutdown', 'exit']);
  });

  it('serve: a turn starts the server, GET /lsp lists it, disposing the instance and stopping serve end it', async () => {
    sb.write('opencode.json', config(marker()));
    const s = await serve(sb);
    try {
      const client = createOpencodeClient({ baseUrl: s.url, directory: sb.project });
      expect((await client.lsp.status()).data).toEqual([]);
      const stream = await watchEvents(s.url);
      const id = (await client.session.create({ body: {} })).data?.id ?? '';
      server.script('m', { type: 'tool_calls', calls: [{ name: 'write', arguments: { filePath: 'a.txt', content: 'BAD' } }] }, { type: 'text', text: 'Done.' });
      await client.session.prompt({ path: { id }, body: { parts: [{ type: 'text', text: 'write a' }] } });
      // OpenCode's event, on which its TUI asks GET /lsp again.
      await stream.until(/"type":"lsp.updated"/);
      stream.close();
      expect((await client.lsp.status()).data).toEqual([{ id: 'marker', name: 'marker', root: '', status: 'connected' }]);
      // The call's metadata carries the errors, by file (as given, and absolute), for the TUI to draw under it.
      const parts = ((await client.session.messages({ path: { id } })).data ?? []).flatMap((m) => m.parts);
      const write = parts.find((p) => p.type === 'tool' && p.tool === 'write') as { state: { metadata?: { diagnostics?: Record<string, unknown> } } } | undefined;
      const error = { range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, severity: 1, message: 'marker BAD found' };
      expect(write?.state.metadata?.diagnostics).toEqual({ 'a.txt': [error], [path.join(sb.project, 'a.txt')]: [error] });
      const first = started().at(-1)?.pid as number;
      expect(alive(first)).toBe(true);
      await client.instance.dispose();
      expect(alive(first)).toBe(false);
      expect((await client.lsp.status()).data).toEqual([]);
      // The instance opened again starts it again; stopping serve ends it.
      server.script('m', { type: 'tool_calls', calls: [{ name: 'write', arguments: { filePath: 'b.txt', content: 'BAD' } }] }, { type: 'text', text: 'Done.' });
      const again = (await client.session.create({ body: {} })).data?.id ?? '';
      await client.session.prompt({ path: { id: again }, body: { parts: [{ type: 'text', text: 'write b' }] } });
      expect((await client.lsp.status()).data).toHaveLength(1);
    } finally {
      await s.stop();
    }
    const last = started().at(-1)?.pid as number;
    expect(started().length).toBeGreaterThanOrEqual(3);
    expect(alive(last)).toBe(false);
  });

  it('debug lsp diagnostics FILE: what the servers report, as JSON (OpenCode’s); {} without the key', async () => {
    sb.write('opencode.json', config(marker()));
    sb.write('sub/d.txt', 'fine\nBAD\n');
    const count = started().length;
    const r = await sb.run(['debug', 'lsp', 'diagnostics', 'd.txt'], { cwd: path.join(sb.project, 'sub') });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      [path.join(sb.project, 'sub/d.txt')]: [{ range: { start: { line: 1, character: 0 }, end: { line: 1, character: 3 } }, severity: 1, message: 'marker BAD found', source: 'marker' }],
    });
    expect(started()).toHaveLength(count + 1);
    expect(alive(started().at(-1)?.pid as number)).toBe(false);
    sb.write('opencode.json', config(undefined));
    const none = await sb.run(['debug', 'lsp', 'diagnostics', 'sub/d.txt']);
    expect(none.code, none.stderr).toBe(0);
    expect(JSON.parse(none.stdout)).toEqual({});
  });

  it('a new server without extensions: a warning naming it, and it is not used (OpenCode drops it)', async () => {
    sb.write('opencode.json', config({ mine: { command: [process.execPath, MARKER], env: { LSP_FIXTURE_LOG: log } } }));
    const check = await sb.run(['config', 'validate']);
    expect(check.code, check.stderr).toBe(0);
    expect(check.stderr).toContain('lsp.mine.extensions: mine is not one of OpenCode\'s built-in language servers and has no "extensions"');
    const count = started().length;
    server.script('m', { type: 'tool_calls', calls: [{ name: 'write', arguments: { filePath: 'e.txt', content: 'BAD' } }] }, { type: 'text', text: 'Done.' });
    const run = await sb.run(['run', 'write e']);
    expect(run.code, run.stderr).toBe(0);
    expect(started()).toHaveLength(count);
  });

  it('no lsp key: no server, GET /lsp is []', async () => {
    sb.write('opencode.json', config(undefined));
    const count = started().length;
    server.script('m', { type: 'tool_calls', calls: [{ name: 'write', arguments: { filePath: 'c.txt', content: 'BAD' } }] }, { type: 'text', text: 'Done.' });
    const run = await sb.run(['run', 'write c']);
    expect(run.code, run.stderr).toBe(0);
    expect(started()).toHaveLength(count);
  });
});
