/**
 * Short excerpts of what a config holds, for messages: a key or value is quoted by its first
 * characters, never whole, so a 100 KB key or a 20 MB value still makes a one-line message.
 */
import { thousands } from '../icu-free.ts';

/** The most characters of a key or value a message quotes. */
export const EXCERPT_CHARS = 40;

/** At most `max` characters of `text` (never half a surrogate pair), ending in `…` when cut. */
export function excerpt(text: string, max: number = EXCERPT_CHARS): string {
  if (text.length <= max) return text;
  let end = max - 1;
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end -= 1;
  return `${text.slice(0, end)}…`;
}

/** `"text"` as JSON, or `"first characters…" (100,000 characters)` when it is longer than `max`. */
export function quote(text: string, max: number = EXCERPT_CHARS): string {
  if (text.length <= max) return JSON.stringify(text);
  return `${JSON.stringify(excerpt(text, max))} (${thousands(text.length)} characters)`;
}
