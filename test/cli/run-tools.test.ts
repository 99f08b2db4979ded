/**
 * `opencode run` as a subprocess with tools: permission `ask` in a non-interactive run is a
 * denial shown to the user and sent to the model; `--auto` approves it; delegation shows up in
 * the NDJSON events and the summary.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { SECRET, providerConfig, sandbox, type Sandbox, toolContents } from './cli-helper.ts';

interface JsonEvent {
  type: string;
  sessionID: string;
  [key: string]: unknown;
}

function events(stdout: string): JsonEvent[] {
  return stdout.trim().split('\n').map((line) => JSON.parse(line) as JsonEvent);
}

describe('opencode run with tools', () => {
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
    sb.write('opencode.json', {
      ...providerConfig(server, { m1: {}, m2: { cost: { input: 2, output: 8 } } }),
      model: 'p/m1',
      agent: { oracle: { model: 'p/m2' }, sisyphus: { permission: { task: 'allow' } } },
    });
  });
  afterEach(async () => {
    await sb.remove();
  });

  const bash = { type: 'tool_calls' as const, calls: [{ name: 'bash', arguments: { command: 'echo hi > made.txt' } }] };

  it('bash (permission ask) is refused in a non-interactive run: the model is told and the user sees it', async () => {
    server.script('m1', bash, { type: 'text', text: 'I could not run it.' });
    const r = await sb.run(['run', 'make a file']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('I could not run it.\n');
    expect(r.stderr).toMatch(/^sisyphus bash echo hi > made\.txt ✗ permission denied: .*--auto/m);
    expect(toolContents(server.log[1]?.messages ?? [])[0]).toMatch(/permission denied/);
    expect(existsSync(path.join(sb.project, 'made.txt'))).toBe(false);
  });

  it('skills (OpenCode\'s): the system prompt lists the project\'s, the user\'s and skills.paths\' skills and the skill tool loads one; a denied one and one without a description are not listed', async () => {
    sb.write('.opencode/skill/deploy/SKILL.md', '---\nname: deploy\ndescription: How this project is deployed\n---\nRun the deploy script, then check the health URL.\n');
    sb.write('.opencode/skill/nodesc/SKILL.md', 'No frontmatter, so no description.\n');
    const userSkill = path.join(sb.home, '.claude', 'skills', 'review');
    mkdirSync(userSkill, { recursive: true });
    writeFileSync(path.join(userSkill, 'SKILL.md'), '---\ndescription: How to review a change\n---\nRead the diff twice.\n');
    mkdirSync(path.join(sb.home, '.claude', 'skills', 'notes'), { recursive: true });
    writeFileSync(path.join(sb.home, '.claude', 'skills', 'notes', 'SKILL.md'), '---\ndescription: How to keep notes\n---\nWrite them down.\n');
    sb.write('tools/skills/extra/SKILL.md', '---\ndescription: From a configured path\n---\nExtra steps.\n');
    sb.write('opencode.json', { ...providerConfig(server, { m1: {} }), model: 'p/m1', permission: { skill: { review: 'deny' } }, skills: { paths: ['tools/skills'] } });
    server.script('m1', { type: 'tool_calls', calls: [{ name: 'skill', arguments: { name: 'deploy' } }, { name: 'skill', arguments: { name: 'review' } }] }, { type: 'text', text: 'Loaded.' });
    const r = await sb.run(['run', 'deploy it']);
    expect(r.code, r.stderr).toBe(0);
    const offered = (server.log[0]?.tools ?? []) as { function: { name: string; description: string } }[];
    const skill = offered.find((t) => t.function.name === 'skill');
    // As in OpenCode 1.18: the tool's description points to the list, which the system prompt holds, by name.
    expect(skill?.function.description).toMatch(/^Load a specialized skill when the task at hand matches one of the skills listed in the system prompt\./);
    const system = ((server.log[0]?.messages ?? []) as { role: string; content: string }[]).find((m) => m.role === 'system')?.content ?? '';
    const listed = [...system.matchAll(/<skill>\n {4}<name>(.*)<\/name>\n {4}<description>(.*)<\/description>\n {4}<location>(.*)<\/location>\n {2}<\/skill>/g)].map((m) => m.slice(1));
    expect(listed).toEqual([
      ['deploy', 'How this project is deployed', path.join(sb.project, '.opencode', 'skill', 'deploy', 'SKILL.md')],
      ['extra', 'From a configured path', path.join(sb.project, 'tools', 'skills', 'extra', 'SKILL.md')],
      ['notes', 'How to keep notes', path.join(sb.home, '.claude', 'skills', 'notes', 'SKILL.md')],
    ]);
    const block = system.slice(system.indexOf('<available_skills>'));
    expect(block).toMatch(/^<available_skills>\n[^]*\n<\/available_skills>$/);
    expect(block).not.toContain('review');
    expect(block).not.toContain('nodesc');
    const [loaded, refused] = toolContents(server.log[1]?.messages ?? []);
    expect(loaded).toContain('Run the deploy script, then check the health URL.');
    expect(loaded).toContain(`Base directory for this skill: ${path.join(sb.project, '.opencode', 'skill', 'deploy')}`);
    expect(refused).toMatch(/no skill named "review"/);
    expect(refused).not.toContain('Read the diff twice.');
  });

  it('--auto approves it', async () => {
    server.script('m1', bash, { type: 'text', text: 'Made it.' });
    const r = await sb.run(['run', '--auto', 'make a file']);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(path.join(sb.project, 'made.txt'), 'utf8')).toBe('hi\n');
    expect(r.stderr).toMatch(/^sisyphus bash echo hi > made\.txt\n/m);
    expect(r.stderr).toMatch(/1 tool call/);
  });

  it('bash never sees a variable that holds one of the config’s secrets, whatever its name', async () => {
    sb.write('opencode.json', { provider: { p: { options: { baseURL: server.url, apiKey: '{env:LLM_AUTH}' }, models: { m1: {} } } }, model: 'p/m1', mcp: { gh: { type: 'local', command: ['true'], enabled: false, environment: { GITHUB_PERSONAL_ACCESS_TOKEN: '{env:GH_PAT}' } } } });
    server.script('m1', { type: 'tool_calls', calls: [{ name: 'bash', arguments: { command: 'env' } }] }, { type: 'text', text: 'Seen.' });
    const r = await sb.run(['run', '--auto', 'show the environment'], { env: { LLM_AUTH: SECRET, GH_PAT: 'ghpat-0123456789abcdef', SEEN_MARKER: 'visible' } });
    expect(r.code, r.stderr).toBe(0);
    const sent = toolContents(server.log.at(-1)?.messages ?? []).join('\n');
    expect(sent).toContain('SEEN_MARKER=visible');
    expect(sent).not.toMatch(/LLM_AUTH|GH_PAT=/);
    expect(sent).not.toContain('ghpat-0123456789abcdef');
  });

  it('--auto does not approve reading outside the project: the file is not read, the model is told it was denied', async () => {
    const outside = path.join(sb.root, 'outside-secret.txt');
    writeFileSync(outside, 'TOP-SECRET-CONTENT\n');
    const read = { type: 'tool_calls' as const, calls: [{ name: 'read', arguments: { filePath: outside } }] };
    server.script('m1', read, { type: 'text', text: 'I was not allowed.' });
    const r = await sb.run(['run', '--auto', '--format', 'json', 'read that file']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).not.toContain('TOP-SECRET-CONTENT');
    const toolResult = toolContents(server.log[1]?.messages ?? [])[0] ?? '';
    expect(toolResult).toMatch(/permission denied: read .*outside the project root.*--auto does not cover paths outside the project/);
    expect(toolResult).not.toContain('TOP-SECRET-CONTENT');
    const all = events(r.stdout);
    const used = all.find((e) => e.type === 'tool_use');
    expect(used).toMatchObject({ tool: 'read', error: expect.stringMatching(/permission denied/) });
    // The call started (its permission is asked as it runs), then ended: one tool_start, before its tool_use.
    const started = all.filter((e) => e.type === 'tool_start');
    expect(started).toEqual([expect.objectContaining({ tool: 'read', input: { filePath: outside }, callID: (used as unknown as { callID: string }).callID })]);
    expect(all.indexOf(started[0] as never)).toBeLessThan(all.indexOf(used as never));
  });

  it('an explicit allow under permission.external_directory lets --auto-less runs read there', async () => {
    const outside = path.join(sb.root, 'shared', 'notes.txt');
    sb.write('opencode.json', {
      ...providerConfig(server, { m1: {} }),
      model: 'p/m1',
      permission: { external_directory: { [`${path.join(sb.root, 'shared')}/*`]: 'allow' } },
    });
    mkdirSync(path.dirname(outside), { recursive: true });
    writeFileSync(outside, 'shared notes\n');
    server.script('m1', { type: 'tool_calls', calls: [{ name: 'read', arguments: { filePath: outside } }] }, { type: 'text', text: 'Read it.' });
    const r = await sb.run(['run', 'read the notes']);
    expect(r.code, r.stderr).toBe(0);
    expect(toolContents(server.log[1]?.messages ?? [])[0]).toContain('shared notes');
  });

  it('a delegation in NDJSON: the sub-task events carry parentTaskID; done has the breakdown and the cost', async () => {
    server.script('m1', { type: 'tool_calls', calls: [{ name: 'task', arguments: { agent: 'oracle', prompt: 'Think.' } }] }, { type: 'text', text: 'Done.' });
    server.script('m2', { type: 'text', text: 'Thought.', usage: { prompt_tokens: 1000, completion_tokens: 100 } });
    const r = await sb.run(['run', '--format', 'json', 'go']);
    expect(r.code, r.stderr).toBe(0);
    const all = events(r.stdout);
    const top = all.find((e) => e.type === 'step_start' && e.agent === 'sisyphus');
    const sub = all.filter((e) => e.agent === 'oracle');
    expect(sub.length).toBeGreaterThan(0);
    expect(sub.every((e) => e.parentTaskID === top?.taskID && e.taskID !== top?.taskID)).toBe(true);
    expect(all.filter((e) => e.type === 'done')).toHaveLength(1);
    const done = all.at(-1);
    expect(done).toMatchObject({ type: 'done', status: 'success', costUSD: (1000 * 2 + 100 * 8) / 1e6 });
    expect((done?.byAgent as Record<string, unknown>).oracle).toEqual({ usage: { inputTokens: 1000, outputTokens: 100 }, costUSD: (1000 * 2 + 100 * 8) / 1e6 });
    expect(Object.keys(done?.byProvider as object)).toEqual(['p']);
    // The answer in OpenCode's frame, naming the child session (subtask_start's) that task_id resumes.
    const child = all.find((e) => e.type === 'subtask_start')?.childSessionID as string;
    expect(child).toMatch(/^ses_/);
    expect(all.find((e) => e.type === 'tool_use')).toMatchObject({ tool: 'task', output: `<task id="${child}" state="completed">\n<task_result>\nThought.\n</task_result>\n</task>`, agent: 'sisyphus' });
  });

  it('the sub-agent\'s text stays off stdout in text mode; the summary breaks usage down by agent', async () => {
    server.script('m1', { type: 'tool_calls', calls: [{ name: 'task', arguments: { agent: 'oracle', prompt: 'Think.' } }] }, { type: 'text', text: 'Final.' });
    server.script('m2', { type: 'text', text: 'Sub-agent words.' });
    const r = await sb.run(['run', 'go']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('Final.\n');
    expect(r.stderr).toMatch(/sisyphus task → oracle/);
    expect(r.stderr).toMatch(/agents: (?=.*sisyphus \d+\/\d+)(?=.*oracle \d+\/\d+ \$0\.\d{4})/);
  });

  it('an MCP server that cannot start is a warning (stderr in text, a warning event in NDJSON); the run goes on', async () => {
    sb.write('opencode.json', {
      ...providerConfig(server, { m1: {} }),
      model: 'p/m1',
      mcp: { broken: { type: 'local', command: [`${sb.root}/no-such-server`] } },
    });
    server.script('m1', { type: 'text', text: 'fine' }, { type: 'text', text: 'fine' });
    const text = await sb.run(['run', 'hi']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toBe('fine\n');
    expect(text.stderr).toMatch(/^warning: .*broken/m);
    const json = await sb.run(['run', '--format', 'json', 'hi']);
    expect(json.code, json.stderr).toBe(0);
    expect(events(json.stdout).find((e) => e.type === 'warning')).toMatchObject({ code: 'MCP_START_FAILED', message: expect.stringContaining('broken') });
  });

  it('permission patterns of many stars against a 100 KB command decide at once (a backtracking match took minutes on 1 KB)', async () => {
    sb.write('opencode.json', { ...providerConfig(server, { m1: {} }), model: 'p/m1', agent: { sisyphus: { permission: { bash: { '*': 'allow', '*a*a*a*b': 'deny' } } } } });
    const long = `: ${'a'.repeat(100_000)}`;
    server.script('m1', { type: 'tool_calls', calls: [{ name: 'bash', arguments: { command: long } }, { name: 'bash', arguments: { command: `${long} b` } }] }, { type: 'text', text: 'ran.' });
    const started = Date.now();
    const r = await sb.run(['run', 'run them']);
    expect(r.code, r.stderr).toBe(0);
    expect(Date.now() - started).toBeLessThan(30_000);
    const [allowed, denied] = toolContents(server.log[1]?.messages ?? []);
    expect(allowed).not.toMatch(/denied/);
    expect(denied).toMatch(/permission denied/);
  });

  it('grep searches in its worker thread and the run exits as soon as it is done; a catastrophic pattern is a tool error naming the file', async () => {
    sb.write('src/a.ts', 'const needle = 1;\n');
    sb.write('src/slow.txt', `${'x'.repeat(5000)}\n`);
    server.script(
      'm1',
      { type: 'tool_calls', calls: [{ name: 'grep', arguments: { pattern: 'needle\\s*=' } }, { name: 'grep', arguments: { pattern: '(x+x+)+y', path: 'src' } }] },
      { type: 'text', text: 'found.' },
    );
    const started = Date.now();
    const r = await sb.run(['run', 'find the needle']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('found.\n');
    const [found, slow] = toolContents(server.log[1]?.messages ?? []);
    expect(found).toBe('src/a.ts:1: const needle = 1;');
    expect(slow).toContain('the pattern "(x+x+)+y" took over 2 s on src/slow.txt and was stopped; simplify it');
    expect(Date.now() - started).toBeLessThan(15_000);
  });
});
