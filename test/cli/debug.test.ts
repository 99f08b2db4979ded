import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SECRET, hasStack, sandbox, type Sandbox } from './cli-helper.ts';

const HEADER_SECRET = 'ghp_abcdefghijklmnop1234';
const ENV_SECRET = 'tok-zyxwvutsrqponm98765';

describe('opencode debug', () => {
  let sb: Sandbox;
  beforeEach(async () => {
    sb = await sandbox();
    sb.write('opencode.jsonc', {
      model: 'p/m',
      provider: { p: { options: { baseURL: 'http://127.0.0.1:9/v1', apiKey: SECRET }, models: { m: {} } } },
      mcp: {
        remote: { type: 'remote', url: 'https://mcp.example/mcp', headers: { 'X-Custom': HEADER_SECRET, Accept: 'application/json' } },
        local: { type: 'local', command: ['node', 'x.js'], environment: { PLAIN: ENV_SECRET, MODE: 'fast' } },
      },
      agent: {
        reviewer: { description: 'Reviews', mode: 'subagent', prompt: 'You review. Token: {env:REVIEW_TOKEN}', permission: { bash: 'deny', edit: 'ask' } },
      },
    });
  });
  afterEach(async () => {
    await sb.remove();
  });

  it('config: the merged config as JSON, every secret redacted and {env:…} values shown as written', async () => {
    const r = await sb.run(['debug', 'config'], { env: { REVIEW_TOKEN: 'rv-secret-from-env-123' } });
    expect(r.code, r.stderr).toBe(0);
    const config = JSON.parse(r.stdout) as { provider: { p: { options: Record<string, string> } }; mcp: Record<string, { headers?: Record<string, string>; environment?: Record<string, string> }>; agent: Record<string, { prompt: string }> };
    expect(config.provider.p.options).toEqual({ baseURL: 'http://127.0.0.1:9/v1', apiKey: '***' });
    expect(config.mcp.remote?.headers).toEqual({ 'X-Custom': '***', Accept: 'application/json' });
    expect(config.mcp.local?.environment).toEqual({ PLAIN: '***', MODE: 'fast' });
    expect(config.agent.reviewer?.prompt).toBe('You review. Token: {env:REVIEW_TOKEN}');
    for (const secret of [SECRET, HEADER_SECRET, ENV_SECRET, 'rv-secret-from-env-123']) expect(r.stdout + r.stderr).not.toContain(secret);
    // Another file, and a layer that is not a file (OPENCODE_CONFIG_CONTENT): their references are shown as written too.
    sb.write('pantheon.json', '{ "username": "{env:WHO}" }\n');
    const layered = await sb.run(['debug', 'config'], { env: { WHO: 'private-person', OPENCODE_CONFIG_CONTENT: '{"small_model": "${SMALL_MODEL}"}', SMALL_MODEL: 'p/m' } });
    expect(layered.code, layered.stderr).toBe(0);
    expect(JSON.parse(layered.stdout)).toMatchObject({ small_model: '${SMALL_MODEL}', username: '{env:WHO}', provider: { p: { options: { apiKey: '***' } } } });
    expect(layered.stdout).not.toContain('private-person');
  });

  it('paths: OpenCode\'s labels with Pantheon\'s folders', async () => {
    const r = await sb.run(['debug', 'paths', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      home: sb.home,
      data: path.join(sb.dataHome, 'pantheon'),
      cache: path.join(sb.cacheHome, 'pantheon'),
      config: path.join(sb.configHome, 'opencode'),
      state: path.join(sb.dataHome, 'pantheon', 'ledger.sqlite'),
      auth: path.join(sb.dataHome, 'opencode', 'auth.json'),
    });
    const text = await sb.run(['debug', 'paths']);
    expect(text.stdout).toContain(`config   ${path.join(sb.configHome, 'opencode')}\n`);
  });

  it('agent: the resolved agent in OpenCode\'s field names; unknown is exit 2 with the names', async () => {
    const r = await sb.run(['debug', 'agent', 'reviewer']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      name: 'reviewer',
      description: 'Reviews',
      mode: 'subagent',
      model: { providerID: 'p', modelID: 'm' },
      permission: expect.arrayContaining([{ permission: 'bash', pattern: '*', action: 'deny' }]),
    });
    const unknown = await sb.run(['debug', 'agent', 'nobody']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^error: debug agent: no agent named "nobody"\.\nhint: Available agents: .*reviewer/);
  });

  it('agent --tool: runs a built-in tool under the agent\'s permissions', async () => {
    sb.write('notes.txt', `hello\nkey ${SECRET}\n`);
    const read = await sb.run(['debug', 'agent', 'reviewer', '--tool', 'read', '--params', '{"filePath":"notes.txt"}']);
    expect(read.code, read.stderr).toBe(0);
    const out = JSON.parse(read.stdout) as { tool: string; input: unknown; result: { title: string; output: string } };
    expect(out).toMatchObject({ tool: 'read', input: { filePath: 'notes.txt' }, result: { title: 'notes.txt' } });
    expect(out.result.output).toContain('hello');
    // A key the config holds is masked in what a tool read.
    expect(read.stdout).not.toContain(SECRET);

    const denied = await sb.run(['debug', 'agent', 'reviewer', '--tool', 'bash', '--params', '{"command":"echo hi"}']);
    expect(denied).toMatchObject({ code: 2, stdout: '' });
    expect(denied.stderr).toBe('error: Agent "reviewer" may not use bash: its permission denies it.\nhint: `opencode agent show reviewer` shows its permissions and where they are set.\n');

    const asked = await sb.run(['debug', 'agent', 'reviewer', '--tool', 'write', '--params', '{"filePath":"out.txt","content":"x"}']);
    expect(asked.code).toBe(1);
    expect(asked.stderr).toContain('not approved: no terminal to ask on; pass --auto to approve it');
    const auto = await sb.run(['debug', 'agent', 'reviewer', '--tool', 'write', '--params', '{"filePath":"out.txt","content":"x"}', '--auto']);
    expect(auto.code, auto.stderr).toBe(0);

    const bad = await sb.run(['debug', 'agent', 'reviewer', '--tool', 'read', '--params', '{filePath: "x"}']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.split('\n')[0]).toBe('error: --params: expected a JSON object, found text that is not JSON.');
    const unknownTool = await sb.run(['debug', 'agent', 'reviewer', '--tool', 'github_search']);
    expect(unknownTool.code).toBe(2);
    expect(unknownTool.stderr).toContain('`opencode mcp call SERVER TOOL --args JSON`');
    expect(hasStack(bad.stderr + unknownTool.stderr + asked.stderr)).toBe(false);
  });

  it('skill, info, startup and scrap answer; rg, file, snapshot, v2 and lsp symbols are one sentence each', async () => {
    sb.write('.opencode/skills/release/SKILL.md', '---\nname: release\ndescription: Cut a release.\n---\n\n# Release\nSteps.\n');
    const skill = await sb.run(['debug', 'skill']);
    expect(skill.code, skill.stderr).toBe(0);
    expect(JSON.parse(skill.stdout)).toEqual([{ name: 'release', description: 'Cut a release.', location: path.join(sb.project, '.opencode', 'skills', 'release', 'SKILL.md'), content: '# Release\nSteps.' }]);

    const info = await sb.run(['debug', 'info', '--json']);
    expect(info.code, info.stderr).toBe(0);
    expect(JSON.parse(info.stdout)).toMatchObject({ node: process.version, projectRoot: sb.project, configFiles: [path.join(sb.project, 'opencode.jsonc')], plugins: [] });

    const startup = await sb.run(['debug', 'startup', '--json']);
    expect(startup.code, startup.stderr).toBe(0);
    const phases = JSON.parse(startup.stdout) as { phases: Record<string, number>; total: number };
    expect(Object.keys(phases.phases)).toEqual(['process start to command', 'config loaded', 'built-in tools loaded', 'AI SDK loaded']);
    expect(phases.total).toBeGreaterThanOrEqual(phases.phases['process start to command'] as number);

    const scrap = await sb.run(['debug', 'scrap']);
    expect(scrap.code, scrap.stderr).toBe(0);
    expect(JSON.parse(scrap.stdout)).toMatchObject([{ worktree: sb.project, vcs: 'git', sandboxes: [] }]);

    for (const args of [['rg'], ['file'], ['snapshot'], ['v2'], ['lsp', 'symbols'], ['lsp', 'document-symbols']]) {
      const name = args.join(' ');
      const r = await sb.run(['debug', ...args, 'anything', '--x']);
      expect(r.code, name).toBe(2);
      expect(r.stderr.split('\n'), name).toHaveLength(3);
      expect(r.stderr, name).toMatch(/^error: Pantheon .+\.\nhint: .+\n$/);
    }
  });

  it('wait: waits until told to stop', async () => {
    const p = sb.start(['debug', 'wait']);
    await p.stderrMatches(/^waiting \(pid \d+\); Ctrl\+C ends it\n$/);
    p.child.kill('SIGTERM');
    expect((await p.exited).code).toBe(0);
  });
});
