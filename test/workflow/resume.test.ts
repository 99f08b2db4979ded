/**
 * The journal and resume: SIGKILL in the middle of a fan-out run in a child process, then resume
 * in this one; finished tasks are not requested again and the journal survives intact.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { DatabaseSync } from 'node:sqlite';
import { describe, expect, it } from 'vitest';
import { SqliteLedger } from '../../src/scheduler/ledger-sqlite.ts';
import { openRuntime } from '../../src/run/runtime.ts';
import { journalPath } from '../../src/workflow/journal.ts';
import { FANOUT_INPUTS, FANOUT_ITEMS, fanoutConfig } from './fixtures/fanout-config.ts';
import { promptOf, useWorkflowHarness, workflowConfig } from './helpers.ts';

const h = useWorkflowHarness();
const FIXTURE = path.join(import.meta.dirname, 'fixtures', 'run-fanout.ts');

describe('journal', () => {
  it('records runs and tasks; lists, finds the latest unfinished, refuses unknown ids', async () => {
    const journal = h.journal(await h.env());
    const one = journal.createRun('w', { x: '1' });
    const two = journal.createRun('w', { x: '2' });
    journal.createRun('other', {});
    const task = { taskID: `${one.id}.a`, stepID: 'a', agent: 'worker', status: 'running' as const, retries: 0, fallbacks: 0, usage: { inputTokens: 0, outputTokens: 0 }, models: [], waitedMs: 0, cacheHits: 0 };
    journal.recordTask(one.id, task);
    journal.recordTask(one.id, { ...task, status: 'success', output: 'done' });
    journal.recordTask(one.id, { ...task, taskID: `${one.id}.b`, stepID: 'b' });
    expect(journal.getRun(one.id)).toEqual({
      run: { id: one.id, workflow: 'w', inputs: { x: '1' }, status: 'running', startedAt: one.startedAt },
      tasks: [{ ...task, status: 'success', output: 'done' }, { ...task, taskID: `${one.id}.b`, stepID: 'b' }],
    });
    expect(journal.listRuns('w').map((r) => r.id)).toEqual([two.id, one.id]);
    expect(journal.listRuns()).toHaveLength(3);
    expect(journal.latestUnfinished('w')?.id).toBe(two.id);
    journal.finishRun(two.id, 'success');
    expect(journal.latestUnfinished('w')?.id).toBe(one.id);
    expect(journal.getRun(two.id).run).toMatchObject({ status: 'success', endedAt: expect.any(Number) });
    expect(() => journal.getRun('wr_nope')).toThrow(expect.objectContaining({ code: 'USAGE', exitCode: 2 }));
  });
});

describe('resume', () => {
  it('--resume with nothing to resume, a finished run, or other inputs: USAGE errors', async () => {
    const server = await h.server();
    const config = workflowConfig(server, { w: { steps: [{ id: 'a', agent: 'worker', prompt: 'hi {{input.who}}' }] }, v: { steps: [{ id: 'b', agent: 'worker', prompt: 'yo' }] } });
    const env = await h.env();
    const journal = h.journal(env);
    const nothing = await h.run({ config, name: 'w', env, journal, resume: true });
    expect(nothing.error).toMatchObject({ code: 'USAGE', exitCode: 2, message: 'No unfinished run of workflow w to resume.' });
    const missing = await h.run({ config, name: 'w', env, journal });
    expect(missing.error).toMatchObject({ code: 'USAGE', message: 'Workflow w needs input who.' });
    const done = await h.run({ config, name: 'w', env, journal, inputs: { who: 'ann' } });
    const runId = done.result?.runId as string;
    const again = await h.run({ config, name: 'w', env, journal, resume: runId });
    expect(again.error).toMatchObject({ code: 'USAGE', message: `Run ${runId} is already finished.` });
    const other = await h.run({ config, name: 'v', env, journal, resume: runId });
    expect(other.error).toMatchObject({ code: 'USAGE', message: `Run ${runId} belongs to workflow w, not v.`, hint: `Resume it with \`opencode workflow run w --resume ${runId}\`.` });
    const unknown = await h.run({ config, name: 'w', env, journal, resume: 'wr_nope' });
    expect(unknown.error).toMatchObject({ code: 'USAGE', message: 'No workflow run "wr_nope".' });
    expect(server.log).toHaveLength(1);
  });

  it('a failed run resumes: successful tasks are reused, the rest run again with the journal inputs', async () => {
    const server = await h.server({ models: { b: { script: [{ type: 'status', status: 400 }] } } });
    const config = workflowConfig(server, {
      w: {
        steps: [
          { id: 'ok', agent: 'worker', prompt: 'fine {{input.who}}' },
          { id: 'flaky', agent: 'checker', prompt: 'flaky {{input.who}}' },
          { id: 'end', agent: 'worker', needs: ['ok', 'flaky'], prompt: 'end [{{steps.ok.output}}] [{{steps.flaky.output}}]' },
        ],
      },
    });
    const env = await h.env();
    const journal = h.journal(env);
    const first = await h.run({ config, name: 'w', env, journal, inputs: { who: 'bo' } });
    expect(first.result?.status).toBe('failed');
    const wrong = await h.run({ config, name: 'w', env, journal, resume: true, inputs: { who: 'cy' } });
    expect(wrong.error).toMatchObject({ code: 'USAGE', message: expect.stringContaining('other inputs (who)') });
    const before = server.log.length;
    const second = await h.run({ config, name: 'w', env, journal, resume: true });
    expect(second.result).toMatchObject({ runId: first.result?.runId, status: 'success' });
    expect(server.log.slice(before).map((e) => promptOf(e))).toEqual(['flaky bo', 'end [echo: fine bo] [echo: flaky bo]']);
    expect(journal.getRun(first.result?.runId as string).run.status).toBe('success');
  });

  it('after SIGKILL in the middle of a fan-out: the journal is intact and resume requests only unfinished tasks', async () => {
    const server = await h.server({ default: { type: 'echo', chunkDelayMs: 15 } });
    const env = await h.env();
    const child = spawn(process.execPath, [FIXTURE, server.url, env.XDG_DATA_HOME as string], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.on('close', (code, signal) => resolve(signal ?? code)));
    const lines = readline.createInterface({ input: child.stdout });
    const runId = await new Promise<string>((resolve, reject) => {
      lines.on('line', (line) => {
        if (line.startsWith('run ')) resolve(line.slice(4));
      });
      void exited.then(() => reject(new Error(`the fixture exited early: ${stderr}`)));
    });
    // Readiness from the server log: four item requests have finished (of ten, two at a time).
    await server.waitFor((log) => log.filter((e) => e.endedAt !== null && e.status === 200).length >= 4);
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    const killedAt = server.log.length;
    expect(killedAt).toBeLessThan(FANOUT_ITEMS.length);

    const db = new DatabaseSync(journalPath(env), { readOnly: true });
    expect(db.prepare('PRAGMA integrity_check').get()).toEqual({ integrity_check: 'ok' });
    db.close();
    const journal = h.journal(env);
    const crashed = journal.getRun(runId);
    expect(crashed.run).toMatchObject({ status: 'running', inputs: FANOUT_INPUTS });
    const finished = crashed.tasks.filter((t) => t.status === 'success');
    expect(finished.length).toBeGreaterThanOrEqual(1);
    expect(finished.length).toBeLessThan(FANOUT_ITEMS.length);
    expect(finished.every((t) => t.output === `echo: work on ${String(t.item)}`)).toBe(true);

    const config = fanoutConfig(server.url);
    const ledger = new SqliteLedger({ env });
    const runtime = await openRuntime(config, { ledger, noCache: true, env });
    try {
      const resumed = await h.run({ config, name: 'fan', env, journal, runtime, resume: true });
      expect(resumed.result).toMatchObject({ runId, status: 'success' });
      const after = server.log.slice(killedAt).map((e) => promptOf(e));
      const finishedPrompts = finished.map((t) => `work on ${String(t.item)}`);
      expect(after.filter((p) => finishedPrompts.includes(p))).toEqual([]);
      expect(after).toHaveLength(FANOUT_ITEMS.length - finished.length + 1);
      const expected = FANOUT_ITEMS.map((item) => `echo: work on ${item}`).join('\n\n');
      expect(after.at(-1)).toBe(`sum:\n${expected}`);
      expect(resumed.result?.tasks.map((t) => t.status)).toEqual(Array(FANOUT_ITEMS.length + 1).fill('success'));
      expect(journal.getRun(runId).run.status).toBe('success');
    } finally {
      await runtime.close();
      await ledger.close();
    }
  });
});
