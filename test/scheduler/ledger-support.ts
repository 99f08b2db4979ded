/**
 * A reservation as the scheduler's requests use one: admitted, then marked sent at once (the
 * provider fetch does this when the response begins). Tests of window arithmetic use these; tests
 * of the pending state call tryReserve/acquire themselves.
 */
import { acquire, type AcquireOptions } from '../../src/scheduler/acquire.ts';
import type { Ledger, ReserveRequest, ReserveResult } from '../../src/scheduler/ledger.ts';

export async function reserveSent(ledger: Ledger, req: ReserveRequest): Promise<ReserveResult> {
  const result = await ledger.tryReserve(req);
  if (result.ok) await ledger.markSent(result.id);
  return result;
}

export async function acquireSent(ledger: Ledger, req: ReserveRequest, opts?: AcquireOptions): Promise<string> {
  const id = await acquire(ledger, req, opts);
  await ledger.markSent(id);
  return id;
}
