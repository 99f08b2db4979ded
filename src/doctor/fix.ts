/**
 * `doctor --fix`: repairs only what is safe and never touches the user's config — the credential
 * store's modes (auth.json 0600, its folder 0700), Pantheon's state folder (created, 0700), a
 * missing cache folder, and expired rows in the rate-limit ledger. Says what it did.
 */
import path from 'node:path';
import { authFile, stateDir } from '../paths.ts';
import { cacheStoreOf } from './check-state.ts';
import type { DoctorContext } from './context.ts';
import { modeOf, tightenMode } from './modes.ts';
import { resultsFor, type CheckGroup, type CheckResult } from './types.ts';
import { makeDir } from '../make-dir.ts';

export interface FixOutcome {
  fixed: string[];
  /** Repairs that were attempted and failed, as `fail` results of their group. */
  failed: CheckResult[];
}

type Fix = { group: CheckGroup; run: () => Promise<string | undefined> };

/** Creates a missing folder (0700); an existing one is made 0700 only when `tighten`. */
async function ensureFolder(dir: string, what: string, tighten: boolean): Promise<string | undefined> {
  if ((await modeOf(dir)) !== undefined) return tighten ? tightenMode(dir, 0o700, what) : undefined;
  await makeDir(dir, 0o700);
  return `created ${what} ${dir} (0700)`;
}

async function pruneLedger(ctx: DoctorContext): Promise<string | undefined> {
  if (ctx.loadError) return undefined;
  const { stateStoreOf } = await import('../state/open-state.ts');
  const state = stateStoreOf(ctx.loaded?.config.state, ctx.env);
  if (state.kind === 'redis') {
    // The shared store: expired starts, leases, cooldowns, learned limits and budget totals of every machine.
    const { RedisLedger } = await import('../state/ledger-redis.ts');
    const redis = await RedisLedger.open({ url: state.url ?? '', keyPrefix: state.keyPrefix, timeoutMs: ctx.probeTimeoutMs });
    try {
      await redis.prune();
    } finally {
      await redis.close();
    }
    return `removed expired entries from the state store ${state.description} (key prefix ${state.keyPrefix})`;
  }
  const { SqliteLedger, defaultLedgerPath } = await import('../scheduler/ledger-sqlite.ts');
  const file = defaultLedgerPath(ctx.env);
  if ((await modeOf(file)) === undefined) return undefined;
  const ledger = new SqliteLedger({ path: file, busyTimeoutMs: 1000 });
  try {
    await ledger.prune();
  } finally {
    await ledger.close();
  }
  return `removed expired entries from the rate-limit ledger ${file}`;
}

function fixesFor(ctx: DoctorContext): Fix[] {
  const auth = authFile(ctx.env);
  const store = ctx.loadError ? undefined : cacheStoreOf(ctx);
  return [
    { group: 'auth', run: () => tightenMode(auth, 0o600, 'credential store') },
    { group: 'auth', run: async () => ((await modeOf(auth)) === undefined ? undefined : tightenMode(path.dirname(auth), 0o700, 'credential folder')) },
    { group: 'cache', run: () => ensureFolder(stateDir(ctx.env), 'state folder', true) },
    ...(store?.kind === 'file' ? [{ group: 'cache' as const, run: () => ensureFolder(path.dirname(store.file), 'cache folder', false) }] : []),
    { group: 'cache', run: () => pruneLedger(ctx) },
  ];
}

/** Runs the safe repairs of the selected groups, in order. */
export async function applyFixes(groups: readonly CheckGroup[], ctx: DoctorContext): Promise<FixOutcome> {
  const outcome: FixOutcome = { fixed: [], failed: [] };
  for (const fix of fixesFor(ctx).filter((f) => groups.includes(f.group))) {
    try {
      const done = await fix.run();
      if (done) outcome.fixed.push(done);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      outcome.failed.push(resultsFor(fix.group).fail('fix', `could not repair: ${reason}`, { hint: 'Fix it by hand; doctor changed nothing else.' }));
    }
  }
  return outcome;
}
