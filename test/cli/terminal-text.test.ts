import { describe, expect, it } from 'vitest';
import { jsonText, MAX_LINE, SafeTextStream, safeLine, safeStrings, safeText } from '../../src/cli/terminal-text.ts';

// eslint-disable-next-line no-control-regex -- the characters under test
const RAW = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u2028\u2029]/;

describe('terminal-text', () => {
  it('escapes C0, C1, DEL and bidi controls visibly; keeps tabs, newlines and emoji', () => {
    const text = safeText('a\u001b[31mb\u009bc\u007fd\u202ee\u2066f\tg\nh 😀\r\ni\rj');
    expect(text).toBe('a\\x1b[31mb\\x9bc\\x7fd\\u202ee\\u2066f\tg\nh 😀\ni\\rj');
    expect(RAW.test(text)).toBe(false);
  });

  it('one line: newlines and tabs escaped too, cut to the limit with how much was left out', () => {
    expect(safeLine('a\nb\tc')).toBe('a\\nb\\tc');
    const long = safeLine('x'.repeat(100_000));
    expect(long).toBe(`${'x'.repeat(MAX_LINE)}… (99,000 more characters)`);
    // Work is bounded by the limit, not the input: 20 MB is cut at once.
    expect(safeLine('\u001b'.repeat(20_000_000), 20)).toMatch(/^(\\x1b){5}… \(\d[\d,]+ more characters\)$/);
  });

  it('never cuts inside a surrogate pair', () => {
    const cut = safeLine(`${'a'.repeat(9)}😀😀`, 10);
    expect(cut.startsWith(`${'a'.repeat(9)}…`)).toBe(true);
    expect(cut).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])/);
  });

  it('lines of text are cut one by one', () => {
    expect(safeText(`${'y'.repeat(12)}\nshort`, 10)).toBe(`${'y'.repeat(10)}… (2 more characters)\nshort`);
    expect(safeText('y'.repeat(2_000), null)).toBe('y'.repeat(2_000));
  });

  it('JSON: same value when parsed, no raw C1 or bidi characters', () => {
    const value = { text: 'a\u009b\u202e\u2028b\u001b', n: 1 };
    const json = jsonText(value);
    expect(RAW.test(json)).toBe(false);
    expect(JSON.parse(json)).toEqual(value);
  });

  it('safeStrings copies an event with every string made safe', () => {
    const event = { type: 'tool_use', input: { filePath: 'a\u001bb', list: ['\u202e'] }, n: 3 };
    expect(safeStrings(event)).toEqual({ type: 'tool_use', input: { filePath: 'a\\x1bb', list: ['\\u202e'] }, n: 3 });
    expect(event.input.filePath).toBe('a\u001bb');
  });

  it('a stream: CRLF split across pieces, lines cut at the limit across pieces', () => {
    const stream = new SafeTextStream(5);
    const out = ['abc\r', '\ndefgh', 'ijk\u001b', 'l\nxy\r'].map((p) => stream.write(p)).join('') + stream.end();
    expect(out).toBe('abc\ndefgh… (8 more characters)\nxy\\r');
    const plain = new SafeTextStream();
    expect(plain.write('a'.repeat(20_000)) + plain.end()).toBe('a'.repeat(20_000));
  });
});
