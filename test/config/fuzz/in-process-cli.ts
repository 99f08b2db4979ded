/**
 * Runs the CLI's own entry point (`main` in src/cli/main.ts, what bin/opencode.js calls) inside the
 * test process: the given working directory and environment, stdout and stderr captured, the exit
 * code read from process.exitCode. Thousands of cases cost seconds instead of a process each.
 * One call at a time (it swaps process-wide state); vitest's `forks` pool gives each file a process.
 */
import { main } from '../../../src/cli/main.ts';

export interface InProcessResult {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

type Write = typeof process.stdout.write;

export async function runInProcess(argv: string[], cwd: string, env: Record<string, string>): Promise<InProcessResult> {
  const saved = { env: process.env, cwd: process.cwd(), out: process.stdout.write, err: process.stderr.write, exitCode: process.exitCode };
  const captured = { stdout: '', stderr: '' };
  const capture =
    (stream: 'stdout' | 'stderr'): Write =>
    ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      captured[stream] += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      const done = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      done?.();
      return true;
    }) as Write;
  // Nothing is piped: stdin counts as a terminal (run would otherwise wait for the worker's stdin to end).
  const stdinTTY = Object.getOwnPropertyDescriptor(process.stdin, 'isTTY');
  Object.defineProperty(process.stdin, 'isTTY', { value: true, configurable: true });
  process.env = { ...env };
  process.chdir(cwd);
  process.exitCode = undefined;
  process.stdout.write = capture('stdout');
  process.stderr.write = capture('stderr');
  const started = performance.now();
  try {
    await main(argv);
  } finally {
    process.stdout.write = saved.out;
    process.stderr.write = saved.err;
    process.chdir(saved.cwd);
    process.env = saved.env;
    if (stdinTTY) Object.defineProperty(process.stdin, 'isTTY', stdinTTY);
    else delete (process.stdin as { isTTY?: boolean }).isTTY;
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = saved.exitCode;
  return { code, stdout: captured.stdout, stderr: captured.stderr, ms: performance.now() - started };
}
