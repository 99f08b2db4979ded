import { describe, expect, it } from 'vitest';
import type { Permission } from '../../src/permissions/rules.ts';
import { DEFAULT_PERMISSION, describeRule, evaluatePermission, mergePermission, permissionKeyFor } from '../../src/permissions/rules.ts';

const PROMETHEUS_EDIT: Permission = { edit: { '*': 'deny', '*.md': 'allow', '**/*.md': 'allow' } };

describe('evaluatePermission', () => {
  it('uses the built-in defaults when nothing is set', () => {
    for (const tool of ['read', 'list', 'glob', 'grep', 'task']) expect(evaluatePermission(undefined, tool).action).toBe('allow');
    for (const tool of ['edit', 'bash', 'webfetch', 'external_directory']) expect(evaluatePermission({}, tool).action).toBe('ask');
    expect(evaluatePermission({}, 'github_create_issue')).toMatchObject({ action: 'allow', source: 'default' });
    expect(DEFAULT_PERMISSION.bash).toBe('ask');
  });

  it('takes a plain action for every use of the tool', () => {
    expect(evaluatePermission({ bash: 'deny' }, 'bash', 'ls')).toMatchObject({ action: 'deny', source: 'config' });
    expect(evaluatePermission({ read: 'ask' }, 'read', 'a.txt').action).toBe('ask');
  });

  it.each([
    ['git status', 'allow', 'git *'],
    ['git', 'allow', 'git *'],
    ['git push --force', 'deny', 'git push *'],
    ['rm -rf /', 'deny', 'rm *'],
    ['npm test', 'ask', '*'],
  ])('bash patterns: %j → %s (by %j)', (command, action, pattern) => {
    const permission: Permission = { bash: { '*': 'ask', 'git *': 'allow', 'git push *': 'deny', 'rm *': 'deny' } };
    expect(evaluatePermission(permission, 'bash', command)).toMatchObject({ action, pattern });
  });

  it.each([
    ['plans/x.md', 'allow'],
    ['README.md', 'allow'],
    ['docs/deep/guide.md', 'allow'],
    ['src/index.ts', 'deny'],
    ['notes.md.bak', 'deny'],
  ])("edit patterns (prometheus's rule): %j → %s", (file, action) => {
    expect(evaluatePermission(PROMETHEUS_EDIT, 'edit', file).action).toBe(action);
  });

  it('lets the most specific pattern win whatever the order', () => {
    const a: Permission = { edit: { 'src/*': 'allow', 'src/secret/*': 'deny', '*': 'ask' } };
    const b: Permission = { edit: { 'src/secret/*': 'deny', '*': 'ask', 'src/*': 'allow' } };
    for (const p of [a, b]) {
      expect(evaluatePermission(p, 'edit', 'src/secret/key.ts')).toMatchObject({ action: 'deny', pattern: 'src/secret/*' });
      expect(evaluatePermission(p, 'edit', 'src/app.ts')).toMatchObject({ action: 'allow', pattern: 'src/*' });
      expect(evaluatePermission(p, 'edit', 'README')).toMatchObject({ action: 'ask', pattern: '*' });
    }
  });

  it('falls back to the default when no pattern matches', () => {
    expect(evaluatePermission({ edit: { '*.md': 'allow' } }, 'edit', 'src/a.ts')).toMatchObject({ action: 'ask', source: 'default' });
    expect(evaluatePermission({ read: { 'secret/*': 'deny' } }, 'read', 'src/a.ts')).toMatchObject({ action: 'allow', source: 'default' });
  });

  it('matches tool names against wildcard keys, the exact key first', () => {
    const permission: Permission = { 'github_*': 'deny', github_search: 'allow' };
    expect(evaluatePermission(permission, 'github_create_issue')).toMatchObject({ action: 'deny', keyPattern: 'github_*' });
    expect(evaluatePermission(permission, 'github_search').action).toBe('allow');
    expect(evaluatePermission(permission, 'memory_read').action).toBe('allow');
  });

  it('maps write onto edit', () => {
    expect(permissionKeyFor('write')).toBe('edit');
    expect(permissionKeyFor('bash')).toBe('bash');
  });
});

describe('mergePermission: the top-level permission is the default under the agent', () => {
  it("keeps top-level entries the agent does not set, and the agent's entries replace them whole", () => {
    const topLevel: Permission = { bash: { 'git *': 'allow', '*': 'ask' }, webfetch: 'allow', edit: 'allow' };
    const agent: Permission = { bash: 'deny', edit: { '*.md': 'allow' } };
    const merged = mergePermission(topLevel, agent);
    expect(evaluatePermission(merged, 'webfetch', 'https://x').action).toBe('allow');
    expect(evaluatePermission(merged, 'bash', 'git status').action).toBe('deny');
    expect(evaluatePermission(merged, 'edit', 'src/a.ts')).toMatchObject({ action: 'ask', source: 'default' });
    expect(evaluatePermission(merged, 'edit', 'a.md').action).toBe('allow');
    expect(mergePermission(undefined, undefined)).toEqual({});
    expect(evaluatePermission(mergePermission(topLevel, undefined), 'bash', 'git log').action).toBe('allow');
  });
});

describe('describeRule', () => {
  it('names the pattern, the rule or the default', () => {
    expect(describeRule(evaluatePermission({ bash: { 'rm *': 'deny' } }, 'bash', 'rm x'))).toBe('rule "rm *": deny');
    expect(describeRule(evaluatePermission({ bash: 'deny' }, 'bash', 'ls'))).toBe('rule bash: deny');
    expect(describeRule(evaluatePermission({}, 'bash', 'ls'))).toBe('bash: ask by default');
  });
});

describe('one action for every tool (OpenCode\'s `"permission": "allow"`)', () => {
  it('applies to every tool, and an agent\'s table sits over it', () => {
    expect(evaluatePermission('allow', 'bash', 'rm -rf build').action).toBe('allow');
    expect(evaluatePermission('deny', 'read', 'README.md').action).toBe('deny');
    const merged = mergePermission('allow', { bash: 'ask' });
    expect(evaluatePermission(merged, 'bash', 'ls').action).toBe('ask');
    expect(evaluatePermission(merged, 'edit', 'a.ts').action).toBe('allow');
    expect(evaluatePermission(mergePermission({ edit: 'deny' }, 'ask'), 'edit', 'a.ts').action).toBe('ask');
  });
});
