/**
 * Searching files' lines with a JavaScript regular expression in bounded time, off the main thread:
 * the engine of the `grep` tool and of the server's `GET /find`. A pattern that backtracks without
 * end (`(a+)+$` against a long line of `a`s) would hold a thread for hours, so the lines are tested
 * in a worker thread (regex-worker-source.ts) while the main thread goes on serving; a watchdog
 * stops the worker when one file has taken the pattern over FILE_BUDGET_MS (RegexTimeoutError
 * names the file), and the worker itself stops between files at the search's deadline.
 *
 * One worker is kept warm (unreferenced while idle: it keeps no process alive) after the first
 * search; a search that starts while every worker is busy gets a new one, up to MAX_WORKERS at a
 * time (others wait their turn). A worker stopped by the watchdog or an abort is replaced on the next
 * search (~40 ms to start one). JavaScript's own engine runs the pattern, so its syntax and meaning
 * are exactly JavaScript's (lookarounds and backreferences included), as the tools promise.
 */
import type * as WorkerThreads from 'node:worker_threads';
import { BINARY_EXTENSION_LIST } from './binary.ts';
import { REGEX_WORKER_SOURCE } from './regex-worker-source.ts';

/** The longest one file may take the pattern before the search is stopped. */
export const FILE_BUDGET_MS = 2_000;
/** Workers searching at once; a search past them waits for one to finish. */
const MAX_WORKERS = 4;
/** A worker's heap: lines of a file of at most 1 MB and the matches kept. */
const WORKER_HEAP_MB = 256;

/** A line of a file that matched: its number (from 1), its text (cut to `keepChars`), its end (`\n`, `\r\n`, or none at the file's end), and the byte offset where it starts. */
export interface LineMatch {
  /** The index of its file in the search's `files`. */
  file: number;
  line: number;
  text: string;
  end: string;
  offset: number;
  /** With `submatches`: each match in the line, byte offsets from the line's start. */
  submatches?: { match: { text: string }; start: number; end: number }[];
}

export interface RegexSearch {
  /** The pattern, already checked with `new RegExp(source, flags)`. */
  source: string;
  flags?: string;
  /** Absolute paths, searched in this order. Symlinks, files over `maxBytes` and binary files are skipped. */
  files: string[];
  maxBytes: number;
  /** Matches answered in full (the rest are counted). */
  keep: number;
  /** A kept match's text is cut to this many characters. */
  keepChars: number;
  /** The search ends at this many matches (default: every file is searched). */
  stopAfter?: number;
  /** Each kept match's submatches too, at most this many a line. */
  submatches?: number;
  /** Date.now() after which no further file is begun. */
  deadline: number;
  signal?: AbortSignal;
}

export interface RegexSearchResult {
  matches: LineMatch[];
  /** Every matching line found, kept or not. */
  total: number;
  /** Files skipped for being over `maxBytes`. */
  large: number;
  /** Files whose lines were tested. */
  searched: number;
  /** Why the search ended before the last file: its deadline, or `stopAfter` matches. */
  stopped?: 'deadline' | 'limit';
}

/** The pattern ran over FILE_BUDGET_MS on one file, and the search was stopped. */
export class RegexTimeoutError extends Error {
  readonly file: string;
  readonly seconds: number;
  constructor(file: string, seconds: number) {
    super(`the pattern took over ${seconds} s on ${file}`);
    this.name = 'RegexTimeoutError';
    this.file = file;
    this.seconds = seconds;
  }
}

/** The pattern failed in the worker (a stack or memory limit). */
export class RegexFailedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RegexFailedError';
  }
}

/** Advice for a pattern that ran too long, for the tool error and the HTTP answer alike. */
export const SLOW_PATTERN_ADVICE = 'nested or overlapping quantifiers such as (a+)+ or (x+x+)+y take exponential time on a long line; anchor it, use a literal prefix, or narrow the files searched';

interface WorkerAnswer {
  id: number;
  result?: RegexSearchResult;
  error?: string;
}

interface Slot {
  worker: WorkerThreads.Worker;
  state: BigInt64Array;
  /** Set while the worker runs a search. */
  job?: (answer: WorkerAnswer | Error) => void;
}

let warm: Slot | undefined;
let running = 0;
const waiting: (() => void)[] = [];
let nextId = 0;

function startWorker(): Slot {
  const { Worker } = process.getBuiltinModule('node:worker_threads') as typeof WorkerThreads;
  const shared = new SharedArrayBuffer(2 * BigInt64Array.BYTES_PER_ELEMENT);
  const worker = new Worker(REGEX_WORKER_SOURCE, {
    eval: true,
    workerData: { state: shared, binaryExtensions: BINARY_EXTENSION_LIST },
    resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB },
  });
  const slot: Slot = { worker, state: new BigInt64Array(shared) };
  worker.on('message', (answer: WorkerAnswer) => slot.job?.(answer));
  worker.on('error', (error) => slot.job?.(new RegexFailedError(`the search failed: ${error.message}`)));
  worker.on('exit', () => {
    if (warm === slot) warm = undefined;
    slot.job?.(new RegexFailedError('the search stopped unexpectedly'));
  });
  return slot;
}

async function takeSlot(): Promise<Slot> {
  while (running >= MAX_WORKERS) await new Promise<void>((resolve) => waiting.push(resolve));
  running++;
  const slot = warm ?? startWorker();
  if (slot === warm) warm = undefined;
  slot.worker.ref();
  return slot;
}

function releaseSlot(slot: Slot, healthy: boolean): void {
  running--;
  waiting.shift()?.();
  if (healthy && !warm) {
    warm = slot;
    slot.worker.unref();
  } else {
    void slot.worker.terminate();
  }
}

/**
 * Searches the files' lines for the pattern in a worker thread. Rejects with RegexTimeoutError
 * (naming the file) when one file takes over FILE_BUDGET_MS, with the signal's reason when aborted,
 * and with RegexFailedError when the worker fails.
 */
export async function searchFiles(search: RegexSearch): Promise<RegexSearchResult> {
  search.signal?.throwIfAborted();
  const slot = await takeSlot();
  const id = nextId++;
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  let healthy = false;
  try {
    return await new Promise<RegexSearchResult>((resolve, reject) => {
      const stop = (error: unknown) => {
        slot.job = undefined;
        void slot.worker.terminate();
        reject(error);
      };
      slot.job = (answer) => {
        if (!(answer instanceof Error) && answer.id !== id) return;
        slot.job = undefined;
        if (answer instanceof Error) return reject(answer);
        if (answer.error !== undefined) {
          healthy = true;
          return reject(new RegexFailedError(answer.error));
        }
        healthy = true;
        resolve(answer.result as RegexSearchResult);
      };
      // The watchdog: wakes when the file being searched could have run out its budget, and stops the worker if it has.
      const watch = (wait: number) => {
        timer = setTimeout(() => {
          if (!slot.job) return;
          const startedAt = Number(Atomics.load(slot.state, 1));
          const ran = startedAt === 0 ? 0 : Date.now() - startedAt;
          if (ran < FILE_BUDGET_MS) return watch(FILE_BUDGET_MS - ran);
          const file = search.files[Number(Atomics.load(slot.state, 0))] ?? '';
          stop(new RegexTimeoutError(file, FILE_BUDGET_MS / 1000));
        }, wait);
      };
      Atomics.store(slot.state, 1, 0n);
      watch(FILE_BUDGET_MS);
      if (search.signal) {
        const signal = search.signal;
        // Aborted while it waited for a worker: nothing is sent.
        if (signal.aborted) return stop(signal.reason);
        onAbort = () => stop(signal.reason);
        signal.addEventListener('abort', onAbort, { once: true });
      }
      slot.worker.postMessage({
        id,
        source: search.source,
        flags: search.flags ?? '',
        files: search.files,
        maxBytes: search.maxBytes,
        keep: search.keep,
        keepChars: search.keepChars,
        stopAfter: search.stopAfter ?? Number.POSITIVE_INFINITY,
        submatches: search.submatches !== undefined,
        maxSubmatches: search.submatches ?? 0,
        deadline: search.deadline,
      });
    });
  } finally {
    clearTimeout(timer);
    if (onAbort) search.signal?.removeEventListener('abort', onAbort);
    releaseSlot(slot, healthy);
  }
}
