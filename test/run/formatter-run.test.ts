/**
 * The config's formatters through the front-ends (the formatting itself: test/format): `opencode
 * run` with `formatter: true` in a project that uses prettier (this repository's, in the project's
 * node_modules/.bin): the model's `write` leaves a formatted file, the `tool_use` diff shows it and
 * the next request tells the model; `GET /formatter` through `@opencode-ai/sdk` lists what is found;
 * without the key, nothing is formatted and the list is empty.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createOpencodeClient } from '@opencode-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { providerConfig, sandbox, type Sandbox } from '../cli/cli-helper.ts';
import { serve } from '../server/serve-helper.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';

const PRETTIER = path.resolve(import.meta.dirname, '../../node_modules/prettier/bin/prettier.cjs');

let server: ScriptedServer;
let sb: Sandbox;

const config = (formatter: unknown) => ({ ...providerConfig(server, { m: {} }), model: 'p/m', permission: { edit: 'allow' }, cache: { enabled: false }, ...(formatter === undefined ? {} : { formatter }) });

beforeAll(async () => {
  server = await startScriptedServer();
  sb = await sandbox();
  sb.write('package.json', { name: 'demo', devDependencies: { prettier: '^3' } });
  fs.mkdirSync(path.join(sb.project, 'node_modules', '.bin'), { recursive: true });
  fs.symlinkSync(PRETTIER, path.join(sb.project, 'node_modules', '.bin', 'prettier'));
});

afterAll(async () => {
  await server?.close();
  await sb?.remove();
});

type ToolUse = { type: string; tool?: string; diff?: { patch?: string } };

describe('formatters through the front-ends', () => {
  it('opencode run: the written file is formatted; the diff and the model’s next request say so', async () => {
    sb.write('opencode.json', config(true));
    server.script('m', { type: 'tool_calls', calls: [{ name: 'write', arguments: { filePath: 'src/a.ts', content: 'export const  a={b:1}' } }] }, { type: 'text', text: 'Done.' });
    const before = server.log.length;
    const run = await sb.run(['run', '--format', 'json', 'write a']);
    expect(run.code, run.stderr).toBe(0);
    expect(fs.readFileSync(path.join(sb.project, 'src/a.ts'), 'utf8')).toBe('export const a = { b: 1 };\n');
    const use = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as ToolUse).find((e) => e.type === 'tool_use');
    expect(use?.diff?.patch).toContain('+export const a = { b: 1 };');
    expect(JSON.stringify(server.log[before + 1]?.messages)).toContain('prettier reformatted src/a.ts: read it again before editing it.');
  });

  it('GET /formatter lists the formatters and whether each is found; none without the key', async () => {
    sb.write('opencode.json', config({ gofmt: { disabled: true } }));
    const s = await serve(sb);
    try {
      const client = createOpencodeClient({ baseUrl: s.url, directory: sb.project });
      const list = (await client.formatter.status()).data ?? [];
      expect(list.find((f) => f.name === 'prettier')).toEqual({ name: 'prettier', extensions: expect.arrayContaining(['.ts', '.md']), enabled: true });
      expect(list.find((f) => f.name === 'biome')).toMatchObject({ enabled: false });
      expect(list.map((f) => f.name)).not.toContain('gofmt');
    } finally {
      await s.stop();
    }
    sb.write('opencode.json', config(undefined));
    const bare = await serve(sb);
    try {
      expect((await createOpencodeClient({ baseUrl: bare.url, directory: sb.project }).formatter.status()).data).toEqual([]);
    } finally {
      await bare.stop();
    }
    server.script('m', { type: 'tool_calls', calls: [{ name: 'write', arguments: { filePath: 'src/b.ts', content: 'export const  b=2' } }] }, { type: 'text', text: 'Done.' });
    const run = await sb.run(['run', 'write b']);
    expect(run.code, run.stderr).toBe(0);
    expect(fs.readFileSync(path.join(sb.project, 'src/b.ts'), 'utf8')).toBe('export const  b=2');
  });
});
