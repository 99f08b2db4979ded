import { describe, expect, it } from 'vitest';
import { MAX_RESULT_CHARS, resultText, truncateResult } from '../../src/mcp/tool-result.ts';

describe('resultText', () => {
  it('joins text parts and describes images, audio and resources', () => {
    const text = resultText({
      content: [
        { type: 'text', text: 'first' },
        { type: 'image', data: 'A'.repeat(4096), mimeType: 'image/png' },
        { type: 'audio', data: 'AAAA', mimeType: 'audio/wav' },
        { type: 'resource', resource: { uri: 'file:///a.txt', mimeType: 'text/plain', text: 'resource body' } },
        { type: 'resource', resource: { uri: 'file:///b.bin', mimeType: 'application/zip', blob: 'AAAA' } },
        { type: 'resource_link', uri: 'file:///c.md', name: 'c.md', description: 'a note' },
      ],
    });
    expect(text.split('\n')).toEqual([
      'first',
      '[image: image/png, 3.0 KB; not shown]',
      '[audio: audio/wav, 3 B; not shown]',
      '[resource file:///a.txt]',
      'resource body',
      '[resource file:///b.bin: application/zip, 3 B; not shown]',
      '[resource link: c.md file:///c.md (a note)]',
    ]);
  });

  it('uses structured content as JSON when there is no text', () => {
    expect(resultText({ content: [], structuredContent: { sum: 3 } })).toBe('{"sum":3}');
    expect(resultText({ content: [{ type: 'text', text: 'sum is 3' }], structuredContent: { sum: 3 } })).toBe('sum is 3');
  });
});

describe('truncateResult', () => {
  it('leaves short results alone', () => {
    expect(truncateResult('short')).toEqual({ text: 'short', truncated: false });
  });

  it('cuts long results with a note', () => {
    const long = 'x'.repeat(MAX_RESULT_CHARS + 10);
    const { text, truncated } = truncateResult(long);
    expect(truncated).toBe(true);
    expect(text.startsWith('x'.repeat(MAX_RESULT_CHARS))).toBe(true);
    expect(text.slice(MAX_RESULT_CHARS)).toBe(`\n[truncated: showing the first ${MAX_RESULT_CHARS} of ${MAX_RESULT_CHARS + 10} characters]`);
  });
});
