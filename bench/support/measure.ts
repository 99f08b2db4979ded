/**
 * Measuring child processes: wall time from the parent (spawn to exit), peak RSS and CPU time
 * (user + system, much less sensitive to a busy machine than wall time) from `/usr/bin/time`. Cases run interleaved (A B C, A B C, …) so background load on a busy
 * machine falls on every case alike; medians are reported.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const TIME = '/usr/bin/time';

export interface CommandCase {
  name: string;
  command: string;
  args: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Throws when a run's output is not what the benchmark expects (a broken run is not a fast run). */
  check?: (result: RunResult, warmup: boolean) => void;
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  wallMs: number;
  /** Wall-clock (epoch ms) of the spawn and of the exit, to line up with a server's log. */
  spawnedAt: number;
  exitedAt: number;
  /** Peak resident set size in KiB, or undefined without /usr/bin/time. */
  rssKiB: number | undefined;
  /** CPU time (user + system) in ms, or undefined without /usr/bin/time. */
  cpuMs: number | undefined;
}

export interface CaseStats {
  name: string;
  runs: number;
  wallMs: { median: number; min: number; max: number };
  /** Median of the runs' peak RSS, in MiB. */
  rssMiB: number | undefined;
  /** Median of the runs' CPU time (user + system), in ms. */
  cpuMs: number | undefined;
}

export const hasTime = fs.existsSync(TIME);

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export function loadAverage(): string {
  return os.loadavg().map((n) => n.toFixed(2)).join(' ');
}

/** Runs one command once under /usr/bin/time and measures it. */
export function runOnce(c: CommandCase): Promise<RunResult> {
  const rssFile = path.join(os.tmpdir(), `pantheon-bench-rss-${process.pid}-${Math.random().toString(36).slice(2)}`);
  const [cmd, args] = hasTime ? [TIME, ['-f', '%M %U %S', '-o', rssFile, c.command, ...c.args]] : [c.command, c.args];
  return new Promise((resolve, reject) => {
    const spawnedAt = Date.now();
    const started = performance.now();
    const child = spawn(cmd, args, { cwd: c.cwd, env: c.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const wallMs = performance.now() - started;
      const exitedAt = Date.now();
      let rssKiB: number | undefined;
      let cpuMs: number | undefined;
      if (hasTime) {
        const [rss, user, sys] = (fs.readFileSync(rssFile, 'utf8').trim().split('\n').pop() ?? '').split(' ').map(Number);
        fs.rmSync(rssFile, { force: true });
        rssKiB = Number.isFinite(rss) ? rss : undefined;
        cpuMs = Number.isFinite(user) && Number.isFinite(sys) ? ((user as number) + (sys as number)) * 1000 : undefined;
      }
      resolve({ code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), wallMs, spawnedAt, exitedAt, rssKiB, cpuMs });
    });
  });
}

function verify(c: CommandCase, result: RunResult, warmup: boolean): void {
  if (c.check) c.check(result, warmup);
  else if (result.code !== 0) throw new Error(`${c.name}: exit code ${String(result.code)}\n${result.stderr.slice(0, 2000)}`);
}

/**
 * Runs every case `warmups` times, then `runs` times, interleaved; every run is checked.
 * Progress dots go to stderr.
 */
export async function measureCases(cases: readonly CommandCase[], opts: { runs: number; warmups: number }): Promise<CaseStats[]> {
  const walls = cases.map(() => [] as number[]);
  const rss = cases.map(() => [] as number[]);
  const cpu = cases.map(() => [] as number[]);
  for (let round = 0; round < opts.warmups + opts.runs; round++) {
    for (const [i, c] of cases.entries()) {
      const result = await runOnce(c);
      verify(c, result, round < opts.warmups);
      if (round < opts.warmups) continue;
      walls[i]?.push(result.wallMs);
      if (result.rssKiB !== undefined) rss[i]?.push(result.rssKiB);
      if (result.cpuMs !== undefined) cpu[i]?.push(result.cpuMs);
    }
    process.stderr.write('.');
  }
  process.stderr.write('\n');
  return cases.map((c, i) => {
    const w = walls[i] ?? [];
    const r = rss[i] ?? [];
    return {
      name: c.name,
      runs: w.length,
      wallMs: { median: median(w), min: Math.min(...w), max: Math.max(...w) },
      rssMiB: r.length ? median(r) / 1024 : undefined,
      cpuMs: cpu[i]?.length ? median(cpu[i] ?? []) : undefined,
    };
  });
}

/** `42 ms · 48 MiB` (wall, peak RSS; medians) */
export function wallAndRss(s: CaseStats): string {
  return `${s.wallMs.median.toFixed(0)} ms · ${s.rssMiB === undefined ? 'n/a' : `${s.rssMiB.toFixed(0)} MiB`}`;
}

/** `42 ms · CPU 38 ms · 48 MiB` (wall, user + system CPU, peak RSS; medians) */
export function wallCpuRss(s: CaseStats): string {
  return `${s.wallMs.median.toFixed(0)} ms · CPU ${s.cpuMs === undefined ? 'n/a' : `${s.cpuMs.toFixed(0)} ms`} · ${s.rssMiB === undefined ? 'n/a' : `${s.rssMiB.toFixed(0)} MiB`}`;
}

/**
 * The value of a bench's numeric flag (`--rounds 3`), else `fallback`; anything but a number of at
 * least `min` stops the bench with one sentence and exit code 2.
 */
export function numberFlag(name: string, fallback: number, min = 1): number {
  const at = process.argv.indexOf(name);
  if (at < 0) return fallback;
  const given = process.argv[at + 1];
  const value = Number(given);
  if (given === undefined || given.trim() === '' || !Number.isFinite(value) || value < min) {
    process.stderr.write(`error: ${name}: expected a number of at least ${min}, found ${given === undefined ? 'nothing' : JSON.stringify(given)}.\nhint: e.g. ${name} ${Math.max(min, fallback)}\n`);
    process.exit(2);
  }
  return value;
}

/** `--runs N` or `--quick` (a few runs, for a loaded machine or a first look), else `full`. */
export function runsFromArgv(full: number, quick: number): number {
  return numberFlag('--runs', process.argv.includes('--quick') ? quick : full);
}

/** A hermetic place to run the CLI: a project folder (with `.git`, so discovery stops there) and empty XDG folders. */
export function tempProject(prefix: string): { root: string; project: string; env: NodeJS.ProcessEnv; cleanup: () => void } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `pantheon-bench-${prefix}-`));
  const project = path.join(root, 'project');
  fs.mkdirSync(path.join(project, '.git'), { recursive: true });
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: root,
    NO_COLOR: '1',
    XDG_CONFIG_HOME: path.join(root, 'config'),
    XDG_DATA_HOME: path.join(root, 'data'),
    XDG_CACHE_HOME: path.join(root, 'cache'),
  };
  return { root, project, env, cleanup: () => fs.rmSync(root, { recursive: true, force: true }) };
}

/** Writes the benches' project config: one model `local/m` (the scripted server's `bench-model`) with `key`, plus `extra` top-level settings. */
export function writeLocalConfig(project: string, baseURL: string, key: string, extra: Record<string, unknown> = {}): void {
  const config = { model: 'local/m', ...extra, provider: { local: { options: { baseURL, apiKey: key }, models: { m: { id: 'bench-model' } } } } };
  fs.writeFileSync(path.join(project, 'opencode.json'), JSON.stringify(config, null, 2));
}
