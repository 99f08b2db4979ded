/**
 * Why a model's answer ended, in the AI SDK's words (the `step_finish` event's `reason`, OpenCode's
 * step-finish parts and message `finish`, ACP's stop reason): `stop`, `length`, `content-filter`,
 * `tool-calls`, `error`, `interrupted`, `other`. Pantheon's own client maps what providers send onto
 * these; a provider package may send anything (or, written for AI SDK 5, a plain string), and so may
 * a cached answer read from a shared store: what is not one of the words is `other`.
 */
const WORDS: ReadonlySet<string> = new Set(['stop', 'length', 'content-filter', 'tool-calls', 'error', 'interrupted', 'other']);

/** The word for a finish part's `finishReason` (`{unified, raw}`, or an AI SDK 5 string). */
export function finishWord(reason: unknown): string {
  const word = typeof reason === 'object' && reason !== null ? (reason as { unified?: unknown }).unified : reason;
  return typeof word === 'string' && WORDS.has(word) ? word : 'other';
}
