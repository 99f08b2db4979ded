/**
 * What has been learned from the providers, read from the shared ledger without creating it:
 * `opencode models` and `doctor` show it.
 */
import fs from 'node:fs';
import { learnedView, type LearnedView } from '../scheduler/learned-text.ts';

/** Every learned limit in the machine's ledger (none when there is no ledger yet). */
export async function readLearnedLimits(env: NodeJS.ProcessEnv = process.env, now: number = Date.now()): Promise<LearnedView[]> {
  const { SqliteLedger, defaultLedgerPath } = await import('../scheduler/ledger-sqlite.ts');
  const file = defaultLedgerPath(env);
  if (!fs.existsSync(file)) return [];
  const ledger = new SqliteLedger({ path: file, busyTimeoutMs: 1000 });
  try {
    return (await ledger.listLearned()).map((l) => learnedView(l, now));
  } finally {
    await ledger.close();
  }
}
