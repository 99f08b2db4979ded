/**
 * ledger, learned limits, cooldowns: read from the store the config names (`state.store`) — the
 * embedded SQLite ledger, or Redis, where every machine's cooldowns and learned limits are.
 */
import { isPantheonError } from '../errors.ts';
import { findCredential, type Credential } from '../providers/credentials.ts';
import { keyFingerprint, splitCooldownKey } from '../scheduler/key-cooldown.ts';
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

/**
 * Active cooldowns: a model's own (every machine skips it) and, for a refused API key, whether the
 * key is this machine's (it skips the model) or another's (this machine still uses it).
 */
function cooldownResult(ctx: DoctorContext, cooling: CooldownEntry[], now: number): CheckResult {
  const active = cooling.filter((c) => c.until > now);
  if (active.length === 0) return r.ok('cooldowns', 'none active');
  const mine: string[] = [];
  const others: string[] = [];
  let refusedHere = false;
  for (const c of active) {
    const { model, fingerprint } = splitCooldownKey(c.key);
    const name = model.replace(/^model:/, '');
    const left = `for ${formatDuration(c.until - now)} more`;
    if (fingerprint === undefined) {
      mine.push(`${name} ${left} (${plural(c.failures, 'failure')} in a row)`);
      continue;
    }
    const provider = name.slice(0, name.indexOf('/'));
    const credential = credentialOf(ctx, provider);
    if (keyFingerprint(provider, credential.key) === fingerprint) {
      refusedHere = true;
      mine.push(`${name} ${left} (its API key ${credential.source === 'none' ? '(none)' : `from ${credential.source === 'env' ? credential.from : credential.source}`} was refused ${plural(c.failures, 'time')} in a row)`);
    } else others.push(`${name} ${left}, for another API key (refused ${plural(c.failures, 'time')} in a row)`);
  }
  const elsewhere = others.length > 0 ? `; ${plural(others.length, 'model')} cooling for another machine's key only` : '';
  if (mine.length === 0) return r.ok('cooldowns', `none for this machine's API keys${elsewhere}`, { details: others });
  return r.warn('cooldowns', `${plural(mine.length, 'model is', 'models are')} cooling down: ${listNames(mine, 2)}${elsewhere}`, {
    details: [...mine, ...others],
    hint: refusedHere
      ? 'They are skipped until the time is up. A refused key: check it with `opencode auth list`, or set it again with `opencode auth login <provider>`.'
      : 'They are skipped until the time is up; the auth and models checks may show why they failed.',
  });
}

/** The API key this machine calls `provider` with (config, auth.json, environment). */
function credentialOf(ctx: DoctorContext, provider: string): Credential {
  const declared = ctx.loaded?.config.provider?.[provider];
  const configKey = declared?.options?.apiKey;
  return findCredential(provider, { ...(configKey ? { configKey } : {}), envNames: declared?.env ?? [], env: ctx.env, store: ctx.store });
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
  return [r.ok('ledger', `${where} is readable`), learnedResult(read.learned, now), cooldownResult(ctx, read.cooling, now)];
}
