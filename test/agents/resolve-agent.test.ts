import { describe, expect, it } from 'vitest';
import { DEFAULT_STEPS, resolveAgent } from '../../src/agents/resolve-agent.ts';
import type { Config } from '../../src/config/schema-types.ts';

const base: Config = {
  model: 'p/top',
  fallbacks: ['p/f1', 'p/f2'],
  agent: {
    oracle: { model: 'p/own', fallbacks: ['q/own-fb'], prompt: 'Oracle.', temperature: 0.2, top_p: 0.8, steps: 4 },
    helper: { mode: 'subagent', systemPrompt: 'Helper.', prompt_append: 'Be brief.' },
    plain: {},
    off: { disable: true },
  },
};

describe('resolveAgent', () => {
  it("an agent's chain is its model then its fallbacks", () => {
    expect(resolveAgent(base, 'oracle')).toMatchObject({ name: 'oracle', chain: ['p/own', 'q/own-fb'], chainSource: 'agent', prompt: 'Oracle.', temperature: 0.2, topP: 0.8, steps: 4 });
  });

  it('an agent without a model uses the top-level model and fallbacks', () => {
    expect(resolveAgent(base, 'plain')).toMatchObject({ chain: ['p/top', 'p/f1', 'p/f2'], chainSource: 'top-level', steps: DEFAULT_STEPS, mode: 'all' });
  });

  it('an agent with a model but no fallbacks gets the top-level fallbacks', () => {
    const config: Config = { ...base, agent: { solo: { model: { provider: 'p', id: 'obj' } } } };
    expect(resolveAgent(config, 'solo').chain).toEqual([{ provider: 'p', id: 'obj' }, 'p/f1', 'p/f2']);
  });

  it('--model replaces the head of the chain only', () => {
    expect(resolveAgent(base, 'oracle', 'x/forced').chain).toEqual(['x/forced', 'q/own-fb']);
    expect(resolveAgent(base, 'plain', 'x/forced').chain).toEqual(['x/forced', 'p/f1', 'p/f2']);
  });

  it('systemPrompt is an alias of prompt, and prompt_append is added after it', () => {
    expect(resolveAgent(base, 'helper').prompt).toBe('Helper.\n\nBe brief.');
  });

  it('picks default_agent, else the first agent that is not a subagent', () => {
    expect(resolveAgent({ ...base, default_agent: 'plain' }, undefined).name).toBe('plain');
    const config: Config = { model: 'p/top', agent: { aaa: { mode: 'subagent' }, bbb: { mode: 'primary' } } };
    expect(resolveAgent(config, undefined).name).toBe('bbb');
    expect(resolveAgent({ model: 'p/top' }, undefined)).toMatchObject({ name: 'default', chain: ['p/top'] });
  });

  it('an unknown or disabled agent is UNKNOWN_AGENT naming the available ones', () => {
    expect(() => resolveAgent(base, 'nope')).toThrow(expect.objectContaining({ code: 'UNKNOWN_AGENT', hint: 'Available agents: helper, oracle, plain.' }));
    expect(() => resolveAgent(base, 'off')).toThrow(expect.objectContaining({ code: 'UNKNOWN_AGENT', message: expect.stringContaining('disabled') }));
    expect(() => resolveAgent({ ...base, default_agent: 'ghost' }, undefined)).toThrow(expect.objectContaining({ code: 'UNKNOWN_AGENT', message: expect.stringContaining('default_agent') }));
  });

  it('no model anywhere is a USAGE error', () => {
    expect(() => resolveAgent({ agent: { a: {} } }, 'a')).toThrow(expect.objectContaining({ code: 'USAGE' }));
  });

  it('merges permissions per tool (the agent\'s entry over the top-level one) and tools likewise', () => {
    const config: Config = {
      model: 'p/top',
      permission: { bash: 'deny', webfetch: 'allow' },
      tools: { webfetch: false, 'github_*': false },
      agent: { coder: { permission: { bash: { 'git *': 'allow' } }, tools: { webfetch: true } } },
    };
    const coder = resolveAgent(config, 'coder');
    expect(coder.permission).toEqual({ bash: { 'git *': 'allow' }, webfetch: 'allow' });
    expect(coder.tools).toEqual({ webfetch: true, 'github_*': false });
  });

  it("an agent's MCP servers are its own list, else every server that is not switched off", () => {
    const config: Config = {
      model: 'p/top',
      mcp: { fs: { type: 'local', command: ['x'] }, off: { type: 'local', command: ['y'], enabled: false }, web: { type: 'remote', url: 'http://127.0.0.1:1' } },
      agent: { a: {}, b: { mcp: ['web'] } },
    };
    expect(resolveAgent(config, 'a').mcp).toEqual(['fs', 'web']);
    expect(resolveAgent(config, 'b').mcp).toEqual(['web']);
  });

  it('mode defaults to all; steps falls back to maxSteps, then the default', () => {
    const config: Config = { model: 'p/top', agent: { s: { mode: 'subagent', maxSteps: 7 } } };
    expect(resolveAgent(config, 's')).toMatchObject({ mode: 'subagent', steps: 7 });
  });
});
