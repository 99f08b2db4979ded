/**
 * Where a CLI command's start-up time goes: runs `opencode ARGS…` under `--cpu-prof` (after one
 * warm-up run for Node's compile cache) and sums the profile's self time by owner — an npm
 * package, a file of ours in dist/, Node's internals, the garbage collector — with how many
 * modules of each were loaded. A diagnostic for missed start-up goals, not part of run-all.
 *
 *   npx node bench/profile-startup.ts [--top N] [--cwd DIR] -- --help
 *   npx node bench/profile-startup.ts -- config validate test/fixtures/seed/section-11.json
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { owner, type CpuProfile } from './support/cpu-profile.ts';

const root = path.resolve(import.meta.dirname, '..');
const bin = path.join(root, 'bin', 'opencode.js');
const dash = process.argv.indexOf('--');
const own = dash >= 0 ? process.argv.slice(2, dash) : process.argv.slice(2);
const args = dash >= 0 ? process.argv.slice(dash + 1) : ['--help'];
const flag = (name: string) => {
  const i = own.indexOf(name);
  return i >= 0 ? own[i + 1] : undefined;
};
const TOP = Number(flag('--top') ?? 15);
const cwd = path.resolve(flag('--cwd') ?? process.cwd());

function run(profDir?: string): number {
  const flags = profDir ? ['--cpu-prof', '--cpu-prof-dir', profDir, '--cpu-prof-interval', '100'] : [];
  const started = performance.now();
  const result = spawnSync(process.execPath, [...flags, bin, ...args], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  if (result.status !== 0) process.stderr.write(`note: exit ${String(result.status)}: ${result.stderr.slice(0, 500)}\n`);
  return performance.now() - started;
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pantheon-prof-'));
try {
  run();
  const wall = run();
  run(dir);
  const file = fs.readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error('no .cpuprofile was written');
  const profile = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  const modules = new Map<string, Set<string>>();
  for (const n of profile.nodes) {
    const o = owner(root, n.callFrame.url, n.callFrame.functionName);
    if (n.callFrame.url) (modules.get(o) ?? modules.set(o, new Set()).get(o))?.add(n.callFrame.url);
  }
  profile.samples.forEach((id, i) => {
    const n = byId.get(id);
    if (!n) return;
    const o = owner(root, n.callFrame.url, n.callFrame.functionName);
    self.set(o, (self.get(o) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  const total = (profile.endTime - profile.startTime) / 1000;
  const rows = [...self].sort((a, b) => b[1] - a[1]).slice(0, TOP);
  const ours = (o: string): boolean => /^(dist|bin|src)\//.test(o);
  const pkgs = [...modules].filter(([o]) => !ours(o) && o !== 'node internals').map(([o, s]) => `${o} ${s.size}`);
  process.stdout.write(
    [
      `opencode ${args.join(' ')} — wall ${wall.toFixed(0)} ms without profiler; profile covers ${total.toFixed(0)} ms of the process (main thread, from V8 start)`,
      '',
      '| self ms | share | owner |',
      '|---:|---:|---|',
      ...rows.map(([o, ms]) => `| ${ms.toFixed(1)} | ${((ms / total) * 100).toFixed(0)}% | ${o} |`),
      '',
      `modules seen in the profile, by package: ${pkgs.join(', ') || 'none'}`,
      '',
    ].join('\n'),
  );
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
