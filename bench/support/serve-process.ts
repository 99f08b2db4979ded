/** `opencode serve` (the built CLI) as a child process, for the benches that time or use it. */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

const bin = path.resolve(import.meta.dirname, '..', '..', 'bin', 'opencode.js');
const READY = /opencode server listening on (http:\/\/\S+)/;

export interface Served {
  url: string;
  child: ChildProcess;
  readyMs: number;
  stop(): Promise<void>;
}

/** Spawns `opencode serve --port=0` and resolves at its readiness line, with the time it took. */
/** `at.bin`: another build's bin/opencode.js (bench/compare-builds.ts); default this checkout's. */
export function startServe(at: { cwd: string; env: NodeJS.ProcessEnv; bin?: string }): Promise<Served> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [at.bin ?? bin, 'serve', '--port=0'], { cwd: at.cwd, env: at.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const exited = new Promise<void>((done) => child.on('close', () => done()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = READY.exec(out);
      if (!m) return;
      resolve({
        url: m[1] as string,
        child,
        readyMs: performance.now() - started,
        async stop() {
          child.kill('SIGTERM');
          await exited;
        },
      });
    });
    child.on('error', reject);
    void exited.then(() => reject(new Error(`serve exited before it was ready:\n${err}`)));
  });
}

/** Resident and peak memory of a process (MiB), from /proc. */
