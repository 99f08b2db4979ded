/**
 * A server's V8 helper threads (its compilers and the GC's helpers) run below the thread that
 * answers requests. A server that has just come to a busier load compiles its hot functions again
 * on those threads (V8's tier-up) while the requests keep coming; on two cores shared with its
 * clients and providers, the compilations took the cores from the request thread for tens of
 * milliseconds, and that burst was the gateway's p99 on its first load at 500 req/s (measured:
 * docs/performance.md, twenty-seventh session). At nice +10 they still run on any idle core and
 * get ~10 % of a busy one, so the code still tiers up, a little later; a server started with
 * `nice` keeps its helpers 10 below itself. Linux only (elsewhere thread priorities are not per
 * thread, or not readable from /proc): a no-op there.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/** How much nicer than the request thread the helper threads run (its own nice value stays; 19 at most). */
export const HELPER_NICE = 10;

/** Node's names for V8's worker threads: `V8Worker` (the pinned Node), `V8 DefaultWorke` in older ones (cut at 15 characters). */
const HELPER_NAME = /^V8(?:Worker| DefaultWorke)/;

/** Lowers the priority of this process's V8 helper threads; returns how many it lowered (0 where it cannot). */
export function lowerHelperThreads(): number {
  if (process.platform !== 'linux') return 0;
  let lowered = 0;
  let tasks: string[];
  let nice: number;
  try {
    tasks = readdirSync('/proc/self/task');
    nice = Math.min(19, getPriority() + HELPER_NICE);
  } catch {
    return 0;
  }
  for (const tid of tasks) {
    try {
      if (!HELPER_NAME.test(readFileSync(`/proc/self/task/${tid}/comm`, 'utf8'))) continue;
      setPriority(Number(tid), nice);
      lowered += 1;
    } catch {
      // A thread gone meanwhile, or a system that refuses: the server runs as it is.
    }
  }
  return lowered;
}
