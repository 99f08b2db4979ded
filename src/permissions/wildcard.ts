/**
 * OpenCode's permission wildcards: `*` matches any run of characters (spaces and `/` included),
 * `?` matches one character, everything else is literal. `**` is the same as `*`. A pattern that
 * ends in " *" also matches the bare command (`"git *"` matches `git` as well as `git push`).
 */
const cache = new Map<string, RegExp>();

const SPECIAL = new Set(['.', '+', '^', '$', '{', '}', '(', ')', '|', '[', ']', '\\', '/']);

export function wildcardRegExp(pattern: string): RegExp {
  const cached = cache.get(pattern);
  if (cached) return cached;
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i] as string;
    if (ch === '*') {
      while (pattern[i + 1] === '*') i++;
      source += '.*';
    } else if (ch === '?') {
      source += '.';
    } else {
      source += SPECIAL.has(ch) ? `\\${ch}` : ch;
    }
  }
  // "git *" also matches "git": the space and the tail are optional together.
  if (source.endsWith(' .*')) source = `${source.slice(0, -3)}(?: .*)?`;
  const re = new RegExp(`^${source}$`, 's');
  cache.set(pattern, re);
  return re;
}

export function matchesWildcard(text: string, pattern: string): boolean {
  return wildcardRegExp(pattern).test(text);
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
