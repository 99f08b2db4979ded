/**
 * Cooldowns of a refused API key. A 401 or 403 says the provider refused the key it was called
 * with, not that the model is down: the failures count toward a cooldown of the model for that key
 * alone, kept in the shared store under the model's cooldown key and the key's fingerprint. Every
 * process and machine calling with the same key shares it; one with another key (its own
 * auth.json or environment) keeps using the model. The fingerprint is 72 bits of a SHA-256 of the
 * provider and the key — it names the key, it does not reveal it.
 */
import { createHash } from 'node:crypto';
import type { Failure } from './retry-policy.ts';

const SEPARATOR = '#key:';
/** The fingerprint of "no key at all" (a provider called without one, e.g. a local server). */
const NO_KEY = 'none';

/** The cooldown key of `modelKey` (`model:provider/model`) for refusals of `apiKey`. */
export function keyCooldownKey(modelKey: string, providerId: string, apiKey: string | undefined): string {
  return `${modelKey}${SEPARATOR}${keyFingerprint(providerId, apiKey)}`;
}

export function keyFingerprint(providerId: string, apiKey: string | undefined): string {
  if (!apiKey) return NO_KEY;
  return createHash('sha256').update(`pantheon-key\0${providerId}\0${apiKey}`).digest('base64url').slice(0, 12);
}

/** The model's refused-key cooldown key says it is called without an API key. */
export function calledWithoutKey(keyCooldown: string | undefined): boolean {
  return keyCooldown !== undefined && splitCooldownKey(keyCooldown).fingerprint === NO_KEY;
}

/** A cooldown key split into the model's (`model:provider/model`) and, for a refused key's, its fingerprint. */
export function splitCooldownKey(key: string): { model: string; fingerprint?: string } {
  const at = key.indexOf(SEPARATOR);
  return at < 0 ? { model: key } : { model: key.slice(0, at), fingerprint: key.slice(at + SEPARATOR.length) };
}

/** The provider refused the credential (401, 403): the failure belongs to the key, not the model. */
export function refusedKey(failure: Failure): boolean {
  return failure.status === 401 || failure.status === 403;
}
