import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { project, tempDir, writeFiles } from './helpers.ts';

async function withOutside() {
  const outside = await tempDir('pantheon-outside-');
  await writeFiles(outside, { 'secret.txt': 'top secret\n' });
  const p = await project({ 'inside.txt': 'fine\n' });
  await fs.symlink(outside, path.join(p.root, 'link-dir'));
  await fs.symlink(path.join(outside, 'secret.txt'), path.join(p.root, 'link-file.txt'));
  await fs.symlink(path.join(outside, 'not-yet.txt'), path.join(p.root, 'dangling.txt'));
  return { p, outside };
}

describe('paths outside the project root', () => {
  it('refuses ../, absolute paths outside and symlinks that lead out (default: ask → denied when non-interactive)', async () => {
    const { p, outside } = await withOutside();
    const escape = path.relative(p.root, path.join(outside, 'secret.txt'));
    const cases: [string, unknown][] = [
      ['read', { filePath: escape }],
      ['read', { filePath: path.join(outside, 'secret.txt') }],
      ['read', { filePath: 'link-file.txt' }],
      ['read', { filePath: 'link-dir/secret.txt' }],
      ['list', { path: 'link-dir' }],
      ['list', { path: '..' }],
      ['glob', { pattern: '*', path: outside }],
      ['grep', { pattern: 'secret', path: 'link-dir' }],
      ['write', { filePath: 'link-dir/new.txt', content: 'x' }],
      ['write', { filePath: 'dangling.txt', content: 'x' }],
      ['edit', { filePath: 'link-file.txt', oldString: 'top', newString: 'no' }],
      ['bash', { command: 'pwd', workdir: '../' }],
    ];
    for (const [tool, input] of cases) {
      const message = await p.fail(tool, input);
      expect(message, `${tool} ${JSON.stringify(input)}`).toMatch(new RegExp(`^permission denied: ${tool} \`[^\`]+\` is outside the project root `));
      expect(message).toContain('external_directory: ask by default; not approved: --auto does not cover paths outside the project; allow them under permission.external_directory');
    }
    expect(p.denied).toHaveLength(cases.length);
    expect(await fs.readFile(path.join(outside, 'secret.txt'), 'utf8')).toBe('top secret\n');
    await expect(fs.access(path.join(outside, 'new.txt'))).rejects.toThrow();
    await expect(fs.access(path.join(outside, 'not-yet.txt'))).rejects.toThrow();
  });

  it('names the real target of a symlink escape', async () => {
    const { p, outside } = await withOutside();
    const message = await p.fail('read', { filePath: 'link-file.txt' });
    expect(message).toBe(
      `permission denied: read \`${path.join(outside, 'secret.txt')}\` is outside the project root ${p.root} (through the symlink link-file.txt) (external_directory: ask by default; not approved: --auto does not cover paths outside the project; allow them under permission.external_directory)`,
    );
  });

  it('allows them when permission.external_directory allows (or by pattern)', async () => {
    const { p, outside } = await withOutside();
    const allow = { permission: { external_directory: 'allow' as const, edit: 'allow' as const } };
    expect(await p.run('read', { filePath: 'link-file.txt' }, allow)).toContain('\n1: top secret\n');
    expect(await p.run('read', { filePath: path.relative(p.root, path.join(outside, 'secret.txt')) }, allow)).toContain('top secret');
    await p.run('write', { filePath: 'link-dir/new.txt', content: 'made\n' }, allow);
    expect(await fs.readFile(path.join(outside, 'new.txt'), 'utf8')).toBe('made\n');

    const byPattern = { permission: { external_directory: { [`${outside}/*`]: 'allow' as const } } };
    expect(await p.run('read', { filePath: path.join(outside, 'secret.txt') }, byPattern)).toContain('top secret');
    expect(p.denied).toEqual([]);
  });

  it('asks on a TTY and follows the answer; --auto does not approve', async () => {
    const { p, outside } = await withOutside();
    const questions: string[] = [];
    const yes = { interactive: true, confirm: async (q: string) => (questions.push(q), true) };
    expect(await p.run('read', { filePath: path.join(outside, 'secret.txt') }, yes)).toContain('top secret');
    expect(questions).toEqual([`Allow read \`${path.join(outside, 'secret.txt')}\` (is outside the project root ${p.root})?`]);
    const no = { interactive: true, confirm: async () => false };
    expect(await p.fail('read', { filePath: path.join(outside, 'secret.txt') }, no)).toMatch(/declined by the user/);
    expect(await p.fail('read', { filePath: 'link-dir/secret.txt' }, { auto: true })).toMatch(/--auto does not cover paths outside the project/);
  });

  it('keeps paths inside the root, symlinks inside included, without asking', async () => {
    const p = await project({ 'docs/a.md': 'doc\n' });
    await fs.symlink(path.join(p.root, 'docs'), path.join(p.root, 'docs-link'));
    const strict = { permission: { external_directory: 'deny' as const } };
    expect(await p.run('read', { filePath: 'docs-link/a.md' }, strict)).toContain('\n1: doc\n');
    expect(await p.run('read', { filePath: './docs/../docs/a.md' }, strict)).toContain('\n1: doc\n');
    expect(await p.run('read', { filePath: path.join(p.root, 'docs/a.md') }, strict)).toContain('\n1: doc\n');
    expect(p.denied).toEqual([]);
  });

  it('a deny rule for external_directory names itself', async () => {
    const { p } = await withOutside();
    const message = await p.fail('list', { path: '..' }, { permission: { external_directory: 'deny' }, auto: true });
    expect(message).toMatch(/is outside the project root .* \(rule external_directory: deny\)$/);
  });

  it('glob and grep patterns may not climb out of the folder searched', async () => {
    const { p } = await withOutside();
    expect(await p.fail('glob', { pattern: '../**/*.txt' })).toMatch(/must be relative and stay inside the folder searched/);
    expect(await p.fail('glob', { pattern: '/etc/*' })).toMatch(/must be relative/);
    expect(await p.fail('grep', { pattern: 'x', include: '../*.txt' })).toMatch(/must be relative/);
  });
});
