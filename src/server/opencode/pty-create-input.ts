/**
 * What `POST /pty` is given, checked before anything is started: no NUL in what becomes a C string
 * of the child, a folder that exists, a program that can be run. Each refusal a 400 naming the field.
 */
import fs from 'node:fs';
import path from 'node:path';
import { HttpError } from '../http-error.ts';
import type { PtyCreate } from './terminals.ts';
import { findOnPath, isExecutableFile } from '../../executable.ts';

function badField(field: string, message: string, hint: string): HttpError {
  return new HttpError(400, 'BAD_REQUEST', `${field}: ${message}`, { hint, details: { field } });
}

function isDirectory(dir: string): boolean {
  try {
    return fs.statSync(dir).isDirectory();
  } catch {
    return false;
  }
}


/** Whether `command` can be run: a path to an executable file, or a name found on PATH. */
function runnable(command: string, cwd: string, env: Record<string, string>): boolean {
  if (command.includes('/')) return isExecutableFile(path.resolve(cwd, command));
  return findOnPath(command, env) !== undefined;
}

/** No NUL in what becomes a C string of the child (its program, arguments, folder, environment), no `=` in a variable's name. */
function checkStrings(input: PtyCreate): void {
  const hint = 'Send text without NUL characters.';
  if (input.command?.includes('\0')) throw badField('command', 'contains a NUL character.', hint);
  if (input.cwd?.includes('\0')) throw badField('cwd', 'contains a NUL character.', hint);
  input.args?.forEach((arg, i) => {
    if (arg.includes('\0')) throw badField(`args[${i}]`, 'contains a NUL character.', hint);
  });
  for (const [name, value] of Object.entries(input.env ?? {})) {
    if (name === '' || name.includes('=') || name.includes('\0')) throw badField(`env`, `${JSON.stringify(name.slice(0, 100))} is not a variable name.`, 'Name variables without "=" or NUL characters.');
    if (value.includes('\0')) throw badField(`env.${name}`, 'contains a NUL character.', hint);
  }
}

/** The folder to start in (absolute, or relative to the request's folder), after checking every string of the input. */
export function checkedCwd(input: PtyCreate, directory: string): string {
  checkStrings(input);
  const cwd = input.cwd ? path.resolve(directory, input.cwd) : directory;
  if (!isDirectory(cwd)) throw badField('cwd', `${JSON.stringify(cwd.slice(0, 300))} is not a folder.`, 'Give an existing folder (absolute, or relative to the project).');
  return cwd;
}

/** The program to run, once it is known to be runnable. */
export function checkedCommand(command: string, cwd: string, env: Record<string, string>): string {
  if (!runnable(command, cwd, env)) throw badField('command', `${JSON.stringify(command.slice(0, 300))} is not an executable file, nor a program found on PATH.`, 'Name a program on PATH or give its path; leave it out for the default shell (GET /pty/shells lists them).');
  return command;
}
