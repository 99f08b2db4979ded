/**
 * The team workflows that ship in presets/default.json: loaded through the real loader under
 * every preset (extends), valid there, shaped after the guide's recipes, cost-aware where the
 * preset has free and paid models, and runnable end to end with the local preset.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.ts';
import type { Config } from '../../src/config/schema-types.ts';
import { agentChain } from '../../src/agents/resolve-agent.ts';
import { resolveModel } from '../../src/providers/resolve-model.ts';
import { validateWorkflow } from '../../src/workflow/validate.ts';
import { promptOf, useWorkflowHarness } from './helpers.ts';

const h = useWorkflowHarness();
const TEAM = ['feature', 'plan', 'research'];

async function configExtending(preset: string, extra: object = {}): Promise<Config> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pantheon-team-'));
  try {
    await fs.mkdir(path.join(dir, '.git'));
    await fs.writeFile(path.join(dir, 'opencode.json'), JSON.stringify({ extends: [preset], ...extra }));
    const env = { XDG_CONFIG_HOME: path.join(dir, 'none'), HOME: dir };
    return (await loadConfig({ cwd: dir, env })).config;
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

describe('team workflows', () => {
  it('follow the guide: research and explore in parallel → implement → review; metis → prometheus → momus; a fan-out of librarians', async () => {
    const config = await configExtending('local');
    const shape = (name: string) => validateWorkflow(config, name).steps.map((s) => [s.id, s.agent, s.needs, s.forEach?.kind ?? null]);
    expect(shape('feature')).toEqual([
      ['research', 'librarian', [], null],
      ['explore', 'explore', [], null],
      ['implement', 'sisyphus', ['research', 'explore'], null],
      ['review', 'momus', ['implement'], null],
    ]);
    expect(shape('plan')).toEqual([
      ['analyze', 'metis', [], null],
      ['plan', 'prometheus', ['analyze'], null],
      ['review', 'momus', ['plan'], null],
    ]);
    expect(shape('research')).toEqual([
      ['investigate', 'librarian', [], 'input'],
      ['survey', 'explore', [], null],
      ['recommend', 'oracle', ['investigate', 'survey'], null],
    ]);
  });

  it.each(['oh-my-opencode', 'free-tier', 'local'])('are valid under the %s preset', async (preset) => {
    const config = await configExtending(preset);
    for (const name of TEAM) expect(() => validateWorkflow(config, name), `${preset}: ${name}`).not.toThrow();
  });

  it.each(['oh-my-opencode', 'free-tier'])('%s: research keeps its fan-out and the survey on free models; only the recommendation may cost', async (preset) => {
    const config = await configExtending(preset);
    const wf = validateWorkflow(config, 'research');
    const headCost = (agent: string) => {
      const [head] = agentChain(config, agent).chain;
      return head === undefined ? undefined : resolveModel(config, head).cost;
    };
    for (const step of wf.steps.filter((s) => s.id !== 'recommend')) {
      expect(headCost(step.agent), `${preset}: ${step.id} (${step.agent})`).toMatchObject({ input: 0, output: 0 });
    }
    // oh-my-opencode's oracle is on the Kimi For Coding plan (paid per plan, so no per-token cost).
    if (preset === 'oh-my-opencode') expect(agentChain(config, 'oracle').chain[0]).toBe('kimi-for-coding/k2p5');
  });

  it('run end to end with `extends: ["local"]` against a local server: feature, in dependency order', async () => {
    const server = await h.server();
    const config = await configExtending('local', { provider: { local: { options: { baseURL: server.url } } }, cache: { enabled: false } });
    const { result, error } = await h.run({ config, name: 'feature', inputs: { task: 'add JWT auth' } });
    expect(error).toBeUndefined();
    expect(result?.status).toBe('success');
    const order = server.log.map((e) => promptOf(e).split(':')[0]);
    expect(order.slice(0, 2).sort()).toEqual(['Find the code in this project that this task touches', 'Research how to do this well']);
    expect(order.slice(2)).toEqual(['Implement this task', 'Review this implementation of "add JWT auth" for bugs, missing tests, security problems and broken conventions. Point to files and lines, and end with a verdict']);
    expect(server.log.every((e) => e.model === 'qwen2.5-coder:7b')).toBe(true);
    expect(promptOf(server.log[2] as never)).toContain('Research notes:\necho: Research how to do this well: add JWT auth');
  });
});
