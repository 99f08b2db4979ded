import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { project } from './helpers.ts';

const lines = (n: number, make = (i: number) => `line ${i}`) => Array.from({ length: n }, (_, i) => make(i + 1)).join('\n');

describe('read', () => {
  it('returns the file with numbered lines', async () => {
    const p = await project({ 'src/a.txt': 'alpha\nbeta\n' });
    expect(await p.run('read', { filePath: 'src/a.txt' })).toBe('<file>\n00001| alpha\n00002| beta\n</file>');
    expect(await p.run('read', { filePath: path.join(p.root, 'src/a.txt') })).toContain('00002| beta');
  });

  it('reads from offset (1-based) for limit lines, and says how to go on', async () => {
    const p = await project({ 'big.txt': lines(10) });
    const out = await p.run('read', { filePath: 'big.txt', offset: 3, limit: 4 });
    expect(out).toContain('00003| line 3\n00004| line 4\n00005| line 5\n00006| line 6\n');
    expect(out).not.toContain('line 7');
    expect(out).toContain('Showing lines 3-6 of 10 (limit 4). Call read with offset=7 to continue.');
    expect(await p.run('read', { filePath: 'big.txt', offset: 0, limit: 1 })).toContain('00001| line 1');
    expect(await p.run('read', { filePath: 'big.txt', offset: 9 })).toContain('(End of file: 10 lines.)');
    expect(await p.fail('read', { filePath: 'big.txt', offset: 11 })).toBe('offset 11 is past the end of big.txt (10 lines).');
  });

  it('stops at 2000 lines by default', async () => {
    const p = await project({ 'long.txt': lines(2500) });
    const out = await p.run('read', { filePath: 'long.txt' });
    expect(out).toContain('02000| line 2000');
    expect(out).not.toContain('line 2001');
    expect(out).toContain('Showing lines 1-2000 of 2500 (limit 2000). Call read with offset=2001 to continue.');
  });

  it('cuts long lines at 2000 characters and the output at 50 KB', async () => {
    const p = await project({ 'wide.txt': `${'x'.repeat(5000)}\nshort`, 'heavy.txt': lines(400, () => 'y'.repeat(1000)) });
    const wide = await p.run('read', { filePath: 'wide.txt' });
    expect(wide).toContain(`00001| ${'x'.repeat(2000)}… (line cut at 2000 characters)`);
    expect(wide).toContain('00002| short');
    const heavy = await p.run('read', { filePath: 'heavy.txt' });
    expect(Buffer.byteLength(heavy)).toBeLessThan(51 * 1024);
    expect(heavy).toMatch(/Showing lines 1-(\d+) of 400 \(output cut at 50 KB\)\. Call read with offset=\d+ to continue\./);
  });

  it('refuses binary files and folders, and suggests names for a missing file', async () => {
    const p = await project({ 'blob.dat': Buffer.from([1, 2, 0, 3]), 'noext': Buffer.from([0x89, 0x50, 0, 0, 0x0d]), 'src/config.ts': 'x' });
    expect(await p.fail('read', { filePath: 'blob.dat' })).toBe('blob.dat is a binary file; read only reads text.');
    expect(await p.fail('read', { filePath: 'noext' })).toBe('noext is a binary file; read only reads text.');
    expect(await p.fail('read', { filePath: 'src' })).toMatch(/src is a folder; use the list tool/);
    expect(await p.fail('read', { filePath: 'src/config' })).toBe('file not found: src/config. Did you mean: src/config.ts?');
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
    expect(await p.run('read', { filePath: 'exact.txt' })).toMatch(/\n00002\| last\n<\/file>$/);
    expect(await p.run('read', { filePath: 'spans.txt', limit: 2 })).toContain(`… (line cut at 2000 characters)\n00002| ${'c'.repeat(99)}\n`);
    expect(await p.run('read', { filePath: 'spans.txt', offset: 657 })).toBe(`<file>\n00657| ${'c'.repeat(32)}\n00658| x€y\n\n(End of file: 658 lines.)\n</file>`);
    expect(await p.run('read', { filePath: 'cut.txt', offset: 2 })).toBe('<file>\n00002| end \uFFFD\n\n(End of file: 2 lines.)\n</file>');
  });

  it('handles an empty file', async () => {
    const p = await project({ 'empty.txt': '' });
    expect(await p.run('read', { filePath: 'empty.txt' })).toBe('<file>\n(empty.txt is empty)\n</file>');
  });

  it('rejects bad arguments with a message for the model', async () => {
    const p = await project({ 'a.txt': 'a' });
    expect(await p.fail('read', { path: 'a.txt' })).toBe(
      'invalid arguments for read: missing required argument "filePath"; unknown argument "path". Expected {filePath: string, offset?: integer, limit?: integer}.',
    );
    expect(await p.fail('read', { filePath: 'a.txt', limit: 'ten' })).toMatch(/"limit" must be integer/);
    expect(await p.fail('read', { filePath: 'a.txt', limit: 0 })).toMatch(/"limit" must be >= 1/);
    expect(await p.fail('read', 'a.txt')).toMatch(/arguments must be an object/);
  });

  it('honours a read permission rule', async () => {
    const p = await project({ 'secret/key.txt': 'k', 'open.txt': 'o' });
    const permission = { read: { 'secret/*': 'deny' as const } };
    expect(await p.fail('read', { filePath: 'secret/key.txt' }, { permission })).toBe('permission denied: read `secret/key.txt` (rule "secret/*": deny)');
    expect(await p.run('read', { filePath: 'open.txt' }, { permission })).toContain('00001| o');
    expect(p.denied).toHaveLength(1);
    await fs.access(path.join(p.root, 'secret/key.txt'));
  });
});
