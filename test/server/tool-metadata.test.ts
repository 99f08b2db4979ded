/**
 * A completed tool part's `metadata` as OpenCode's tools make it, which its TUI draws from (read from
 * OpenCode 1.18's tools and TUI): a `write` with `diagnostics` set is drawn as "# Wrote <file>" with
 * the text (without, as a one-line "← Write <file>"); `edit` carries `diff` and `filediff`; `grep`
 * `{matches, truncated}` and `glob`/`list` `{count, truncated}` ("(3 matches)"). The same on the
 * live event stream as on the messages read back later, through `@opencode-ai/sdk`.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { providerConfig, sandbox, type Sandbox } from '../cli/cli-helper.ts';
import { serve } from './serve-helper.ts';
import { idleOf, watchedSession } from './sdk-helper.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';

let server: ScriptedServer;
let sb: Sandbox;

beforeAll(async () => {
  server = await startScriptedServer();
  sb = await sandbox();
  sb.write('opencode.json', { ...providerConfig(server, { m: {} }), model: 'p/m', permission: { edit: 'allow' }, cache: { enabled: false } });
  sb.write('src/a.js', 'export const a = 1;\n');
  sb.write('src/b.js', 'export const b = 2;\n');
  // 120 matching lines: more than grep shows (100).
  sb.write('src/many.txt', Array.from({ length: 120 }, (_, i) => `needle ${i}`).join('\n'));
});

afterAll(async () => {
  await server?.close();
  await sb?.remove();
});

type Part = { type: string; tool?: string; callID?: string; state?: { status: string; metadata?: Record<string, unknown> } };

describe('tool parts carry the metadata OpenCode’s TUI reads', () => {
  it('write, edit, grep, glob and list: live and read back', async () => {
    const served = await serve(sb);
    try {
      const { client, id, stream, close } = await watchedSession(served.url, sb.project);
      server.script(
        'm',
        {
          type: 'tool_calls',
          calls: [
            { id: 'c_new', name: 'write', arguments: { filePath: 'NOTES.md', content: '# Notes\n' } },
            { id: 'c_over', name: 'write', arguments: { filePath: path.join(sb.project, 'src/b.js'), content: 'export const b = 3;\n' } },
            { id: 'c_edit', name: 'edit', arguments: { filePath: 'src/a.js', oldString: '= 1', newString: '= 10' } },
          ],
        },
        // Searched in the next step: a call's write goes through a temporary file, which a listing beside it could see.
        {
          type: 'tool_calls',
          calls: [
            { id: 'c_grep', name: 'grep', arguments: { pattern: 'needle' } },
            { id: 'c_grep2', name: 'grep', arguments: { pattern: 'export const' } },
            { id: 'c_none', name: 'grep', arguments: { pattern: 'nowhere-at-all' } },
            { id: 'c_glob', name: 'glob', arguments: { pattern: 'src/*.js' } },
            { id: 'c_list', name: 'list', arguments: { path: 'src' } },
          ],
        },
        { type: 'text', text: 'Done.' },
      );
      await client.session.prompt({ path: { id }, body: { parts: [{ type: 'text', text: 'go' }] } });
      await stream.until(idleOf(id));
      const expected: Record<string, Record<string, unknown>> = {
        c_new: { diagnostics: {}, filepath: path.join(sb.project, 'NOTES.md'), exists: false, diff: expect.stringContaining('--- /dev/null'), truncated: false },
        c_over: { diagnostics: {}, filepath: path.join(sb.project, 'src/b.js'), exists: true, diff: expect.stringContaining('+export const b = 3;'), truncated: false },
        c_edit: {
          diagnostics: {},
          diff: expect.stringContaining('+export const a = 10;'),
          filediff: { file: path.join(sb.project, 'src/a.js'), patch: expect.stringContaining('-export const a = 1;'), additions: 1, deletions: 1 },
          truncated: false,
        },
        c_grep: { matches: 120, truncated: true },
        // a.js and b.js, and nowhere else.
        c_grep2: { matches: 2, truncated: false },
        c_none: { matches: 0, truncated: false },
        c_glob: { count: 2, truncated: false },
        // a.js, b.js, many.txt
        c_list: { count: 3, truncated: false },
      };
      const live = new Map<string, Record<string, unknown> | undefined>();
      for (const e of stream.events) {
        const part = (e.properties as { part?: Part }).part;
        if (e.type === 'message.part.updated' && part?.type === 'tool' && part.state?.status === 'completed') live.set(part.callID ?? '', part.state.metadata);
      }
      const messages = (await client.session.messages({ path: { id } })).data ?? [];
      const saved = new Map((messages.flatMap((m) => m.parts) as Part[]).filter((p) => p.type === 'tool').map((p) => [p.callID ?? '', p.state?.metadata]));
      for (const [callID, metadata] of Object.entries(expected)) {
        expect(live.get(callID), `live ${callID}`).toEqual(metadata);
        expect(saved.get(callID), `saved ${callID}`).toEqual(metadata);
      }
      // The edit's patch is the part's diff, whole.
      const edit = saved.get('c_edit') as { diff: string; filediff: { patch: string } };
      expect(edit.filediff.patch).toBe(edit.diff);
      close();
    } finally {
      await served.stop();
    }
  });
});
