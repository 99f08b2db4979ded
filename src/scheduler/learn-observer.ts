/**
 * Feeds what an answer announces (rate-limit headers, a Gemini quota error) into the ledger as
 * learned limits of its model, so every process sharing the ledger paces itself before the
 * provider says 429. Called by the provider fetch (lease.ts) once the answer's headers are in.
 */
import { debugNote } from '../debug-note.ts';
import type { LearnedLimit } from './learned.ts';
import type { Ledger } from './ledger.ts';
import { readAnnouncement } from './rate-limit-headers.ts';

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
 * Records what `response` announces for `key`, received at `observedAt` (after its request was
 * marked sent, so starts counted after this time are ones the provider had not seen). A successful
 * answer that announces nothing forgets what was learned before: the provider stopped sending it.
 * Never throws: learning is an aid, the answer itself is what matters.
 */
export async function observeAnswer(ledger: Ledger, key: string, response: Response, observedAt: number): Promise<void> {
  try {
    const body = response.status === 429 && /json/i.test(response.headers.get('content-type') ?? '') ? await peekBody(response) : undefined;
    const announced = readAnnouncement({ headers: response.headers, status: response.status, now: observedAt, ...(body ? { body } : {}) });
    for (const note of announced.notes) debugNote(`rate-limit headers from ${key.replace(/^learned:/, '')}: ${note}`);
    if (announced.limits.length === 0) {
      if (response.ok) await ledger.recordLearned(key, [], observedAt);
      return;
    }
    const limits: LearnedLimit[] = announced.limits.map((l) => ({ ...l, key, observedAt }));
    await ledger.recordLearned(key, limits, observedAt);
  } catch (error) {
    debugNote(`could not record learned limits for ${key}: ${error instanceof Error ? error.message : String(error)}`);
  }
}
