import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeDir, makeDirSync } from '../src/make-dir.ts';

let dir: string;
beforeEach(() => {
  dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'pantheon-make-dir-')));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const modeOf = (p: string) => fs.statSync(p).mode & 0o777;
const failure = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return error as NodeJS.ErrnoException;
  }
  throw new Error('expected a failure');
};

describe.each([
  ['makeDir', (d: string, mode?: number) => makeDir(d, mode)],
  ['makeDirSync', async (d: string, mode?: number) => makeDirSync(d, mode)],
])('%s: mkdir -p', (_, make) => {
  it('makes every missing level with the mode given, and is content with a folder that is there', async () => {
    const deep = path.join(dir, 'a', 'b', 'c');
    await make(deep, 0o700);
    expect(fs.statSync(deep).isDirectory()).toBe(true);
    for (const level of ['a', 'a/b', 'a/b/c']) expect(modeOf(path.join(dir, level))).toBe(0o700);
    await make(deep, 0o700);
    await make(dir);
    fs.symlinkSync(path.join(dir, 'a'), path.join(dir, 'link'));
    await make(path.join(dir, 'link', 'b'));
  });

  it('a file in the way: EEXIST naming that file (as Node says it), nothing made under it', async () => {
    fs.writeFileSync(path.join(dir, 'file'), 'x');
    const error = await make(path.join(dir, 'file', 'sub', 'deeper')).then(
      () => undefined,
      (e: unknown) => e as NodeJS.ErrnoException,
    );
    expect(error?.code).toBe('EEXIST');
    expect(error?.path).toBe(path.join(dir, 'file'));
  });

  it('a link to nothing in the way: ENOENT naming the link', async () => {
    fs.symlinkSync(path.join(dir, 'gone'), path.join(dir, 'dangling'));
    const error = await make(path.join(dir, 'dangling', 'sub')).then(
      () => undefined,
      (e: unknown) => e as NodeJS.ErrnoException,
    );
    expect(error?.code).toBe('ENOENT');
    expect(error?.path).toBe(path.join(dir, 'dangling'));
  });

  it('many at once on the same new path all succeed', async () => {
    const deep = path.join(dir, 'x', 'y', 'z');
    await Promise.all(Array.from({ length: 8 }, () => make(deep)));
    expect(fs.statSync(deep).isDirectory()).toBe(true);
  });

  it.runIf(process.platform === 'linux' && fs.existsSync('/proc/self'))('a path under /proc fails at once with ENOENT (Node’s own recursive mkdir loops there forever)', async () => {
    const error = await make('/proc/pantheon-no-such/sub').then(
      () => undefined,
      (e: unknown) => e as NodeJS.ErrnoException,
    );
    expect(error?.code).toBe('ENOENT');
    expect(error?.path).toBe('/proc/pantheon-no-such');
  });
});

describe('makeDirSync', () => {
  it('an empty path and the root: Node’s own errors, no loop', () => {
    expect(failure(() => makeDirSync('')).code).toBe('ENOENT');
    makeDirSync('/');
  });
});
