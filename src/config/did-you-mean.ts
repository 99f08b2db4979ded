import leven from 'leven';
import { quote } from './excerpt.ts';

/** Words longer than this get no suggestion. */
const MAX_WORD = 100;

/** The largest edit distance still taken for a typo of a word this long. */
function tolerance(length: number): number {
  if (length <= 3) return 1;
  return Math.max(2, Math.floor(length / 3));
}

/** True when `b` is `a` with two neighbouring letters swapped. */
function isOneSwap(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let i = 0;
  while (i < a.length && a[i] === b[i]) i += 1;
  return i < a.length - 1 && a[i] === b[i + 1] && a[i + 1] === b[i] && a.slice(i + 2) === b.slice(i + 2);
}

/**
 * The candidate closest to `word` (case-insensitive Levenshtein distance), or undefined when none
 * is close enough to be a plausible typo. Ties go to a candidate of the same length, then the
 * earlier one.
 */
export function closestMatch(word: string, candidates: Iterable<string>): string | undefined {
  // Nobody mistypes a key that long; and the distance would cost its length times each candidate's.
  if (word.length > MAX_WORD) return undefined;
  const lower = word.toLowerCase();
  const limit = tolerance(word.length);
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    if (candidate === word) continue;
    const other = candidate.toLowerCase();
    // Swapped letters (`modle`) count as one edit, as people make them.
    const distance = isOneSwap(lower, other) ? 1 : leven(lower, other, { maxDistance: limit + 1 });
    const better =
      distance < bestDistance ||
      (distance === bestDistance && candidate.length === word.length && best?.length !== word.length);
    if (distance <= limit && distance < candidate.length && better) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** `; did you mean "x"?` for the closest candidate, or an empty string. */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  const match = closestMatch(word, candidates);
  return match === undefined ? '' : `; did you mean ${quote(match)}?`;
}
