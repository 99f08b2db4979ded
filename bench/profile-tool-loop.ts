/**
 * Where the tool loop's time between steps goes: runs `opencode run` (read → read → answer against
 * the scripted server) under `--cpu-prof` and prints, for each gap between a response's end and the
 * next request's start (the server's and the profile's clocks are both the monotonic clock), the
 * self time by function and owner, and how much of the gap the main thread was idle. A diagnostic
 * for the tool-loop goal, not part of run-all.
 *
 *   npx node bench/profile-tool-loop.ts [--top N] [--interval µs] [--src]
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startScriptedServer } from '../test/support/openai-server.ts';
import { tempProject } from './support/measure.ts';

interface ProfileNode {
  id: number;
  callFrame: { url: string; functionName: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const root = path.resolve(import.meta.dirname, '..');
// --src: run src/cli/main.ts (Node strips the types) so frames name our files and the packages'.
const bin = process.argv.includes('--src') ? process.env.PROFILE_MAIN ?? '' : path.join(root, 'bin', 'opencode.js');
const flag = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const TOP = Number(flag('--top') ?? 25);
const INTERVAL = Number(flag('--interval') ?? 100);
const KEY = 'sk-bench-0123456789';
const ANSWER = 'The two files agree.';
/** Milliseconds on the monotonic clock, the clock V8's profile timestamps use (in µs). */
const monoMs = (): number => Number(process.hrtime.bigint() / 1000n) / 1000;

function owner(url: string, fn: string): string {
  if (!url) return fn.startsWith('(') ? fn : '(native)';
  if (url.startsWith('node:')) return 'node';
  const file = url.startsWith('file://') ? decodeURIComponent(new URL(url).pathname) : url;
  const nm = file.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const parts = file.slice(nm + '/node_modules/'.length).split('/');
    return (parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]) ?? file;
  }
  return file.startsWith(root) ? path.relative(root, file) : file;
}

const server = await startScriptedServer({ apiKey: KEY, now: monoMs, models: { 'bench-model': { default: { type: 'text', text: ANSWER } } } });
const tmp = tempProject('profile-tool-loop');
try {
  fs.writeFileSync(path.join(tmp.project, 'a.txt'), 'alpha\n'.repeat(50));
  fs.writeFileSync(path.join(tmp.project, 'b.txt'), 'beta\n'.repeat(50));
  const config = { model: 'local/m', provider: { local: { options: { baseURL: server.url, apiKey: KEY }, models: { m: { id: 'bench-model' } } } } };
  fs.writeFileSync(path.join(tmp.project, 'opencode.json'), JSON.stringify(config, null, 2));
  const profDir = path.join(tmp.project, '.prof');
  const once = async (prof: boolean) => {
    server.script(
      'bench-model',
      { type: 'tool_calls', calls: [{ name: 'read', arguments: { filePath: 'a.txt' } }] },
      { type: 'tool_calls', calls: [{ name: 'read', arguments: { filePath: 'b.txt' } }] },
      { type: 'text', text: ANSWER },
    );
    const before = server.log.length;
    const flags = prof ? ['--cpu-prof', '--cpu-prof-dir', profDir, '--cpu-prof-interval', String(INTERVAL)] : [];
    // Not spawnSync: the scripted server answers from this process's event loop.
    const child = spawn(process.execPath, [...flags, bin, 'run', '--no-cache', 'Compare a.txt and b.txt'], { cwd: tmp.project, env: tmp.env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    if (code !== 0) throw new Error(stderr);
    return server.log.slice(before);
  };
  await once(false);
  await once(false);
  const made = await once(true);
  const file = fs.readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error('no profile');
  const p = JSON.parse(fs.readFileSync(path.join(profDir, file), 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // Sample i's time (ms, monotonic).
  const times: number[] = [];
  let t = p.startTime;
  for (const d of p.timeDeltas) {
    t += d;
    times.push(t / 1000);
  }
  const frame = (n: ProfileNode): string => `${n.callFrame.functionName || '(anon)'} ${owner(n.callFrame.url, n.callFrame.functionName)}:${n.callFrame.lineNumber + 1}`;
  for (let g = 1; g < made.length; g++) {
    const from = made[g - 1]?.endedAt ?? 0;
    const to = made[g]?.startedAt ?? 0;
    const self = new Map<string, number>();
    const incl = new Map<string, number>();
    let idle = 0;
    let total = 0;
    p.samples.forEach((id, i) => {
      const at = times[i] ?? 0;
      if (at < from || at > to) return;
      const dt = (p.timeDeltas[i + 1] ?? INTERVAL) / 1000;
      total += dt;
      const n = byId.get(id);
      if (!n) return;
      if (n.callFrame.functionName === '(idle)') idle += dt;
      self.set(frame(n), (self.get(frame(n)) ?? 0) + dt);
      const seen = new Set<string>();
      for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
        const c = byId.get(cur);
        if (!c) break;
        const o = frame(c);
        if (seen.has(o)) continue;
        seen.add(o);
        incl.set(o, (incl.get(o) ?? 0) + dt);
      }
    });
    process.stdout.write(`\n## gap ${g}: ${(to - from).toFixed(1)} ms (profile samples cover ${total.toFixed(1)} ms, idle ${idle.toFixed(1)} ms)\n`);
    process.stdout.write('self:\n');
    for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, TOP)) process.stdout.write(`  ${v.toFixed(2)}  ${k}\n`);
    process.stdout.write('inclusive:\n');
    for (const [k, v] of [...incl].sort((a, b) => b[1] - a[1]).slice(0, TOP * 2)) process.stdout.write(`  ${v.toFixed(2)}  ${k}\n`);
  }
} finally {
  await server.close();
  tmp.cleanup();
}
