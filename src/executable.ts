/** Programs on disk: whether a path is an executable file, and where a program is on a PATH. */
import fs from 'node:fs';
import path from 'node:path';

/** Whether `file` is a file this process may execute. */
export function isExecutableFile(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** The first executable `name` in the folders of `env.PATH` that `accept` takes (default: any), or undefined. */
export function findOnPath(name: string, env: NodeJS.ProcessEnv, accept: (file: string) => boolean = () => true): string | undefined {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const file = path.join(dir, name);
    if (isExecutableFile(file) && accept(file)) return file;
  }
  return undefined;
}
