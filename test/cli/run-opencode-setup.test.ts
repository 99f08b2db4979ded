/**
 * `opencode run` honours what a real OpenCode setup holds: agents in markdown files, AGENTS.md and
 * `instructions` in the system prompt, OpenCode's built-in agent names, disabled/enabled providers,
 * and the models.dev catalogue (a provider named without a package or URL of its own, its prices).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import type { RequestLogEntry } from '../support/openai-server/types.ts';
import { SECRET, sandbox, type Sandbox } from './cli-helper.ts';

const systemText = (entry: RequestLogEntry | undefined): string =>
  ((entry?.messages ?? []) as { role: string; content: unknown }[])
    .filter((m) => m.role === 'system')
    .map((m) => (typeof m.content === 'string' ? m.content : JSON.stringify(m.content)))
    .join('\n');

const provider = (server: ScriptedServer) => ({ options: { baseURL: server.url, apiKey: SECRET }, models: { m1: {}, m2: {} } });

describe('opencode run with an OpenCode setup', () => {
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
  });
  afterEach(async () => {
    await sb.remove();
  });

  it('a markdown agent runs with its prompt, the project AGENTS.md and the config\'s instructions', async () => {
    sb.write('opencode.json', { provider: { p: provider(server) }, model: 'p/m2', instructions: ['docs/*.md'] });
    sb.write('.opencode/agent/reviewer.md', '---\ndescription: Reviews\nmodel: p/m1\n---\nYou are the markdown reviewer.\n');
    const agents = sb.write('AGENTS.md', 'Project rule: answer briefly.');
    const rules = sb.write('docs/rules.md', 'Docs rule: cite files.');
    server.script('m1', { type: 'text', text: 'Reviewed.' });
    const r = await sb.run(['run', '--agent', 'reviewer', 'review this']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('Reviewed.\n');
    const system = systemText(server.log[0]);
    expect(system.indexOf('You are the markdown reviewer.')).toBe(0);
    expect(system).toContain(`Instructions from: ${agents}\nProject rule: answer briefly.`);
    expect(system).toContain(`Instructions from: ${rules}\nDocs rule: cite files.`);
    expect(server.log[0]?.model).toBe('m1');
  });

  it('an agent\'s model options (its `options` and the keys OpenCode passes on, from JSON or markdown) and its variant reach every model of its chain, beneath the variant', async () => {
    sb.write('opencode.json', {
      provider: { p: { ...provider(server), models: { m1: { options: { top_k: 7, thinking: { type: 'enabled' } }, variants: { deep: { reasoningEffort: 'high' } } }, m2: {} } } },
      model: 'p/m2',
      agent: { oracle: { model: 'p/m1', fallbacks: ['p/m2'], variant: 'deep', reasoningEffort: 'low', options: { thinking: { budget_tokens: 64 } } } },
    });
    sb.write('.opencode/agent/scout.md', '---\ndescription: Scouts\nmodel: p/m2\nreasoningEffort: medium\n---\nYou scout.\n');
    // The head refuses (404): the fallback answers.
    server.script('m1', { type: 'status', status: 404 });
    const r = await sb.run(['run', '--agent', 'oracle', 'think']);
    expect(r.code, r.stderr).toBe(0);
    // The head: its own options, the agent's deep-merged over them, the variant's over both.
    expect(server.log[0]?.body).toMatchObject({ model: 'm1', top_k: 7, thinking: { type: 'enabled', budget_tokens: 64 }, reasoning_effort: 'high' });
    // The fallback declares no "deep" variant: the agent's options alone.
    expect(server.log[1]?.body).toMatchObject({ model: 'm2', thinking: { budget_tokens: 64 }, reasoning_effort: 'low' });
    const md = await sb.run(['run', '--agent', 'scout', 'look']);
    expect(md.code, md.stderr).toBe(0);
    expect(server.log[2]?.body).toMatchObject({ model: 'm2', reasoning_effort: 'medium' });
  });

  it('each model is sampled as OpenCode samples its family when the agent sets nothing (Kimi K2 at 0.6; MiniMax M2 at 1.0, top-p 0.95); the agent\'s own settings win', async () => {
    sb.write('opencode.json', {
      provider: { p: { ...provider(server), models: { kimi: { id: 'moonshotai/kimi-k2-instruct' }, mm: { id: 'minimaxai/minimax-m2' }, plain: { id: 'meta/llama-3.3-70b-instruct' } } } },
      model: 'p/kimi',
      // (Pantheon's own roster agents set their temperatures; these set none.)
      agent: { scout: { model: 'p/kimi' }, cool: { model: 'p/kimi', temperature: 0.2, top_p: 0.5 }, chain: { model: 'p/plain', fallbacks: ['p/mm'] } },
    });
    server.script('meta/llama-3.3-70b-instruct', { type: 'status', status: 503 }, { type: 'status', status: 503 }, { type: 'status', status: 503 }, { type: 'status', status: 503 });
    for (const args of [['run', '--agent', 'scout', 'hi'], ['run', '--agent', 'cool', 'hi'], ['run', '--agent', 'chain', 'hi']]) {
      const r = await sb.run(args);
      expect(r.code, r.stderr).toBe(0);
    }
    const bodies = server.log.map((e) => e.body as Record<string, unknown>);
    expect(bodies[0]).toMatchObject({ model: 'moonshotai/kimi-k2-instruct', temperature: 0.6 });
    expect(bodies[0]).not.toHaveProperty('top_p');
    expect(bodies[1]).toMatchObject({ model: 'moonshotai/kimi-k2-instruct', temperature: 0.2, top_p: 0.5 });
    // A chain: the model with no family defaults is sent none; its fallback, its own (top-k is not an OpenAI-compatible field).
    const plain = bodies.filter((b) => b.model === 'meta/llama-3.3-70b-instruct');
    expect(plain.length).toBeGreaterThan(0);
    for (const b of plain) {
      expect(b).not.toHaveProperty('temperature');
      expect(b).not.toHaveProperty('top_p');
    }
    const mm = bodies.find((b) => b.model === 'minimaxai/minimax-m2');
    expect(mm).toMatchObject({ temperature: 1, top_p: 0.95 });
    expect(mm).not.toHaveProperty('top_k');
  });

  it('a model whose limit.output is larger than OpenCode asks for is asked for 32,000 tokens, as OpenCode asks', async () => {
    sb.write('opencode.json', { provider: { p: { ...provider(server), models: { m1: { limit: { context: 131_072, output: 131_072 } } } } }, model: 'p/m1' });
    const r = await sb.run(['run', 'long answer']);
    expect(r.code, r.stderr).toBe(0);
    expect(server.log[0]?.body).toMatchObject({ model: 'm1', max_tokens: 32_000 });
  });

  it('OpenCode\'s run flags: --variant on the head model (as provider/model:variant), --title for the new session, --share said to be unavailable', async () => {
    sb.write('opencode.json', { provider: { p: { ...provider(server), models: { m1: { variants: { deep: { reasoningEffort: 'high' } } }, m2: {} } } }, model: 'p/m1' });
    const r = await sb.run(['run', '--variant', 'deep', '--title', 'Deep thoughts', '--share', '--format', 'json', 'think']);
    expect(r.code, r.stderr).toBe(0);
    expect(server.log[0]?.body).toMatchObject({ model: 'm1', reasoning_effort: 'high' });
    expect(r.stderr).toMatch(/^note: --share publishes a session on OpenCode's service, which Pantheon does not have/m);
    const sessionID = (JSON.parse(r.stdout.split('\n')[0] as string) as { sessionID: string }).sessionID;
    const listed = (JSON.parse((await sb.run(['session', 'list', '--json'])).stdout) as { sessions: { id: string; title: string }[] }).sessions;
    expect(listed.find((s) => s.id === sessionID)?.title).toBe('Deep thoughts');
    // With --model, the variant goes on that model; a declared model without it is a usage error naming --variant.
    const missing = await sb.run(['run', '--model', 'p/m2', '--variant', 'max', 'hi']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--model: model "p\/m2" has no variant "max"/);
    const empty = await sb.run(['run', '--variant', '', 'hi']);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/^error: --variant: expected a variant name, found nothing\.$/m);
    // Any text flag given without its value, at the end of the line or as "": said, not taken as unset.
    for (const [args, flag] of [[['run', 'hi', '--agent'], '--agent: expected an agent name'], [['run', '--model', '', 'hi'], '--model: expected a model'], [['run', 'hi', '--session'], '--session: expected a session id'], [['run', 'hi', '--file'], '--file: expected a file path'], [['run', 'hi', '--dir='], '--dir: expected a folder']] as const) {
      const r2 = await sb.run([...args]);
      expect(r2.code, flag).toBe(2);
      expect(r2.stderr).toMatch(new RegExp(`^error: ${flag.replace(/[-]/g, '\\-')}.*, found nothing\\.$`, 'm'));
    }
    expect(server.log).toHaveLength(1);
  });

  it('--command runs the config\'s command (JSON or markdown): arguments into $1…/$ARGUMENTS, !`shell` output, @file mentions attached, its agent and model', async () => {
    sb.write('opencode.json', {
      provider: { p: provider(server) },
      model: 'p/m2',
      agent: { critic: { model: 'p/m2', prompt: 'You are the critic.' } },
      command: { plain: { template: 'Summarise the project.' } },
    });
    sb.write('.opencode/command/review.md', '---\ndescription: Review a file\nagent: critic\nmodel: p/m1\n---\nReview @$1 for $2.\nBranch: !`echo on-main`\n');
    sb.write('src/auth.ts', 'export const secretCheck = true;\n');
    const r = await sb.run(['run', '--command', 'review', 'src/auth.ts', '"security holes" and races']);
    expect(r.code, r.stderr).toBe(0);
    const entry = server.log[0];
    expect(entry?.model).toBe('m1');
    expect(systemText(entry).indexOf('You are the critic.')).toBe(0);
    const user = JSON.stringify(entry?.messages.at(-1));
    expect(user).toContain('Review @src/auth.ts for security holes and races.');
    expect(user).toContain('Branch: on-main');
    expect(user).toContain('export const secretCheck = true;');
    // A template that names no arguments gets them appended; an unknown command is exit 2 naming the commands.
    const plain = await sb.run(['run', '--command', 'plain', 'briefly']);
    expect(plain.code, plain.stderr).toBe(0);
    expect(JSON.stringify(server.log[1]?.messages.at(-1))).toContain('Summarise the project.\\n\\nbriefly');
    const unknown = await sb.run(['run', '--command', 'reveiw', 'x']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^error: --command: no command named "reveiw"; did you mean "review"\?\nhint: Commands: init, review, plain\. Define one/m);
    expect(server.log).toHaveLength(2);
  });

  it('--command knows what POST /session/{id}/command knows: OpenCode\'s built-in init and review (a sub-task), and skills; an unknown name is exit 2 with a did-you-mean', async () => {
    sb.write('opencode.json', { provider: { p: provider(server) }, model: 'p/m1', command: { plain: { template: 'Summarise the project.' } } });
    sb.write('.opencode/skill/demo/SKILL.md', '---\nname: demo\ndescription: A demo skill\n---\nDo the demo thing.\n');
    const init = await sb.run(['run', '--command', 'init']);
    expect(init.code, init.stderr).toBe(0);
    expect(JSON.stringify(server.log[0]?.messages.at(-1))).toContain(`If \`AGENTS.md\` already exists at \`${sb.project}\``);
    const skill = await sb.run(['run', '--command', 'demo', 'now']);
    expect(skill.code, skill.stderr).toBe(0);
    const dir = fs.realpathSync(path.join(sb.project, '.opencode/skill/demo'));
    const sent = (server.log[1]?.messages.at(-1) as { content: string }).content;
    expect(sent).toMatch(/^Do the demo thing\.\n+Base directory for this skill: (.+)\nRelative paths in this skill/);
    expect(sent.endsWith('\n\nnow')).toBe(true);
    expect(sent).toContain(`Base directory for this skill: ${dir}\n`);
    // review is a sub-task, as in OpenCode: its prompt goes to a child task, then the run's agent is asked to go on from its answer.
    server.script('m1', { type: 'text', text: 'Reviewed: fine.' }, { type: 'text', text: 'Going on.' });
    const review = await sb.run(['run', '--format', 'json', '--command', 'review', 'HEAD']);
    expect(review.code, review.stderr).toBe(0);
    const events = review.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; tool?: string; parentTaskID?: string });
    expect(events.find((e) => e.type === 'subtask_start')).toBeDefined();
    expect(events.find((e) => e.type === 'tool_use')).toMatchObject({ tool: 'task' });
    expect(JSON.stringify(server.log[2]?.messages.at(-1))).toMatch(/You are a code reviewer[\s\S]*HEAD/);
    expect(JSON.stringify(server.log[3]?.messages.at(-1))).toContain('Summarize the task tool output above and continue with your task.');
    const unknown = await sb.run(['run', '--command', 'dmeo', 'x']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe('error: --command: no command named "dmeo"; did you mean "demo"?\nhint: Commands: init, review, plain, demo. Define one under "command" in opencode.json, or as a markdown file in .opencode/command/.\n');
    expect(server.log).toHaveLength(4);
  });

  it('default_agent may name OpenCode\'s built-in agents (build)', async () => {
    sb.write('opencode.json', { provider: { p: provider(server) }, model: 'p/m1', default_agent: 'build' });
    server.script('m1', { type: 'text', text: 'Built.' });
    const r = await sb.run(['run', '--format', 'json', 'build it']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('"agent":"build"');
    expect(systemText(server.log[0])).toMatch(/^# Build/);
  });

  it('disabled_providers and enabled_providers take a provider out of every chain', async () => {
    const config = { provider: { p: provider(server), q: provider(server) }, model: 'q/m1', fallbacks: ['p/m2'] };
    server.script('m2', { type: 'text', text: 'From p.' }, { type: 'text', text: 'From p again.' });
    sb.write('opencode.json', { ...config, disabled_providers: ['q'] });
    const disabled = await sb.run(['run', 'hi']);
    expect(disabled.code, disabled.stderr).toBe(0);
    expect(disabled.stdout).toBe('From p.\n');
    sb.write('opencode.json', { ...config, enabled_providers: ['p'] });
    const enabled = await sb.run(['run', 'hello']);
    expect(enabled.stdout).toBe('From p again.\n');
    expect(server.log.map((e) => e.model)).toEqual(['m2', 'm2']);

    sb.write('opencode.json', { ...config, fallbacks: [], disabled_providers: ['q'] });
    const none = await sb.run(['run', 'hi']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/q\/m1/);
    expect(none.stderr).toMatch(/disabled_providers/);
    expect(server.log).toHaveLength(2);
  });

  it('a catalogued provider needs no package or models of its own; its price comes from the catalogue', async () => {
    // deepseek-v4-pro: $0.435 in / $0.87 out per million tokens in the models.dev snapshot.
    sb.write('opencode.json', { provider: { deepseek: { options: { baseURL: server.url, apiKey: SECRET } } }, model: 'deepseek/deepseek-v4-pro' });
    server.script('deepseek-v4-pro', { type: 'text', text: 'Priced.', usage: { prompt_tokens: 1000, completion_tokens: 100 } });
    const r = await sb.run(['run', '--format', 'json', 'price me']);
    expect(r.code, r.stderr).toBe(0);
    const done = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>).find((e) => e.type === 'done');
    expect(done?.costUSD).toBeCloseTo((1000 * 0.435 + 100 * 0.87) / 1e6, 12);
  });

  it('a catalogued model that takes no temperature (models.dev says so) is sent none, even an agent\'s, as OpenCode sends it', async () => {
    sb.write('opencode.json', {
      provider: { nvidia: { options: { baseURL: server.url, apiKey: SECRET } } },
      model: 'nvidia/moonshotai/kimi-k3',
      agent: { warm: { model: 'nvidia/moonshotai/kimi-k3', temperature: 0.3 }, llama: { model: 'nvidia/meta/llama-3.3-70b-instruct', temperature: 0.3 } },
    });
    for (const agent of ['warm', 'llama']) {
      const r = await sb.run(['run', '--agent', agent, 'hi']);
      expect(r.code, r.stderr).toBe(0);
    }
    const [k3, llama] = server.log.map((e) => e.body as Record<string, unknown>);
    expect(k3?.model).toBe('moonshotai/kimi-k3');
    expect(k3).not.toHaveProperty('temperature');
    expect(llama).toMatchObject({ model: 'meta/llama-3.3-70b-instruct', temperature: 0.3 });
  });

  it('a provider neither declared nor catalogued: exit 2 naming the ref, only when the run needs it', async () => {
    sb.write('opencode.json', { provider: { p: provider(server) }, model: 'p/m1', agent: { odd: { model: 'nowhere-ai/x1' } } });
    server.script('m1', { type: 'text', text: 'Fine.' });
    const fine = await sb.run(['run', 'hi']);
    expect(fine.code, fine.stderr).toBe(0);
    expect(fine.stderr).toMatch(/warning: .*agent\.odd\.model: provider "nowhere-ai" is neither declared nor in the models\.dev catalogue/);
    const needed = await sb.run(['run', '--agent', 'odd', 'hi']);
    expect(needed.code).toBe(2);
    expect(needed.stderr).toContain('nowhere-ai/x1');
    expect(fs.existsSync(path.join(sb.project, 'AGENTS.md'))).toBe(false);
  });
});
