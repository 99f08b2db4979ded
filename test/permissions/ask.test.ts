import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { personAnswers, ttyConfirm } from '../../src/permissions/ask.ts';

/** A fake terminal: `prompted(q)` resolves once question `q` has been written. */
function terminal() {
  const input = new PassThrough();
  const output = new PassThrough();
  // Like stderr, a terminal cannot be closed by one prompt: later prompts write to it too.
  output.end = (() => output) as typeof output.end;
  let text = '';
  const waiters: { question: string; resolve: () => void }[] = [];
  const check = (): void => {
    // eslint-disable-next-line no-control-regex
    const plain = text.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '');
    for (const w of [...waiters]) if (plain.includes(`${w.question} (y/N)`)) w.resolve();
  };
  output.on('data', (chunk: Buffer) => {
    text += chunk.toString('utf8');
    check();
  });
  const prompted = (question: string) =>
    new Promise<void>((resolve) => {
      waiters.push({ question, resolve });
      check();
    });
  return { input, output, prompted, text: () => text };
}

describe('ttyConfirm', () => {
  it('asks on the given output and returns the answer, one question at a time', async () => {
    const tty = terminal();
    const confirm = ttyConfirm({ input: tty.input, output: tty.output });
    const first = confirm('Allow bash `ls`?');
    const second = confirm('Allow bash `rm x`?');
    await tty.prompted('Allow bash `ls`?');
    expect(tty.text()).not.toContain('rm x');
    tty.input.write('y\n');
    expect(await first).toBe(true);
    await tty.prompted('Allow bash `rm x`?');
    tty.input.write('\n');
    expect(await second).toBe(false);
  });

  it('treats an aborted question as no', async () => {
    const tty = terminal();
    const controller = new AbortController();
    const confirm = ttyConfirm({ input: tty.input, output: tty.output, signal: controller.signal });
    const answer = confirm('Allow webfetch?');
    await tty.prompted('Allow webfetch?');
    controller.abort();
    expect(await answer).toBe(false);
  });
});

describe('personAnswers', () => {
  const details = (taskID: string) => ({ key: 'bash', tool: 'bash', subject: 'ls', taskID });

  it('"no" ends the turn after the step and refuses the same task\'s waiting questions unasked; another task\'s are still asked', async () => {
    const tty = terminal();
    const answer = personAnswers(ttyConfirm({ input: tty.input, output: tty.output }), { continueOnDeny: false });
    const first = answer('Allow bash `rm a`?', details('task_top'));
    const waiting = answer('Allow bash `rm b`?', details('task_top'));
    const other = answer('Allow bash `rm c`?', details('task_sub'));
    await tty.prompted('Allow bash `rm a`?');
    tty.input.write('n\n');
    expect(await first).toEqual({ declined: 'rejected by the user', stop: true });
    expect(await waiting).toEqual({ declined: 'rejected by the user', stop: true });
    await tty.prompted('Allow bash `rm c`?');
    expect(tty.text()).not.toContain('rm b');
    tty.input.write('y\n');
    expect(await other).toBe(true);
    // A question put after the "no" is asked.
    const later = answer('Allow bash `rm d`?', details('task_top'));
    await tty.prompted('Allow bash `rm d`?');
    tty.input.write('y\n');
    expect(await later).toBe(true);
  });

  it('with continueOnDeny: "no" is told to the model without ending the turn, and every question is asked', async () => {
    const tty = terminal();
    const answer = personAnswers(ttyConfirm({ input: tty.input, output: tty.output }), { continueOnDeny: true });
    const first = answer('Allow bash `rm a`?', details('task_top'));
    const second = answer('Allow bash `rm b`?', details('task_top'));
    await tty.prompted('Allow bash `rm a`?');
    tty.input.write('n\n');
    expect(await first).toEqual({ declined: 'rejected by the user' });
    await tty.prompted('Allow bash `rm b`?');
    tty.input.write('y\n');
    expect(await second).toBe(true);
  });
});
