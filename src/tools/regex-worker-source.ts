/**
 * The code of regex-search.ts's worker thread, as the CommonJS source `new Worker(…, {eval: true})`
 * runs (a string: the CLI is one bundle, and Node 22 runs no TypeScript file as a worker). A job names
 * the files to search in order; for each the worker skips what is not a regular file, over
 * `maxBytes`, or binary (binary.ts's rules: its extensions, then its `looksBinary`, whose source is
 * put in here, on the first 4 KB), then tests each line (`\n` or `\r\n` ends one; the `\r` is not
 * matched) and answers the matches. Before each file it writes the file's index and the time
 * (Date.now()) into the shared `state`, which the main thread's watchdog reads to stop a pattern
 * that runs too long on one file. Between files it stops at the job's `deadline` or when asked to.
 */
import { looksBinary } from './binary.ts';

export const REGEX_WORKER_SOURCE = String.raw`
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { parentPort, workerData } = require('node:worker_threads');
const binaryExtensions = new Set(workerData.binaryExtensions);
const state = new BigInt64Array(workerData.state);

const looksBinary = ${looksBinary.toString()};

function submatchesOf(text, all, max) {
  const out = [];
  all.lastIndex = 0;
  let bytes = 0;
  let counted = 0;
  for (let m = all.exec(text); m && out.length < max; m = all.exec(text)) {
    bytes += Buffer.byteLength(text.slice(counted, m.index), 'utf8');
    counted = m.index;
    out.push({ match: { text: m[0] }, start: bytes, end: bytes + Buffer.byteLength(m[0], 'utf8') });
    // An empty match would be found again at the same place.
    if (m[0] === '') all.lastIndex++;
  }
  return out;
}

function run(job) {
  const re = new RegExp(job.source, job.flags);
  const all = job.submatches ? new RegExp(job.source, job.flags.includes('g') ? job.flags : job.flags + 'g') : undefined;
  const matches = [];
  let total = 0;
  let large = 0;
  let searched = 0;
  let stopped;
  files: for (let i = 0; i < job.files.length; i++) {
    if (Date.now() > job.deadline) {
      stopped = 'deadline';
      break;
    }
    const file = job.files[i];
    Atomics.store(state, 0, BigInt(i));
    Atomics.store(state, 1, BigInt(Date.now()));
    let text;
    try {
      const stat = fs.lstatSync(file);
      if (!stat.isFile()) continue;
      if (stat.size > job.maxBytes) {
        large++;
        continue;
      }
      if (binaryExtensions.has(path.extname(file).slice(1).toLowerCase())) continue;
      const bytes = fs.readFileSync(file);
      if (looksBinary(bytes.subarray(0, 4096))) continue;
      text = bytes.toString('utf8');
    } catch {
      // Gone since the listing, or unreadable: nothing to search.
      continue;
    }
    searched++;
    let offset = 0;
    let n = 0;
    for (let start = 0; start < text.length; ) {
      const end = text.indexOf('\n', start);
      const raw = end === -1 ? text.slice(start) : text.slice(start, end);
      n++;
      const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      if (re.test(line)) {
        total++;
        if (matches.length < job.keep) {
          matches.push({
            file: i,
            line: n,
            text: line.length > job.keepChars ? line.slice(0, job.keepChars) : line,
            end: end === -1 ? '' : raw.slice(line.length) + '\n',
            offset,
            ...(all ? { submatches: submatchesOf(line, all, job.maxSubmatches) } : {}),
          });
        }
        if (total >= job.stopAfter) {
          stopped = 'limit';
          break files;
        }
      }
      if (end === -1) break;
      offset += Buffer.byteLength(raw, 'utf8') + 1;
      start = end + 1;
    }
  }
  Atomics.store(state, 1, 0n);
  return { matches, total, large, searched, stopped };
}

parentPort.on('message', (job) => {
  let answer;
  try {
    answer = { id: job.id, result: run(job) };
  } catch (error) {
    Atomics.store(state, 1, 0n);
    answer = { id: job.id, error: String((error && error.message) || error) };
  }
  parentPort.postMessage(answer);
});
`;
