/**
 * OpenCode's scratch folder (`<tmp>/opencode`), pre-approved for the tools only when it is this
 * user's own: made 0700, not a link another user planted, not another user's, writable by no one else.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensureScratchDir, inScratchDir, scratchDir } from '../../src/tools/scratch-dir.ts';

let tmp: string;
const saved = process.env.TMPDIR;
beforeEach(() => {
  tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'pantheon-scratch-')));
  process.env.TMPDIR = tmp;
});
afterEach(() => {
  if (saved === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = saved;
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('the scratch folder', () => {
  it("is made this user's alone, and a path in it is approved; one beside it is not", async () => {
    expect(scratchDir()).toBe(path.join(tmp, 'opencode'));
    await ensureScratchDir();
    expect(fs.statSync(scratchDir()).mode & 0o777).toBe(0o700);
    expect(await inScratchDir(path.join(tmp, 'opencode', 'build', 'out.txt'))).toBe(true);
    expect(await inScratchDir(path.join(tmp, 'opencode'))).toBe(true);
    expect(await inScratchDir(path.join(tmp, 'opencode-other', 'x'))).toBe(false);
    expect(await inScratchDir(path.join(tmp, 'x'))).toBe(false);
  });

  it('a link planted in its place approves nothing, neither where it points nor in it', async () => {
    const victim = path.join(tmp, 'home-of-victim');
    fs.mkdirSync(victim, { mode: 0o700 });
    fs.symlinkSync(victim, path.join(tmp, 'opencode'));
    await ensureScratchDir();
    expect(await inScratchDir(path.join(victim, '.ssh', 'id_ed25519'))).toBe(false);
    expect(await inScratchDir(path.join(tmp, 'opencode', 'x'))).toBe(false);
  });

  it('a folder others may write approves nothing', async () => {
    fs.mkdirSync(path.join(tmp, 'opencode'));
    fs.chmodSync(path.join(tmp, 'opencode'), 0o777);
    await ensureScratchDir();
    expect(await inScratchDir(path.join(tmp, 'opencode', 'x'))).toBe(false);
  });

  it.runIf(process.getuid?.() === 0)("another user's folder approves nothing (run as root, which can give it away)", async () => {
    fs.mkdirSync(path.join(tmp, 'opencode'), { mode: 0o755 });
    fs.chownSync(path.join(tmp, 'opencode'), 4321, 4321);
    await ensureScratchDir();
    expect(await inScratchDir(path.join(tmp, 'opencode', 'x'))).toBe(false);
  });

  it('without ensureScratchDir first (no bash offered), nothing is approved', async () => {
    fs.mkdirSync(path.join(tmp, 'opencode'), { mode: 0o700 });
    expect(await inScratchDir(path.join(tmp, 'opencode', 'x'))).toBe(false);
  });
});
