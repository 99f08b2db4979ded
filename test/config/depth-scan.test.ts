import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_DEPTH, overDeepOffset } from '../../src/config/structure-guard.ts';

/** The scan as it was written first, one character at a time: the reference for the faster one. */
function reference(text: string): number {
  let depth = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      for (i++; i < n; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c) i++;
        else if (d === 0x22 || d === 0x0a) break;
      }
    } else if (c === 0x2f && text.charCodeAt(i + 1) === 0x2f) {
      const end = text.indexOf('\n', i);
      i = end === -1 ? n : end;
    } else if (c === 0x2f && text.charCodeAt(i + 1) === 0x2a) {
      const end = text.indexOf('*/', i + 2);
      i = end === -1 ? n : end + 1;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > MAX_DEPTH) return i;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
  return -1;
}

/** Texts made of what the scan looks at (brackets, quotes, escapes, comment marks, newlines) and filler. */
const piece = fc.constantFrom('{', '}', '[', ']', '"', '\\', '/', '*', '//', '/*', '*/', '\n', 'a', ' ', '\\"', '{"a":[');
const text = fc.array(piece, { maxLength: 400 }).map((parts) => parts.join(''));
const deep = fc
  .tuple(fc.integer({ min: MAX_DEPTH - 3, max: MAX_DEPTH + 3 }), fc.array(piece, { maxLength: 40 }))
  .map(([n, noise]) => `${'['.repeat(n)}${noise.join('')}${'{'.repeat(3)}`);

describe('overDeepOffset', () => {
  it('finds the same offset as a character-by-character scan, for any text', () => {
    fc.assert(
      fc.property(fc.oneof(text, deep), (t) => {
        expect(overDeepOffset(t)).toBe(reference(t));
      }),
      { numRuns: 3000 },
    );
  });

  it('a string, a comment or a bracket run many megabytes long is scanned in one pass', () => {
    const huge = `{"a": "${'x'.repeat(8_000_000)}", "b": /* ${'y'.repeat(4_000_000)} */ ${'['.repeat(100)}`;
    expect(overDeepOffset(huge)).toBe(reference(huge));
  });
});
