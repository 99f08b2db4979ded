import { describe, expect, it } from 'vitest';
import { keyProblem, normalizeKey } from '../../src/auth/key.ts';
import { isPantheonError } from '../../src/errors.ts';

const KEY = 'nvapi-abcdefghijklmnopx9Qa';

function problemOf(raw: string): { code: string; message: string; exitCode: number; hint?: string } {
  try {
    normalizeKey(raw);
  } catch (error) {
    if (isPantheonError(error)) return { code: error.code, message: error.message, exitCode: error.exitCode, hint: error.hint };
    throw error;
  }
  throw new Error('expected the key to be refused');
}

describe('normalizeKey', () => {
  it('trims surrounding spaces, tabs and the trailing newline (CRLF too)', () => {
    for (const raw of [KEY, `${KEY}\n`, `  ${KEY}\r\n`, `\t${KEY} \n\n`]) expect(normalizeKey(raw)).toBe(KEY);
  });

  it('an empty or blank key is a usage error (exit 2)', () => {
    for (const raw of ['', '\n', '   \t ']) expect(problemOf(raw)).toMatchObject({ code: 'USAGE', exitCode: 2, message: 'The key is empty.' });
  });

  it('whitespace inside the key is refused with a clear sentence that never quotes the key', () => {
    const spaced = problemOf('nvapi-abc defghijklmnopx9Qa');
    expect(spaced.message).toBe('The key contains whitespace inside it; an API key is a single word.');
    const twoLines = problemOf(`${KEY}\n${KEY}\n`);
    expect(twoLines.message).toBe('The key spans more than one line; an API key is a single word.');
    for (const p of [spaced, twoLines]) {
      expect(p.exitCode).toBe(2);
      expect(JSON.stringify(p)).not.toMatch(/abcdefgh|defghijk/);
      expect(p.hint).toMatch(/--key-stdin/);
    }
  });

  it('control characters and non-ASCII letters are refused; an overlong paste is not a key', () => {
    expect(keyProblem('nvapi-abc\u0007defghijk')).toMatch(/not printable ASCII/);
    expect(keyProblem('nvapi-abcdéfghijk')).toMatch(/not printable ASCII/);
    expect(keyProblem('x'.repeat(9000))).toMatch(/longer than 8192/);
    expect(keyProblem(` ${KEY} `)).toBeUndefined();
  });
});
