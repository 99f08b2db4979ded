/**
 * Reads what an answer announces (rate-limit headers, a Gemini quota error, balances) and feeds its
 * limits into the ledger as learned limits of its model, so every process sharing the ledger paces
 * itself before the provider says 429. Called by the provider fetch (lease.ts) once the answer's
 * headers are in.
 */
import { debugNote } from '../debug-note.ts';
import type { LearnedLimit } from './learned.ts';
import type { Ledger } from './ledger.ts';
import { readAnnouncement, type Announcement } from './rate-limit-headers.ts';

/** Error bodies longer than this are not read for quota details. */
const MAX_BODY_BYTES = 64 * 1024;

/** Reads at most MAX_BODY_BYTES of a copy of the response body (the caller still reads the original). */
async function peekBody(response: Response): Promise<string | undefined> {
  const reader = response.clone().body?.getReader();
  if (!reader) return undefined;
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < MAX_BODY_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return size > MAX_BODY_BYTES ? undefined : Buffer.concat(chunks).toString('utf8');
}

/**
 * What `response` announces (a copy of a 429's JSON body is read for quota details), its odd values
 * noted for --debug under `label`. Never throws: an unreadable answer announces nothing.
 */
export async function readAnswer(response: Response, observedAt: number, label: string): Promise<Announcement> {
  let body: string | undefined;
  try {
    body = response.status === 429 && /json/i.test(response.headers.get('content-type') ?? '') ? await peekBody(response) : undefined;
  } catch {
    body = undefined;
  }
  return announcementOf({ headers: response.headers, status: response.status, ...(body ? { body } : {}) }, observedAt, label);
}

/**
 * What an answer's status, headers and (for a 429, its JSON error) body announce, its odd values
 * noted for --debug under `label`. Never throws.
 */
export function announcementOf(answer: { headers: Headers | Record<string, string | undefined>; status: number; body?: string }, observedAt: number, label: string): Announcement {
  try {
    const announced = readAnnouncement({ ...answer, now: observedAt });
    for (const note of announced.notes) debugNote(`rate-limit headers from ${label}: ${note}`);
    return announced;
  } catch (error) {
    debugNote(`could not read the rate-limit headers from ${label}: ${error instanceof Error ? error.message : String(error)}`);
    return { limits: [], balances: [], notes: [] };
  }
}

/**
 * Records the limits an answer announced for `key`, whose request was handed to the provider at
 * `handedOverAt` (and is marked sent already, so the ledger counts its start): starts from then on
 * count against what was left (learned.ts), and of two answers the one to the later request wins,
 * whichever came back first. A successful answer that announces nothing forgets what was learned
 * before: the provider stopped sending it. Never throws: learning is an aid, the answer itself is
 * what matters.
 */
export async function learnFrom(ledger: Ledger, key: string, announced: Announcement, ok: boolean, handedOverAt: number): Promise<void> {
  try {
    if (announced.limits.length === 0) {
      if (ok) await ledger.recordLearned(key, [], handedOverAt);
      return;
    }
    const limits: LearnedLimit[] = announced.limits.map((l) => ({ ...l, key, observedAt: handedOverAt }));
    await ledger.recordLearned(key, limits, handedOverAt);
  } catch (error) {
    debugNote(`could not record learned limits for ${key}: ${error instanceof Error ? error.message : String(error)}`);
  }
}
