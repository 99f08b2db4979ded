import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { project } from './helpers.ts';

const read = (root: string, rel: string) => fs.readFile(path.join(root, rel), 'utf8');

describe('write', () => {
  it('creates folders and the file, and overwrites keeping the mode', async () => {
    const p = await project();
    expect(await p.run('write', { filePath: 'a/b/c.txt', content: 'héllo\n' })).toBe('Created a/b/c.txt (7 bytes).');
    expect(await read(p.root, 'a/b/c.txt')).toBe('héllo\n');
    await fs.chmod(path.join(p.root, 'a/b/c.txt'), 0o755);
    expect(await p.run('write', { filePath: 'a/b/c.txt', content: 'new' })).toBe('Overwrote a/b/c.txt (3 bytes).');
    expect(await read(p.root, 'a/b/c.txt')).toBe('new');
    expect((await fs.stat(path.join(p.root, 'a/b/c.txt'))).mode & 0o777).toBe(0o755);
    expect((await fs.readdir(path.join(p.root, 'a/b'))).sort()).toEqual(['c.txt']);
  });

  it('writes through a symlink inside the project to its target', async () => {
    const p = await project({ 'real.txt': 'old' });
    await fs.symlink(path.join(p.root, 'real.txt'), path.join(p.root, 'alias.txt'));
    await p.run('write', { filePath: 'alias.txt', content: 'new' });
    expect(await read(p.root, 'real.txt')).toBe('new');
    expect((await fs.lstat(path.join(p.root, 'alias.txt'))).isSymbolicLink()).toBe(true);
  });

  it('refuses a folder and needs content', async () => {
    const p = await project({ 'dir/x': '' });
    expect(await p.fail('write', { filePath: 'dir', content: 'x' })).toBe('dir is a folder.');
    expect(await p.fail('write', { filePath: 'x.txt' })).toMatch(/missing required argument "content"/);
  });

  it('is governed by permission.edit (prometheus: only Markdown)', async () => {
    const p = await project();
    const permission = { edit: { '*': 'deny' as const, '*.md': 'allow' as const, '**/*.md': 'allow' as const } };
    expect(await p.run('write', { filePath: 'plans/x.md', content: '# plan' }, { permission })).toBe('Created plans/x.md (6 bytes).');
    expect(await p.fail('write', { filePath: 'src/x.ts', content: '' }, { permission })).toBe('permission denied: write `src/x.ts` (rule "*": deny)');
    expect(p.denied).toEqual([['write', 'permission denied: write `src/x.ts` (rule "*": deny)']]);
    await expect(fs.access(path.join(p.root, 'src/x.ts'))).rejects.toThrow();
  });
});

describe('edit', () => {
  it('replaces a unique occurrence', async () => {
    const p = await project({ 'a.ts': 'const a = 1;\nconst b = 2;\n' });
    expect(await p.run('edit', { filePath: 'a.ts', oldString: 'const b = 2;', newString: 'const b = 3;' })).toBe('Edited a.ts: replaced 1 occurrence.');
    expect(await read(p.root, 'a.ts')).toBe('const a = 1;\nconst b = 3;\n');
  });

  it('says when oldString is not found, and changes nothing', async () => {
    const p = await project({ 'a.ts': 'x\n' });
    expect(await p.fail('edit', { filePath: 'a.ts', oldString: 'y', newString: 'z' })).toBe(
      'oldString was not found in a.ts. Read the file again and copy the text exactly, including whitespace and indentation.',
    );
    expect(await read(p.root, 'a.ts')).toBe('x\n');
  });

  it('says how many matches there are, unless replaceAll', async () => {
    const p = await project({ 'a.ts': 'foo();\nfoo();\n' });
    expect(await p.fail('edit', { filePath: 'a.ts', oldString: 'foo()', newString: 'bar()' })).toBe(
      'oldString occurs 2 times in a.ts; it must occur exactly once. Add surrounding lines to make it unique, or set replaceAll: true to change all 2.',
    );
    expect(await read(p.root, 'a.ts')).toBe('foo();\nfoo();\n');
    expect(await p.run('edit', { filePath: 'a.ts', oldString: 'foo()', newString: 'bar()', replaceAll: true })).toBe('Edited a.ts: replaced 2 occurrences.');
    expect(await read(p.root, 'a.ts')).toBe('bar();\nbar();\n');
  });

  it('inserts $ patterns literally', async () => {
    const p = await project({ 'a.txt': 'price: X\n' });
    await p.run('edit', { filePath: 'a.txt', oldString: 'X', newString: "$& $' $1" });
    expect(await read(p.root, 'a.txt')).toBe("price: $& $' $1\n");
  });

  it('matches LF strings in a CRLF file and keeps CRLF', async () => {
    const p = await project({ 'w.txt': 'one\r\ntwo\r\nthree\r\n' });
    await p.run('edit', { filePath: 'w.txt', oldString: 'one\ntwo', newString: 'uno\ndos' });
    expect(await read(p.root, 'w.txt')).toBe('uno\r\ndos\r\nthree\r\n');
  });

  it('creates a missing file from an empty oldString, and refuses that for an existing one', async () => {
    const p = await project({ 'here.txt': 'x' });
    expect(await p.run('edit', { filePath: 'new/file.txt', oldString: '', newString: 'fresh' })).toBe('Created new/file.txt.');
    expect(await read(p.root, 'new/file.txt')).toBe('fresh');
    expect(await p.fail('edit', { filePath: 'here.txt', oldString: '', newString: 'y' })).toMatch(/already exists/);
    expect(await p.fail('edit', { filePath: 'missing.txt', oldString: 'a', newString: 'b' })).toMatch(/^file not found: missing.txt/);
    expect(await p.fail('edit', { filePath: 'here.txt', oldString: 'x', newString: 'x' })).toMatch(/the same/);
  });

  it('rejects unknown arguments and wrong types', async () => {
    const p = await project({ 'a.txt': 'x' });
    expect(await p.fail('edit', { filePath: 'a.txt', old_string: 'x', newString: 'y' })).toBe(
      'invalid arguments for edit: missing required argument "oldString"; unknown argument "old_string". Expected {filePath: string, oldString: string, newString: string, replaceAll?: boolean}.',
    );
    expect(await p.fail('edit', { filePath: 'a.txt', oldString: 'x', newString: 'y', replaceAll: 'yes' })).toMatch(/"replaceAll" must be boolean/);
  });

  it('asks under the default permission (denied when non-interactive)', async () => {
    const p = await project({ 'a.txt': 'x' });
    expect(await p.fail('edit', { filePath: 'a.txt', oldString: 'x', newString: 'y' }, { permission: {} })).toBe(
      'permission denied: edit `a.txt` (edit: ask by default; not approved: non-interactive run; pass --auto to approve)',
    );
    expect(await p.run('edit', { filePath: 'a.txt', oldString: 'x', newString: 'y' }, { permission: {}, auto: true })).toMatch(/^Edited/);
  });
});
