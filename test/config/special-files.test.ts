import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.ts';
import { PantheonError } from '../../src/errors.ts';
import { tempTree, type TempTree } from './temp-tree.ts';

let tree: TempTree;
beforeEach(async () => {
  tree = await tempTree();
  await tree.write('presets/default.json', {});
  await tree.mkdir('repo/.git');
});
afterEach(async () => {
  await tree.remove();
});

const base = (env: NodeJS.ProcessEnv = {}) => ({ cwd: tree.path('repo'), env: { ...tree.env, ...env }, presetsDir: tree.presets });

async function loadError(options: Parameters<typeof loadConfig>[0]): Promise<PantheonError> {
  const error = await loadConfig(options).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof PantheonError)) throw new Error(`expected a PantheonError, got ${String(error)}`);
  return error;
}

function mkfifo(file: string): void {
  execFileSync('mkfifo', [file]);
}

/** A `{file:}` reference in the project's opencode.json. */
async function withRef(ref: string): Promise<void> {
  await tree.write('repo/opencode.json', `{\n  "agent": {\n    "x": { "prompt": "{file:${ref}}" }\n  }\n}\n`);
}

describe('{file:} reads regular files only, up to 1 MiB', () => {
  const where = () => `${tree.path('repo/opencode.json')}:3:22: agent.x.prompt refers to`;

  it.each([
    ['/dev/zero', 'is a character device, not a regular file'],
    ['/dev/urandom', 'is a character device, not a regular file'],
  ])('%s: refused at once, before reading a byte', async (device, reason) => {
    await withRef(device);
    const error = await loadError(base());
    expect(error.code).toBe('CONFIG_FILE_REF');
    expect(error.exitCode).toBe(2);
    expect(error.message).toBe(`${where()} {file:${device}}, but ${device} ${reason}.`);
    expect(error.hint).toBe('{file:…} reads a regular file of at most 1 MiB (a prompt, a key, instructions).');
  });

  it('a FIFO with no writer: refused at once (no hang)', async () => {
    mkfifo(tree.path('repo/pipe'));
    await withRef('./pipe');
    const error = await loadError(base());
    expect(error.message).toBe(`${where()} {file:./pipe}, but ${tree.path('repo/pipe')} is a FIFO (named pipe), not a regular file.`);
  });

  it('a symbolic link to a device is followed and refused', async () => {
    await fs.symlink('/dev/zero', tree.path('repo/prompt.md'));
    await withRef('./prompt.md');
    expect((await loadError(base())).message).toMatch(/prompt\.md is a character device, not a regular file\.$/);
  });

  it('a folder and a missing file', async () => {
    await tree.mkdir('repo/prompts');
    await withRef('./prompts');
    expect((await loadError(base())).message).toBe(`${where()} {file:./prompts}, but ${tree.path('repo/prompts')} is a folder, not a regular file.`);
    await withRef('./nope.md');
    const missing = await loadError(base());
    expect(missing.message).toBe(`${where()} {file:./nope.md}, but ${tree.path('repo/nope.md')} does not exist.`);
    expect(missing.hint).toMatch(/relative to the config file/);
  });

  it('a file over 1 MiB names the limit and the size; exactly 1 MiB loads', async () => {
    await tree.write('repo/big.md', 'x'.repeat(1024 * 1024 + 1));
    await withRef('./big.md');
    expect((await loadError(base())).message).toBe(`${where()} {file:./big.md}, but ${tree.path('repo/big.md')} is larger than the 1 MiB limit (1,048,577 bytes).`);
    await tree.write('repo/big.md', 'x'.repeat(1024 * 1024));
    const loaded = await loadConfig(base());
    expect(loaded.config.agent?.x?.prompt).toHaveLength(1024 * 1024);
  });
});

describe('config files that are not regular files', () => {
  it('opencode.json that is a FIFO: refused at once (cosmiconfig never opens it)', async () => {
    mkfifo(tree.path('repo/opencode.json'));
    const error = await loadError(base());
    expect(error.exitCode).toBe(2);
    expect(error.message).toBe(`Cannot read ${tree.path('repo/opencode.json')}: it is a FIFO (named pipe), not a regular file.`);
    expect(error.hint).toBe('A config file must be a regular file of at most 16 MiB.');
  });

  it('opencode.json linked to /dev/zero, pantheon.json linked to /dev/urandom', async () => {
    await fs.symlink('/dev/zero', tree.path('repo/opencode.json'));
    expect((await loadError(base())).message).toBe(`Cannot read ${tree.path('repo/opencode.json')}: it is a character device, not a regular file.`);
    await fs.rm(tree.path('repo/opencode.json'));
    await fs.symlink('/dev/urandom', tree.path('repo/pantheon.json'));
    expect((await loadError(base())).message).toBe(`Cannot read ${tree.path('repo/pantheon.json')}: it is a character device, not a regular file.`);
  });

  it('opencode.json that is a symbolic link to itself: said, with a hint about the link', async () => {
    await fs.symlink('opencode.json', tree.path('repo/opencode.json'));
    const error = await loadError(base());
    expect(error.exitCode).toBe(2);
    expect(error.message).toBe(`Cannot read ${tree.path('repo/opencode.json')}: it is a symbolic link that loops.`);
    expect(error.hint).toBe('Point the link at the config file itself (ls -l shows where it leads).');
  });

  it('--config /dev/zero, OPENCODE_CONFIG=/dev/urandom, extends of a FIFO', async () => {
    expect((await loadError({ ...base(), configPath: '/dev/zero' })).message).toBe('Cannot read /dev/zero: it is a character device, not a regular file.');
    expect((await loadError(base({ OPENCODE_CONFIG: '/dev/urandom' }))).message).toBe('Cannot read /dev/urandom: it is a character device, not a regular file.');
    mkfifo(tree.path('repo/team.json'));
    await tree.write('repo/opencode.json', { extends: ['./team.json'] });
    expect((await loadError(base())).message).toBe(`Cannot read ${tree.path('repo/team.json')}: it is a FIFO (named pipe), not a regular file.`);
  });

  it('a config file over 16 MiB is refused before it is read', async () => {
    const file = tree.path('repo/opencode.json');
    await fs.writeFile(file, '');
    await fs.truncate(file, 16 * 1024 * 1024 + 1);
    expect((await loadError(base())).message).toBe(`Cannot read ${file}: it is larger than the 16 MiB limit (16,777,217 bytes).`);
  });

  it('a folder or a link to nothing under a config file name: skipped with a warning, the rest loads', async () => {
    await tree.mkdir('repo/opencode.json');
    await tree.write('repo/opencode.jsonc', '{ "model": "p/from-jsonc" }');
    await tree.mkdir('xdg/opencode');
    await fs.symlink('../dotfiles/opencode.json', tree.path('xdg/opencode/opencode.json'));
    await tree.mkdir('repo/.opencode');
    await fs.symlink('gone.json', tree.path('repo/.opencode/opencode.json'));
    const loaded = await loadConfig(base());
    expect(loaded.config.model).toBe('p/from-jsonc');
    const skipped = loaded.warnings.filter((w) => w.code === 'CONFIG_FILE_SKIPPED');
    expect(skipped).toEqual(
      expect.arrayContaining([
        { code: 'CONFIG_FILE_SKIPPED', file: tree.path('repo/opencode.json'), message: 'a folder, not a file; config file skipped' },
        { code: 'CONFIG_FILE_SKIPPED', file: tree.path('xdg/opencode/opencode.json'), message: 'a symbolic link to ../dotfiles/opencode.json, which does not exist; config file skipped' },
        { code: 'CONFIG_FILE_SKIPPED', file: tree.path('repo/.opencode/opencode.json'), message: 'a symbolic link to gone.json, which does not exist; config file skipped' },
      ]),
    );
    expect(skipped).toHaveLength(3);
  });

  it('no warning when the config files are simply absent', async () => {
    const loaded = await loadConfig(base());
    expect(loaded.warnings.filter((w) => w.code === 'CONFIG_FILE_SKIPPED')).toEqual([]);
  });
});
