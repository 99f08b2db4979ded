import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { project } from './helpers.ts';

const lines = (n: number, make = (i: number) => `line ${i}`) => Array.from({ length: n }, (_, i) => make(i + 1)).join('\n');

describe('read', () => {
  it('returns the file with numbered lines', async () => {
    const p = await project({ 'src/a.txt': 'alpha\nbeta\n' });
    // OpenCode's answer: the absolute path, then the numbered lines and how the file ends.
    const file = path.join(p.root, 'src/a.txt');
    expect(await p.run('read', { filePath: 'src/a.txt' })).toBe(`<path>${file}</path>\n<type>file</type>\n<content>\n1: alpha\n2: beta\n\n(End of file - total 2 lines)\n</content>`);
    expect(await p.run('read', { filePath: file })).toContain('\n2: beta\n');
  });

  it('reads from offset (1-based) for limit lines, and says how to go on', async () => {
    const p = await project({ 'big.txt': lines(10) });
    const out = await p.run('read', { filePath: 'big.txt', offset: 3, limit: 4 });
    expect(out).toContain('\n3: line 3\n4: line 4\n5: line 5\n6: line 6\n');
    expect(out).not.toContain('line 7');
    expect(out).toContain('\n\n(Showing lines 3-6 of 10. Use offset=7 to continue.)\n</content>');
    expect(await p.run('read', { filePath: 'big.txt', offset: 0, limit: 1 })).toContain('\n1: line 1\n');
    expect(await p.run('read', { filePath: 'big.txt', offset: 9 })).toContain('\n10: line 10\n\n(End of file - total 10 lines)\n</content>');
    expect(await p.fail('read', { filePath: 'big.txt', offset: 11 })).toBe('Offset 11 is out of range for this file (10 lines)');
    // `limit: 0` is OpenCode's too: no line, and where to go on.
    expect(await p.run('read', { filePath: 'big.txt', limit: 0 })).toContain('(Showing lines 1-0 of 10. Use offset=1 to continue.)');
  });

  it('stops at 2000 lines by default', async () => {
    const p = await project({ 'long.txt': lines(2500) });
    const out = await p.run('read', { filePath: 'long.txt' });
    expect(out).toContain('\n2000: line 2000\n');
    expect(out).not.toContain('line 2001');
    expect(out).toContain('(Showing lines 1-2000 of 2500. Use offset=2001 to continue.)');
  });

  it('cuts long lines at 2000 characters and the output at 50 KB', async () => {
    const p = await project({ 'wide.txt': `${'x'.repeat(5000)}\nshort`, 'heavy.txt': lines(400, () => 'y'.repeat(1000)) });
    const wide = await p.run('read', { filePath: 'wide.txt' });
    expect(wide).toContain(`\n1: ${'x'.repeat(2000)}... (line truncated to 2000 chars)\n`);
    expect(wide).toContain('\n2: short\n');
    const heavy = await p.run('read', { filePath: 'heavy.txt' });
    // As OpenCode counts: 50 lines of 1000 bytes and their 50 line ends fit in 51,200 bytes, the 51st does not.
    expect(heavy).toContain('\n\n(Output capped at 50 KB. Showing lines 1-51. Use offset=52 to continue.)\n</content>');
    expect(heavy).toContain('\n51: y');
    expect(heavy).not.toContain('\n52: y');
  });

  it('refuses binary files and folders, and suggests names for a missing file', async () => {
    const p = await project({ 'blob.dat': Buffer.from([1, 2, 0, 3]), 'noext': Buffer.from([0x89, 0x50, 0, 0, 0x0d]), 'src/config.ts': 'x' });
    expect(await p.fail('read', { filePath: 'blob.dat' })).toBe(`Cannot read binary file: ${path.join(p.root, 'blob.dat')}`);
    expect(await p.fail('read', { filePath: 'noext' })).toBe(`Cannot read binary file: ${path.join(p.root, 'noext')}`);
    expect(await p.fail('read', { filePath: 'src/config' })).toBe(`File not found: ${path.join(p.root, 'src/config')}\n\nDid you mean one of these?\n${path.join(p.root, 'src/config.ts')}`);
    expect(await p.fail('read', { filePath: 'src/none.ts' })).toBe(`File not found: ${path.join(p.root, 'src/none.ts')}`);
  });

  it("lists a folder's entries as OpenCode's read does: sorted, folders ending in /, offset and limit", async () => {
    const p = await project({ 'src/b.ts': 'b', 'src/A.ts': 'a', 'src/lib/c.ts': 'c' });
    const src = path.join(p.root, 'src');
    expect(await p.run('read', { filePath: 'src' })).toBe(`<path>${src}</path>\n<type>directory</type>\n<entries>\nA.ts\nb.ts\nlib/\n\n(3 entries)\n</entries>`);
    expect(await p.run('read', { filePath: 'src', offset: 2, limit: 1 })).toBe(
      `<path>${src}</path>\n<type>directory</type>\n<entries>\nb.ts\n\n(Showing 1 of 3 entries. Use 'offset' parameter to read beyond entry 3)\n</entries>`,
    );
  });

  it('reads files that end on, or span, its 64 KiB reads alike: line ends and characters across a boundary, a cut-off last character', async () => {
    const CHUNK = 64 * 1024;
    // Exactly one read's worth, ending in a line end: the next read finds nothing.
    const exact = `${'a'.repeat(CHUNK - 7)}\nlast\r\n`;
    // A \r\n split by the first boundary, then 100-byte lines up to a three-byte character split by the second.
    const filler = `${`${'c'.repeat(99)}\n`.repeat(655)}${'c'.repeat(32)}\n`;
    const spans = `${'b'.repeat(CHUNK - 1)}\r\n${filler}x€y`;
    // A file cut in the middle of a character: its bytes read as one replacement character.
    const cut = Buffer.concat([Buffer.from(`${'d'.repeat(CHUNK)}\nend `), Buffer.from('€').subarray(0, 2)]);
    const p = await project({ 'exact.txt': exact, 'spans.txt': spans, 'cut.txt': cut });
    expect(Buffer.byteLength(exact)).toBe(CHUNK);
    expect(Buffer.from(spans).indexOf('\r\n')).toBe(CHUNK - 1);
    expect(Buffer.from(spans).indexOf('€')).toBe(2 * CHUNK - 1);
    const head = (name: string) => `<path>${path.join(p.root, name)}</path>\n<type>file</type>\n<content>\n`;
    expect(await p.run('read', { filePath: 'exact.txt' })).toMatch(/\n2: last\n\n\(End of file - total 2 lines\)\n<\/content>$/);
    expect(await p.run('read', { filePath: 'spans.txt', limit: 2 })).toContain(`... (line truncated to 2000 chars)\n2: ${'c'.repeat(99)}\n`);
    expect(await p.run('read', { filePath: 'spans.txt', offset: 657 })).toBe(`${head('spans.txt')}657: ${'c'.repeat(32)}\n658: x€y\n\n(End of file - total 658 lines)\n</content>`);
    expect(await p.run('read', { filePath: 'cut.txt', offset: 2 })).toBe(`${head('cut.txt')}2: end \uFFFD\n\n(End of file - total 2 lines)\n</content>`);
  });

  it('handles an empty file', async () => {
    const p = await project({ 'empty.txt': '' });
    expect(await p.run('read', { filePath: 'empty.txt' })).toBe(`<path>${path.join(p.root, 'empty.txt')}</path>\n<type>file</type>\n<content>\n\n\n(End of file - total 0 lines)\n</content>`);
  });

  it('rejects bad arguments with a message for the model', async () => {
    const p = await project({ 'a.txt': 'a' });
    expect(await p.fail('read', { path: 'a.txt' })).toBe(
      'invalid arguments for read: missing required argument "filePath"; unknown argument "path". Expected {filePath: string, offset?: integer, limit?: integer}.',
    );
    expect(await p.fail('read', { filePath: 'a.txt', limit: 'ten' })).toMatch(/"limit" must be integer/);
    expect(await p.fail('read', { filePath: 'a.txt', limit: -1 })).toMatch(/"limit" must be >= 0/);
    expect(await p.fail('read', 'a.txt')).toMatch(/arguments must be an object/);
  });

  it('honours a read permission rule', async () => {
    const p = await project({ 'secret/key.txt': 'k', 'open.txt': 'o' });
    const permission = { read: { 'secret/*': 'deny' as const } };
    expect(await p.fail('read', { filePath: 'secret/key.txt' }, { permission })).toBe('permission denied: read `secret/key.txt` (rule "secret/*": deny)');
    expect(await p.run('read', { filePath: 'open.txt' }, { permission })).toContain('\n1: o\n');
    expect(p.denied).toHaveLength(1);
    await fs.access(path.join(p.root, 'secret/key.txt'));
  });
});
