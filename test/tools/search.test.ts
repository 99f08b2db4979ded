import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FILE_BUDGET_MS, SLOW_PATTERN_ADVICE } from '../../src/tools/regex-search.ts';
import { project, tempDir, writeFiles } from './helpers.ts';

async function touch(file: string, secondsAgo: number): Promise<void> {
  const t = new Date(Date.UTC(2026, 0, 1) - secondsAgo * 1000);
  await fs.utimes(file, t, t);
}

describe('list', () => {
  it('shows a tree, folders first, skipping .git, node_modules and .gitignored entries', async () => {
    const p = await project({
      'src/b.ts': '',
      'src/a.ts': '',
      'src/deep/c.ts': '',
      'README.md': '',
      '.gitignore': '# build output\ndist/\n*.log\n/secret.txt\n!keep.log\n',
      'dist/out.js': '',
      'debug.log': '',
      'src/trace.log': '',
      'secret.txt': '',
      'node_modules/x/index.js': '',
      '.git/HEAD': '',
    });
    expect(await p.run('list', {})).toBe(
      [`${p.root}/`, '  src/', '    deep/', '      c.ts', '    a.ts', '    b.ts', '  .gitignore', '  README.md'].join('\n'),
    );
    expect(await p.run('list', { path: 'src' })).toBe([`${path.join(p.root, 'src')}/`, '  deep/', '    c.ts', '  a.ts', '  b.ts'].join('\n'));
  });

  it('caps the entries, shallowest first, with a note', async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 250; i++) files[`many/f${String(i).padStart(3, '0')}.txt`] = '';
    files['top.txt'] = '';
    const p = await project(files);
    const out = await p.run('list', {});
    expect(out).toContain('  top.txt');
    expect(out).toContain('    f000.txt');
    expect(out).not.toContain('f250');
    expect(out).toContain('(Showing 200 of 252 entries, shallowest first. List a subfolder, or use glob, to see the rest.)');
  });

  it('says so for a missing folder, a file, and an empty folder', async () => {
    const p = await project({ 'a.txt': '' });
    await fs.mkdir(path.join(p.root, 'empty'));
    expect(await p.fail('list', { path: 'nope' })).toBe('folder not found: nope');
    expect(await p.fail('list', { path: 'a.txt' })).toMatch(/is a file/);
    expect(await p.run('list', { path: 'empty' })).toBe(`${path.join(p.root, 'empty')}/\n  (empty)`);
  });
});

describe('glob', () => {
  it('finds files newest first, relative to the project root', async () => {
    const p = await project({ 'src/old.ts': '', 'src/new.ts': '', 'src/mid.ts': '', 'src/x.js': '', 'node_modules/m/i.ts': '' });
    await touch(path.join(p.root, 'src/old.ts'), 300);
    await touch(path.join(p.root, 'src/mid.ts'), 200);
    await touch(path.join(p.root, 'src/new.ts'), 100);
    await touch(path.join(p.root, 'src/x.js'), 400);
    expect(await p.run('glob', { pattern: '**/*.ts' })).toBe('src/new.ts\nsrc/mid.ts\nsrc/old.ts');
    expect(await p.run('glob', { pattern: '*.{ts,js}', path: 'src' })).toBe('src/new.ts\nsrc/mid.ts\nsrc/old.ts\nsrc/x.js');
    expect(await p.run('glob', { pattern: '**/*.py' })).toBe('No files found.');
  });

  it('caps at 100 with a note', async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 130; i++) files[`f${i}.txt`] = '';
    const p = await project(files);
    const out = (await p.run('glob', { pattern: '*.txt' })).split('\n');
    expect(out.filter((l) => l.endsWith('.txt'))).toHaveLength(100);
    expect(out.at(-1)).toBe('(Showing the 100 most recently modified of 130 files. Use a narrower pattern or path to see the others.)');
  });

  it('needs a pattern and a folder that exists', async () => {
    const p = await project({ 'a.txt': '' });
    expect(await p.fail('glob', {})).toMatch(/missing required argument "pattern"/);
    expect(await p.fail('glob', { pattern: '*', path: 'missing' })).toBe('folder not found: missing');
  });

  it('takes at most 3 "*" in one name (more backtrack for hours on a long file name), in glob and in grep\'s include', async () => {
    const long = 'a'.repeat(200);
    const p = await project({ [long]: 'hit\n', 'sub/x.ts': 'hit\n' });
    const started = performance.now();
    expect(await p.run('glob', { pattern: '**/*a*a*b' })).toBe('No files found.');
    expect(await p.run('glob', { pattern: '*a*a*' })).toBe(long);
    expect(await p.run('grep', { pattern: 'hit', include: '**/*.t*' })).toBe('sub/x.ts:1: hit');
    expect(performance.now() - started).toBeLessThan(5_000);
    const refused = 'has 4 "*" in one name; at most 3 are taken (more make matching a long file name take hours): use fewer, e.g. "*part*", and narrow the results with grep.';
    expect(await p.fail('glob', { pattern: '**/*a*a*a*b' })).toBe(`pattern "**/*a*a*a*b" ${refused}`);
    expect(await p.fail('grep', { pattern: 'hit', include: '*a**a*a*b' })).toBe(`pattern "*a**a*a*b" ${refused}`);
  });
});

describe('grep', () => {
  it('prints path:line: text for each match', async () => {
    const p = await project({ 'src/a.ts': 'const x = 1;\nfunction foo() {}\n', 'src/b.js': 'function bar() {}\n', 'notes.md': 'no match\n' });
    expect(await p.run('grep', { pattern: 'function\\s+\\w+' })).toBe('src/a.ts:2: function foo() {}\nsrc/b.js:1: function bar() {}');
    expect(await p.run('grep', { pattern: 'nothing-here' })).toBe('No matches found.');
  });

  it('filters files by include at any depth, and searches under path', async () => {
    const p = await project({ 'a.ts': 'hit\n', 'src/b.ts': 'hit\n', 'src/c.tsx': 'hit\n', 'src/d.js': 'hit\n', 'other/e.ts': 'hit\n' });
    expect(await p.run('grep', { pattern: 'hit', include: '*.ts' })).toBe('a.ts:1: hit\nother/e.ts:1: hit\nsrc/b.ts:1: hit');
    expect(await p.run('grep', { pattern: 'hit', include: '*.{ts,tsx}', path: 'src' })).toBe('src/b.ts:1: hit\nsrc/c.tsx:1: hit');
    expect(await p.run('grep', { pattern: 'hit', include: 'src/*.js' })).toBe('src/d.js:1: hit');
  });

  it('skips binary files, huge files, ignored files and symlinks', async () => {
    const outside = await tempDir('pantheon-outside-');
    await writeFiles(outside, { 'secret.txt': 'needle outside\n' });
    const p = await project({
      'text.txt': 'needle\n',
      'bin.dat': Buffer.concat([Buffer.from('needle'), Buffer.from([0, 1, 2])]),
      'raw': Buffer.concat([Buffer.from('needle'), Buffer.from([0])]),
      'huge.txt': `needle\n${'z'.repeat(1024 * 1024)}`,
      '.gitignore': 'ignored/\n',
      'ignored/x.txt': 'needle\n',
      'node_modules/p/i.js': 'needle\n',
    });
    await fs.symlink(path.join(outside, 'secret.txt'), path.join(p.root, 'link.txt'));
    expect(await p.run('grep', { pattern: 'needle' })).toBe('text.txt:1: needle\n\n(1 file over 1 MB not searched.)');
  });

  it('caps matches at 100 with a note, and cuts long lines', async () => {
    const p = await project({ 'many.txt': Array.from({ length: 150 }, (_, i) => `match ${i}`).join('\n'), 'wide.txt': `match ${'w'.repeat(900)}` });
    const out = (await p.run('grep', { pattern: '^match' })).split('\n');
    expect(out.filter((l) => l.startsWith('many.txt:'))).toHaveLength(100);
    expect(out.at(-1)).toBe('(Showing the first 100 of 151 matches. Use a narrower pattern, path or include to see the others.)');
    const wide = await p.run('grep', { pattern: 'w{10}' });
    expect(wide).toBe(`wide.txt:1: match ${'w'.repeat(494)}… (line cut at 500 characters)`);
  });

  it('reports an invalid regular expression', async () => {
    const p = await project({ 'a.txt': 'a' });
    expect(await p.fail('grep', { pattern: '(' })).toMatch(/^invalid regular expression "\(": /);
  });

  it("runs JavaScript's own syntax: lookarounds, backreferences, \\u escapes", async () => {
    const p = await project({ 'a.txt': 'foobar\nfoobaz\nabba\n\u00e9t\u00e9\n' });
    expect(await p.run('grep', { pattern: 'foo(?=bar)' })).toBe('a.txt:1: foobar');
    expect(await p.run('grep', { pattern: '(?<!foo)ba' })).toBe('a.txt:3: abba');
    expect(await p.run('grep', { pattern: '(b)\\1' })).toBe('a.txt:3: abba');
    expect(await p.run('grep', { pattern: '^\\u00e9' })).toBe('a.txt:4: \u00e9t\u00e9');
  });

  it('stops a pattern that backtracks without end on one file, naming it, within the budget; the next search runs', async () => {
    const p = await project({ 'a.txt': 'fine\n', 'b/evil.txt': `${'a'.repeat(5000)}!\n` });
    const started = performance.now();
    const message = await p.fail('grep', { pattern: '(a+)+$' });
    expect(message).toBe(`the pattern "(a+)+$" took over ${FILE_BUDGET_MS / 1000} s on b/evil.txt and was stopped; simplify it: ${SLOW_PATTERN_ADVICE}.`);
    expect(performance.now() - started).toBeLessThan(FILE_BUDGET_MS + 3_000);
    expect(await p.run('grep', { pattern: 'fine|a!' })).toBe(`a.txt:1: fine\nb/evil.txt:1: ${'a'.repeat(500)}… (line cut at 500 characters)`);
  });

  it('an aborted call stops its search at once', async () => {
    const p = await project({ 'evil.txt': `${'x'.repeat(5000)}\n` });
    const abort = new AbortController();
    const call = p.run('grep', { pattern: '(x+x+)+y' }, { signal: abort.signal });
    let aborted = 0;
    // Most likely in the worker by then; wherever the search is, the call ends at once.
    setTimeout(() => {
      aborted = performance.now();
      abort.abort(new Error('stopped by the test'));
    }, 300);
    await expect(call).rejects.toThrow('grep was cancelled.');
    expect(performance.now() - aborted).toBeLessThan(FILE_BUDGET_MS / 2);
  });
});
