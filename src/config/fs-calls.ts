/**
 * The asynchronous file calls config loading makes, on `node:fs`'s callback API. `node:fs/promises`
 * loads readline, the REPL's history, the file watchers and the stream utilities along with it:
 * ~1.3 MiB and a few ms of every command that reads a config and nothing else from the disk
 * (`config validate`; docs/performance.md, issue #18). Errors are node:fs's own (`code`, `path`, `syscall`).
 */
import fs from 'node:fs';

function call<T>(run: (done: (error: NodeJS.ErrnoException | null, value: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => run((error, value) => (error ? reject(error) : resolve(value))));
}

export const stat = (file: string): Promise<fs.Stats> => call((done) => fs.stat(file, done));
export const readUtf8 = (file: string): Promise<string> => call((done) => fs.readFile(file, 'utf8', done));
export const readlink = (file: string): Promise<string> => call((done) => fs.readlink(file, done));
export const readdir = (dir: string): Promise<string[]> => call((done) => fs.readdir(dir, done));
export const open = (file: string, flags: number): Promise<number> => call((done) => fs.open(file, flags, done));
export const fstat = (fd: number): Promise<fs.Stats> => call((done) => fs.fstat(fd, done));
export const read = (fd: number, buffer: Buffer): Promise<number> => call((done) => fs.read(fd, buffer, 0, buffer.length, null, done));
export const close = (fd: number): Promise<void> => call<void>((done) => fs.close(fd, (error) => done(error ?? null, undefined)));
