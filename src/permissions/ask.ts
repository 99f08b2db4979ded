/**
 * `confirm` for a terminal: a yes/no question through @inquirer/confirm, written to stderr so
 * stdout keeps only the answer. Questions from tool calls that run in parallel are asked one at a
 * time. Ctrl+C at the question counts as "no". A "no" is OpenCode's plain reject (personAnswers).
 */
import type { Readable, Writable } from 'node:stream';
import type { AskDetails, ConfirmAnswer } from './authorize.ts';

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

/** What the model is told of a call the person said no to (as the server's plain reject: core/permission-asks.ts). */
export const REJECTED = 'rejected by the user';

/**
 * A person's yes or no as a turn takes it, the same as a plain reject at an OpenCode client: "no"
 * refuses the call and ends the turn after its step (the model is not asked again), and the
 * questions of that task still waiting their turn are refused unasked (OpenCode rejects the
 * session's other open questions with it). With `continueOnDeny` (OpenCode's
 * `experimental.continue_loop_on_deny`) the model is told and goes on, and every question is asked.
 */
export function personAnswers(ask: (question: string) => Promise<boolean>, options: { continueOnDeny: boolean }): (question: string, details: AskDetails) => Promise<ConfirmAnswer> {
  if (options.continueOnDeny) return async (question) => (await ask(question)) || { declined: REJECTED };
  // The "no"s said so far, by task: a question that waited through one of its task's is not put.
  const noes = new Map<string, number>();
  let queue: Promise<unknown> = Promise.resolve();
  return (question, details) => {
    const task = details.taskID ?? '';
    const before = noes.get(task) ?? 0;
    const answer = queue.then(async (): Promise<ConfirmAnswer> => {
      if ((noes.get(task) ?? 0) > before) return { declined: REJECTED, stop: true };
      if (await ask(question)) return true;
      noes.set(task, (noes.get(task) ?? 0) + 1);
      return { declined: REJECTED, stop: true };
    });
    queue = answer.catch(() => undefined);
    return answer;
  };
}
