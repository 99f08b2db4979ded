/**
 * Where the server started for OpenCode's TUI writes its messages: a file of its own per session
 * (two TUIs at once do not write over each other), readable by this user alone, in
 * `<state>/tui-server/`, named for when it started and the launcher's pid
 * (`20261207T134900Z-4242.log`). Each new session removes the oldest logs past the newest
 * KEPT_LOGS, except those of launchers still running, so the folder stays small.
 */
import fs from 'node:fs';
import path from 'node:path';
import { stateDir } from '../../paths.ts';
import { processAlive } from '../../pid-lock.ts';

/** How many logs are kept: the newest, this session's included. */
export const KEPT_LOGS = 10;

const NAME = /^\d{8}T\d{6}Z-(\d+)\.log$/;

export function serverLogDir(env: NodeJS.ProcessEnv): string {
  return path.join(stateDir(env), 'tui-server');
}

function stamp(now: Date): string {
  // 2026-12-07T13:49:00.123Z → 20261207T134900Z: sorts as it happened.
  return `${now.toISOString().slice(0, 19).replace(/[-:]/g, '')}Z`;
}

/** Removes the logs older than the newest `keep` whose launcher has exited; another launcher pruning at the same time is no error. */
export function pruneServerLogs(dir: string, keep = KEPT_LOGS): void {
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((name) => NAME.test(name));
  } catch {
    return;
  }
  names.sort();
  for (const name of names.slice(0, Math.max(0, names.length - keep))) {
    const pid = Number(NAME.exec(name)?.[1]);
    if (pid === process.pid || processAlive(pid)) continue;
    fs.rmSync(path.join(dir, name), { force: true });
  }
}

/** Makes this session's log (0600, in a 0700 folder) and prunes the old ones; the caller closes `fd`. */
export function openServerLog(env: NodeJS.ProcessEnv, now = new Date()): { file: string; fd: number } {
  const dir = serverLogDir(env);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, `${stamp(now)}-${process.pid}.log`);
  const fd = fs.openSync(file, 'w', 0o600);
  // A file already there (made by hand) is this user's alone from now on too.
  fs.fchmodSync(fd, 0o600);
  pruneServerLogs(dir);
  return { file, fd };
}
