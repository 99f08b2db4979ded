import { PantheonError } from '../errors.ts';

/** The largest key accepted; real API keys are a few hundred characters at most. */
const MAX_KEY_LENGTH = 8192;

/**
 * What is wrong with a key as typed or piped (surrounding whitespace and the trailing newline do
 * not count), as one sentence that never quotes the key; undefined when it is usable.
 */
export function keyProblem(raw: string): string | undefined {
  const key = raw.trim();
  if (key === '') return 'The key is empty.';
  if (/\s/.test(key)) {
    return /[\r\n]/.test(key)
      ? 'The key spans more than one line; an API key is a single word.'
      : 'The key contains whitespace inside it; an API key is a single word.';
  }
  if (/[^\x21-\x7e]/.test(key)) return 'The key contains a character that is not printable ASCII (a control character or a non-ASCII letter).';
  if (key.length > MAX_KEY_LENGTH) return `The key is longer than ${MAX_KEY_LENGTH} characters, so it is probably not a key.`;
  return undefined;
}

/** Trims a key and checks it; a bad key is a usage error (exit 2) that never quotes it. */
export function normalizeKey(raw: string, how: 'stdin' | 'prompt' = 'stdin'): string {
  const problem = keyProblem(raw);
  if (problem !== undefined) {
    throw new PantheonError('USAGE', problem, {
      hint:
        how === 'stdin'
          ? 'Pipe exactly one key, e.g. `printf %s "$KEY" | opencode auth login PROVIDER --key-stdin` (surrounding whitespace is trimmed).'
          : 'Paste exactly one key (surrounding whitespace is trimmed).',
    });
  }
  return raw.trim();
}
