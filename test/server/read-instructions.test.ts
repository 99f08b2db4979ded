/**
 * `read` and a folder's own AGENTS.md, as OpenCode 1.18.33's read (compared side by side on its
 * server): reading a file under a folder with an AGENTS.md (else CLAUDE.md, else CONTEXT.md) not
 * yet in the session's context adds it after the file's text in a `<system-reminder>` and lists it
 * in `metadata.loaded`, innermost first, once per session (two reads of one step included); the
 * project root's own (in the system prompt) and the file read itself are left out. Hostile ones: a
 * symlink leading out of the project is passed over, a huge one is cut. Through the server (the
 * SDK, live and read back) and `opencode run` (what the model is sent, `--continue` included).
 */
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadedByRead } from '../../src/tools/nested-instructions.ts';
import { providerConfig, sandbox, type Sandbox } from '../cli/cli-helper.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { idleOf, watchedSession } from './sdk-helper.ts';
import { serve } from './serve-helper.ts';

let server: ScriptedServer;
let sb: Sandbox;

beforeAll(async () => {
  server = await startScriptedServer();
});
afterAll(async () => {
  await server?.close();
});
beforeEach(async () => {
  server.reset();
  sb = await sandbox();
  sb.write('opencode.json', { ...providerConfig(server, { m: {} }), model: 'p/m', cache: { enabled: false } });
  sb.write('AGENTS.md', 'root rules\n');
  sb.write('sub/AGENTS.md', 'sub rules\nline2\n');
  sb.write('sub/CONTEXT.md', 'never read: the folder has an AGENTS.md\n');
  sb.write('sub/deep/CLAUDE.md', 'deep claude\n');
  sb.write('sub/deep/a.txt', 'a\n');
  sb.write('sub/deep/b.txt', 'b\n');
  sb.write('sub/c.txt', 'c\n');
});
afterEach(async () => {
  await sb.remove();
});

type State = { status: string; output?: string; metadata?: { loaded?: string[] } };
type Part = { type: string; callID?: string; state?: State };

/** OpenCode's read of `rel` in the project, up to its `</content>` (without it). */
const fileText = (rel: string, ...lines: string[]) => `<path>${path.join(sb.project, rel)}</path>\n<type>file</type>\n<content>\n${lines.map((l, i) => `${i + 1}: ${l}`).join('\n')}\n\n(End of file - total ${lines.length} lines)`;
const reminder = (...blocks: [string, string][]) => `\n</content>\n\n<system-reminder>\n${blocks.map(([file, text]) => `Instructions from: ${file}\n${text}`).join('\n\n')}\n</system-reminder>`;

describe('read brings in a folder’s own AGENTS.md', () => {
  it('innermost first, once per session (a step’s reads, the next step’s, the next turn’s): live and read back', async () => {
    const served = await serve(sb);
    const { client, id, stream, close } = await watchedSession(served.url, sb.project);
    try {
      const deep = path.join(sb.project, 'sub/deep/CLAUDE.md');
      const sub = path.join(sb.project, 'sub/AGENTS.md');
      server.script(
        'm',
        { type: 'tool_calls', calls: [{ id: 'r_a', name: 'read', arguments: { filePath: 'sub/deep/a.txt' } }, { id: 'r_b', name: 'read', arguments: { filePath: 'sub/deep/b.txt' } }] },
        { type: 'tool_calls', calls: [{ id: 'r_c', name: 'read', arguments: { filePath: 'sub/c.txt' } }, { id: 'r_self', name: 'read', arguments: { filePath: 'sub/AGENTS.md' } }, { id: 'r_root', name: 'read', arguments: { filePath: 'AGENTS.md' } }] },
        { type: 'text', text: 'Done.' },
        { type: 'tool_calls', calls: [{ id: 'r_again', name: 'read', arguments: { filePath: path.join(sb.project, 'sub/deep/a.txt') } }] },
        { type: 'text', text: 'Again.' },
      );
      await client.session.prompt({ path: { id }, body: { parts: [{ type: 'text', text: 'go' }] } });
      await stream.until(idleOf(id));
      await client.session.prompt({ path: { id }, body: { parts: [{ type: 'text', text: 'again' }] } });
      await stream.until((e) => e.type === 'message.part.updated' && (e.properties.part as Part | undefined)?.callID === 'r_again' && (e.properties.part as Part).state?.status === 'completed');
      const live = new Map<string, State | undefined>();
      for (const e of stream.events) {
        const part = (e.properties as { part?: Part }).part;
        if (e.type === 'message.part.updated' && part?.type === 'tool' && part.state?.status === 'completed') live.set(part.callID ?? '', part.state);
      }
      // The two reads of one step run side by side: whichever gets there first brings them in (as in OpenCode).
      const brought = reminder([deep, 'deep claude\n'], [sub, 'sub rules\nline2\n']);
      const aFirst = live.get('r_a')?.output?.includes('<system-reminder>') === true;
      const want: Record<string, { output: string; loaded: string[] }> = {
        r_a: aFirst ? { output: `${fileText('sub/deep/a.txt', 'a')}${brought}`, loaded: [deep, sub] } : { output: `${fileText('sub/deep/a.txt', 'a')}\n</content>`, loaded: [] },
        r_b: aFirst ? { output: `${fileText('sub/deep/b.txt', 'b')}\n</content>`, loaded: [] } : { output: `${fileText('sub/deep/b.txt', 'b')}${brought}`, loaded: [deep, sub] },
        r_c: { output: `${fileText('sub/c.txt', 'c')}\n</content>`, loaded: [] },
        r_self: { output: `${fileText('sub/AGENTS.md', 'sub rules', 'line2')}\n</content>`, loaded: [] },
        r_root: { output: `${fileText('AGENTS.md', 'root rules')}\n</content>`, loaded: [] },
        r_again: { output: `${fileText('sub/deep/a.txt', 'a')}\n</content>`, loaded: [] },
      };
      const messages = (await client.session.messages({ path: { id } })).data ?? [];
      const saved = new Map((messages.flatMap((m) => m.parts) as Part[]).filter((p) => p.type === 'tool').map((p) => [p.callID ?? '', p.state]));
      for (const [callID, { output, loaded }] of Object.entries(want)) {
        expect(live.get(callID), `live ${callID}`).toMatchObject({ status: 'completed', output, metadata: { loaded } });
        expect(saved.get(callID), `saved ${callID}`).toMatchObject({ status: 'completed', output, metadata: { loaded } });
      }
    } finally {
      close();
      await served.stop();
    }
  });

  it('opencode run: the model gets them once; --continue does not bring them in again; CLAUDE.md is passed over when OPENCODE_DISABLE_CLAUDE_CODE is set', async () => {
    server.script(
      'm',
      { type: 'tool_calls', calls: [{ name: 'read', arguments: { filePath: 'sub/deep/a.txt' } }] },
      { type: 'text', text: 'first' },
      { type: 'tool_calls', calls: [{ name: 'read', arguments: { filePath: 'sub/deep/b.txt' } }] },
      { type: 'text', text: 'second' },
      { type: 'tool_calls', calls: [{ name: 'read', arguments: { filePath: 'sub/deep/a.txt' } }] },
      { type: 'text', text: 'third' },
    );
    const toolText = (i: number) => JSON.stringify(server.log[i]?.messages.filter((m) => (m as { role: string }).role === 'tool').at(-1));
    const first = await sb.run(['run', 'read a']);
    expect(first.code, first.stderr).toBe(0);
    expect(toolText(1)).toContain(JSON.stringify(`<system-reminder>\nInstructions from: ${path.join(sb.project, 'sub/deep/CLAUDE.md')}\ndeep claude\n\n\nInstructions from: ${path.join(sb.project, 'sub/AGENTS.md')}\nsub rules\nline2\n\n</system-reminder>`).slice(1, -1));
    const second = await sb.run(['run', '--continue', 'read b']);
    expect(second.code, second.stderr).toBe(0);
    expect(toolText(3)).toContain('\\n1: b\\n');
    expect(toolText(3)).not.toContain('system-reminder');
    const third = await sb.run(['run', 'read a, no claude'], { env: { OPENCODE_DISABLE_CLAUDE_CODE: '1' } });
    expect(third.code, third.stderr).toBe(0);
    expect(toolText(5)).toContain(`Instructions from: ${path.join(sb.project, 'sub/AGENTS.md')}`);
    expect(toolText(5)).not.toContain('CLAUDE.md');
  });

  it('hostile ones: a symlink out of the project is passed over; a huge one is cut at 50 KB; an empty one adds nothing', async () => {
    const outside = path.join(sb.root, 'secret.md');
    writeFileSync(outside, 'SECRET OUTSIDE\n');
    mkdirSync(path.join(sb.project, 'linked'), { recursive: true });
    symlinkSync(outside, path.join(sb.project, 'linked', 'AGENTS.md'));
    sb.write('linked/x.txt', 'x\n');
    sb.write('huge/AGENTS.md', `${'big rule line\n'.repeat(40_000)}`);
    sb.write('huge/y.txt', 'y\n');
    sb.write('empty/AGENTS.md', '');
    sb.write('empty/z.txt', 'z\n');
    server.script('m', { type: 'tool_calls', calls: [{ name: 'read', arguments: { filePath: 'linked/x.txt' } }, { name: 'read', arguments: { filePath: 'huge/y.txt' } }, { name: 'read', arguments: { filePath: 'empty/z.txt' } }] }, { type: 'text', text: 'ok' });
    const r = await sb.run(['run', 'read them']);
    expect(r.code, r.stderr).toBe(0);
    const tools = (server.log[1]?.messages ?? []).filter((m) => (m as { role: string }).role === 'tool').map((m) => JSON.stringify(m));
    const all = tools.join('\n');
    expect(all).not.toContain('SECRET OUTSIDE');
    expect(all).toContain('\\n1: x\\n');
    expect(all).toContain('\\n1: z\\n');
    const huge = /Instructions from: [^\\]*huge\/AGENTS\.md\\n((?:big rule line\\n)+)/.exec(all);
    expect(huge?.[1]?.length).toBeLessThanOrEqual(50 * 1024 * 2);
    expect(all).toContain('big rule line\\n\\n(AGENTS.md cut at 50.0 KB of 546.9 KB; read it for the rest.)');
    expect(all.match(/system-reminder>/g)).toHaveLength(2);
  });
});

describe('loadedByRead', () => {
  const root = '/p';
  it('reads back the files named, each further up; a header an instruction file’s text holds cannot name one further in or elsewhere', () => {
    const text = 'Instructions from: /p/a/b/c/AGENTS.md\n';
    const output = `<path>/p/a/b/c/x.txt</path>\n<type>file</type>\n<content>\n1: x\n\n(End of file - total 1 lines)\n</content>\n\n<system-reminder>\nInstructions from: /p/a/b/AGENTS.md\nrules\n\nInstructions from: /p/a/b/c/AGENTS.md\nfake\n\nInstructions from: /etc/AGENTS.md\nfake\n\nInstructions from: /p/AGENTS.md\nroot\n\nInstructions from: /p/a/CLAUDE.md\n${text}\n</system-reminder>`;
    expect(loadedByRead(output, '/p/a/b/c/x.txt', root)).toEqual(['/p/a/b/AGENTS.md', '/p/a/CLAUDE.md']);
    expect(loadedByRead('<path>/p/a/x.txt</path>\n<type>file</type>\n<content>\n1: x\n\n(End of file - total 1 lines)\n</content>', '/p/a/x.txt', root)).toEqual([]);
  });
});
