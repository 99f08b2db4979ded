/** Questions put on a terminal by the commands that ask for what their flags left out (`agent create`, `mcp add`). */
import { PantheonError } from '../errors.ts';

export interface PromptTerminal {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
}

/** The terminal to ask on (questions on stderr, so stdout stays the command's output), or undefined when there is none. */
export function promptTerminal(): PromptTerminal | undefined {
  return process.stdin.isTTY && process.stderr.isTTY ? { input: process.stdin, output: process.stderr } : undefined;
}

/** What a prompt that was cancelled (Ctrl+C, the input closed) throws: CANCELLED with `message`; any other error as it is. */
export function cancelledWith(message: string): (error: unknown) => never {
  return (error) => {
    const name = (error as { name?: string }).name;
    if (name === 'ExitPromptError' || name === 'AbortPromptError' || name === 'AbortError') throw new PantheonError('CANCELLED', message);
    throw error;
  };
}

/** One line typed at the terminal, trimmed; Ctrl+C goes to `cancelled`. */
export async function askLine(tty: PromptTerminal, question: string, cancelled: (error: unknown) => never): Promise<string> {
  const readline = await import('node:readline/promises');
  const rl = readline.createInterface({ input: tty.input, output: tty.output, terminal: true });
  const controller = new AbortController();
  rl.once('SIGINT', () => controller.abort());
  try {
    return (await rl.question(question, { signal: controller.signal })).trim();
  } catch (error) {
    return cancelled(error);
  } finally {
    rl.close();
  }
}
