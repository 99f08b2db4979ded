/** The diff of an `edit` or `write` call (file-diff.ts): counts, the patch's form, new files, and the bounds. */
import { describe, expect, it } from 'vitest';
import { fileDiff, MAX_PATCH_CHARS, MAX_TEXT_BYTES } from '../../src/tools/file-diff.ts';

describe('fileDiff', () => {
  it('counts the lines added and removed and gives a unified patch with file headers and 3 lines of context', async () => {
    const before = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].join('\n') + '\n';
    const after = ['a', 'b', 'c', 'D', 'D2', 'e', 'f', 'g', 'h'].join('\n') + '\n';
    const diff = await fileDiff('src/x.ts', before, after);
    expect(diff).toEqual({ file: 'src/x.ts', additions: 2, deletions: 1, patch: expect.any(String) });
    expect(diff?.patch?.split('\n')).toEqual(['--- a/src/x.ts', '+++ b/src/x.ts', '@@ -1,7 +1,8 @@', ' a', ' b', ' c', '-d', '+D', '+D2', ' e', ' f', ' g', '']);
  });

  it('a new file is all additions, from /dev/null; Windows separators become /', async () => {
    const diff = await fileDiff('docs\\new.md', undefined, 'one\ntwo\n');
    expect(diff).toMatchObject({ file: 'docs/new.md', additions: 2, deletions: 0 });
    expect(diff?.patch?.split('\n').slice(0, 3)).toEqual(['--- /dev/null', '+++ b/docs/new.md', '@@ -0,0 +1,2 @@']);
  });

  it('no change is no lines; a text over the size bound has no diff; a patch over its bound keeps its counts only', async () => {
    expect(await fileDiff('same.txt', 'x\n', 'x\n')).toMatchObject({ additions: 0, deletions: 0 });
    expect(await fileDiff('big.txt', 'a', 'b'.repeat(MAX_TEXT_BYTES + 1))).toBeUndefined();
    const lines = Array.from({ length: 3000 }, (_, i) => `line ${i} ${'x'.repeat(20)}`).join('\n');
    const long = await fileDiff('long.txt', undefined, lines);
    expect(long).toEqual({ file: 'long.txt', additions: 3000, deletions: 0 });
    expect(lines.length).toBeGreaterThan(MAX_PATCH_CHARS);
  });
});
