/**
 * Where `opencode stats` gets its records: the usage log in the shared ledger (every process's
 * model calls, with retries, fallbacks, waits and cache hits), and, for turns the log does not
 * hold (made before it existed, or pruned after 90 days), the model calls saved in sessions.
 */
import fs from 'node:fs';
import type { Config } from '../config/schema-types.ts';
import type { Ledger } from '../scheduler/ledger.ts';
import type { UsageRecord } from '../scheduler/spend.ts';
import type { SessionStore } from '../session/store.ts';
import { openStateLedger, stateStoreOf } from '../state/open-state.ts';
import { computeStats, statsSince, type StatsOptions, type StatsReport } from './stats.ts';

/**
 * Model calls of saved session turns that the usage log does not cover: a turn counts when the log
 * has no call of its session at or before the turn's end. Only tokens and cost are known for them.
 */
export async function sessionRecords(store: SessionStore, since: number, logged: readonly UsageRecord[]): Promise<UsageRecord[]> {
  const firstLogged = new Map<string, number>();
  for (const r of logged) if (r.runId !== undefined && !firstLogged.has(r.runId)) firstLogged.set(r.runId, r.t);
  const out: UsageRecord[] = [];
  const { sessions } = await store.list();
  for (const summary of sessions) {
    // A child session's calls are its parent turn's (logged under the parent's run, counted in its usage).
    if (summary.updatedAt < since || summary.parentID !== undefined) continue;
    const record = await store.load(summary.id).catch(() => undefined);
    const logStart = firstLogged.get(summary.id) ?? Infinity;
    for (const message of record?.messages ?? []) {
      const info = message.info;
      const end = info?.reply.completed ?? info?.time;
      if (!info || end === undefined || end < since || end >= logStart) continue;
      for (const step of info.reply.steps) {
        out.push({
          t: end,
          runId: summary.id,
          agent: info.agent,
          provider: step.provider,
          model: step.model,
          inputTokens: step.usage.inputTokens,
          outputTokens: step.usage.outputTokens,
          ...(step.costUSD === undefined ? {} : { costUSD: step.costUSD }),
          cached: false,
          retries: 0,
          fallbacks: 0,
          waitedMs: 0,
        });
      }
    }
  }
  return out;
}

/** The ledger's usage log from `since` on, and the session turns it does not cover. */
export async function gatherUsage(ledger: Ledger | undefined, store: SessionStore, since: number): Promise<{ records: UsageRecord[]; fromSessions: UsageRecord[] }> {
  const logged = ledger ? await ledger.listUsage(since) : [];
  const extra = await sessionRecords(store, since, logged);
  return { records: [...logged, ...extra].sort((a, b) => a.t - b.t), fromSessions: extra };
}

/**
 * The configured state store's ledger for reading, or undefined when the embedded one was never
 * created (nothing was ever run): stats never creates state.
 */
export async function openLedgerForStats(state: Config['state'], env: NodeJS.ProcessEnv): Promise<Ledger | undefined> {
  const store = stateStoreOf(state, env);
  if (store.kind === 'sqlite' && !fs.existsSync(store.description)) return undefined;
  return openStateLedger(state, env);
}

/** The report over `ledger`'s usage log and `store`'s sessions: what `opencode stats` prints and `GET /api/stats` answers. */
export async function statsReport(ledger: Ledger | undefined, store: SessionStore, options: StatsOptions): Promise<StatsReport> {
  const { records, fromSessions } = await gatherUsage(ledger, store, statsSince(options.now, options.days));
  const report = computeStats(records, options);
  // Only the session calls inside the period and the filters are worth a note.
  const counted = fromSessions.length ? computeStats(fromSessions, options).totals.requests : 0;
  if (counted > 0) {
    report.notes.push(`${counted} model call${counted === 1 ? '' : 's'} came from saved sessions (made before the usage log kept them): their retries, fallbacks, waits and cache hits are not known.`);
  }
  return report;
}

/** Everything `opencode stats` shows, from the configured state store (never created by it). */
export async function readStats(options: StatsOptions & { config: Config; env: NodeJS.ProcessEnv }): Promise<StatsReport> {
  const { SessionStore } = await import('../session/store.ts');
  const ledger = await openLedgerForStats(options.config.state, options.env);
  try {
    return await statsReport(ledger, SessionStore.open(options.env), options);
  } finally {
    await ledger?.close();
  }
}
