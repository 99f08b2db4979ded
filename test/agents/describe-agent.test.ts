/**
 * What `agent list|show` report, from real config files: the roster from the built-in defaults,
 * merged values, and which layer each value came from.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { describeAgent, listAgents } from '../../src/agents/describe-agent.ts';
import { loadConfig } from '../../src/config/load.ts';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => fs.rm(d, { recursive: true, force: true })));
});

async function load(config: object) {
  const root = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'pantheon-agents-')));
  dirs.push(root);
  await fs.mkdir(path.join(root, 'project', '.git'), { recursive: true });
  const file = path.join(root, 'project', 'opencode.json');
  await fs.writeFile(file, JSON.stringify(config));
  const loaded = await loadConfig({ cwd: path.join(root, 'project'), env: { HOME: path.join(root, 'home'), XDG_CONFIG_HOME: path.join(root, 'xdg') } });
  return { ...loaded, file };
}

const BUILTINS = ['read', 'list', 'glob', 'grep', 'write', 'edit', 'bash', 'webfetch'];

describe('listAgents', () => {
  it('lists the 15 built-in agents (the roster and OpenCode\'s build, plan, general) with their modes and the top-level chain; disabled ones only with all', async () => {
    const { config } = await load({ model: 'p/m', fallbacks: ['p/f'], provider: { p: { models: { m: {}, f: {} } } }, agent: { momus: { disable: true }, oracle: { model: 'p/f' } } });
    const names = listAgents(config).map((a) => a.name);
    expect(names).toHaveLength(14);
    expect(names).toEqual(expect.arrayContaining(['build', 'plan', 'general']));
    expect(names).not.toContain('momus');
    expect(listAgents(config, true).find((a) => a.name === 'momus')).toMatchObject({ disabled: true });
    expect(listAgents(config).find((a) => a.name === 'sisyphus')).toEqual(expect.objectContaining({ mode: 'primary', chain: ['p/m', 'p/f'], chainSource: 'top-level' }));
    expect(listAgents(config).find((a) => a.name === 'oracle')).toEqual(expect.objectContaining({ chain: ['p/f', 'p/f'], chainSource: 'agent' }));
  });

  it('with no model anywhere, agents are listed with an empty chain', async () => {
    const { config } = await load({});
    expect(listAgents(config).every((a) => a.chain.length === 0 && a.chainSource === 'top-level')).toBe(true);
  });
});

describe('describeAgent', () => {
  it('reports the merged permission, offered tools and the origin of each value', async () => {
    const { config, layers, file } = await load({
      model: 'p/m',
      provider: { p: { models: { m: {} } } },
      permission: { webfetch: 'deny', 'github_*': 'ask' },
      mcp: { github: { type: 'remote', url: 'http://127.0.0.1:9' } },
      agent: { oracle: { temperature: 0.5, steps: 9, tools: { glob: false } } },
    });
    const d = describeAgent(config, 'oracle', layers, BUILTINS);
    expect(d).toMatchObject({ name: 'oracle', mode: 'all', temperature: 0.5, steps: 9, mcp: ['github'] });
    expect(d.prompt).toMatch(/^# Oracle/);
    // edit/bash/task denied outright by the roster, glob turned off; the top-level webfetch: deny beats the roster's ask (as in OpenCode)
    expect(d.tools).toEqual(['read', 'list', 'grep', 'todowrite', 'todoread', 'github_*']);
    expect(d.permission.bash).toEqual({ rule: 'deny', from: 'built-in defaults' });
    expect(d.permission.webfetch).toEqual({ rule: 'deny', from: file });
    expect(d.permission['github_*']).toEqual({ rule: 'ask', from: file });
    expect(d.permission.external_directory).toEqual({ rule: 'ask', from: 'default' });
    expect(d.origins).toMatchObject({ temperature: file, steps: file, tools: file, model: file, mode: 'built-in defaults', prompt: 'built-in defaults', top_p: 'default' });
  });

  it('a preset that sets the agent model is named as its source', async () => {
    const { config, layers } = await load({ extends: ['oh-my-opencode'], model: 'opencode-zen/big-pickle' });
    const d = describeAgent(config, 'oracle', layers, BUILTINS);
    expect(d.chainSource).toBe('agent');
    expect(d.origins.model).toBe('preset:oh-my-opencode');
  });
});
