/**
 * OpenCode's order for a built-in agent's permission: its built-in rules, then your top-level
 * `permission`, then your own rules for that agent. So `"permission": {"bash": "allow"}` reaches
 * `build` and `sisyphus` (whose built-in `bash` is `ask`), while a built-in `deny` (a reviewer
 * never runs commands) and your own agent rules still hold. Real `opencode run`s, non-interactive:
 * an `ask` is a denial there, so what ran shows which rule decided.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ScriptedServer } from '../support/openai-server.ts';
import { providerConfig, useScriptedSandbox, type Sandbox } from '../cli/cli-helper.ts';

describe('a top-level permission over the built-in agents’ rules', () => {
  let server: ScriptedServer;
  let sb: Sandbox;
  useScriptedSandbox(
    (s, b) => {
      server = s;
      sb = b;
    },
    (server) => ({ ...providerConfig(server, { m: {} }), model: 'p/m', cache: { enabled: false }, permission: { bash: 'allow', webfetch: 'deny' } }),
  );

  /** Runs `agent` on a model that asks for `touch MARK`; says whether the file was made and what the model was told. */
  async function touchWith(agent: string): Promise<{ made: boolean; told: string }> {
    server.script('m', { type: 'tool_calls', calls: [{ name: 'bash', arguments: { command: 'touch MARK' } }] }, { type: 'text', text: 'ok' });
    const r = await sb.run(['run', '--agent', agent, 'go']);
    expect(r.code, r.stderr).toBe(0);
    const told = JSON.stringify(server.log.at(-1)?.messages ?? []);
    const made = fs.existsSync(path.join(sb.project, 'MARK'));
    fs.rmSync(path.join(sb.project, 'MARK'), { force: true });
    return { made, told };
  }

  it('reaches build and sisyphus (built-in bash: ask), not momus (built-in bash: deny)', async () => {
    expect((await touchWith('build')).made).toBe(true);
    expect((await touchWith('sisyphus')).made).toBe(true);
    const momus = await touchWith('momus');
    expect(momus.made).toBe(false);
    // A denied tool is not offered at all.
    expect(momus.told).toContain("unavailable tool 'bash'");
  });

  it('your own rule for the agent stays over your top level', async () => {
    const config = JSON.parse(fs.readFileSync(path.join(sb.project, 'opencode.json'), 'utf8')) as Record<string, unknown>;
    sb.write('opencode.json', { ...config, agent: { sisyphus: { permission: { bash: 'ask' } } } });
    const sisyphus = await touchWith('sisyphus');
    expect(sisyphus.made).toBe(false);
    expect(sisyphus.told).toMatch(/permission denied: bash `touch MARK` \(rule bash: ask/);
    // build has no rule of yours: your top level decides.
    expect((await touchWith('build')).made).toBe(true);
  });

  it('the merged config shows it: `config show` has no built-in bash rule left on build, the deny on momus kept', async () => {
    const r = await sb.run(['config', 'show', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const shown = JSON.parse(r.stdout) as { agent: Record<string, { permission?: Record<string, unknown> }> };
    expect(shown.agent.build?.permission).toEqual({ edit: 'allow' });
    expect(shown.agent.momus?.permission).toMatchObject({ bash: 'deny', webfetch: 'deny' });
  });
});
