import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ttyConfirm } from '../../src/permissions/ask.ts';

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
