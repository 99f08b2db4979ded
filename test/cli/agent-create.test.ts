import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { SECRET, hasStack, providerConfig, sandbox, userText, type Sandbox } from './cli-helper.ts';

const GENERATED = {
  identifier: 'security-reviewer',
  whenToUse: 'Use this agent when code needs a security review: "injection", secrets, auth.',
  systemPrompt: 'You are a security reviewer.\n\nYou will read the diff and report problems by severity.',
};

describe('opencode agent create', () => {
  let server: ScriptedServer;
  let sb: Sandbox;

  beforeAll(async () => {
    server = await startScriptedServer({ apiKey: SECRET });
  });
  afterAll(async () => {
    await server.close();
  });
  beforeEach(async () => {
    server.reset();
    sb = await sandbox();
    sb.write('opencode.json', { ...providerConfig(server, { m1: {}, m2: {} }), model: 'p/m1' });
  });
  afterEach(async () => {
    await sb.remove();
  });

  const all = ['agent', 'create', '--path', '.opencode', '--description', 'reviews code for security problems', '--mode', 'subagent'];

  it('asks the model once and writes OpenCode\'s agent file, which then loads', async () => {
    server.script('m2', { type: 'text', text: JSON.stringify(GENERATED) });
    const r = await sb.run([...all, '--permissions', 'read,grep,glob', '-m', 'p/m2']);
    expect(r.code, r.stderr).toBe(0);
    const file = path.join(sb.project, '.opencode', 'agents', 'security-reviewer.md');
    expect(r.stdout).toBe(`${file}\n`);
    expect(server.log).toHaveLength(1);
    expect(server.log[0]).toMatchObject({ model: 'm2', status: 200 });
    expect(userText(server.log[0])).toContain('Create an agent configuration based on this request: "reviews code for security problems"');
    // The names already taken are listed, as OpenCode does.
    expect(userText(server.log[0])).toContain('build');
    expect(readFileSync(file, 'utf8')).toBe(
      [
        '---',
        `description: ${JSON.stringify(GENERATED.whenToUse)}`,
        'mode: subagent',
        'permission:',
        ...['bash', 'edit', 'webfetch', 'task', 'todowrite', 'websearch', 'lsp', 'skill'].map((p) => `  ${p}: deny`),
        '---',
        `${GENERATED.systemPrompt}\n`,
      ].join('\n'),
    );
    const shown = await sb.run(['agent', 'show', 'security-reviewer', '--json']);
    expect(shown.code, shown.stderr).toBe(0);
    const agent = JSON.parse(shown.stdout) as { mode: string; description: string; prompt: string; permission: Record<string, { rule: unknown }> };
    expect(agent).toMatchObject({ mode: 'subagent', description: GENERATED.whenToUse, prompt: GENERATED.systemPrompt });
    expect(agent.permission.bash?.rule).toBe('deny');
    expect(agent.permission.read?.rule).not.toBe('deny');
  });

  it('uses the config\'s model by default; empty --permissions allows all; a fenced answer is read', async () => {
    server.script('m1', { type: 'text', text: `Here it is:\n\`\`\`json\n${JSON.stringify({ ...GENERATED, identifier: 'Doc Writer' })}\n\`\`\`` });
    const r = await sb.run([...all.slice(0, 6), '--mode', 'all', '--tools', '']);
    expect(r.code, r.stderr).toBe(0);
    const text = readFileSync(path.join(sb.project, '.opencode', 'agents', 'doc-writer.md'), 'utf8');
    expect(text).toContain('mode: all\n---\n');
    expect(text).not.toContain('permission:');
  });

  it('refuses to overwrite an existing agent file (exit 2, the file unchanged)', async () => {
    const existing = sb.write('.opencode/agents/security-reviewer.md', 'mine\n');
    server.script('m1', { type: 'text', text: JSON.stringify(GENERATED) });
    const r = await sb.run([...all, '--permissions', '']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`error: Agent file already exists: ${existing}; it was left as it is.`);
    expect(readFileSync(existing, 'utf8')).toBe('mine\n');
  });

  it('without a terminal, missing flags are one sentence and exit 2, before any request', async () => {
    const r = await sb.run(['agent', 'create', '--description', 'x']);
    expect(r).toMatchObject({ code: 2, stdout: '' });
    expect(r.stderr).toMatch(/^error: agent create: --path, --mode, --permissions are required when there is no terminal to ask on\.\nhint: For example: opencode agent create --path \.opencode/);
    const bad = await sb.run([...all, '--permissions', 'read,fly']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('error: --permissions: expected names from bash, read, edit, glob, grep, webfetch, task, todowrite, websearch, lsp, skill, found "fly".');
    const mode = await sb.run([...all.slice(0, 6), '--mode', 'boss', '--permissions', '']);
    expect(mode.code).toBe(2);
    expect(mode.stderr).toContain('error: --mode: expected one of all, primary, subagent, found "boss".');
    expect(server.log).toHaveLength(0);
  });

  it('an answer that is not the agent JSON fails with exit 1 and writes nothing', async () => {
    server.script('m1', { type: 'text', text: 'I cannot help with that.' });
    const r = await sb.run([...all, '--permissions', '']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error: The model p/m1 did not describe an agent: its answer holds no JSON object.');
    expect(hasStack(r.stderr)).toBe(false);
    expect(Object.keys(await sb.snapshot()).some((f) => f.includes('agents'))).toBe(false);
  });

  it('--help lists OpenCode\'s flags', async () => {
    const r = await sb.run(['agent', 'create', '--help']);
    expect(r.code).toBe(0);
    for (const flag of ['--path', '--description', '--mode', '--permissions', '--tools', '--model', '-m']) expect(r.stdout).toContain(flag);
  });
});
