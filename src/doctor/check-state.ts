/**
 * cache and state: the response cache's store and Pantheon's state folder are writable, the
 * rate-limit ledger is readable, and which models are cooling down and for how long (check-ledger.ts).
 */
import { randomBytes } from '../random-bytes.ts';
import { constants as fsConstants } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { redactStoreUrl } from '../config/url-credentials.ts';
import { isPantheonError } from '../errors.ts';
import { cacheDir, expandHome, stateDir } from '../paths.ts';
import { cacheFileProblem } from './cache-file.ts';
import { checkLedger } from './check-ledger.ts';
import { checkStateStore } from './check-state-store.ts';
import type { DoctorContext } from './context.ts';
import { isShared, modeOf, octal } from './modes.ts';
import { resultsFor, type CheckResult } from './types.ts';
import { formatDuration } from './words.ts';

const r = resultsFor('cache');
const FIX = 'run `opencode doctor --fix`';

export type CacheStore = { kind: 'disabled' } | { kind: 'memory' } | { kind: 'redis'; url: string } | { kind: 'file'; file: string } | { kind: 'unsupported'; spec: string };

/** The cache store the config describes, read the way the cache opens it. */
export function cacheStoreOf(ctx: Pick<DoctorContext, 'loaded' | 'env' | 'cwd'>): CacheStore {
  const cfg = ctx.loaded?.config.cache;
  if (cfg?.enabled === false) return { kind: 'disabled' };
  const spec = cfg?.store?.trim() || path.join(cacheDir(ctx.env), 'cache.sqlite');
  if (spec === 'memory') return { kind: 'memory' };
  if (/^rediss?:\/\//i.test(spec)) return { kind: 'redis', url: spec };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(spec) && !/^sqlite:/i.test(spec)) return { kind: 'unsupported', spec };
  return { kind: 'file', file: path.resolve(ctx.cwd, expandHome(spec.replace(/^sqlite:(\/\/)?/i, ''))) };
}

function reasonOf(error: unknown): string {
  return isPantheonError(error) ? error.message : error instanceof Error ? error.message : String(error);
}

/** Creates and removes a temp file in `dir`; undefined when that worked, else why not. */
async function writeProbe(dir: string): Promise<string | undefined> {
  const file = path.join(dir, `.doctor-${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
  try {
    await fs.writeFile(file, '', { flag: 'wx', mode: 0o600 });
    await fs.rm(file);
    return undefined;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? reasonOf(error);
  }
}

/** The nearest folder at or above `dir` that exists. */
async function existingAncestor(dir: string): Promise<string> {
  let at = dir;
  while ((await modeOf(at)) === undefined && path.dirname(at) !== at) at = path.dirname(at);
  return at;
}

/** `bad`: how a problem is reported (the cache's is a warning: runs go on without it), and what follows it in the message. */
async function folder(name: string, dir: string, wantPrivate: boolean, bad: { report: typeof r.fail; then: string } = { report: r.fail, then: '' }): Promise<CheckResult> {
  const mode = await modeOf(dir);
  if (mode === undefined) {
    const parent = await existingAncestor(dir);
    if (!(await fs.stat(parent)).isDirectory()) {
      return bad.report(name, `${parent} is a file, not a folder, so ${dir} cannot be made${bad.then}`, { hint: `Move ${parent} away, or choose another folder.` });
    }
    try {
      await fs.access(parent, fsConstants.W_OK);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? reasonOf(error);
      return bad.report(name, `${dir} does not exist and ${parent} is not writable (${code})${bad.then}`, { hint: `Check the owner and permissions of ${parent}.` });
    }
    return r.ok(name, `${dir} does not exist yet (the first run creates it)`);
  }
  if (!(await fs.stat(dir)).isDirectory()) {
    return bad.report(name, `${dir} is a file, not a folder${bad.then}`, { hint: `Move ${dir} away, or choose another folder.` });
  }
  const failed = await writeProbe(dir);
  if (failed) return bad.report(name, `${dir} is not writable (${failed})${bad.then}`, { hint: `Check the owner and permissions of ${dir}.` });
  if (wantPrivate && isShared(mode)) return r.warn(name, `${dir} is ${octal(mode)}, not 0700`, { hint: `chmod 700 ${dir}, or ${FIX}.` });
  return r.ok(name, `${dir} is writable`);
}

async function redisStore(ctx: DoctorContext, url: string): Promise<CheckResult> {
  const { openCache } = await import('../cache/response-cache.ts');
  const { describeRedisUrl } = await import('../cache/redis-store.ts');
  const started = performance.now();
  const attempt = (async () => {
    const cache = await openCache({ store: url }, ctx.env);
    try {
      await cache?.get('doctor-probe');
    } finally {
      await cache?.close();
    }
  })();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ctx.probeTimeoutMs);
  });
  try {
    const outcome = await Promise.race([attempt.then(() => 'ok' as const), timedOut]);
    const ms = performance.now() - started;
    if (outcome === 'timeout') {
      attempt.catch(() => undefined);
      return r.warn('cache store', `${describeRedisUrl(url)}: no answer in ${formatDuration(ctx.probeTimeoutMs)}; runs go on without the cache`, { ms, hint: 'Check that the Redis server is up and reachable.' });
    }
    return r.ok('cache store', `${describeRedisUrl(url)} answered in ${formatDuration(ms)}`, { ms });
  } catch (error) {
    return r.warn('cache store', `${reasonOf(error).replace(/[.\s]+$/, '')}; runs go on without the cache`, { hint: 'Check cache.store and that the Redis server is reachable.' });
  } finally {
    clearTimeout(timer);
  }
}

async function cacheStore(ctx: DoctorContext): Promise<CheckResult> {
  if (ctx.loadError) return r.skip('cache store', 'not checked: the config did not load (see config)');
  const store = cacheStoreOf(ctx);
  switch (store.kind) {
    case 'disabled':
      return r.ok('cache store', 'cache disabled (cache.enabled is false)');
    case 'memory':
      return r.ok('cache store', 'in memory (nothing kept between runs)');
    case 'unsupported':
      return r.fail('cache store', `cache.store "${redactStoreUrl(store.spec)}" uses an unsupported scheme`, { hint: 'Use "memory", a file path or a redis:// URL.' });
    case 'redis':
      return redisStore(ctx, store.url);
    case 'file':
      return fileStore(store.file);
  }
}

/** The cache file's folder, then the file itself as a run opens it. A problem is a warning: runs go on without the cache. */
async function fileStore(file: string): Promise<CheckResult> {
  const then = '; runs go on without the cache';
  const dir = await folder('cache store', path.dirname(file), false, { report: r.warn, then });
  if (dir.status !== 'ok') return dir;
  const problem = await cacheFileProblem(file);
  return problem ? r.warn('cache store', `${problem.message}${then}`, { hint: problem.hint }) : dir;
}

/** One part of the group failing unexpectedly is reported on its own line; the others still run. */
async function guarded(name: string, run: () => Promise<CheckResult | CheckResult[]>): Promise<CheckResult[]> {
  try {
    return [await run()].flat();
  } catch (error) {
    return [r.fail(name, `could not be checked: ${reasonOf(error)}`, { hint: 'Check the folder\'s owner and permissions.' })];
  }
}

export async function checkState(ctx: DoctorContext): Promise<CheckResult[]> {
  const parts = await Promise.all([
    guarded('cache store', () => cacheStore(ctx)),
    guarded('state folder', () => folder('state folder', stateDir(ctx.env), true)),
    guarded('ledger', () => checkLedger(ctx)),
    guarded('state store', () => checkStateStore(ctx)),
  ]);
  return parts.flat();
}
