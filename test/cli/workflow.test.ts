/**
 * `opencode workflow list|run|show` as a subprocess against the scripted server: order and
 * outputs, NDJSON events, rate limits on a fan-out, bad input (exit 2, nothing written),
 * failure and resume, SIGINT, and SIGKILL in the middle of a fan-out followed by --resume.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { maxStartsInWindow, startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { SECRET, userText, filesContaining, hasStack, providerConfig, sandbox, type Sandbox } from './cli-helper.ts';

interface JsonEvent {
  type: string;
  [key: string]: unknown;
}

const events = (stdout: string): JsonEvent[] =>
  stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as JsonEvent);

const WORKFLOWS = {
  pipe: {
    description: 'two in parallel, then one',
    steps: [
      { id: 'a', agent: 'explore', prompt: 'alpha {{input.topic}}' },
      { id: 'b', agent: 'librarian', prompt: 'beta {{input.topic}}' },
      { id: 'c', agent: 'oracle', needs: ['a', 'b'], prompt: 'gamma [{{steps.a.output}}] [{{steps.b.output}}]' },
    ],
  },
  fan: {
    steps: [
      { id: 'each', agent: 'explore', forEach: '{{input.items}}', prompt: 'item {{item}}' },
      { id: 'sum', agent: 'oracle', needs: ['each'], prompt: 'sum: {{steps.each.output}}' },
    ],
  },
};

describe('opencode workflow', () => {
  let server: ScriptedServer;
  let sb: Sandbox;

  beforeAll(async () => {
    server = await startScriptedServer({ apiKey: SECRET, default: { type: 'echo', chunkDelayMs: 20 } });
  });
  afterAll(async () => {
    await server.close();
  });
  beforeEach(async () => {
    server.reset();
    sb = await sandbox();
    sb.write('opencode.json', {
      ...providerConfig(server, { m1: {}, m2: {} }),
      model: 'p/m1',
      retry: { maxRetries: 1, baseDelay: 10, maxDelay: 100 },
      cache: { enabled: false },
      workflow: WORKFLOWS,
    });
  });
  afterEach(async () => {
    await sb.remove();
  });

  it('runs independent steps in parallel, then dependents; the last step\'s output on stdout, progress and summary on stderr', async () => {
    const r = await sb.run(['workflow', 'run', 'pipe', '--input', 'topic=owls']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('echo: gamma [echo: alpha owls] [echo: beta owls]\n');
    const byText = (start: string) => server.log.find((e) => userText(e).startsWith(start));
    const [a, b, c] = [byText('alpha'), byText('beta'), byText('gamma')];
    for (const entry of [a, b, c]) expect(entry?.status).toBe(200);
    // a and b were in flight together; c started after both ended.
    expect(a!.startedAt).toBeLessThan(b!.endedAt!);
    expect(b!.startedAt).toBeLessThan(a!.endedAt!);
    expect(c!.startedAt).toBeGreaterThanOrEqual(Math.max(a!.endedAt!, b!.endedAt!));
    const runId = /run (wr_[a-z0-9]+)/.exec(r.stderr)?.[1];
    expect(runId).toBeDefined();
    expect(r.stderr).toContain('▶ a (explore)');
    expect(r.stderr).toContain('✓ c 1/1 in');
    expect(r.stderr).toMatch(new RegExp(`pipe succeeded in \\d+\\.\\d s · 3 tasks · 0 retries · 0 fallbacks · 0 cache hits · \\d+ in / \\d+ out tokens · 0\\.0 s of task time waiting on limits · run ${runId}\\n$`));
    expect(hasStack(r.stderr)).toBe(false);
    expect(await filesContaining(sb.root, SECRET)).toEqual([path.join(sb.project, 'opencode.json')]);
  });

  it('--format json: NDJSON with workflow_start, task and step events tagged with stepID and taskID, workflow_finish and done', async () => {
    const r = await sb.run(['workflow', 'run', 'pipe', '-i', 'topic=owls', '--format', 'json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const all = events(r.stdout);
    const start = all[0] as JsonEvent & { runId: string };
    expect(start).toMatchObject({ type: 'workflow_start', workflow: 'pipe', resumed: false, sessionID: start.runId });
    expect(start.steps).toEqual([
      { id: 'a', agent: 'explore', needs: [], tasks: 1, done: 0 },
      { id: 'b', agent: 'librarian', needs: [], tasks: 1, done: 0 },
      { id: 'c', agent: 'oracle', needs: ['a', 'b'], tasks: 1, done: 0 },
    ]);
    const finishes = all.filter((e) => e.type === 'task_finish');
    expect(finishes.map((e) => [e.stepID, e.taskID, e.status])).toEqual(
      expect.arrayContaining([
        ['a', `${start.runId}.a`, 'success'],
        ['b', `${start.runId}.b`, 'success'],
        ['c', `${start.runId}.c`, 'success'],
      ]),
    );
    for (const e of all.filter((x) => x.type === 'step_start' || x.type === 'step_finish' || x.type === 'text')) {
      expect(e.stepID, JSON.stringify(e)).toMatch(/^[abc]$/);
      expect(e.taskID).toBe(`${start.runId}.${String(e.stepID)}`);
    }
    const finish = all.at(-2) as JsonEvent & { usage: { inputTokens: number } };
    expect(finish).toMatchObject({ type: 'workflow_finish', runId: start.runId, status: 'success', tasks: { success: 3, failed: 0, skipped: 0, cancelled: 0 }, retries: 0, fallbacks: 0 });
    expect(finish.usage.inputTokens).toBeGreaterThan(0);
    expect(all.at(-1)).toMatchObject({ type: 'done', status: 'success', usage: finish.usage });
  });

  it('fans forEach items out under a provider rate limit without exceeding its window', async () => {
    // The server refuses a 4th start in any 600 ms window; the config declares the same limit.
    const limited = await startScriptedServer({ apiKey: SECRET, rateLimit: { maxRequests: 3, windowMs: 600 } });
    sb.write('opencode.json', {
      ...providerConfig(limited, { m1: {} }, { rateLimit: { maxRequests: 3, windowMs: 600 } }),
      model: 'p/m1',
      cache: { enabled: false },
      workflow: WORKFLOWS,
    });
    const items = ['u', 'v', 'w', 'x', 'y', 'z', 'q'];
    const r = await sb.run(['workflow', 'run', 'fan', '--input', `items=${JSON.stringify(items)}`]);
    await limited.close();
    expect(r.code, r.stderr).toBe(0);
    const each = limited.log.filter((e) => userText(e).startsWith('item '));
    expect(each.map((e) => userText(e)).sort()).toEqual(items.map((i) => `item ${i}`).sort());
    expect(limited.log.filter((e) => e.outcome === 'rate_limited')).toEqual([]);
    expect(maxStartsInWindow(limited.log, 600)).toBeLessThanOrEqual(3);
    // The joined output keeps item order whatever order the tasks finished in.
    expect(r.stdout).toBe(`echo: sum: ${items.map((i) => `echo: item ${i}`).join('\n\n')}\n`);
    expect(r.stderr).toMatch(/waiting \d+\.\d s for .*rate limit/);
  });

  it('a forEach over an empty list is a clear no-op that exits 0', async () => {
    const r = await sb.run(['workflow', 'run', 'fan', '--input', 'items=[]']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('warning: step each: forEach over an empty list, nothing to do');
    expect(server.log.map((e) => userText(e))).toEqual(['sum: ']);
  });

  describe('bad input: exit 2, one sentence and a hint, nothing written', () => {
    const cases: [string, string[], RegExp][] = [
      ['a missing input', ['workflow', 'run', 'pipe'], /^error: Workflow pipe needs input topic\.\nhint: Pass --input topic=…/],
      ['a malformed --input', ['workflow', 'run', 'pipe', '--input', 'topic'], /^error: --input: expected key=value, found "topic"\.\nhint: /],
      ['an input the workflow does not use', ['workflow', 'run', 'pipe', '--input', 'topik=owls'], /^error: --input topik: workflow pipe has no input named "topik"; did you mean "topic"\?\nhint: Its inputs: topic\./],
      ['an input given twice', ['workflow', 'run', 'pipe', '-i', 'topic=a', '-i', 'topic=b'], /^error: --input: topic is given twice\./],
      ['a list input that is not JSON', ['workflow', 'run', 'fan', '--input', 'items=[1,'], /^error: --input items: not a valid JSON array/],
      // Nested 5,000 deep: it used to overflow the stack writing the journal (exit 1, a run left behind).
      ['a list input nested thousands deep', ['workflow', 'run', 'fan', '--input', `items=[${'['.repeat(5000)}1${']'.repeat(5000)}]`], /^error: --input items: nested more than 64 levels deep\.\nhint: Give a flat list of items/],
      ['a list item with a key "__proto__"', ['workflow', 'run', 'fan', '--input', 'items=[{"__proto__":{"x":1}}]'], /^error: --input items: the key "__proto__" is not allowed .*\(at \[0\]\.__proto__\)\.\nhint: Rename that key/],
      ['an unknown workflow', ['workflow', 'run', 'pipes'], /^error: workflow\.pipes: no workflow named "pipes"; did you mean "pipe"\?\nhint: Workflows: .*pipe/],
      ['--resume with nothing to resume', ['workflow', 'run', 'pipe', '--resume'], /^error: No unfinished run of workflow pipe to resume\.\nhint: Start one with `opencode workflow run pipe`\./],
      ['an unknown run id', ['workflow', 'show', 'wr_nope'], /^error: No workflow run "wr_nope": nothing has run yet\./],
      ['a bad --timeout', ['workflow', 'run', 'pipe', '-i', 'topic=x', '--timeout', 'soon'], /^error: --timeout: expected a whole number of milliseconds from 1 to 86,400,000 \(24 h\), found "soon"\./],
    ];
    it.each(cases)('%s', async (_what, args, expected) => {
      const before = await sb.snapshot();
      const r = await sb.run(args);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(expected);
      expect(r.stderr.trim().split('\n')).toHaveLength(2);
      expect(await sb.snapshot()).toEqual(before);
      expect(server.log).toEqual([]);
    });

    it('a workflow whose template names a step that is not upstream, with its path', async () => {
      sb.write('opencode.json', {
        ...providerConfig(server, { m1: {} }),
        model: 'p/m1',
        workflow: { bad: { steps: [{ id: 'a', agent: 'explore', prompt: 'x' }, { id: 'b', agent: 'explore', prompt: 'y {{steps.a.output}}' }] } },
      });
      const before = await sb.snapshot();
      const r = await sb.run(['workflow', 'run', 'bad']);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('workflow.bad.steps[1].prompt: {{steps.a.output}} names step "a", which is not upstream of "b"');
      expect(r.stderr).toContain('hint: Add the step to `needs`');
      expect(await sb.snapshot()).toEqual(before);
      // Checked at every load, so `config validate` finds it too, with its position.
      const validate = await sb.run(['config', 'validate']);
      expect(validate.code).toBe(2);
      expect(validate.stderr).toMatch(/opencode\.json:\d+:\d+ workflow\.bad\.steps\[1\]\.prompt: \{\{steps\.a\.output\}\} names step "a", which is not upstream of "b"/);
    });

    it('a near miss of a placeholder ({{inputs.topic}}, was sent to the model as written): workflow validate and workflow run refuse it before any step, naming file, step, field and name', async () => {
      const file = sb.write('opencode.json', {
        ...providerConfig(server, { m1: {} }),
        model: 'p/m1',
        workflow: { typo: { steps: [{ id: 'research', agent: 'explore', prompt: 'x' }, { id: 'write', agent: 'explore', needs: ['research'], prompt: 'about {{inputs.topic}}' }] } },
      });
      const line = /^error: .*\n {2}(.*)\nhint: Placeholders are \{\{input\.NAME\}\}, \{\{steps\.ID\.output\}\} and, in a forEach step, \{\{item\}\}\./;
      const sentence = `${file}:2:4 workflow.typo.steps[1].prompt: {{inputs.topic}} in step "write" names "inputs", which is not a placeholder name (input, steps or item); did you mean {{input.topic}}?`;
      for (const args of [['workflow', 'validate'], ['workflow', 'validate', 'typo'], ['workflow', 'run', 'typo', '--input', 'topic=owls']]) {
        const r = await sb.run(args);
        expect(r.code, r.stderr).toBe(2);
        expect(r.stdout).toBe('');
        expect(line.exec(r.stderr)?.[1]?.replace(/:\d+:\d+ /, ':2:4 '), r.stderr).toBe(sentence);
      }
      expect(server.log).toEqual([]);
    });

    it('workflow validate: every workflow (or the one named) with its steps and inputs; an unknown name is exit 2 with did you mean', async () => {
      const all = await sb.run(['workflow', 'validate']);
      expect(all.code, all.stderr).toBe(0);
      expect(all.stdout).toMatch(/^fan: ok \(2 steps; inputs: items\)\nfeature: ok \(4 steps; inputs: task\)\n(.*\n)*pipe: ok \(3 steps; inputs: topic\)\n/);
      const json = await sb.run(['workflow', 'validate', 'pipe', '--json']);
      expect(JSON.parse(json.stdout)).toEqual({ workflows: [{ name: 'pipe', steps: 3, inputs: ['topic'] }] });
      const unknown = await sb.run(['workflow', 'validate', 'pipes']);
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toMatch(/^error: workflow\.pipes: no workflow named "pipes"; did you mean "pipe"\?\nhint: Workflows: /);
      expect(server.log).toEqual([]);
    });
  });

  it('a failed step stops the run (exit 1, dependents skipped); --resume re-runs only what did not finish', async () => {
    server.script('m1', { type: 'text', text: 'alpha done' }, { type: 'status', status: 400, message: 'bad request body' });
    const failed = await sb.run(['workflow', 'run', 'pipe', '--input', 'topic=owls']);
    expect(failed.code, failed.stderr).toBe(1);
    expect(failed.stdout).toBe('');
    const runId = /run (wr_[a-z0-9]+)/.exec(failed.stderr)?.[1] as string;
    expect(failed.stderr).toMatch(/✗ [ab] failed after \d+\.\d s: .*bad request body/);
    expect(failed.stderr).toMatch(/pipe failed after \d+\.\d s · 3 tasks: 1 done, 1 failed, 1 skipped/);
    expect(failed.stderr).toContain(`hint: resume with \`opencode workflow run pipe --resume ${runId}\``);
    const firstTexts = server.log.map((e) => userText(e));
    const doneStep = firstTexts.find((t, i) => server.log[i]?.status === 200) as string;

    const show = await sb.run(['workflow', 'show', runId]);
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toMatch(new RegExp(`^${runId}  workflow pipe  failed\\n`));
    expect(show.stdout).toMatch(/\nc +oracle +skipped +0\/1/);
    expect(show.stdout).toContain('bad request body');
    expect(show.stdout).toContain(`resume: opencode workflow run pipe --resume ${runId}`);

    server.reset();
    const resumed = await sb.run(['workflow', 'run', 'pipe', '--resume']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain(`resuming run ${runId} (3 steps, 3 tasks, 1 already done)`);
    const again = server.log.map((e) => userText(e));
    expect(again).toHaveLength(2);
    expect(again).not.toContain(doneStep);
    expect(again.at(-1)).toMatch(/^gamma \[/);
    const json = JSON.parse((await sb.run(['workflow', 'show', runId, '--json'])).stdout) as { status: string; tasks: { status: string; output?: string }[] };
    expect(json.status).toBe('success');
    expect(json.tasks.map((t) => t.status)).toEqual(['success', 'success', 'success']);
    const output = await sb.run(['workflow', 'show', runId, '--output', 'c']);
    expect(output.stdout).toBe(`${json.tasks[2]?.output ?? ''}\n`);
    const unknownStep = await sb.run(['workflow', 'show', runId, '--output', 'd']);
    expect(unknownStep.code).toBe(2);
    expect(unknownStep.stderr).toMatch(/^error: --output: run wr_[a-z0-9]+ has no step "d"/);
  });

  it('SIGINT cancels the run: exit 130, the journal says cancelled, and it can be resumed', async () => {
    server.script('m1', { type: 'hang' }, { type: 'hang' });
    const child = sb.start(['workflow', 'run', 'pipe', '--input', 'topic=owls']);
    await server.waitFor((log) => log.length >= 2);
    child.child.kill('SIGINT');
    const r = await child.exited;
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/pipe cancelled after \d+\.\d s · 3 tasks: 3 cancelled/);
    const runId = /run (wr_[a-z0-9]+)/.exec(r.stderr)?.[1] as string;
    const list = JSON.parse((await sb.run(['workflow', 'list', '--json'])).stdout) as { runs: { id: string; status: string }[] };
    expect(list.runs[0]).toMatchObject({ id: runId, status: 'cancelled' });
  });

  it('after SIGKILL in the middle of a fan-out, --resume requests only the items that had not finished', async () => {
    const items = ['i0', 'i1', 'i2', 'i3', 'i4', 'i5'];
    // Two items answer at once; the rest hang until the process is killed.
    server.script('m1', { type: 'text', text: 'quick' }, { type: 'text', text: 'quick' }, { type: 'hang', repeat: 4 });
    const child = sb.start(['workflow', 'run', 'fan', '--input', `items=${items.join(',')}`]);
    await child.stderrMatches(/\(2\/6\)/);
    child.child.kill('SIGKILL');
    const killed = await child.exited;
    expect(killed.signal).toBe('SIGKILL');
    const finished = server.log.filter((e) => e.status === 200 && e.endedAt !== null && !e.clientAborted).map((e) => userText(e));
    expect(finished).toHaveLength(2);

    server.reset();
    const r = await sb.run(['workflow', 'run', 'fan', '--resume']);
    expect(r.code, r.stderr).toBe(0);
    const asked = server.log.map((e) => userText(e));
    expect(asked.filter((t) => t.startsWith('item ')).sort()).toEqual(items.map((i) => `item ${i}`).filter((t) => !finished.includes(t)).sort());
    expect(asked.filter((t) => t.startsWith('sum: '))).toHaveLength(1);
    expect(r.stdout).toContain('quick');
  });

  it('workflow list shows the config\'s workflows (built-in team workflows too) and recent runs', async () => {
    const empty = await sb.run(['workflow', 'list']);
    expect(empty.code, empty.stderr).toBe(0);
    expect(empty.stdout).toMatch(/^fan\n {2}inputs: items\n {2}each {2}explore {2}for each of \{\{input\.items\}\}\n {2}sum {3}oracle {3}after each\n/);
    expect(empty.stdout).toContain('feature  Research (librarian)');
    expect(empty.stdout).not.toContain('Recent runs');
    expect(fs.existsSync(path.join(sb.dataHome, 'pantheon', 'workflows.sqlite'))).toBe(false);
    await sb.run(['workflow', 'run', 'pipe', '--input', 'topic=owls']);
    const json = JSON.parse((await sb.run(['workflow', 'ls', '--json'])).stdout) as { workflows: { name: string; inputs?: string[] }[]; runs: { workflow: string; status: string; tasks: { total: number; success: number } }[] };
    expect(json.workflows.map((w) => w.name)).toEqual(['fan', 'feature', 'pipe', 'plan', 'research']);
    expect(json.workflows.find((w) => w.name === 'research')?.inputs).toEqual(['topics']);
    expect(json.runs).toEqual([expect.objectContaining({ workflow: 'pipe', status: 'success', tasks: { total: 3, success: 3, failed: 0 } })]);
  });
});
