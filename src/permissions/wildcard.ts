/**
 * OpenCode's permission wildcards: `*` matches any run of characters (spaces and `/` included),
 * `?` matches one character, everything else is literal. `**` is the same as `*`. A pattern that
 * ends in " *" also matches the bare command (`"git *"` matches `git` as well as `git push`).
 *
 * Matched without regular expressions, in time about linear in the text (at worst text × pattern
 * length): the text is a model's command line or path, of any length,
 * and a backtracking `^.*a.*b$` takes time polynomial in it, one power per `*`. The pattern is split
 * at its runs of `*`; the first part must begin the text, the last must end it, and each part between
 * is found leftmost in order (a part of fixed length found leftmost leaves the most text to the rest).
 */
function partAt(text: string, at: number, part: string): boolean {
  if (at + part.length > text.length) return false;
  for (let j = 0; j < part.length; j++) {
    const ch = part[j];
    if (ch !== '?' && ch !== text[at + j]) return false;
  }
  return true;
}

/** Where `part` is first found in `text` from `from`, or -1. */
function findPart(text: string, part: string, from: number): number {
  if (!part.includes('?')) return text.indexOf(part, from);
  for (let at = from; at + part.length <= text.length; at++) if (partAt(text, at, part)) return at;
  return -1;
}

/** Whether the whole text matches the parts of a pattern split at its stars (`["git ", ""]` for "git *"). */
function matchesParts(text: string, parts: readonly string[]): boolean {
  const first = parts[0] as string;
  if (parts.length === 1) return first.length === text.length && partAt(text, 0, first);
  const last = parts[parts.length - 1] as string;
  if (first.length + last.length > text.length || !partAt(text, 0, first) || !partAt(text, text.length - last.length, last)) return false;
  let at = first.length;
  const end = text.length - last.length;
  for (let i = 1; i < parts.length - 1; i++) {
    const part = parts[i] as string;
    const found = findPart(text, part, at);
    if (found === -1 || found + part.length > end) return false;
    at = found + part.length;
  }
  return true;
}

export function matchesWildcard(text: string, pattern: string): boolean {
  const parts = pattern.split(/\*+/);
  if (matchesParts(text, parts)) return true;
  // "git *" also matches "git": the space and the tail are optional together.
  const beforeTail = parts.length > 1 && parts[parts.length - 1] === '' ? (parts[parts.length - 2] as string) : undefined;
  return beforeTail?.endsWith(' ') === true && matchesParts(text, [...parts.slice(0, -2), beforeTail.slice(0, -1)]);
}

/** How specific a pattern is: its count of literal (non-wildcard) characters. */
export function specificity(pattern: string): number {
  let n = 0;
  for (const ch of pattern) if (ch !== '*' && ch !== '?') n++;
  return n;
}

/**
 * The most specific of `patterns` that matches `text`: most literal characters, then the longer
 * pattern, then the one written last. Undefined when none matches.
 */
export function mostSpecificMatch(text: string, patterns: readonly string[]): string | undefined {
  let best: string | undefined;
  for (const pattern of patterns) {
    if (!matchesWildcard(text, pattern)) continue;
    if (best === undefined) {
      best = pattern;
      continue;
    }
    const a = specificity(pattern);
    const b = specificity(best);
    if (a > b || (a === b && pattern.length >= best.length)) best = pattern;
  }
  return best;
}
