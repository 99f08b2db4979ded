/**
 * bash's long output as OpenCode 1.18.33 answers it: the last 2000 lines (within 51 200 bytes)
 * after "...output truncated..." and "Full output saved to: <file>", the file holding the whole
 * output in Pantheon's data folder (0600 in a 0700 folder), and the model's `read` of that file
 * needing no external_directory question. `opencode run` as a subprocess against a scripted
 * OpenAI-compatible provider on 127.0.0.1.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ScriptedServer } from '../support/openai-server.ts';
import { providerConfig, toolContents, useScriptedSandbox, type Sandbox } from './cli-helper.ts';

const seq = (from: number, to: number): string => Array.from({ length: to - from + 1 }, (_, i) => String(from + i)).join('\n');

describe('bash: long output saved to a file, as OpenCode does', () => {
  let server: ScriptedServer;
  let sb: Sandbox;
  useScriptedSandbox(
    (s, b) => {
      server = s;
      sb = b;
    },
    (s) => ({ ...providerConfig(s, { m1: {} }), model: 'p/m1' }),
  );

  it('answers with the last lines and the file holding it all; the next read of that file asks nothing', async () => {
    server.script('m1', { type: 'tool_calls', calls: [{ name: 'bash', arguments: { command: 'seq 1 100000' } }] }, { type: 'text', text: 'Ran it.' });
    const first = await sb.run(['run', '--auto', 'count to a hundred thousand']);
    expect(first.code, first.stderr).toBe(0);
    const answer = toolContents(server.log[1]?.messages ?? [])[0] ?? '';
    const dir = path.join(sb.dataHome, 'pantheon', 'tool-output');
    const match = /^\.\.\.output truncated\.\.\.\n\nFull output saved to: (\S+)\n\n/.exec(answer);
    expect(match, answer.slice(0, 300)).not.toBeNull();
    const file = (match as RegExpExecArray)[1] as string;
    expect(path.dirname(file)).toBe(dir);
    expect(path.basename(file)).toMatch(/^tool_[0-9a-f]{12}[0-9A-Za-z]{14}$/);
    // The last 2000 lines, as OpenCode answers.
    expect(answer.slice(match?.[0].length)).toBe(seq(98_001, 100_000));
    expect(fs.readFileSync(file, 'utf8')).toBe(`${seq(1, 100_000)}\n`);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700);

    server.reset();
    server.script('m1', { type: 'tool_calls', calls: [{ name: 'read', arguments: { filePath: file, offset: 50_000, limit: 2 } }] }, { type: 'text', text: 'Read it.' });
    const second = await sb.run(['run', '--auto', '--continue', 'read the saved output']);
    expect(second.code, second.stderr).toBe(0);
    const read = toolContents(server.log[1]?.messages ?? []).at(-1) ?? '';
    expect(read).toContain(`<path>${file}</path>`);
    expect(read).toContain('50000: 50000\n50001: 50001');
    expect(read).not.toMatch(/permission denied/);
  }, 120_000);

  it('short output is answered whole, with no file', async () => {
    server.script('m1', { type: 'tool_calls', calls: [{ name: 'bash', arguments: { command: 'seq 1 2000' } }] }, { type: 'text', text: 'Ran it.' });
    const r = await sb.run(['run', '--auto', 'count to two thousand']);
    expect(r.code, r.stderr).toBe(0);
    expect(toolContents(server.log[1]?.messages ?? [])[0]).toBe(seq(1, 2000));
    expect(fs.existsSync(path.join(sb.dataHome, 'pantheon', 'tool-output'))).toBe(false);
  }, 120_000);
});
