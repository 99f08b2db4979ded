/**
 * `opencode run` at a terminal shows a tool call while it runs: a live line (`⋯ agent bash cmd`)
 * that the call's result line replaces; a permission question clears it while it is asked and it
 * comes back after. Never in a pipe nor under `--format json`. Driven on a real pseudo-terminal
 * (@lydell/node-pty), the screen played as a terminal shows it (pty-screen.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ScriptedServer } from '../support/openai-server.ts';
import { providerConfig, useScriptedSandbox, type Sandbox } from './cli-helper.ts';
import { startOnScreen } from './pty-screen.ts';

let server: ScriptedServer;
let sb: Sandbox;
useScriptedSandbox(
  (s, b) => {
    server = s;
    sb = b;
  },
  (s) => ({ ...providerConfig(s, { a: {} }), model: 'p/a', cache: { enabled: false }, permission: { bash: 'allow' } }),
);

// The call waits for a file the test writes once it has seen what it looks for.
const WAIT = 'while [ ! -f go ]; do sleep 0.02; done; echo went';
const waiting = (chunkDelayMs?: number) => ({ type: 'tool_calls' as const, text: 'Let me look.', ...(chunkDelayMs ? { chunkDelayMs } : {}), calls: [{ name: 'bash', arguments: { command: WAIT, description: 'Waits for go' }, id: 'call_w' }] });
const live = /^⋯ \S+ bash while \[ ! -f go \]; do sleep 0\.02; done; echo went$/;
const result = /^▸ \S+ bash while \[ ! -f go \]; do sleep 0\.02; done; echo went$/;
/** A terminal with colour (the sandbox sets NO_COLOR, which turns live lines off, as it should). */
const COLOUR = { NO_COLOR: '' };

describe('the live line of a running tool (opencode run at a terminal)', () => {
  it('shows the call while the model writes it and while it runs, on a line of its own, and its result line takes that line', async () => {
    // The call's input streams slowly, as a model writing it does.
    server.script('a', waiting(20), { type: 'text', text: 'It went.' });
    const p = startOnScreen(sb, ['run', 'Wait for it'], COLOUR);
    const during = await p.shows(/^⋯ \S+ bash while/m);
    // The answer so far keeps its own line; the live line is the last one.
    expect(during.filter((r) => r !== '').slice(-2)).toEqual(['Let me look.', expect.stringMatching(live)]);
    fs.writeFileSync(path.join(sb.project, 'go'), '');
    const { code, rows } = await p.exited;
    expect(code, rows.join('\n')).toBe(0);
    const shown = rows.filter((r) => r !== '');
    expect(shown.some((r) => r.includes('⋯'))).toBe(false);
    expect(shown.slice(0, 3)).toEqual(['Let me look.', expect.stringMatching(result), 'It went.']);
    // First the tool alone (the model still writing the call), erased for the call running, erased for its result.
    // eslint-disable-next-line no-control-regex
    expect(p.raw()).toMatch(/\u001b\[2m⋯ \S+ bash\u001b\[22m\r\u001b\[2K\u001b\[2m⋯ \S+ bash while [^\r]*\r\u001b\[2K\u001b\[2m▸ /);
  });

  it('a permission question clears the line while it is asked, and the line comes back once answered', async () => {
    sb.write('opencode.json', { ...providerConfig(server, { a: {} }), model: 'p/a', cache: { enabled: false }, permission: { bash: 'ask' } });
    server.script('a', waiting(), { type: 'text', text: 'It went.' });
    const p = startOnScreen(sb, ['run', 'Wait for it'], COLOUR);
    const asking = await p.shows(/Run `while .*\(y\/N\)/);
    // Nothing of the live line is left on the screen, nor on the question's row.
    expect(asking.some((r) => r.includes('⋯'))).toBe(false);
    expect(asking.find((r) => r.includes('(y/N)'))).toMatch(/^\S+ Run `while/);
    p.type('y\r');
    const after = await p.shows(/^⋯ \S+ bash while/m);
    expect(after.filter((r) => r !== '').at(-1)).toMatch(live);
    fs.writeFileSync(path.join(sb.project, 'go'), '');
    const { code, rows } = await p.exited;
    expect(code, rows.join('\n')).toBe(0);
    expect(rows.some((r) => r.includes('⋯'))).toBe(false);
    expect(rows.filter((r) => result.test(r))).toHaveLength(1);
  });

  it('is never drawn into a pipe, nor under --format json at a terminal', async () => {
    fs.writeFileSync(path.join(sb.project, 'go'), '');
    server.script('a', waiting(), { type: 'text', text: 'It went.' }, waiting(), { type: 'text', text: 'It went.' });
    const piped = await sb.run(['run', 'Wait for it']);
    expect(piped.code, piped.stderr).toBe(0);
    expect(piped.stderr).not.toContain('⋯');
    expect(piped.stderr).not.toContain('\u001b[');
    const p = startOnScreen(sb, ['run', '--format', 'json', 'Wait for it'], COLOUR);
    const { code, raw } = await p.exited;
    expect(code, raw).toBe(0);
    expect(raw).not.toContain('⋯');
    expect(raw).toContain('"type":"tool_use"');
    expect(raw).not.toContain('"type":"tool_pending"');
  });
});
