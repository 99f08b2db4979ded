/**
 * The engine against the scripted server: DAG order and parallelism from the request log,
 * templating, forEach fan-out, concurrency, onError, empty lists, events and cancellation.
 */
import { describe, expect, it } from 'vitest';
import type { PantheonEvent } from '../../src/events.ts';
import { overlap, promptOf, useWorkflowHarness, workflowConfig } from './helpers.ts';

const h = useWorkflowHarness();
const SLOW_ECHO = { type: 'echo', chunkDelayMs: 25 } as const;

function byPrompt(log: { messages: unknown[] }[], start: string) {
  const found = log.filter((e) => promptOf(e as never).startsWith(start));
  expect(found).toHaveLength(1);
  return found[0] as never;
}

describe('runWorkflow', () => {
  it('runs independent steps in parallel and dependents after their needs, filling templates', async () => {
    const server = await h.server({ default: SLOW_ECHO });
    const config = workflowConfig(server, {
      pipe: {
        steps: [
          { id: 'a', agent: 'worker', prompt: 'alpha about {{input.topic}} now' },
          { id: 'b', agent: 'checker', prompt: 'beta about {{ input.topic }} now' },
          { id: 'c', agent: 'worker', needs: ['a', 'b'], prompt: 'gamma [{{steps.a.output}}] [{{steps.b.output}}]' },
        ],
      },
    });
    const { result, error, events } = await h.run({ config, name: 'pipe', inputs: { topic: 'owls' } });
    expect(error).toBeUndefined();
    expect(result?.status).toBe('success');
    const a = byPrompt(server.log, 'alpha');
    const b = byPrompt(server.log, 'beta');
    const c = byPrompt(server.log, 'gamma');
    expect(overlap(a, b)).toBe(true);
    expect((c as { startedAt: number }).startedAt).toBeGreaterThanOrEqual(Math.max((a as { endedAt: number }).endedAt, (b as { endedAt: number }).endedAt));
    expect(promptOf(c)).toBe('gamma [echo: alpha about owls now] [echo: beta about owls now]');
    expect((b as { model: string }).model).toBe('b');
    const runId = result?.runId as string;
    expect(result?.tasks.map((t) => [t.taskID, t.status])).toEqual([
      [`${runId}.a`, 'success'],
      [`${runId}.b`, 'success'],
      [`${runId}.c`, 'success'],
    ]);
    expect(result?.tasks[2]?.output).toBe('echo: gamma [echo: alpha about owls now] [echo: beta about owls now]');
    expect(result?.tasks[0]).toMatchObject({ models: ['local/a'], attempts: 1, retries: 0, fallbacks: 0 });
    expect(result?.usage.inputTokens).toBeGreaterThan(0);
    // Progress events, and the task's own events tagged with its step.
    const types = events.map((e) => e.type);
    expect(types[0]).toBe('workflow_start');
    expect(events.at(-1)).toMatchObject({ type: 'workflow_finish', runId, status: 'success' });
    expect(events.filter((e) => e.type === 'task_start').map((e) => (e as { stepID: string }).stepID).sort()).toEqual(['a', 'b', 'c']);
    expect(events.filter((e) => e.type === 'task_finish')).toHaveLength(3);
    const finishes = events.filter((e): e is Extract<PantheonEvent, { type: 'step_finish' }> => e.type === 'step_finish');
    expect(finishes.map((e) => [e.stepID, e.taskID]).sort()).toEqual([
      ['a', `${runId}.a`],
      ['b', `${runId}.b`],
      ['c', `${runId}.c`],
    ]);
  });

  it('fans a forEach step out per item: {{item}} (objects as JSON) and the joined output in item order', async () => {
    const server = await h.server();
    const config = workflowConfig(server, {
      fan: {
        steps: [
          { id: 'each', agent: 'worker', forEach: ['x', { k: 1 }, 3], prompt: 'item {{item}}' },
          { id: 'sum', agent: 'worker', needs: ['each'], prompt: 'all:\n{{steps.each.output}}' },
        ],
      },
    });
    const { result } = await h.run({ config, name: 'fan' });
    expect(result?.status).toBe('success');
    const runId = result?.runId as string;
    expect(result?.tasks.map((t) => [t.taskID, t.item, t.index])).toEqual([
      [`${runId}.each.0`, 'x', 0],
      [`${runId}.each.1`, { k: 1 }, 1],
      [`${runId}.each.2`, 3, 2],
      [`${runId}.sum`, undefined, undefined],
    ]);
    expect(promptOf(server.log.at(-1) as never)).toBe('all:\necho: item x\n\necho: item {"k":1}\n\necho: item 3');
  });

  it('forEach over an input: comma-separated text (trimmed, empties dropped) or a JSON array', async () => {
    const server = await h.server();
    const config = workflowConfig(server, { fan: { steps: [{ id: 'each', agent: 'worker', forEach: '{{input.files}}', prompt: 'look at {{item}}' }] } });
    const text = await h.run({ config, name: 'fan', inputs: { files: ' a.ts, b.ts,, c.ts ,' } });
    expect(text.result?.tasks.map((t) => t.output)).toEqual(['echo: look at a.ts', 'echo: look at b.ts', 'echo: look at c.ts']);
    const json = await h.run({ config, name: 'fan', inputs: { files: '["x, y", {"n": 2}]' } });
    expect(json.result?.tasks.map((t) => t.output)).toEqual(['echo: look at x, y', 'echo: look at {"n":2}']);
    const bad = await h.run({ config, name: 'fan', inputs: { files: '[1, 2' } });
    expect(bad.error).toMatchObject({ code: 'USAGE', exitCode: 2, message: expect.stringContaining('--input files') });
  });

  it('an empty forEach is a clear no-op: the step succeeds with no tasks and an empty output', async () => {
    const server = await h.server();
    const config = workflowConfig(server, {
      none: {
        steps: [
          { id: 'each', agent: 'worker', forEach: '{{input.items}}', prompt: 'do {{item}}' },
          { id: 'after', agent: 'worker', needs: ['each'], prompt: 'after [{{steps.each.output}}]' },
        ],
      },
    });
    const { result } = await h.run({ config, name: 'none', inputs: { items: ' , ' } });
    expect(result?.status).toBe('success');
    expect(result?.tasks.map((t) => t.stepID)).toEqual(['after']);
    expect(server.log.map((e) => promptOf(e))).toEqual(['after []']);
  });

  it('30 forEach items under a provider limit of 5 per 500 ms: no window exceeded, nothing refused', async () => {
    const limit = { maxRequests: 5, windowMs: 500 };
    const server = await h.server({ models: { a: { rateLimit: limit } } });
    const config = workflowConfig(server, { fan: { steps: [{ id: 'each', agent: 'worker', forEach: '{{input.n}}', prompt: 'n{{item}}' }] } });
    (config.provider as Record<string, { rateLimit?: object }>).local!.rateLimit = limit;
    const items = Array.from({ length: 30 }, (_, i) => i);
    const { result } = await h.run({ config, name: 'fan', inputs: { n: JSON.stringify(items) } });
    expect(result?.status).toBe('success');
    expect(result?.tasks.map((t) => t.output)).toEqual(items.map((i) => `echo: n${i}`));
    const stats = server.stats();
    expect(stats.requests).toBe(30);
    expect(stats.overLimit).toBe(0);
    expect(stats.maxStartsInWindow(undefined, limit.windowMs)).toBeLessThanOrEqual(5);
    expect(result?.waitedMs).toBeGreaterThan(0);
  });

  it('the workflow concurrency bounds tasks in flight (server peak concurrency)', async () => {
    const server = await h.server({ default: SLOW_ECHO });
    const config = workflowConfig(server, {
      fan: { concurrency: 2, steps: [{ id: 'each', agent: 'worker', forEach: ['one two', 'three four', 'five six', 'seven eight', 'nine ten'], prompt: 'say {{item}}' }] },
    });
    const { result } = await h.run({ config, name: 'fan' });
    expect(result?.status).toBe('success');
    expect(server.stats().peakConcurrency).toBe(2);
    expect(server.log).toHaveLength(5);
  });

  it('onError fail: the run fails, running tasks finish, dependents never start', async () => {
    const server = await h.server({ models: { b: { script: [{ type: 'status', status: 400, message: 'bad prompt' }] }, a: { default: SLOW_ECHO } } });
    const config = workflowConfig(server, {
      w: {
        steps: [
          { id: 'bad', agent: 'checker', prompt: 'will fail' },
          { id: 'slow', agent: 'worker', prompt: 'slow one two three four' },
          { id: 'after', agent: 'worker', needs: ['bad'], prompt: 'after' },
        ],
      },
    });
    const { result, events } = await h.run({ config, name: 'w' });
    expect(result?.status).toBe('failed');
    expect(result?.tasks.map((t) => [t.stepID, t.status])).toEqual([
      ['bad', 'failed'],
      ['slow', 'success'],
      ['after', 'skipped'],
    ]);
    expect(result?.tasks[0]?.error).toMatch(/bad prompt|400/);
    expect(server.log.map((e) => promptOf(e)).sort()).toEqual(['slow one two three four', 'will fail']);
    expect(events.at(-1)).toMatchObject({ type: 'workflow_finish', status: 'failed' });
  });

  it('onError continue: the failure is recorded and dependents run with an empty output for it', async () => {
    const server = await h.server({ models: { b: { script: [{ type: 'status', status: 400 }] } } });
    const config = workflowConfig(server, {
      w: {
        steps: [
          { id: 'each', agent: 'checker', forEach: ['p', 'q'], onError: 'continue', prompt: 'item {{item}}' },
          { id: 'after', agent: 'worker', needs: ['each'], prompt: 'after [{{steps.each.output}}]' },
        ],
      },
    });
    const { result } = await h.run({ config, name: 'w' });
    expect(result?.status).toBe('success');
    const each = result?.tasks.filter((t) => t.stepID === 'each') ?? [];
    expect(each.map((t) => t.status).sort()).toEqual(['failed', 'success']);
    const ok = each.find((t) => t.status === 'success');
    expect(promptOf(server.log.at(-1) as never)).toBe(`after [${ok?.output ?? ''}]`);
  });

  it('cancellation: running tasks are cancelled, the run and journal say cancelled', async () => {
    const server = await h.server({ default: { type: 'hang' } });
    const config = workflowConfig(server, {
      w: {
        steps: [
          { id: 'each', agent: 'worker', forEach: ['1', '2'], prompt: 'hang {{item}}' },
          { id: 'after', agent: 'worker', needs: ['each'], prompt: 'after' },
        ],
      },
    });
    const env = await h.env();
    const journal = h.journal(env);
    const controller = new AbortController();
    const pending = h.run({ config, name: 'w', env, journal, signal: controller.signal });
    await server.waitForRequests(2);
    controller.abort();
    const { result } = await pending;
    expect(result?.status).toBe('cancelled');
    expect(result?.tasks.map((t) => t.status)).toEqual(['cancelled', 'cancelled', 'cancelled']);
    const stored = journal.getRun(result?.runId as string);
    expect(stored.run.status).toBe('cancelled');
    expect(stored.tasks.map((t) => t.status)).toEqual(['cancelled', 'cancelled', 'cancelled']);
  });
});
