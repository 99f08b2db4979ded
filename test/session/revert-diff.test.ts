/**
 * What a revert did to the files (revert-diff.ts), from the patches a session kept: each file the
 * reverted turns changed, from every turn applied to how the revert left it, as git writes the
 * patch; bounded per file and in all, the counts kept when a patch is not; a file changed since by
 * something else listed with its kept patches' counts, headers only.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parsePatch } from 'diff';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_REVERT_DIFF_CHARS, revertDiffText, revertFiles } from '../../src/session/revert-diff.ts';
import { moveTo } from '../../src/session/revert.ts';
import type { SessionMessage, SessionRecord } from '../../src/session/store.ts';
import { fileDiff, MAX_PATCH_CHARS } from '../../src/tools/file-diff.ts';

let root: string;
beforeEach(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'pantheon-revert-diff-'));
});
afterEach(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

/** Writes `after` to `file` as a tool would, and the tool message that keeps its patch. */
async function change(file: string, before: string | undefined, after: string, callId: string): Promise<SessionMessage> {
  await fs.mkdir(path.dirname(path.join(root, file)), { recursive: true });
  await fs.writeFile(path.join(root, file), after);
  const diff = await fileDiff(file, before, after);
  expect(diff?.patch, `${file}: a patch the tool keeps`).toBeDefined();
  return { role: 'tool', content: [], diffs: { [callId]: diff?.patch as string } };
}

const user = (id: string) => ({ role: 'user', content: 'go', info: { id } }) as unknown as SessionMessage;

function record(messages: SessionMessage[]): SessionRecord {
  return { id: 'ses_test', projectRoot: root, agent: 'build', title: 't', createdAt: 1, updatedAt: 1, messages, usage: { inputTokens: 0, outputTokens: 0 }, models: [] };
}

/** `n` numbered lines, each `width` characters. */
const lines = (prefix: string, n: number, width = 40) => Array.from({ length: n }, (_, i) => `${prefix}${i}`.padEnd(width, '.')).join('\n') + '\n';

describe('revertFiles', () => {
  it('each file the reverted turns changed, by path, as git writes it; the kept turn’s own changes are not in it', async () => {
    await fs.writeFile(path.join(root, 'z.txt'), 'keep\n');
    const messages = [
      user('msg_1'),
      await change('z.txt', 'keep\n', 'kept turn\n', 'c0'),
      user('msg_2'),
      await change('z.txt', 'kept turn\n', 'kept turn\nthen more\n', 'c1'),
      await change('src/new.ts', undefined, 'export {};\n', 'c2'),
    ];
    const moved = await moveTo(record(messages), 'msg_2');
    expect(await fs.readFile(path.join(root, 'z.txt'), 'utf8')).toBe('kept turn\n');
    expect(moved.revert?.files).toEqual([
      { file: 'src/new.ts', status: 'deleted', additions: 0, deletions: 1, patch: 'diff --git a/src/new.ts b/src/new.ts\ndeleted file mode 100644\nindex cb0ff5c..0000000\n--- a/src/new.ts\n+++ /dev/null\n@@ -1 +0,0 @@\n-export {};\n' },
      { file: 'z.txt', status: 'modified', additions: 0, deletions: 1, patch: 'diff --git a/z.txt b/z.txt\nindex 5fa855a..55415fd 100644\n--- a/z.txt\n+++ b/z.txt\n@@ -1,2 +1 @@\n kept turn\n-then more\n' },
    ]);
    // Reverting further back: from every turn applied, whatever the mark was.
    const further = await moveTo(moved, 'msg_1');
    expect(further.revert?.files?.map((f) => [f.file, f.additions, f.deletions])).toEqual([
      ['src/new.ts', 0, 1],
      ['z.txt', 1, 2],
    ]);
    expect(revertDiffText(further.revert?.files ?? [])).not.toMatch(/\n$/);
    expect((await moveTo(further, undefined)).revert).toBeUndefined();
  });

  it('a patch over MAX_PATCH_CHARS keeps its headers and its counts; past MAX_REVERT_DIFF_CHARS in all, later files too', async () => {
    // One file grown by three writes, each patch kept, the whole change far over one patch's bound.
    const a = lines('a', 600);
    const b = a + lines('b', 600);
    const c = b + lines('c', 600);
    const big = [user('msg_1'), await change('big.txt', undefined, a, 'c1'), await change('big.txt', a, b, 'c2'), await change('big.txt', b, c, 'c3')];
    const bigMoved = await moveTo(record(big), 'msg_1');
    expect(bigMoved.revert?.files).toEqual([{ file: 'big.txt', status: 'deleted', additions: 0, deletions: 1800, patch: 'diff --git a/big.txt b/big.txt\ndeleted file mode 100644\nindex fc7e78d..0000000\n--- a/big.txt\n+++ /dev/null\n' }]);
    // The banner lists it, without counts.
    expect(parsePatch(revertDiffText(bigMoved.revert?.files ?? [])).map((f) => [f.oldFileName, f.hunks.length])).toEqual([['a/big.txt', 0]]);

    // Files each just under one patch's bound: as many as fit whole, the rest by their headers.
    const each = lines('x', 1300);
    const many = [user('msg_1')];
    for (let i = 0; i < 8; i++) many.push(await change(`f${i}.txt`, undefined, each, `c${i}`));
    const files = (await moveTo(record(many), 'msg_1')).revert?.files ?? [];
    expect(files).toHaveLength(8);
    expect(files.every((f) => f.deletions === 1300 && f.status === 'deleted')).toBe(true);
    const whole = files.filter((f) => f.patch.includes('@@'));
    expect(whole.length).toBe(Math.floor(MAX_REVERT_DIFF_CHARS / whole[0]!.patch.length));
    expect(whole[0]!.patch.length).toBeLessThanOrEqual(MAX_PATCH_CHARS);
    expect(revertDiffText(files).length).toBeLessThanOrEqual(MAX_REVERT_DIFF_CHARS);
    expect(files.slice(whole.length).every((f) => !f.patch.includes('@@'))).toBe(true);
  });

  it('a file changed since by something else: listed with its kept patches’ counts undone, headers only', async () => {
    await fs.writeFile(path.join(root, 'x.txt'), 'one\n');
    const messages = [user('msg_1'), await change('x.txt', 'one\n', 'one\ntwo\nthree\n', 'c1')];
    await fs.writeFile(path.join(root, 'x.txt'), 'rewritten by hand\n');
    expect(await revertFiles(root, messages, 0)).toEqual([{ file: 'x.txt', status: 'modified', additions: 0, deletions: 2, patch: 'diff --git a/x.txt b/x.txt\n--- a/x.txt\n+++ b/x.txt\n' }]);
  });
});
