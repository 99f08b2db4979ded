/**
 * The shells a terminal may run (`GET /pty/shells`), and the one it runs by default: the shells
 * /etc/shells lists that exist, as OpenCode lists them (`{path, name, acceptable}`; fish and nu
 * are not acceptable to it: its tools drive shells by POSIX syntax).
 */
import fs from 'node:fs';
import path from 'node:path';

export interface ShellInfo {
  path: string;
  name: string;
  acceptable: boolean;
}

/** Shells started as login shells (`-l`), as OpenCode starts them. */
const LOGIN = new Set(['bash', 'dash', 'fish', 'ksh', 'sh', 'zsh']);
const NOT_ACCEPTABLE = new Set(['fish', 'nu']);

function isFile(file: string): boolean {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

export function listShells(): ShellInfo[] {
  let text = '';
  try {
    text = fs.readFileSync('/etc/shells', 'utf8');
  } catch {
    // No list (not a Unix system): only the user's own shell, below.
  }
  const paths = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.startsWith('/'));
  const own = process.env.SHELL;
  if (own && path.isAbsolute(own) && !paths.includes(own)) paths.push(own);
  return [...new Set(paths)].filter(isFile).map((file) => {
    const name = path.basename(file);
    return { path: file, name, acceptable: !NOT_ACCEPTABLE.has(name) };
  });
}

/** The shell a terminal runs when it names none: $SHELL when it is an acceptable one, else bash, else sh. */
export function preferredShell(env: NodeJS.ProcessEnv): string {
  const own = env.SHELL;
  if (own && path.isAbsolute(own) && isFile(own) && !NOT_ACCEPTABLE.has(path.basename(own))) return own;
  for (const candidate of ['/bin/bash', '/usr/bin/bash', '/bin/sh']) if (isFile(candidate)) return candidate;
  return '/bin/sh';
}

/** Whether `command` is a shell OpenCode starts as a login shell. */
export function loginShell(command: string): boolean {
  return LOGIN.has(path.basename(command));
}
