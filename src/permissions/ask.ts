/**
 * `confirm` for a terminal: a yes/no question through @inquirer/confirm, written to stderr so
 * stdout keeps only the answer. Questions from tool calls that run in parallel are asked one at a
 * time. Ctrl+C at the question counts as "no".
 */
import type { Readable, Writable } from 'node:stream';

export interface TtyConfirmOptions {
  input?: Readable;
  output?: Writable;
  signal?: AbortSignal;
}

export function ttyConfirm(options: TtyConfirmOptions = {}): (question: string) => Promise<boolean> {
  let queue: Promise<unknown> = Promise.resolve();
  const ask = async (question: string): Promise<boolean> => {
    const { default: confirm } = await import('@inquirer/confirm');
    try {
      return await confirm(
        { message: question, default: false },
        {
          input: options.input ?? process.stdin,
          output: options.output ?? process.stderr,
          ...(options.signal ? { signal: options.signal } : {}),
        },
      );
    } catch (error) {
      if (error instanceof Error && (error.name === 'ExitPromptError' || error.name === 'AbortPromptError')) return false;
      throw error;
    }
  };
  return (question) => {
    const answer = queue.then(() => ask(question));
    queue = answer.catch(() => false);
    return answer;
  };
}
