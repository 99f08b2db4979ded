/**
 * `opencode run` at a terminal puts an `ask` tool call to the person (a real pseudo-terminal:
 * pty-helper.ts). "no" is OpenCode's plain reject, as at its TUI under serve: the call is refused,
 * the turn ends after the step (the model is not asked again), and the questions of the same step
 * still waiting are refused unasked; with `experimental.continue_loop_on_deny` the model is told
 * and goes on. "yes" runs the call.
 */
import { describe, expect, it } from 'vitest';
import type { ScriptedServer } from '../support/openai-server.ts';
import { hasStack, providerConfig, useScriptedSandbox, type Sandbox } from './cli-helper.ts';
import { startInPty } from './pty-helper.ts';

let server: ScriptedServer;
let sb: Sandbox;
useScriptedSandbox(
  (s, b) => {
    server = s;
    sb = b;
  },
  (s) => ({ ...providerConfig(s, { a: {} }), model: 'p/a', cache: { enabled: false } }),
);

const bash = (command: string, id: string) => ({ name: 'bash', arguments: { command, description: 'Runs it' }, id });

/** The tool results the model was sent in its last request, by call id. */
function toolResults(): Record<string, string> {
  const messages = (server.log.at(-1)?.messages ?? []) as { role: string; tool_call_id?: string; content?: unknown }[];
  return Object.fromEntries(messages.filter((m) => m.role === 'tool').map((m) => [m.tool_call_id ?? '', typeof m.content === 'string' ? m.content : JSON.stringify(m.content)]));
}

describe('the permission prompt of a local run at a terminal', () => {
  it('"no": the call is refused and the turn ends after the step; a second call of the step is refused unasked', async () => {
    server.script('a', { type: 'tool_calls', calls: [bash('echo first > first.txt', 'call_1'), bash('echo second > second.txt', 'call_2')] }, { type: 'text', text: 'Carried on anyway.' });
    const p = startInPty(sb, ['run', 'Make two files']);
    // The two calls run side by side: either may ask first; the other is then refused unasked.
    const prompt = /Run `echo (first|second) > (?:first|second)\.txt` \(Runs it\)\? \(y\/N\)/;
    const asked = prompt.exec(await p.screenMatches(prompt))?.[1] as string;
    p.type('n\r');
    const { code, screen } = await p.exited;
    expect(code, screen).toBe(0);
    // One request: the model was not asked again after the step.
    expect(server.log).toHaveLength(1);
    expect(screen).not.toContain('Carried on anyway.');
    expect(screen).not.toContain(`Run \`echo ${asked === 'first' ? 'second' : 'first'}`);
    expect(screen).toMatch(/permission denied: bash `echo first > first\.txt` \(.*rejected by the user\)/);
    expect(screen).toMatch(/permission denied: bash `echo second > second\.txt` \(.*rejected by the user\)/);
    expect(hasStack(screen)).toBe(false);
    // The session keeps both refusals for the next turn's model.
    server.script('a', { type: 'text', text: 'Understood.' });
    const next = await sb.run(['run', '--continue', 'Why not?']);
    expect(next.code, next.stderr).toBe(0);
    expect(toolResults()).toEqual({ call_1: expect.stringContaining('rejected by the user'), call_2: expect.stringContaining('rejected by the user') });
  });

  it('"no" with experimental.continue_loop_on_deny: the model is told and goes on', async () => {
    sb.write('opencode.json', { ...providerConfig(server, { a: {} }), model: 'p/a', cache: { enabled: false }, experimental: { continue_loop_on_deny: true } });
    server.script('a', { type: 'tool_calls', calls: [bash('echo first > first.txt', 'call_1')] }, { type: 'text', text: 'Carried on.' });
    const p = startInPty(sb, ['run', 'Make a file']);
    await p.screenMatches(/Run `echo first > first\.txt` \(Runs it\)\? \(y\/N\)/);
    p.type('n\r');
    const { code, screen } = await p.exited;
    expect(code, screen).toBe(0);
    expect(server.log).toHaveLength(2);
    expect(toolResults()).toEqual({ call_1: expect.stringContaining('rejected by the user') });
    expect(screen).toContain('Carried on.');
  });

  it('"yes": the call runs and the model goes on', async () => {
    server.script('a', { type: 'tool_calls', calls: [bash('echo made > made.txt', 'call_1')] }, { type: 'text', text: 'Made it.' });
    const p = startInPty(sb, ['run', 'Make a file']);
    await p.screenMatches(/Run `echo made > made\.txt` \(Runs it\)\? \(y\/N\)/);
    p.type('y\r');
    const { code, screen } = await p.exited;
    expect(code, screen).toBe(0);
    expect(server.log).toHaveLength(2);
    expect(screen).toContain('Made it.');
    const { readFileSync } = await import('node:fs');
    expect(readFileSync(`${sb.project}/made.txt`, 'utf8')).toBe('made\n');
  });
});
