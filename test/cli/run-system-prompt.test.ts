/**
 * The system prompt OpenCode 1.18.33 sends, under `opencode run` (a subprocess) from a subfolder of
 * a git project: the agent's prompt, the environment block, AGENTS.md, an MCP server's
 * instructions and the skills, in OpenCode's order (as captured from OpenCode's own requests to the
 * scripted provider); a plugin's `experimental.chat.system.transform` gets it as OpenCode passes
 * it (one text); a sub-agent's turn (`task`) and a workflow's step get the block too.
 */
import { readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RequestLogEntry, ScriptedServer } from '../support/openai-server.ts';
import { providerConfig, useScriptedSandbox, type Sandbox } from './cli-helper.ts';

const INSTRUCTIONS_SERVER = path.resolve(import.meta.dirname, '..', 'mcp', 'fixtures', 'instructions-server.mjs');

// Records what the hook is given, before anything changes it.
const SEEING_PLUGIN = `import { writeFileSync } from "node:fs"
import { join } from "node:path"

export const Seeing = async ({ worktree }) => ({
  "experimental.chat.system.transform": async (input, output) => {
    writeFileSync(join(worktree, "seen.json"), JSON.stringify({ model: input.model.id, system: output.system }))
  },
})
`;

function systemOf(entry: RequestLogEntry | undefined): string {
  const system = ((entry?.messages ?? []) as { role: string; content: string }[]).filter((m) => m.role === 'system');
  expect(system).toHaveLength(1);
  return system[0]?.content ?? '';
}

function envBlock(model: string, cwd: string, root: string): string {
  return [
    `You are powered by the model named ${model}. The exact model ID is p/${model}`,
    'Here is some useful information about the environment you are running in:',
    '<env>',
    `  Working directory: ${cwd}`,
    `  Workspace root folder: ${root}`,
    '  Is directory a git repo: yes',
    `  Platform: ${process.platform}`,
  ].join('\n');
}

describe('the system prompt under opencode run', () => {
  let server: ScriptedServer;
  let sb: Sandbox;
  useScriptedSandbox(
    (s, b) => {
      server = s;
      sb = b;
      sb.write('AGENTS.md', 'Be brief.\n');
      sb.write('.opencode/skills/deploy/SKILL.md', '---\nname: deploy\ndescription: How this project is deployed\n---\nRun it.\n');
      sb.write('pkg/index.ts', 'export {};\n');
    },
    (s) => ({
      ...providerConfig(s, { m1: {} }),
      model: 'p/m1',
      agent: {
        lead: { mode: 'primary', prompt: 'You lead.' },
        helper: { mode: 'subagent', description: 'Helps with anything', prompt: 'You help.' },
      },
      mcp: { catalogue: { type: 'local', command: [process.execPath, INSTRUCTIONS_SERVER] } },
      workflow: { one: { steps: [{ id: 'a', agent: 'helper', prompt: 'step' }] } },
    }),
  );

  it("is OpenCode's: the agent's prompt, the environment block, AGENTS.md, the MCP server's instructions, the skills; the plugin's transform gets it as one text", async () => {
    sb.write('.opencode/plugin/seeing.js', SEEING_PLUGIN);
    server.script('m1', { type: 'text', text: 'Hi.' });
    const root = realpathSync(sb.project);
    const r = await sb.run(['run', '--agent', 'lead', 'hello'], { cwd: path.join(sb.project, 'pkg') });
    expect(r.code, r.stderr).toBe(0);
    const system = systemOf(server.log[0]);
    expect(system.slice(0, system.indexOf("\n  Today's date: "))).toBe(`You lead.\n${envBlock('m1', path.join(root, 'pkg'), root)}`);
    expect(system.slice(system.indexOf('</env>'))).toBe(
      [
        '</env>',
        `Instructions from: ${path.join(root, 'AGENTS.md')}`,
        'Be brief.',
        '',
        '<mcp_instructions>',
        '  <server name="catalogue">',
        '    Call lookup before answering questions about the catalogue.',
        '    Never guess a part number.',
        '  </server>',
        '</mcp_instructions>',
        'Skills provide specialized instructions and workflows for specific tasks.',
        'Use the skill tool to load a skill when a task matches its description.',
        '<available_skills>',
        '  <skill>',
        '    <name>deploy</name>',
        '    <description>How this project is deployed</description>',
        `    <location>${path.join(root, '.opencode', 'skills', 'deploy', 'SKILL.md')}</location>`,
        '  </skill>',
        '</available_skills>',
      ].join('\n'),
    );
    // OpenCode's shape: the whole prompt is the list's one text.
    const seen = JSON.parse(readFileSync(path.join(sb.project, 'seen.json'), 'utf8')) as { model: string; system: string[] };
    expect(seen).toEqual({ model: 'm1', system: [system] });
  });

  it("a sub-agent's turn (task) and a workflow's step get the environment block with their own prompt", async () => {
    server.script(
      'm1',
      { type: 'tool_calls', calls: [{ name: 'task', arguments: { description: 'help', prompt: 'Help me.', subagent_type: 'helper' } }] },
      { type: 'text', text: 'Helped.' },
      { type: 'text', text: 'Done.' },
      { type: 'text', text: 'Stepped.' },
    );
    const root = realpathSync(sb.project);
    const r = await sb.run(['run', '--agent', 'lead', 'delegate']);
    expect(r.code, r.stderr).toBe(0);
    const helper = systemOf(server.log[1]);
    expect(helper.slice(0, helper.indexOf("\n  Today's date: "))).toBe(`You help.\n${envBlock('m1', root, root)}`);
    expect(helper).toContain('<mcp_instructions>');
    const flow = await sb.run(['workflow', 'run', 'one']);
    expect(flow.code, flow.stderr).toBe(0);
    expect(flow.stdout).toBe('Stepped.\n');
    const step = systemOf(server.log[3]);
    expect(step.slice(0, step.indexOf("\n  Today's date: "))).toBe(`You help.\n${envBlock('m1', root, root)}`);
  });
});
