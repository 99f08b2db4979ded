/**
 * The live (not zombie) processes whose parent is `ppid` and whose command line holds `needle`,
 * read from /proc (Linux): for tests that check a server started or stopped its child processes;
 * and whether one process is still alive (a zombie is not: it has ended, whoever reaps it).
 */
import fs from 'node:fs';

export function childrenOf(ppid: number, needle: string): number[] {
  return fs.readdirSync('/proc').flatMap((entry) => {
    if (!/^\d+$/.test(entry)) return [];
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const [state, parent] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(parent) !== ppid || state === 'Z') return [];
      return fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(needle) ? [Number(entry)] : [];
    } catch {
      return [];
    }
  });
}

/** Whether process `pid` is running (a zombie, ended but not yet reaped, is not). */
export function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] !== 'Z';
  } catch {
    return false;
  }
}
