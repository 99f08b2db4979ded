/**
 * ledger, learned limits, cooldowns: read from the store the config names (`state.store`) — the
 * embedded SQLite ledger, or Redis, where every machine's cooldowns and learned limits are.
 */
import { isPantheonError } from '../errors.ts';
import type { CooldownEntry, Ledger } from '../scheduler/ledger.ts';
import type { LearnedLimit } from '../scheduler/learned.ts';
import { learnedText, learnedView } from '../scheduler/learned-text.ts';
import type { DoctorContext } from './context.ts';
import { modeOf } from './modes.ts';
import { resultsFor, type CheckResult } from './types.ts';
import { formatDuration, listNames, plural } from './words.ts';

const r = resultsFor('cache');

function reasonOf(error: unknown): string {
  return isPantheonError(error) ? error.message : error instanceof Error ? error.message : String(error);
}

/** What the providers' answers taught (rateLimit.learn): one line per limit, with when it was learned. */
function learnedResult(learned: LearnedLimit[], now: number): CheckResult {
  if (learned.length === 0) return r.ok('learned limits', 'none (nothing announced by a provider in the last minutes)');
  const lines = learned.map((l) => learnedView(l, now)).map((v) => `${v.model}  ${learnedText(v, now)}`);
  const models = new Set(learned.map((l) => l.key)).size;
  return r.ok('learned limits', `${plural(learned.length, 'limit')} learned for ${plural(models, 'model')}`, { details: lines });
}

function cooldownResult(cooling: CooldownEntry[], now: number): CheckResult {
  if (cooling.length === 0) return r.ok('cooldowns', 'none active');
  const lines = cooling.map((c) => `${c.key.replace(/^model:/, '')} for ${formatDuration(Math.max(0, c.until - now))} more (${plural(c.failures, 'failure')} in a row)`);
  return r.warn('cooldowns', `${plural(cooling.length, 'model is', 'models are')} cooling down: ${listNames(lines, 2)}`, {
    details: lines,
    hint: 'They are skipped until the time is up; the auth and models checks may show why they failed.',
  });
}

async function readLedger(open: () => Promise<Ledger>): Promise<{ cooling: CooldownEntry[]; learned: LearnedLimit[] }> {
  const opened = await open();
  try {
    return { cooling: await opened.listCooldowns(), learned: await opened.listLearned() };
  } finally {
    await opened.close();
  }
}

export async function checkLedger(ctx: DoctorContext): Promise<CheckResult[]> {
  if (ctx.loadError) return [r.skip('ledger', 'not checked: the config did not load (see config)')];
  const { stateStoreOf } = await import('../state/open-state.ts');
  const store = stateStoreOf(ctx.loaded?.config.state, ctx.env);
  let read;
  let where: string;
  if (store.kind === 'redis') {
    const { RedisLedger } = await import('../state/ledger-redis.ts');
    where = `${store.description} (key prefix ${store.keyPrefix})`;
    try {
      read = await readLedger(() => RedisLedger.open({ url: store.url ?? '', keyPrefix: store.keyPrefix, timeoutMs: ctx.probeTimeoutMs }));
    } catch (error) {
      return [r.skip('ledger', `not read: ${reasonOf(error).replace(/\.$/, '')} (see state store)`)];
    }
  } else {
    const { SqliteLedger, defaultLedgerPath } = await import('../scheduler/ledger-sqlite.ts');
    const file = defaultLedgerPath(ctx.env);
    where = file;
    if ((await modeOf(file)) === undefined) {
      return [r.ok('ledger', `no ledger yet at ${file} (the first run creates it)`), r.ok('learned limits', 'none yet'), r.ok('cooldowns', 'none active')];
    }
    try {
      read = await readLedger(async () => new SqliteLedger({ path: file, busyTimeoutMs: 1000 }));
    } catch (error) {
      return [r.fail('ledger', reasonOf(error), { hint: `Delete ${file} to start over (it only holds recent request counts).` })];
    }
  }
  const now = ctx.now();
  return [r.ok('ledger', `${where} is readable`), learnedResult(read.learned, now), cooldownResult(read.cooling, now)];
}
