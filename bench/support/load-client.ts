/**
 * A bench's handle on one long-lived load generator process (bench/support/load.ts --serve): loads
 * run one after another in the same, warmed process, so no load pays for the generator's own start
 * and compilation. Benches that load two targets at once start two generators.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { LoadResult, LoadSpec } from './load.ts';
import { track } from './spawn-ready.ts';

export type { LoadResult, LoadSpec };

export interface LoadGenerator {
  /** Runs one load (after any asked before it) and resolves with its result. */
  run(spec: LoadSpec): Promise<LoadResult>;
  close(): void;
}

export function loadGenerator(): LoadGenerator {
  const child = spawn(process.execPath, [path.join(import.meta.dirname, 'load.ts'), '--serve'], { stdio: ['pipe', 'pipe', 'inherit'] });
  track(child);
  const waiting: { resolve: (r: LoadResult) => void; reject: (e: Error) => void }[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    // A load with no successful request has no percentiles: NaN (JSON carries it as null).
    const result = JSON.parse(line) as LoadResult;
    waiting.shift()?.resolve({ ...result, p50: result.p50 ?? NaN, p99: result.p99 ?? NaN });
  });
  child.on('close', (code) => {
    for (const w of waiting.splice(0)) w.reject(new Error(`load generator exited ${String(code)}`));
  });
  return {
    run: (spec) =>
      new Promise((resolve, reject) => {
        if (child.exitCode !== null || child.signalCode !== null) return reject(new Error('load generator is not running'));
        waiting.push({ resolve, reject });
        child.stdin.write(`${JSON.stringify(spec)}\n`);
      }),
    close: () => child.stdin.end(),
  };
}
