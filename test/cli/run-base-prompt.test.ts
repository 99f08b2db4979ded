/**
 * OpenCode's base system prompt for an agent without a prompt of its own, under `opencode run` (a
 * subprocess), a workflow's steps and `opencode serve`: the text OpenCode 1.18.33 sends for the model's family, then
 * the environment block, as captured from OpenCode's own requests to the scripted provider
 * (test/fixtures/opencode-base-prompts.json: the texts' SHA-256, not Pantheon's copies). A fallback
 * to another family gets that family's text, and a plugin's system transform sees it so; an agent
 * with a prompt, and Pantheon's built-in agents, keep theirs.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RequestLogEntry, ScriptedServer } from '../support/openai-server.ts';
import { getJson, serve } from '../server/serve-helper.ts';
import { providerConfig, useScriptedSandbox, type Sandbox } from './cli-helper.ts';

const repoRoot = path.resolve(import.meta.dirname, '..', '..');
const CAPTURED = (JSON.parse(readFileSync(path.join(repoRoot, 'test', 'fixtures', 'opencode-base-prompts.json'), 'utf8')) as { models: Record<string, { sha256: string; chars: number; starts: string }> }).models;
const MODELS = ['gpt-4o', 'gpt-5', 'claude-sonnet-4', 'gemini-2.5-pro', 'qwen3', 'muse-glimmer-1', 'Kimi-K2.5'];

// Records what the hook is given, before anything changes it.
const SEEING_PLUGIN = `import { appendFileSync } from "node:fs"
import { join } from "node:path"

export const Seeing = async ({ worktree }) => ({
  "experimental.chat.system.transform": async (input, output) => {
    appendFileSync(join(worktree, "seen.ndjson"), JSON.stringify({ model: input.model.id, system: output.system }) + "\\n")
  },
})
`;

function systemOf(entry: RequestLogEntry | undefined): string {
  const system = ((entry?.messages ?? []) as { role: string; content: string }[]).filter((m) => m.role === 'system');
  expect(system).toHaveLength(1);
  return system[0]?.content ?? '';
}

/** What comes before the environment block (whose first line names the model), and that line's model. */
function beforeEnvironment(system: string): { base: string; model: string } {
  const at = system.indexOf('\nYou are powered by the model named ');
  expect(at, system.slice(0, 200)).toBeGreaterThanOrEqual(0);
  const model = /^You are powered by the model named (\S+)\./.exec(system.slice(at + 1))?.[1] ?? '';
  return { base: system.slice(0, at), model };
}

const sha = (text: string): string => createHash('sha256').update(text).digest('hex');

/** The base prompt OpenCode 1.18.33 sent for this model id, as a comparable digest. */
function expectOpencodeBase(system: string, model: string): void {
  const got = beforeEnvironment(system);
  expect(got.model).toBe(model);
  const want = CAPTURED[model];
  if (!want) throw new Error(`no capture for ${model}`);
  expect({ starts: got.base.slice(0, 60), chars: got.base.length, sha256: sha(got.base) }).toEqual(want);
}

const ids = (log: readonly RequestLogEntry[]) => log.map((e) => e.model);

describe("OpenCode's base prompt for an agent without a prompt", () => {
  let server: ScriptedServer;
  let sb: Sandbox;
  useScriptedSandbox(
    (s, b) => {
      server = s;
      sb = b;
      sb.write('.opencode/agent/empty.md', '---\ndescription: An agent whose file has no body\nmode: primary\n---\n');
    },
    (s) => ({
      ...providerConfig(s, Object.fromEntries([...MODELS, 'claude-opus-4'].map((m) => [m, {}]))),
      model: 'p/qwen3',
      agent: {
        bare: { mode: 'primary', description: 'No prompt of its own' },
        mine: { mode: 'primary', prompt: 'You are mine.' },
        chained: { mode: 'primary', model: 'p/claude-sonnet-4', fallbacks: ['p/gpt-4o'] },
        lead: { mode: 'primary', prompt: 'You lead.', model: 'p/claude-opus-4' },
        helper: { mode: 'subagent', description: 'Helps with anything', model: 'p/gemini-2.5-pro' },
      },
      workflow: { families: { steps: MODELS.filter((m) => !['gpt-4o', 'muse-glimmer-1'].includes(m)).map((m, i) => ({ id: `s${i}`, agent: 'bare', model: `p/${m}`, prompt: 'hello' })) } },
    }),
  );

  it("sends the text OpenCode sends for the model's family (by the provider's model id), before the environment block", async () => {
    const models = ['gpt-4o', 'muse-glimmer-1'];
    for (const model of models) {
      server.script(model, { type: 'text', text: 'Hi.' });
      const r = await sb.run(['run', '--agent', 'bare', '-m', `p/${model}`, 'hello']);
      expect(r.code, r.stderr).toBe(0);
    }
    expect(ids(server.log)).toEqual(models);
    for (const [i, model] of models.entries()) expectOpencodeBase(systemOf(server.log[i]), model);
  });

  it("a workflow's steps get their models' family texts", async () => {
    const models = MODELS.filter((m) => !['gpt-4o', 'muse-glimmer-1'].includes(m));
    const r = await sb.run(['workflow', 'run', 'families']);
    expect(r.code, r.stderr).toBe(0);
    expect(ids(server.log).toSorted()).toEqual(models.toSorted());
    for (const model of models) expectOpencodeBase(systemOf(server.log.find((e) => e.model === model)), model);
  });

  it("a fallback to another family's model gets that family's text; the plugin's transform sees it so", async () => {
    sb.write('.opencode/plugin/seeing.js', SEEING_PLUGIN);
    server.script('claude-sonnet-4', { type: 'status', status: 401 });
    server.script('gpt-4o', { type: 'text', text: 'From the fallback.' });
    const r = await sb.run(['run', '--agent', 'chained', 'hello']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('From the fallback.\n');
    expect(ids(server.log)).toEqual(['claude-sonnet-4', 'gpt-4o']);
    expectOpencodeBase(systemOf(server.log[0]), 'claude-sonnet-4');
    const fallback = systemOf(server.log[1]);
    expectOpencodeBase(fallback, 'gpt-4o');
    // Everything after the base text is the same call's.
    expect(fallback.slice(fallback.indexOf('\n  Working directory: '))).toBe(systemOf(server.log[0]).slice(systemOf(server.log[0]).indexOf('\n  Working directory: ')));
    const seen = readFileSync(path.join(sb.project, 'seen.ndjson'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { model: string; system: string[] });
    expect(seen.map((s) => s.model)).toEqual(['claude-sonnet-4', 'gpt-4o']);
    expect(seen[1]?.system).toEqual([fallback]);
    expect(seen[0]?.system).toEqual([systemOf(server.log[0])]);
  });

  it('an agent with a prompt keeps it, and so do Pantheon\'s built-in agents (their prompts in presets/)', async () => {
    server.script('qwen3', { type: 'text', text: 'One.' }, { type: 'text', text: 'Two.' });
    expect((await sb.run(['run', '--agent', 'mine', 'hello'])).code).toBe(0);
    expect((await sb.run(['run', '--agent', 'build', 'hello'])).code).toBe(0);
    expect(systemOf(server.log[0]).startsWith('You are mine.\nYou are powered by the model named qwen3.')).toBe(true);
    const build = readFileSync(path.join(repoRoot, 'presets', 'agents', 'build.md'), 'utf8');
    expect(beforeEnvironment(systemOf(server.log[1])).base).toBe(build.trimEnd());
  });

  it('a markdown agent with an empty body gets the base prompt', async () => {
    server.script('qwen3', { type: 'text', text: 'Hi.' });
    const r = await sb.run(['run', '--agent', 'empty', 'hello']);
    expect(r.code, r.stderr).toBe(0);
    expectOpencodeBase(systemOf(server.log[0]), 'qwen3');
  });

  it("a sub-agent without a prompt (task) gets its own model's family text; its caller keeps its prompt", async () => {
    server.script('claude-opus-4', { type: 'tool_calls', calls: [{ name: 'task', arguments: { description: 'help', prompt: 'Help me.', subagent_type: 'helper' } }] }, { type: 'text', text: 'Done.' });
    server.script('gemini-2.5-pro', { type: 'text', text: 'Helped.' });
    const r = await sb.run(['run', '--agent', 'lead', 'delegate']);
    expect(r.code, r.stderr).toBe(0);
    expect(ids(server.log)).toEqual(['claude-opus-4', 'gemini-2.5-pro', 'claude-opus-4']);
    expect(beforeEnvironment(systemOf(server.log[0])).base).toBe('You lead.');
    expectOpencodeBase(systemOf(server.log[1]), 'gemini-2.5-pro');
  });

  it("a server's session (opencode serve, OpenCode's session API) sends it too", async () => {
    const served = await serve(sb);
    try {
      const headers = { 'content-type': 'application/json', 'x-opencode-directory': sb.project };
      const id = ((await getJson(`${served.url}/session`, { method: 'POST', headers, body: '{}' })).body as { id: string }).id;
      server.script('claude-sonnet-4', { type: 'text', text: 'Served.' });
      const reply = await getJson(`${served.url}/session/${id}/message`, { method: 'POST', headers, body: JSON.stringify({ agent: 'bare', model: { providerID: 'p', modelID: 'claude-sonnet-4' }, parts: [{ type: 'text', text: 'hello' }] }) });
      expect(reply.status).toBe(200);
      expect(ids(server.log)).toEqual(['claude-sonnet-4']);
      expectOpencodeBase(systemOf(server.log[0]), 'claude-sonnet-4');
    } finally {
      await served.stop();
    }
  });
});
