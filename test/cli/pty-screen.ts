/**
 * The real CLI on a pseudo-terminal of @lydell/node-pty, and what a terminal would show of it: the
 * raw output played on a small screen model (text, `\r`, `\n`, cursor moves, erasing lines), so a
 * test sees what a person sees at any moment — a line drawn and then erased is gone from the screen,
 * two things written on one row show as one row.
 *
 *   const p = startOnScreen(sb, ['run', 'hi']);  await p.shows(/⋯ .*bash/);  p.type('y\r');  await p.exited;
 */
import pty from '@lydell/node-pty';
import type { Sandbox } from './cli-helper.ts';
import { BIN } from './cli-helper.ts';

// eslint-disable-next-line no-control-regex
const TOKEN = /\u001b\[([0-9;?]*)([ -/]*)([@-~])|\u001b[()][A-Za-z0-9]|\u001b[=>78]|\r|\n|[^\u001b\r\n]+|\u001b/g;

/** The rows `raw` leaves on a terminal (trailing spaces cut), as far as the codes the CLI writes go. */
export function playScreen(raw: string): string[] {
  const rows: string[][] = [[]];
  let row = 0;
  let col = 0;
  const line = (): string[] => (rows[row] ??= []);
  for (const m of raw.matchAll(TOKEN)) {
    const token = m[0];
    if (token === '\r') col = 0;
    else if (token === '\n') {
      row += 1;
      col = 0;
      line();
    } else if (m[3] !== undefined) {
      const n = Number((m[1] ?? '').split(';')[0] || '0');
      switch (m[3]) {
        case 'A':
          row = Math.max(0, row - Math.max(1, n));
          break;
        case 'B':
          row += Math.max(1, n);
          break;
        case 'C':
          col += Math.max(1, n);
          break;
        case 'D':
          col = Math.max(0, col - Math.max(1, n));
          break;
        case 'G':
          col = Math.max(0, n - 1);
          break;
        case 'K':
          if (n === 2) rows[row] = [];
          else if (n === 1) line().fill(' ', 0, col + 1);
          else line().length = Math.min(line().length, col);
          break;
        case 'J':
          line().length = Math.min(line().length, col);
          rows.length = row + 1;
          break;
        default:
          break;
      }
    } else if (!token.startsWith('\u001b')) {
      const cells = line();
      for (const ch of token) {
        while (cells.length < col) cells.push(' ');
        cells[col] = ch;
        col += 1;
      }
    }
  }
  return rows.map((r) => r.join('').trimEnd());
}

export interface ScreenProcess {
  /** The raw output so far. */
  raw(): string;
  /** The screen's rows now. */
  rows(): string[];
  /** Resolves with the rows when the screen (its rows joined by `\n`) matches `pattern`; rejects if the process exits first, or after `ms`. */
  shows(pattern: RegExp, ms?: number): Promise<string[]>;
  type(text: string): void;
  exited: Promise<{ code: number; rows: string[]; raw: string }>;
}

export function startOnScreen(sb: Sandbox, args: string[], env: Record<string, string> = {}): ScreenProcess {
  const term = pty.spawn(process.execPath, [BIN, ...args], { name: 'xterm', cols: 160, rows: 50, cwd: sb.project, env: { ...sb.env, TERM: 'xterm', ...env } as Record<string, string> });
  let raw = '';
  const watchers = new Set<() => void>();
  term.onData((chunk) => {
    raw += chunk;
    for (const w of [...watchers]) w();
  });
  const exited = new Promise<{ code: number; rows: string[]; raw: string }>((resolve) => {
    term.onExit(({ exitCode }) => resolve({ code: exitCode, rows: playScreen(raw), raw }));
  });
  return {
    raw: () => raw,
    rows: () => playScreen(raw),
    shows: (pattern, ms = 30_000) =>
      new Promise<string[]>((resolve, reject) => {
        const check = (): void => {
          const rows = playScreen(raw);
          if (!pattern.test(rows.join('\n'))) return;
          done();
          resolve(rows);
        };
        // Bounded, so that a screen that never comes fails with what the terminal showed instead.
        const timer = setTimeout(() => (done(), reject(new Error(`the screen did not match ${String(pattern)} in ${ms} ms:\n${playScreen(raw).join('\n')}`))), ms);
        const done = (): void => {
          clearTimeout(timer);
          watchers.delete(check);
        };
        watchers.add(check);
        void exited.then((r) => {
          if (!watchers.has(check)) return;
          done();
          reject(new Error(`exited (${r.code}) before the screen matched ${String(pattern)}:\n${r.rows.join('\n')}`));
        });
        check();
      }),
    type: (text) => term.write(text),
    exited,
  };
}
