import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sandbox, type Sandbox } from './cli-helper.ts';

describe('opencode agent list|show', () => {
  let sb: Sandbox;
  beforeEach(async () => {
    sb = await sandbox();
    sb.write('opencode.json', {
      model: 'opencode-zen/big-pickle',
      agent: { oracle: { model: 'opencode-zen/grok-code', fallbacks: ['opencode-zen/big-pickle'], temperature: 0.3, reasoningEffort: 'high', variant: 'max' }, metis: { disable: true } },
    });
  });
  afterEach(async () => {
    await sb.remove();
  });

  it('list --json: every enabled agent with mode, description and chain', async () => {
    const r = await sb.run(['agent', 'list', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const agents = JSON.parse(r.stdout) as { name: string; mode: string; chain: string[]; chainSource: string; description?: string }[];
    expect(agents.map((a) => a.name)).toEqual(['atlas', 'build', 'document-writer', 'explore', 'frontend-ui-ux-engineer', 'general', 'librarian', 'momus', 'multimodal-looker', 'oracle', 'plan', 'prometheus', 'sisyphus', 'sisyphus-junior']);
    expect(agents.find((a) => a.name === 'oracle')).toMatchObject({ mode: 'all', chain: ['opencode-zen/grok-code', 'opencode-zen/big-pickle'], chainSource: 'agent' });
    expect(agents.find((a) => a.name === 'sisyphus')).toMatchObject({ mode: 'primary', chainSource: 'top-level', description: expect.stringMatching(/Orchestrator/) });
    const all = JSON.parse((await sb.run(['agent', 'list', '--json', '--all'])).stdout) as { name: string; disabled: boolean }[];
    expect(all.find((a) => a.name === 'metis')?.disabled).toBe(true);
  });

  it('list as text: a table with the chain or "top-level model"', async () => {
    const r = await sb.run(['agent', 'list']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^NAME\s+MODE\s+MODEL\s+DESCRIPTION\s+FROM$/m);
    expect(r.stdout).toMatch(/^oracle\s+all\s+opencode-zen\/grok-code → opencode-zen\/big-pickle\s+Architecture/m);
    expect(r.stdout).toMatch(/^sisyphus\s+primary\s+top-level model \(opencode-zen\/big-pickle\)\s+Orchestrator/m);
    expect(r.stdout).not.toMatch(/^metis/m);
  });

  it('show --json: resolved values, the whole prompt and where each came from', async () => {
    const r = await sb.run(['agent', 'show', 'oracle', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const d = JSON.parse(r.stdout) as Record<string, unknown> & { origins: Record<string, string>; permission: Record<string, { rule: unknown; from: string }> };
    const file = `${sb.project}/opencode.json`;
    expect(d).toMatchObject({ name: 'oracle', temperature: 0.3, steps: 25, tools: ['read', 'list', 'glob', 'grep', 'webfetch', 'todowrite', 'todoread'], options: { reasoningEffort: 'high' }, variant: 'max' });
    expect(String(d.prompt).split('\n').length).toBeGreaterThan(10);
    expect(d.origins).toMatchObject({ model: file, temperature: file, prompt: 'built-in defaults', steps: 'default', options: file, variant: file });
    expect(d.permission.edit).toEqual({ rule: 'deny', from: 'built-in defaults' });
  });

  it('show as text: a settings table with sources and the first lines of the prompt', async () => {
    const r = await sb.run(['agent', 'show', 'oracle']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^model chain\s+opencode-zen\/grok-code → opencode-zen\/big-pickle\s+\S+opencode\.json$/m);
    expect(r.stdout).toMatch(/^permission\.bash\s+deny\s+built-in defaults$/m);
    expect(r.stdout).toMatch(/^model options\s+\{"reasoningEffort":"high"\}\s+\S+opencode\.json$/m);
    expect(r.stdout).toMatch(/^variant\s+max\s+\S+opencode\.json$/m);
    expect(r.stdout).toMatch(/^prompt \(built-in defaults\):\n {2}# Oracle/m);
    expect(r.stdout).toMatch(/more lines \(--json shows the whole prompt\)/);
  });

  it('show masks a key among an agent’s model options, as config show does (text and --json)', async () => {
    sb.write('opencode.json', { model: 'opencode-zen/big-pickle', agent: { inl: { options: { apiKey: 'agentkey-0123456789XY', token: 'agenttok-0123456789XY', headers: { 'X-Sub': 'subkey-0123456789abcdef' }, seed: 7 } } } });
    const text = await sb.run(['agent', 'show', 'inl']);
    const json = await sb.run(['agent', 'show', 'inl', '--json']);
    expect([text.code, json.code]).toEqual([0, 0]);
    expect(JSON.parse(json.stdout).options).toEqual({ apiKey: 'agen…89XY', token: 'agen…89XY', headers: { 'X-Sub': 'subk…cdef' }, seed: 7 });
    expect(text.stdout).toMatch(/model options\s+\{"apiKey":"agen…89XY","token":"agen…89XY"/);
    expect(text.stdout + json.stdout).not.toMatch(/0123456789/);
    // No prompt of its own: what its calls get instead.
    expect(text.stdout).toMatch(/^prompt: \(none\) — its calls get OpenCode's base prompt for their model's family/m);
  });

  it('show of an unknown agent is exit 2 naming the agents', async () => {
    const r = await sb.run(['agent', 'show', 'oracel']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no agent named "oracel"/);
    expect(r.stderr).toMatch(/oracle/);
  });
});
