/**
 * A V8 `.cpuprofile` (from `node --cpu-prof`) summed for reading: CPU busy time, self time by owner
 * (a file of ours, an npm package, Node's internals, GC) and by function, and time including callees
 * for our own functions (tsc's dist/, so every function keeps its own file). The diagnostics
 * bench/profile-*.ts print it per unit of work (a request, a prompt).
 */
import fs from 'node:fs';
import path from 'node:path';

/** A node of V8's `.cpuprofile`. */
export interface ProfileNode {
  id: number;
  callFrame: { url: string; functionName: string; lineNumber: number };
  children?: number[];
}
/** V8's `.cpuprofile` (times in µs on the monotonic clock). */
export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileSummary {
  busyMs: number;
  selfByOwner: Map<string, number>;
  selfByFunction: Map<string, number>;
  /** Our functions (dist/), time including what they call. */
  totalByFunction: Map<string, number>;
}

/** Who a frame belongs to: a file below `root` (relative), an npm package, `node internals`, or V8's own (`(garbage collector)`). */
export function owner(root: string, url: string, fn: string): string {
  if (!url) return fn.startsWith('(') ? fn : '(native)';
  if (url.startsWith('node:')) return 'node internals';
  const file = url.startsWith('file://') ? decodeURIComponent(new URL(url).pathname) : url;
  const nm = file.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const parts = file.slice(nm + '/node_modules/'.length).split('/');
    return (parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]) ?? file;
  }
  if (file.startsWith(root)) return path.relative(root, file);
  return file;
}

/** Sums the profile in `file`; `root` is the checkout (paths below it are shown relative to it). */
export function summariseProfile(file: string, root: string): ProfileSummary {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const summary: ProfileSummary = { busyMs: 0, selfByOwner: new Map(), selfByFunction: new Map(), totalByFunction: new Map() };
  const add = (m: Map<string, number>, k: string, ms: number) => m.set(k, (m.get(k) ?? 0) + ms);
  const fnName = (n: ProfileNode) => `${n.callFrame.functionName || '(anonymous)'} ${owner(root, n.callFrame.url, n.callFrame.functionName)}:${n.callFrame.lineNumber + 1}`;
  profile.samples.forEach((id, i) => {
    const n = byId.get(id);
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    if (!n || n.callFrame.functionName === '(idle)') return;
    summary.busyMs += ms;
    add(summary.selfByOwner, owner(root, n.callFrame.url, n.callFrame.functionName), ms);
    add(summary.selfByFunction, fnName(n), ms);
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const node = byId.get(at) as ProfileNode;
      if (!node.callFrame.url.startsWith('file://') || !node.callFrame.url.includes('/dist/')) continue;
      const key = fnName(node);
      if (seen.has(key)) continue;
      seen.add(key);
      add(summary.totalByFunction, key, ms);
    }
  });
  return summary;
}

/** The summary as markdown tables, each figure also per unit of work (`units` of `unit`). */
export function profileTables(summary: ProfileSummary, units: number, unit: string, top: number): string[] {
  const per = (ms: number) => `${((ms / units) * 1000).toFixed(0)} µs`;
  const table = (title: string, m: Map<string, number>) => [`| ${title} | ms | per ${unit} |`, '|---|---:|---:|', ...[...m].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, ms]) => `| ${k} | ${ms.toFixed(0)} | ${per(ms)} |`), ''];
  return [
    `CPU busy ${summary.busyMs.toFixed(0)} ms over ${units} ${unit}s: ${per(summary.busyMs)} a ${unit}`,
    '',
    ...table('self time by owner', summary.selfByOwner),
    ...table('self time by function', summary.selfByFunction),
    ...table('time including callees, our functions (dist/)', summary.totalByFunction),
  ];
}

/** CPU time (user + system, ms) a process has used so far, from /proc. */
export function processCpuMs(pid: number): number {
  const st = (fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1] as string).split(' ');
  return (Number(st[11]) + Number(st[12])) * 10;
}
