import { describe, expect, it } from 'vitest';
import { PantheonError } from '../../src/errors.ts';
import { parseConfigText, parseJsonc } from '../../src/config/jsonc.ts';

function parseError(text: string): PantheonError {
  try {
    parseConfigText(text, '/x/opencode.json');
  } catch (error) {
    if (error instanceof PantheonError) return error;
    throw error;
  }
  throw new Error('expected a parse error');
}

describe('JSONC parsing', () => {
  it('accepts line and block comments and trailing commas everywhere', () => {
    const text = `// top comment
{
  /* block */ "model": "a/b", // after a value
  "fallbacks": ["c/d", "e/f",],
  "agent": { "oracle": { "temperature": 0.5, }, },
}
`;
    expect(parseConfigText(text, 'f.jsonc')).toEqual({
      model: 'a/b',
      fallbacks: ['c/d', 'e/f'],
      agent: { oracle: { temperature: 0.5 } },
    });
  });

  it('treats an empty or comment-only file as an empty object', () => {
    expect(parseConfigText('', 'f.json')).toEqual({});
    expect(parseConfigText('// nothing yet\n', 'f.json')).toEqual({});
  });

  it('names file:line:col, what was expected and what was found', () => {
    const err = parseError('{\n  "model": "a/b"\n  "small_model": "c/d"\n}');
    expect(err.code).toBe('CONFIG_PARSE');
    expect(err.message).toBe('/x/opencode.json:3:3: expected a "," between entries (CommaExpected), found `"small_model"`.');
    expect(err.hint).toMatch(/comma/);
    expect(err.details.join('\n')).toContain('3 |   "small_model": "c/d"');
    expect(err.details[1]).toMatch(/^ {2}\| {3}\^$/);
  });

  it('reports a missing property name and the end of the file', () => {
    expect(parseError('{\n  "a": 1,\n  : 2\n}').message).toMatch(/:3:3: expected a property name in double quotes \(PropertyNameExpected\), found `:`/);
    expect(parseError('{ "a": [1, 2').message).toMatch(/expected a "\]" closing the list \(CloseBracketExpected\), found the end of the file\./);
  });

  it('rejects a top level that is not an object', () => {
    expect(() => parseConfigText('[1, 2]', '/x/a.json')).toThrow(/\/x\/a\.json: expected a JSON object at the top level, found a list\./);
    expect(parseJsonc('[1]', 'x')).toEqual([1]);
  });
});
