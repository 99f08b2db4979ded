/**
 * Delegation through the `task` tool against the scripted server: the sub-agent runs on its own
 * model through the same scheduler, in parallel within the limits, with depth and cycle guards.
 */
import { toolContents } from '../cli/cli-helper.ts';
import { describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/schema-types.ts';
import type { ScriptedServer } from '../support/openai-server.ts';
import { configFor, useHarness } from './harness.ts';

const h = useHarness();

function team(server: ScriptedServer, agents: NonNullable<Config['agent']>, overrides: Partial<Config> = {}): Config {
  return configFor(server, { agent: agents, ...overrides });
}

const lead = { model: 'local/a', mode: 'primary' as const, description: 'Leads.' };
const oracle = { model: 'local/b', mode: 'subagent' as const, description: 'Answers hard questions.' };

function task(agent: string, prompt: string, id?: string) {
  return { name: 'task', arguments: { agent, prompt }, ...(id ? { id } : {}) };
}

describe('the task tool', () => {
  it("runs the sub-agent on its own model; the parent gets its answer as the tool result", async () => {
    const server = await h.server();
    const config = team(server, { sisyphus: lead, oracle });
    server.script('a', { type: 'tool_calls', calls: [task('oracle', 'Is the cache safe?', 'call_t')] }, { type: 'text', text: 'The oracle says yes.' });
    server.script('b', { type: 'text', text: 'Yes, it is safe.', usage: { prompt_tokens: 30, completion_tokens: 5 } });
    const runtime = await h.runtime(config);
    const root = await h.tempDir();
    const { result, rec, error } = await h.run({ config, runtime, agent: 'sisyphus', message: 'Check the cache', workspace: { projectRoot: root } });
    expect(error).toBeUndefined();
    expect(server.log.map((e) => e.model)).toEqual(['a', 'b', 'a']);
    expect(server.log[1]?.messages).toContainEqual({ role: 'user', content: 'Is the cache safe?' });
    expect(toolContents(server.log[2]?.messages ?? [])).toEqual(['Yes, it is safe.']);
    expect(result?.answer).toBe('The oracle says yes.');
    const parentID = result?.taskID;
    const sub = rec.events.filter((e) => e.agent === 'oracle');
    expect(sub.length).toBeGreaterThan(0);
    expect(new Set(sub.map((e) => e.parentTaskID))).toEqual(new Set([parentID]));
    expect(new Set(sub.map((e) => e.taskID)).size).toBe(1);
    expect(sub[0]?.taskID).not.toBe(parentID);
    expect(rec.events.filter((e) => e.agent === 'sisyphus').every((e) => e.parentTaskID === undefined)).toBe(true);
    expect(rec.of('tool_use')).toContainEqual(expect.objectContaining({ agent: 'sisyphus', tool: 'task', input: { agent: 'oracle', prompt: 'Is the cache safe?' }, output: 'Yes, it is safe.' }));
    expect(result?.byAgent.oracle?.usage).toEqual({ inputTokens: 30, outputTokens: 5 });
    expect(result?.usage.inputTokens).toBe(server.log.reduce((n, e) => n + (e.usage?.prompt_tokens ?? 0), 0));
    // A step ends when its tools have run, so the sub-task's call is counted first.
    expect(result?.servedBy).toEqual(['local/b', 'local/a', 'local/a']);
    expect(rec.of('done')).toHaveLength(0);
  });

  it('a run that keeps no task sessions (a workflow step): task_id is a tool error the model reads; background: true runs in the foreground', async () => {
    const server = await h.server();
    const config = team(server, { sisyphus: lead, oracle });
    const resume = { name: 'task', arguments: { description: 'Again', prompt: 'Go on', subagent_type: 'oracle', task_id: 'ses_earlier' } };
    const later = { name: 'task', arguments: { description: 'Later', prompt: 'Is it safe?', subagent_type: 'oracle', background: true } };
    server.script('a', { type: 'tool_calls', calls: [resume] }, { type: 'tool_calls', calls: [later] }, { type: 'text', text: 'Done.' });
    server.script('b', { type: 'text', text: 'Yes.' });
    const runtime = await h.runtime(config);
    const { result, error } = await h.run({ config, runtime, agent: 'sisyphus', message: 'Check', workspace: { projectRoot: await h.tempDir() } });
    expect(error).toBeUndefined();
    expect(result?.answer).toBe('Done.');
    expect(server.log.map((e) => e.model)).toEqual(['a', 'a', 'b', 'a']);
    expect(toolContents(server.log[1]?.messages ?? [])).toEqual(['Error: task_id "ses_earlier": this run keeps no task sessions, so no task can be resumed here; leave task_id out to start a new task.']);
    expect(toolContents(server.log[3]?.messages ?? []).at(-1)).toBe('Yes.');
    const schema = ((server.log[0]?.tools ?? []) as { function: { name: string; description: string; parameters: { properties: Record<string, unknown> } } }[]).find((t) => t.function.name === 'task')?.function;
    // OpenCode's tool as the model sees it: its description and parameters, word for word.
    expect(Object.keys(schema?.parameters.properties ?? {})).toEqual(['description', 'prompt', 'subagent_type', 'task_id', 'command', 'background']);
    expect(schema?.description).toMatch(/^Launch a new agent to handle complex, multistep tasks autonomously\.\n/);
    expect(schema?.description).toContain('The output includes a task_id you can reuse later to continue the same subagent session.');
    expect(schema?.description).toContain('Background mode: background=true launches the subagent asynchronously and returns immediately.');
    expect(schema?.description).toContain('Available agent types:\n- oracle: Answers hard questions.');
  });

  it("takes OpenCode's arguments (what OpenCode's agents and models write) and offers them as its schema; a call naming no agent, or two, is a tool error", async () => {
    const server = await h.server();
    const config = team(server, { sisyphus: lead, oracle });
    const opencodeCall = { name: 'task', arguments: { description: 'Check the cache', prompt: 'Is the cache safe?', subagent_type: 'oracle' } };
    const both = { name: 'task', arguments: { description: 'x', prompt: 'p', subagent_type: 'oracle', agent: 'oracle' } };
    const none = { name: 'task', arguments: { description: 'x', prompt: 'p' } };
    server.script('a', { type: 'tool_calls', calls: [opencodeCall] }, { type: 'tool_calls', calls: [both, none] }, { type: 'text', text: 'Done.' });
    server.script('b', { type: 'text', text: 'Yes, it is safe.' });
    const runtime = await h.runtime(config);
    const { result, error } = await h.run({ config, runtime, agent: 'sisyphus', message: 'Check the cache', workspace: { projectRoot: await h.tempDir() } });
    expect(error).toBeUndefined();
    expect(result?.answer).toBe('Done.');
    expect(server.log.map((e) => e.model)).toEqual(['a', 'b', 'a', 'a']);
    expect(toolContents(server.log[2]?.messages ?? [])).toEqual(['Yes, it is safe.']);
    const errors = toolContents(server.log[3]?.messages ?? []).slice(1);
    expect(errors[0]).toContain('give the agent once, as "subagent_type"');
    expect(errors[1]).toContain('missing required argument "subagent_type"');
    expect(errors[1]).toContain('Expected {description: string, prompt: string, subagent_type: string, task_id?: string, background?: boolean}.');
    const schema = ((server.log[0]?.tools ?? []) as { function: { name: string; parameters: { required: string[] } } }[]).find((t) => t.function.name === 'task')?.function.parameters;
    expect(schema?.required).toEqual(['description', 'prompt', 'subagent_type']);
  });

  it('describes the subagents it may delegate to, with their descriptions', async () => {
    const server = await h.server();
    const config = team(server, { sisyphus: lead, oracle, explore: { description: 'Finds code.', mode: 'all' }, hidden: { mode: 'subagent', disable: true }, planner: { mode: 'primary' } });
    const runtime = await h.runtime(config);
    await h.run({ config, runtime, agent: 'sisyphus', message: 'hi', workspace: { projectRoot: await h.tempDir() } });
    const taskTool = ((server.log[0]?.tools ?? []) as { function: { name: string; description: string } }[]).find((t) => t.function.name === 'task');
    expect(taskTool?.function.description).toContain('- explore: Finds code.\n- oracle: Answers hard questions.');
    expect(taskTool?.function.description).not.toMatch(/hidden|planner|sisyphus/);
  });

  it('several task calls in one step run at the same time', async () => {
    const server = await h.server();
    const config = team(server, { sisyphus: lead, oracle, explore: { model: 'local/c', mode: 'subagent' } });
    server.script('a', { type: 'tool_calls', calls: [task('oracle', 'q1'), task('explore', 'q2')] }, { type: 'text', text: 'both done' });
    server.script('b', { type: 'text', text: 'o', delayMs: 150 });
    server.script('c', { type: 'text', text: 'e', delayMs: 150 });
    const runtime = await h.runtime(config);
    const { result } = await h.run({ config, runtime, agent: 'sisyphus', message: 'go', workspace: { projectRoot: await h.tempDir() } });
    expect(result?.answer).toBe('both done');
    expect(server.stats().peakConcurrency).toBe(2);
    expect(toolContents(server.log[3]?.messages ?? [])).toEqual(['o', 'e']);
  });

  it('each sub-task starts with subtask_start naming its task call, so parallel calls map to their sub-tasks', async () => {
    const server = await h.server();
    const config = team(server, { sisyphus: lead, oracle });
    const calls = [
      { name: 'task', arguments: { description: 'First look', prompt: 'first', subagent_type: 'oracle' }, id: 'call_one' },
      { name: 'task', arguments: { description: 'Second look', prompt: 'second', subagent_type: 'oracle' }, id: 'call_two' },
    ];
    server.script('a', { type: 'tool_calls', calls }, { type: 'text', text: 'done' });
    // Whichever asks first waits: the order of the answers does not say which call is whose.
    server.script('b', { type: 'echo', delayMs: 150 }, { type: 'echo' });
    const runtime = await h.runtime(config);
    const { result, rec } = await h.run({ config, runtime, agent: 'sisyphus', message: 'go', workspace: { projectRoot: await h.tempDir() } });
    expect(result?.answer).toBe('done');
    const starts = rec.of('subtask_start');
    expect(starts.map((e) => [e.callID, e.description, e.prompt, e.agent, e.parentTaskID])).toEqual([
      ['call_one', 'First look', 'first', 'oracle', result?.taskID],
      ['call_two', 'Second look', 'second', 'oracle', result?.taskID],
    ]);
    // Each call's answer is the one of the sub-task its subtask_start named.
    for (const start of starts) {
      const said = rec.of('text').filter((e) => e.taskID === start.taskID).map((e) => e.text).join('');
      expect(said).toBe(`echo: ${start.prompt}`);
      const call = rec.of('tool_use').find((e) => e.callID === start.callID);
      expect(call).toMatchObject({ tool: 'task', output: said, taskID: result?.taskID });
      // The sub-task's events come after its start.
      expect(rec.events.findIndex((e) => e.taskID === start.taskID)).toBe(rec.events.indexOf(start));
    }
    expect(starts[0]?.childSessionID).toBeUndefined();
  });

  it('parallel delegations to one model stay within its concurrency limit of 1', async () => {
    const server = await h.server({ models: { b: { concurrencyLimit: 1 } } });
    const config = team(server, { sisyphus: lead, oracle });
    (config.provider?.local?.models as Record<string, object>).b = { rateLimit: { concurrency: 1 } };
    server.script('a', { type: 'tool_calls', calls: [task('oracle', 'first'), task('oracle', 'second')] }, { type: 'text', text: 'done' });
    server.script('b', { type: 'text', text: 'one', delayMs: 50 }, { type: 'text', text: 'two', delayMs: 50 });
    const runtime = await h.runtime(config);
    const { result, error } = await h.run({ config, runtime, agent: 'sisyphus', message: 'go', workspace: { projectRoot: await h.tempDir() } });
    expect(error).toBeUndefined();
    expect(result?.answer).toBe('done');
    const stats = server.stats().models.b;
    expect(stats?.requests).toBe(2);
    expect(stats?.peakConcurrency).toBe(1);
    expect(stats?.overLimit).toBe(0);
    expect(toolContents(server.log[3]?.messages ?? []).sort()).toEqual(['one', 'two']);
  });

  it('a sub-task on the parent\'s own model with a concurrency of 1 does not wait on its parent', async () => {
    const server = await h.server({ models: { a: { concurrencyLimit: 1 } } });
    const config = team(server, { sisyphus: lead, helper: { model: 'local/a', mode: 'subagent' } });
    (config.provider?.local?.models as Record<string, object>).a = { rateLimit: { concurrency: 1 } };
    server.script('a', { type: 'tool_calls', calls: [task('helper', 'h')] }, { type: 'text', text: 'helped' }, { type: 'text', text: 'done' });
    const runtime = await h.runtime(config);
    const { result, error } = await h.run({ config, runtime, agent: 'sisyphus', message: 'go', workspace: { projectRoot: await h.tempDir() } });
    expect(error).toBeUndefined();
    expect(result?.answer).toBe('done');
    expect(server.stats().models.a).toMatchObject({ requests: 3, peakConcurrency: 1, overLimit: 0 });
  });

  it('delegation deeper than the cap is a tool error; the chain above goes on', async () => {
    const server = await h.server();
    const config = team(server, {
      top: { model: 'local/a', mode: 'primary' },
      mid: { model: 'local/b', mode: 'subagent' },
      low: { model: 'local/c', mode: 'subagent' },
      floor: { model: 'local/c', mode: 'subagent' },
    });
    server.script('a', { type: 'tool_calls', calls: [task('mid', 'm')] }, { type: 'text', text: 'top done' });
    server.script('b', { type: 'tool_calls', calls: [task('low', 'l')] }, { type: 'text', text: 'mid done' });
    server.script('c', { type: 'tool_calls', calls: [task('floor', 'f')] }, { type: 'text', text: 'low done' });
    const runtime = await h.runtime(config);
    const { result, rec } = await h.run({ config, runtime, agent: 'top', message: 'go', workspace: { projectRoot: await h.tempDir(), maxDepth: 2 } });
    expect(result?.answer).toBe('top done');
    const refused = rec.of('tool_use').find((e) => e.agent === 'low');
    expect(refused?.error).toMatch(/depth cap reached: top → mid → low .*cap is 2/);
    expect(server.log.filter((e) => e.model === 'c')).toHaveLength(2);
  });

  it('an agent already in the delegation chain is a cycle error', async () => {
    const server = await h.server();
    const config = team(server, { sisyphus: { ...lead, mode: 'all' }, oracle: { ...oracle, permission: { task: 'allow' } } });
    server.script('a', { type: 'tool_calls', calls: [task('oracle', 'o')] }, { type: 'text', text: 'done' });
    server.script('b', { type: 'tool_calls', calls: [task('sisyphus', 'back to you')] }, { type: 'text', text: 'cannot' });
    const runtime = await h.runtime(config);
    const { rec } = await h.run({ config, runtime, agent: 'sisyphus', message: 'go', workspace: { projectRoot: await h.tempDir() } });
    expect(rec.of('tool_use').find((e) => e.agent === 'oracle')?.error).toMatch(/^delegation cycle: sisyphus → oracle → sisyphus/);
    expect(server.log.map((e) => e.model)).toEqual(['a', 'b', 'b', 'a']);
  });

  it('an unknown or disabled agent is a tool error listing the available subagents', async () => {
    const server = await h.server();
    const config = team(server, { sisyphus: lead, oracle, ghost: { mode: 'subagent', disable: true } });
    server.script('a', { type: 'tool_calls', calls: [task('nobody', 'x'), task('ghost', 'y')] }, { type: 'text', text: 'ok' });
    const runtime = await h.runtime(config);
    const { rec, result } = await h.run({ config, runtime, agent: 'sisyphus', message: 'go', workspace: { projectRoot: await h.tempDir() } });
    expect(result?.answer).toBe('ok');
    expect(rec.of('tool_use').map((e) => e.error)).toEqual([
      'unknown agent "nobody"; available subagents: oracle.',
      'agent "ghost" is disabled; available subagents: oracle.',
    ]);
    expect(server.log.map((e) => e.model)).toEqual(['a', 'a']);
  });

  it('the task permission (patterns match agent names) can refuse a delegation', async () => {
    const server = await h.server();
    const config = team(server, { sisyphus: { ...lead, permission: { task: { '*': 'allow', oracle: 'deny' } } }, oracle, explore: { mode: 'subagent' } });
    server.script('a', { type: 'tool_calls', calls: [task('oracle', 'x')] }, { type: 'text', text: 'ok' });
    const runtime = await h.runtime(config);
    const { rec } = await h.run({ config, runtime, agent: 'sisyphus', message: 'go', workspace: { projectRoot: await h.tempDir() } });
    expect(rec.of('tool_use')[0]?.error).toMatch(/permission denied: task `oracle`/);
    expect(server.log.map((e) => e.model)).toEqual(['a', 'a']);
  });

  it("a sub-task that fails comes back as a tool error naming the agent; the parent goes on", async () => {
    const server = await h.server();
    const config = team(server, { sisyphus: lead, oracle });
    server.script('a', { type: 'tool_calls', calls: [task('oracle', 'x')] }, { type: 'text', text: 'went on' });
    server.script('b', { type: 'status', status: 400, message: 'bad request body' });
    const runtime = await h.runtime(config);
    const { result, rec } = await h.run({ config, runtime, agent: 'sisyphus', message: 'go', workspace: { projectRoot: await h.tempDir() } });
    expect(result?.answer).toBe('went on');
    expect(rec.of('tool_use')[0]?.error).toMatch(/^oracle failed: .*bad request body/);
  });
});
