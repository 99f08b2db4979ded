/**
 * doctor checks the config as the plugins' `config` hooks leave it, as a run uses it: the agents
 * and MCP servers a plugin adds are checked like the config's own, and named as the plugin's.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SECRET, check, doctorTree, type DoctorTree } from './helper.ts';

const ADDS = `export const Adds = async () => ({
  config: async (config) => {
    config.agent = { ...config.agent, helper: { model: "ghost/zzz", mode: "subagent", description: "added by a plugin" } }
    config.mcp = { ...config.mcp, broken: { type: "local", command: ["no-such-mcp-program-h4"] } }
  },
})
`;

describe('doctor after the plugins\' config hooks', () => {
  let tree: DoctorTree;
  beforeEach(async () => {
    tree = await doctorTree();
    tree.write('opencode.json', { model: 'p/m', provider: { p: { options: { baseURL: 'http://127.0.0.1:9/v1', apiKey: SECRET }, models: { m: {} } } } });
  });
  afterEach(async () => {
    await tree.remove();
  });

  it('an agent with a model no provider serves and an MCP server that cannot start, both added by a plugin, are named as the plugin\'s', async () => {
    const file = tree.write('.opencode/plugin/adds.js', ADDS);
    const report = await tree.doctor({ groups: ['config', 'mcp'] });
    const from = `plugin ${file} (its config hook)`;
    const warnings = report.checks.filter((c) => c.group === 'config' && c.name === 'warning');
    expect(warnings.map((c) => c.hint)).toEqual(['The plugin named above set it: change its options, or override the value in your config.']);
    expect(warnings.map((c) => c.message)).toContain(`${from} agent.helper.model: provider "ghost" is neither declared nor in the models.dev catalogue, so a run that uses it fails`);
    expect(check(report, 'config', 'credentials')).toMatchObject({ status: 'warn', message: `helper (added by ${from}): no key for any provider in the chain (ghost)` });
    expect(check(report, 'config', 'plugins')).toMatchObject({ status: 'ok', message: "plugins: 1 plugin loaded; the config as its config hook leaves it is checked (agent: helper; mcp: broken)" });
    const mcp = check(report, 'mcp', 'broken');
    expect(mcp.status).toBe('fail');
    expect(mcp.message).toMatch(new RegExp(`^did not start: .+ \\(added by plugin ${file.replaceAll(/[.*+?^${}()|[\]\\/]/g, '\\$&')} \\(its config hook\\)\\)$`));
    expect(JSON.stringify(report)).not.toContain(SECRET);
  });

  it('without the plugin, neither is there; a config hook that throws is a warning naming why', async () => {
    const clean = await tree.doctor({ groups: ['config', 'mcp'] });
    expect(clean.checks.some((c) => c.message.includes('helper') || c.name === 'broken')).toBe(false);
    expect(check(clean, 'mcp', 'servers').message).toBe('none configured');
    tree.write('.opencode/plugin/throws.js', 'export const T = async () => ({ config: async () => { throw new Error("no config today") } })\n');
    const report = await tree.doctor({ groups: ['config'] });
    const plugins = report.checks.filter((c) => c.group === 'config' && c.name === 'plugins');
    expect(plugins.map((c) => [c.status, c.message])).toEqual([
      ['ok', 'plugins: 1 plugin loaded'],
      ['warn', "A plugin's config hook failed: no config today; the config is used as that hook left it."],
    ]);
  });

  it('a hook that leaves the config invalid is a warning, and the config as loaded is checked', async () => {
    tree.write('.opencode/plugin/bad.js', 'export const B = async () => ({ config: async (c) => { c.retry = { maxRetries: "many" } } })\n');
    const report = await tree.doctor({ groups: ['config'] });
    const plugins = report.checks.filter((c) => c.group === 'config' && c.name === 'plugins');
    expect(plugins[1]?.message).toMatch(/^The plugins' config hooks left the config invalid: retry\.maxRetries: .+; their changes are not used\.$/);
    expect(check(report, 'config', 'valid').status).toBe('ok');
  });
});
