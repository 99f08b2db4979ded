/**
 * Where the tool loop's time between steps goes: runs `opencode run` (read → read → answer against
 * the scripted server) under `--cpu-prof` several times and sums, over the gaps between a
 * response's end and the next request's start (the server's and the profile's clocks are both the
 * monotonic clock), the self and inclusive time by function and by module. Frames in the bundle are
 * named by their module when it was built with whitespace kept (`BUNDLE_KEEP_WHITESPACE=1 npx node
 * scripts/build-cli.ts`: esbuild's `// path` comment opens each module). A diagnostic for the
 * tool-loop goal, not part of run-all. The first runs (not profiled) write the code cache, as a
 * tool-loop run would.
 *
 * `--delay MS`: every answer comes MS ms after its request, as a real model's first token does.
 *
 *   npx node bench/profile-tool-loop.ts [--runs N] [--top N] [--interval µs] [--gap 1|2] [--callers FUNCTION] [--delay MS]
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startScriptedServer } from '../test/support/openai-server.ts';
import type { CpuProfile, ProfileNode } from './support/cpu-profile.ts';
import { tempProject } from './support/measure.ts';

const root = path.resolve(import.meta.dirname, '..');
const bin = path.join(root, 'bin', 'opencode.js');
const bundle = path.join(root, 'dist', 'bin', 'opencode.cjs');
const flag = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const TOP = Number(flag('--top') ?? 30);
const RUNS = Number(flag('--runs') ?? 5);
const INTERVAL = Number(flag('--interval') ?? 200);
const ONLY_GAP = flag('--gap') === undefined ? undefined : Number(flag('--gap'));
/** --callers NAME: the stacks (outermost of ours last) under which frames named NAME ran. */
const CALLERS = flag('--callers');
const DELAY = Number(flag('--delay') ?? 0) > 0 ? { delayMs: Number(flag('--delay')) } : {};
const KEY = 'sk-bench-0123456789';
const ANSWER = 'The two files agree.';
/** Milliseconds on the monotonic clock, the clock V8's profile timestamps use (in µs). */
const monoMs = (): number => Number(process.hrtime.bigint() / 1000n) / 1000;

/** Bundle line → module (`ai`, `src/tools/read.ts`), from esbuild's comments; empty for a minified bundle. */
const bundleModules: { line: number; module: string }[] = [];
fs.readFileSync(bundle, 'utf8')
  .split('\n')
  .forEach((text, i) => {
    const file = /^\/\/ (\S+\.[cm]?[jt]sx?)$/.exec(text)?.[1];
    if (!file) return;
    const nm = file.lastIndexOf('node_modules/');
    const module = nm >= 0 ? file.slice(nm + 'node_modules/'.length).replace(/^((?:@[^/]+\/)?[^/]+)\/.*/, '$1') : file;
    bundleModules.push({ line: i, module });
  });

function bundleModule(line: number): string {
  let found = 'bundle';
  for (const m of bundleModules) {
    if (m.line > line) break;
    found = m.module;
  }
  return found;
}

function owner(url: string, fn: string, line: number): string {
  if (!url) return fn.startsWith('(') ? fn : '(native)';
  if (url.startsWith('node:')) return 'node';
  if (url.endsWith('.cjs')) return bundleModule(line);
  const file = url.startsWith('file://') ? decodeURIComponent(new URL(url).pathname) : url;
  return file.startsWith(root) ? path.relative(root, file) : file;
}

const add = (m: Map<string, number>, k: string, v: number): void => void m.set(k, (m.get(k) ?? 0) + v);
const top = (m: Map<string, number>, n: number, runs: number): string[] =>
  [...m]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, v]) => `  ${(v / runs).toFixed(2).padStart(6)}  ${k}`);

const server = await startScriptedServer({ apiKey: KEY, now: monoMs, models: { 'bench-model': { default: { type: 'text', text: ANSWER } } } });
const tmp = tempProject('profile-tool-loop');
try {
  fs.writeFileSync(path.join(tmp.project, 'a.txt'), 'alpha\n'.repeat(50));
  fs.writeFileSync(path.join(tmp.project, 'b.txt'), 'beta\n'.repeat(50));
  const config = { model: 'local/m', provider: { local: { options: { baseURL: server.url, apiKey: KEY }, models: { m: { id: 'bench-model' } } } } };
  fs.writeFileSync(path.join(tmp.project, 'opencode.json'), JSON.stringify(config, null, 2));
  const profDir = path.join(tmp.root, 'prof');
  const cacheDir = path.join(tmp.root, 'compile-cache');
  const once = async (prof: boolean) => {
    server.script(
      'bench-model',
      { type: 'tool_calls', calls: [{ name: 'read', arguments: { filePath: 'a.txt' } }], ...DELAY },
      { type: 'tool_calls', calls: [{ name: 'read', arguments: { filePath: 'b.txt' } }], ...DELAY },
      { type: 'text', text: ANSWER, ...DELAY },
    );
    const before = server.log.length;
    fs.rmSync(profDir, { recursive: true, force: true });
    const flags = prof ? ['--cpu-prof', '--cpu-prof-dir', profDir, '--cpu-prof-interval', String(INTERVAL)] : [];
    // Not spawnSync: the scripted server answers from this process's event loop.
    const child = spawn(process.execPath, [...flags, bin, 'run', '--no-cache', 'Compare a.txt and b.txt'], {
      cwd: tmp.project,
      env: { ...tmp.env, NODE_COMPILE_CACHE: cacheDir },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    if (code !== 0) throw new Error(stderr);
    return server.log.slice(before);
  };
  await once(false);
  await once(false);
  const self = new Map<string, number>();
  const incl = new Map<string, number>();
  const byModule = new Map<string, number>();
  const callers = new Map<string, number>();
  let gapMs = 0;
  let covered = 0;
  for (let r = 0; r < RUNS; r++) {
    const made = await once(true);
    const file = fs.readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
    if (!file) throw new Error('no profile');
    const p = JSON.parse(fs.readFileSync(path.join(profDir, file), 'utf8')) as CpuProfile;
    const byId = new Map(p.nodes.map((n) => [n.id, n]));
    const parent = new Map<number, number>();
    for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const frame = (n: ProfileNode): string => `${n.callFrame.functionName || '(anon)'} ${owner(n.callFrame.url, n.callFrame.functionName, n.callFrame.lineNumber)}`;
    // Sample i was taken at times[i] and stands for the time until the next one.
    const times: number[] = [];
    let t = p.startTime;
    for (const d of p.timeDeltas) times.push((t += d) / 1000);
    for (let g = 1; g < made.length; g++) {
      if (ONLY_GAP !== undefined && g !== ONLY_GAP) continue;
      const from = made[g - 1]?.endedAt ?? 0;
      const to = made[g]?.startedAt ?? 0;
      gapMs += to - from;
      p.samples.forEach((id, i) => {
        const at = times[i] ?? 0;
        if (at < from || at > to) return;
        // A sample stands for at most two intervals: a longer wait for the next one is time the
        // process was not running (another process had the core), not time in this frame.
        const dt = Math.min((times[i + 1] ?? at) - at, to - at, (2 * INTERVAL) / 1000);
        covered += dt;
        const n = byId.get(id);
        if (!n) return;
        add(self, frame(n), dt);
        add(byModule, owner(n.callFrame.url, n.callFrame.functionName, n.callFrame.lineNumber), dt);
        if (CALLERS) {
          const stack: string[] = [];
          for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
            const c = byId.get(cur);
            if (c) stack.push(frame(c));
          }
          const at = stack.findIndex((f) => f.startsWith(`${CALLERS} `));
          if (at >= 0) add(callers, stack.slice(at, at + 12).join(' < '), dt);
        }
        const seen = new Set<string>();
        for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
          const c = byId.get(cur);
          if (!c) break;
          const k = frame(c);
          if (!seen.has(k)) add(incl, k, dt);
          seen.add(k);
        }
      });
    }
  }
  process.stdout.write(
    [
      `${RUNS} profiled runs; per run: gaps ${(gapMs / RUNS).toFixed(1)} ms (samples cover ${(covered / RUNS).toFixed(1)} ms)${ONLY_GAP ? `, gap ${ONLY_GAP} only` : ''}`,
      'self ms per run, by module:',
      ...top(byModule, TOP, RUNS),
      'self ms per run, by function:',
      ...top(self, TOP, RUNS),
      'inclusive ms per run:',
      ...top(incl, TOP * 2, RUNS),
      ...(CALLERS ? [`stacks under ${CALLERS}:`, ...top(callers, TOP, RUNS)] : []),
      '',
    ].join('\n'),
  );
} finally {
  await server.close();
  tmp.cleanup();
}
