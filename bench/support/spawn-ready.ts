/** A Node child process a bench starts and waits on: ready at the first stdout match (a port, a URL). */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..', '..');

/** Every child started here: a bench stopped by Ctrl-C or SIGTERM stops them too (they would keep their ports). */
const started = new Set<ChildProcess>();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    for (const child of started) child.kill('SIGTERM');
    process.exit(signal === 'SIGINT' ? 130 : 143);
  });
}

/** Stops `child` with the bench if the bench is stopped by a signal. */
export function track(child: ChildProcess): ChildProcess {
  started.add(child);
  child.once('exit', () => started.delete(child));
  return child;
}

/** Spawns `node …args` (kept in `children`, for the bench to stop) and resolves with the first match of `ready` on its stdout. */
export function startReady(children: ChildProcess[], args: string[], ready: RegExp, options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<{ match: RegExpExecArray; pid: number | undefined }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: options.cwd ?? root, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(track(child));
    let out = '';
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const m = ready.exec(out);
      if (m) resolve({ match: m, pid: child.pid });
    });
    child.on('close', (code) => reject(new Error(`${args.join(' ')} exited (${String(code)}) before it was ready:\n${err.slice(-500)}`)));
  });
}
