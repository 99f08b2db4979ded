/**
 * The system prompt a turn sends, as OpenCode 1.18.33 builds it (captured from its requests to the
 * scripted provider): the agent's prompt, the environment block, the instructions, the MCP
 * servers' instructions, the skills, the message's system text — one text, one line break between
 * parts. Each case reads the request the provider got.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openMcp, type McpServers } from '../../src/core/mcp-servers.ts';
import type { Config } from '../../src/config/schema-types.ts';
import type { Workspace } from '../../src/run/run-task.ts';
import type { RequestLogEntry } from '../support/openai-server.ts';
import { configFor, useHarness } from './harness.ts';

const h = useHarness();
const INSTRUCTIONS_SERVER = path.resolve(import.meta.dirname, '..', 'mcp', 'fixtures', 'instructions-server.mjs');

function systemOf(entry: RequestLogEntry | undefined): string {
  const system = ((entry?.messages ?? []) as { role: string; content: string }[]).filter((m) => m.role === 'system');
  expect(system).toHaveLength(1);
  return system[0]?.content ?? '';
}

/** The environment block as OpenCode writes it; `dates`: the days the turn may have run on (it may cross midnight). */
function environment(model: string, cwd: string, root: string, git: boolean, dates: string[]): RegExp {
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  return new RegExp(
    [
      `You are powered by the model named ${escape(model)}. The exact model ID is local/${escape(model)}`,
      'Here is some useful information about the environment you are running in:',
      '<env>',
      `  Working directory: ${escape(cwd)}`,
      `  Workspace root folder: ${escape(root)}`,
      `  Is directory a git repo: ${git ? 'yes' : 'no'}`,
      `  Platform: ${process.platform}`,
      `  Today's date: (${dates.map(escape).join('|')})`,
      '</env>',
    ].join('\n'),
  );
}

/** A project folder, with its own HOME and config folder (no skills of the machine's user). */
async function project(options: { git?: boolean } = {}): Promise<{ root: string; env: NodeJS.ProcessEnv }> {
  const root = await h.tempDir();
  const home = await h.tempDir();
  if (options.git) execFileSync('git', ['init', '-q'], { cwd: root });
  return { root, env: { PATH: process.env.PATH, HOME: home, XDG_CONFIG_HOME: path.join(home, '.config') } };
}

async function skill(root: string, name: string, description: string): Promise<string> {
  const file = path.join(root, '.opencode', 'skills', name, 'SKILL.md');
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, `---\nname: ${name}\ndescription: ${description}\n---\nDo it.\n`);
  return file;
}

describe('the system prompt of a turn', () => {
  it('puts the agent prompt, the environment block, the instructions and the skills in OpenCode\'s order, one line break apart; the message\'s system text last', async () => {
    const server = await h.server();
    const { root, env } = await project({ git: true });
    const sub = path.join(root, 'pkg');
    await fs.mkdir(sub);
    await fs.writeFile(path.join(root, 'AGENTS.md'), 'Be brief.\n');
    const deploy = await skill(root, 'deploy', 'How this project is deployed');
    const audit = await skill(root, 'Audit', 'Checks <everything> & more');
    const config = configFor(server, { agent: { worker: { prompt: 'You are the worker.' } } });
    const runtime = await h.runtime(config);
    const before = new Date().toDateString();
    const { error } = await h.run({ config, runtime, agent: 'worker', message: 'x', cwd: sub, system: 'Answer in French.', workspace: { projectRoot: root, env } });
    const after = new Date().toDateString();
    expect(error).toBeUndefined();
    const system = systemOf(server.log[0]);
    const block = environment('a', sub, root, true, [before, after]).exec(system);
    expect(system.slice(0, block?.index)).toBe('You are the worker.\n');
    expect(system.slice(system.indexOf('</env>') + '</env>'.length)).toBe(
      [
        '',
        `Instructions from: ${path.join(root, 'AGENTS.md')}`,
        'Be brief.',
        '',
        'Skills provide specialized instructions and workflows for specific tasks.',
        'Use the skill tool to load a skill when a task matches its description.',
        '<available_skills>',
        '  <skill>',
        '    <name>Audit</name>',
        '    <description>Checks <everything> & more</description>',
        `    <location>${audit.replaceAll('&', '&amp;')}</location>`,
        '  </skill>',
        '  <skill>',
        '    <name>deploy</name>',
        '    <description>How this project is deployed</description>',
        `    <location>${deploy}</location>`,
        '  </skill>',
        '</available_skills>',
        'Answer in French.',
      ].join('\n'),
    );
    // The skill tool's description points to that list (OpenCode's), and does not repeat it.
    const tool = (server.log[0]?.tools as { function: { name: string; description: string } }[]).find((t) => t.function.name === 'skill');
    expect(tool?.function.description).toMatch(/^Load a specialized skill when the task at hand matches one of the skills listed in the system prompt\./);
    expect(tool?.function.description).not.toContain('deploy');
  });

  it('says no git repository where the project has none', async () => {
    const server = await h.server();
    const { root, env } = await project();
    const config = configFor(server);
    const runtime = await h.runtime(config);
    const before = new Date().toDateString();
    await h.run({ config, runtime, message: 'x', cwd: root, workspace: { projectRoot: root, env } });
    const after = new Date().toDateString();
    expect(systemOf(server.log[0])).toMatch(environment('a', root, root, false, [before, after]));
  });

  it('lists no skills, and offers no skill tool, when the agent\'s skill permission denies them', async () => {
    const server = await h.server();
    const { root, env } = await project();
    await skill(root, 'deploy', 'How this project is deployed');
    const config = configFor(server, { permission: { skill: 'deny' } } as Partial<Config>);
    const runtime = await h.runtime(config);
    await h.run({ config, runtime, message: 'x', workspace: { projectRoot: root, env } });
    const system = systemOf(server.log[0]);
    expect(system).toContain('<env>');
    expect(system).not.toContain('available_skills');
    expect(system).not.toContain('deploy');
    expect(((server.log[0]?.tools ?? []) as { function: { name: string } }[]).map((t) => t.function.name)).not.toContain('skill');
  });

  it('a fallback\'s call names the fallback model in its environment block', async () => {
    const server = await h.server();
    const { root, env } = await project();
    server.script('a', { type: 'status', status: 500, forever: true });
    const config = configFor(server, { fallbacks: ['local/b'] } as Partial<Config>);
    const runtime = await h.runtime(config);
    const { error } = await h.run({ config, runtime, message: 'x', workspace: { projectRoot: root, env } });
    expect(error).toBeUndefined();
    const toB = server.log.find((e) => e.model === 'b');
    expect(systemOf(server.log[0])).toContain('You are powered by the model named a. The exact model ID is local/a\n');
    expect(systemOf(toB)).toContain('You are powered by the model named b. The exact model ID is local/b\n');
    expect(systemOf(toB)).not.toContain('model named a');
  });

  it('a task without a workspace (a compaction) gets no environment block, as OpenCode\'s compaction gets none', async () => {
    const server = await h.server();
    const config = configFor(server, { agent: { worker: { prompt: 'Summarise.' } } });
    const runtime = await h.runtime(config);
    await h.run({ config, runtime, agent: 'worker', message: 'x' });
    expect(systemOf(server.log[0])).toBe('Summarise.');
  });
});

describe("the MCP servers' instructions", () => {
  async function withServers(config: Config, root: string, run: (mcp: McpServers) => Promise<void>): Promise<void> {
    const mcp = await openMcp(config, root);
    if (!mcp) throw new Error('no MCP servers');
    try {
      await run(mcp);
    } finally {
      await mcp.manager.shutdown();
    }
  }

  const servers = {
    catalogue: { type: 'local', command: [process.execPath, INSTRUCTIONS_SERVER] },
    // A server with no tools keeps its instructions; one that says none adds nothing.
    notes: { type: 'local', command: [process.execPath, INSTRUCTIONS_SERVER], environment: { TOOLS: '', INSTRUCTIONS: 'Notes are kept in docs/notes.' } },
    silent: { type: 'local', command: [process.execPath, INSTRUCTIONS_SERVER], environment: { INSTRUCTIONS: '' } },
  };

  it('come after the instructions, by server name, each line indented under its server', async () => {
    const server = await h.server();
    const { root, env } = await project();
    const config = configFor(server, { mcp: servers } as Partial<Config>);
    const runtime = await h.runtime(config);
    await withServers(config, root, async (mcp) => {
      const watch = mcp.watch(() => undefined);
      const workspace: Workspace = { projectRoot: root, env, mcp: watch.tools, mcpInstructions: watch.instructions };
      const { error } = await h.run({ config, runtime, message: 'x', workspace });
      watch.close();
      expect(error).toBeUndefined();
    });
    const system = systemOf(server.log[0]);
    expect(system.slice(system.indexOf('</env>'))).toBe(
      [
        '</env>',
        '<mcp_instructions>',
        '  <server name="catalogue">',
        '    Call lookup before answering questions about the catalogue.',
        '    Never guess a part number.',
        '  </server>',
        '  <server name="notes">',
        '    Notes are kept in docs/notes.',
        '  </server>',
        '</mcp_instructions>',
      ].join('\n'),
    );
    expect(((server.log[0]?.tools ?? []) as { function: { name: string } }[]).map((t) => t.function.name)).toContain('catalogue_lookup');
  });

  it("leave out a server whose every tool the agent is denied, and the servers the agent's mcp list leaves out", async () => {
    const server = await h.server();
    const { root, env } = await project();
    const config = configFor(server, {
      mcp: servers,
      permission: { catalogue_lookup: 'deny' },
      agent: { wide: {}, narrow: { mcp: ['catalogue', 'silent'] } },
    } as Partial<Config>);
    const runtime = await h.runtime(config);
    await withServers(config, root, async (mcp) => {
      const watch = mcp.watch(() => undefined);
      const workspace: Workspace = { projectRoot: root, env, mcp: watch.tools, mcpInstructions: watch.instructions };
      await h.run({ config, runtime, agent: 'wide', message: 'x', workspace });
      await h.run({ config, runtime, agent: 'narrow', message: 'y', workspace });
      watch.close();
    });
    // wide uses every server: catalogue's one tool is denied, so only notes' instructions are there.
    const first = systemOf(server.log[0]);
    expect(first).toContain('<server name="notes">');
    expect(first).not.toContain('catalogue');
    // narrow uses catalogue (denied) and silent (no instructions): no block at all.
    expect(systemOf(server.log[1])).not.toContain('mcp_instructions');
  });
});
