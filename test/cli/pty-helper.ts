/**
 * Runs the real CLI on a pseudo-terminal, as a person at a terminal would: util-linux `script`
 * gives the process a pty for stdin, stdout and stderr (so `process.stdin.isTTY` holds and the
 * permission prompt is put), what the test writes is typed into it, and everything the process
 * draws comes back on one stream (`screen()`, with colour and cursor codes taken out).
 *
 *   const p = startInPty(sb, ['run', 'hi']);  await p.screenMatches(/Allow bash/);  p.type('n\r');  await p.exited;
 */
import { spawn } from 'node:child_process';
import type { Sandbox } from './cli-helper.ts';
import { BIN } from './cli-helper.ts';

export interface PtyProcess {
  /** What the terminal showed so far, escape sequences removed. */
  screen(): string;
  /** Resolves when the screen matches `pattern` (rejects if the process exits first, or after `ms`). */
  screenMatches(pattern: RegExp, ms?: number): Promise<string>;
  /** Types text at the terminal (`\r` is Enter). */
  type(text: string): void;
  exited: Promise<{ code: number | null; screen: string }>;
}

function quote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

// eslint-disable-next-line no-control-regex
const ESCAPES = /\u001b\[[0-9;?]*[ -/]*[@-~]|\u001b[()][A-Za-z0-9]|\u001b[=>78]|\r/g;

export function startInPty(sb: Sandbox, args: string[]): PtyProcess {
  const command = `stty cols 160 rows 50; exec ${[process.execPath, BIN, ...args].map(quote).join(' ')}`;
  const child = spawn('script', ['-q', '-e', '-c', command, '/dev/null'], { cwd: sb.project, env: { ...sb.env, TERM: 'xterm' }, stdio: ['pipe', 'pipe', 'pipe'] });
  let raw = '';
  const screen = (): string => raw.replace(ESCAPES, '');
  const watchers: { pattern: RegExp; resolve: (text: string) => void }[] = [];
  const onData = (chunk: string): void => {
    raw += chunk;
    for (const w of watchers.filter((x) => x.pattern.test(screen()))) {
      watchers.splice(watchers.indexOf(w), 1);
      w.resolve(screen());
    }
  };
  child.stdout.setEncoding('utf8').on('data', onData);
  child.stderr.setEncoding('utf8').on('data', onData);
  child.stdin.on('error', () => undefined);
  const exited = new Promise<{ code: number | null; screen: string }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, screen: screen() }));
  });
  return {
    screen,
    screenMatches: (pattern, ms = 30_000) =>
      new Promise<string>((resolve, reject) => {
        if (pattern.test(screen())) return resolve(screen());
        // Bounded, so that a prompt that never comes fails with what the terminal showed instead.
        const timer = setTimeout(() => reject(new Error(`the screen did not match ${String(pattern)} in ${ms} ms:\n${screen()}`)), ms);
        watchers.push({ pattern, resolve: (text) => (clearTimeout(timer), resolve(text)) });
        void exited.then((r) => (clearTimeout(timer), reject(new Error(`exited (${String(r.code)}) before the screen matched ${String(pattern)}:\n${r.screen}`))));
      }),
    type: (text) => {
      child.stdin.write(text);
    },
    exited,
  };
}
