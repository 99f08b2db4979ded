/**
 * A session's file changes (session-diff.ts): the patches it kept, applied in reverse to the files
 * as they are now, give each file's text before the session; a file changed since by something
 * else is listed with its patches' counts and no texts.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sessionDiff } from '../../src/session/session-diff.ts';
import type { SessionMessage } from '../../src/session/store.ts';
import { fileDiff } from '../../src/tools/file-diff.ts';

let root: string;
beforeEach(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'pantheon-session-diff-'));
});
afterEach(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

/** Writes `after` to `file` as a tool would, and the tool message that keeps its patch. */
async function change(file: string, before: string | undefined, after: string, callId: string): Promise<SessionMessage> {
  await fs.mkdir(path.dirname(path.join(root, file)), { recursive: true });
  await fs.writeFile(path.join(root, file), after);
  const diff = await fileDiff(file, before, after);
  return { role: 'tool', content: [{ type: 'tool-result', toolCallId: callId, toolName: 'edit', output: { type: 'text', value: 'Edited.' } }], diffs: { [callId]: diff?.patch as string } };
}

describe('sessionDiff', () => {
  it('each file from before its first change to now, in the order first changed: two edits of one file are one net change', async () => {
    const v0 = 'a\nb\nc\n';
    await fs.writeFile(path.join(root, 'x.txt'), v0);
    const messages = [
      { role: 'user', content: 'go', info: { id: 'msg_1' } } as unknown as SessionMessage,
      await change('x.txt', v0, 'a\nB\nc\n', 'c1'),
      await change('src/new.ts', undefined, 'export {};\n', 'c2'),
      await change('x.txt', 'a\nB\nc\n', 'a\nb\nc\nd\n', 'c3'),
    ];
    expect(await sessionDiff(root, messages)).toEqual([
      { file: 'x.txt', before: v0, after: 'a\nb\nc\nd\n', additions: 1, deletions: 0 },
      { file: 'src/new.ts', before: '', after: 'export {};\n', additions: 1, deletions: 0 },
    ]);
  });

  it('a change undone by a later one is not listed; a file changed since by something else keeps its counts without texts', async () => {
    await fs.writeFile(path.join(root, 'back.txt'), 'one\n');
    await fs.writeFile(path.join(root, 'moved.txt'), 'keep\n');
    const messages = [
      await change('back.txt', 'one\n', 'two\n', 'c1'),
      await change('back.txt', 'two\n', 'one\n', 'c2'),
      await change('moved.txt', 'keep\n', 'keep\nmore\n', 'c3'),
    ];
    await fs.writeFile(path.join(root, 'moved.txt'), 'rewritten by hand\n');
    expect(await sessionDiff(root, messages)).toEqual([{ file: 'moved.txt', before: '', after: '', additions: 1, deletions: 0 }]);
  });

  it('no patches, a hand-edited file with odd values, or a path outside the project: nothing listed, nothing read outside', async () => {
    expect(await sessionDiff(root, [{ role: 'user', content: 'hi' }])).toEqual([]);
    const odd = [
      { role: 'tool', content: [], diffs: { c1: 42, c2: 'not a patch' } },
      { role: 'tool', content: [], diffs: 'nope' },
      { role: 'tool', content: [], diffs: { c3: '--- a/../../etc/passwd\n+++ b/../../etc/passwd\n@@ -1 +1 @@\n-x\n+y\n' } },
    ] as unknown as SessionMessage[];
    expect(await sessionDiff(root, odd)).toEqual([]);
  });
});
