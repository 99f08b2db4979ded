import { describe, expect, it } from 'vitest';
import { deniedOutright, offeredTools, toolEnabled } from '../../src/agents/tool-filter.ts';

describe('toolEnabled', () => {
  it('the exact name wins over globs; the most specific glob decides; unnamed tools are on', () => {
    const tools = { 'github_*': false, github_search: true, 'git*': true };
    expect(toolEnabled(tools, 'github_search')).toBe(true);
    expect(toolEnabled(tools, 'github_push')).toBe(false);
    expect(toolEnabled(tools, 'gitlab_x')).toBe(true);
    expect(toolEnabled(tools, 'read')).toBe(true);
    expect(toolEnabled({ read: false }, 'read')).toBe(false);
  });
});

describe('deniedOutright', () => {
  it('only a plain deny hides a tool; patterns are judged per call; write follows edit', () => {
    expect(deniedOutright({ bash: 'deny' }, 'bash')).toBe(true);
    expect(deniedOutright({ edit: 'deny' }, 'write')).toBe(true);
    expect(deniedOutright({ edit: { '*': 'deny', '*.md': 'allow' } }, 'edit')).toBe(false);
    expect(deniedOutright({ bash: 'ask' }, 'bash')).toBe(false);
    expect(deniedOutright({}, 'bash')).toBe(false);
    expect(deniedOutright({ 'github_*': 'deny' }, 'github_push')).toBe(true);
  });

  it('offeredTools keeps what is enabled and not denied outright', () => {
    const all = { read: 1, write: 2, bash: 3, github_push: 4 };
    expect(Object.keys(offeredTools(all, { read: false }, { edit: 'deny', 'github_*': 'deny' }))).toEqual(['bash']);
  });
});
