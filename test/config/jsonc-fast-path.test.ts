import fs from 'node:fs';
import path from 'node:path';
import { parse, type ParseError } from 'jsonc-parser';
import { describe, expect, it } from 'vitest';
import { parseJsonc } from '../../src/config/jsonc.ts';

/** jsonc-parser's own verdict (value, or 'error'), with the options the loader uses. */
function reference(text: string): unknown {
  const errors: ParseError[] = [];
  const value: unknown = parse(text, errors, { allowTrailingComma: true, disallowComments: false, allowEmptyContent: true });
  return errors.length ? 'error' : value;
}

function ours(text: string): unknown {
  try {
    return parseJsonc(text, 'f.jsonc');
  } catch {
    return 'error';
  }
}

describe('JSONC read without jsonc-parser when comments and trailing commas are all it has', () => {
  const cases = [
    '{"a": 1, // c\n "b": "x//y", /* z */ "c": [1,2,],}',
    '{"s": "a\\"//b", "t": "/*x*/", "u": "\\\\", "v": ",}"}',
    '{"a": {"b": [ ], }, }',
    '{"a": 1 /* x */ , }',
    '{"a":[1,/*c*/],"b":{"c":2,// z\n}}',
    '[[1],]',
    '{"a": true, }',
    // What jsonc-parser refuses stays refused:
    '{"a": [,]}',
    '{,}',
    '{"a":,}',
    '{"a":1,,}',
    '/* open',
    '{"a": "unterminated',
    '{"a":1}/',
  ];
  it.each(cases)('%j: the same value or error as jsonc-parser', (text) => {
    expect(ours(text)).toEqual(reference(text));
  });

  it('the built-in presets (JSONC with comments) read the same', () => {
    const dir = path.resolve(import.meta.dirname, '..', '..', 'presets');
    for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.json'))) {
      const text = fs.readFileSync(path.join(dir, file), 'utf8');
      expect(ours(text), file).toEqual(reference(text));
    }
  });
});
