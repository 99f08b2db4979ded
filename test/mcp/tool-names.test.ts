import { describe, expect, it } from 'vitest';
import { describeCollision, exposeToolNames, isValidToolName, sanitizeToolName } from '../../src/mcp/tool-names.ts';

describe('sanitizeToolName', () => {
  it('keeps allowed characters and replaces the rest with _', () => {
    expect(sanitizeToolName('github_create-issue')).toBe('github_create-issue');
    expect(sanitizeToolName('chrome.devtools_take screenshot/now')).toBe('chrome_devtools_take_screenshot_now');
    expect(sanitizeToolName('ünïcode_tööl')).toBe('_n_code_t__l');
  });

  it('cuts to 64 characters, and every result is a valid provider name', () => {
    const long = `server_${'x'.repeat(100)}`;
    expect(sanitizeToolName(long)).toHaveLength(64);
    for (const name of [long, 'a b', '', '...', 'x'.repeat(64)]) expect(isValidToolName(sanitizeToolName(name))).toBe(true);
  });
});

describe('exposeToolNames', () => {
  it('names tools <server>_<tool> in order', () => {
    const { named, collisions } = exposeToolNames([
      { server: 'memory', tool: 'read_graph' },
      { server: 'fs', tool: 'read_file' },
    ]);
    expect(named.map((t) => t.name)).toEqual(['memory_read_graph', 'fs_read_file']);
    expect(collisions).toEqual([]);
  });

  it('gives the later of two colliding tools a numeric suffix and reports it', () => {
    const { named, collisions } = exposeToolNames([
      { server: 'git', tool: 'hub_x' },
      { server: 'git_hub', tool: 'x' },
      { server: 'git.hub', tool: 'x' },
    ]);
    expect(named.map((t) => [t.server, t.tool, t.name])).toEqual([
      ['git', 'hub_x', 'git_hub_x'],
      ['git_hub', 'x', 'git_hub_x_2'],
      ['git.hub', 'x', 'git_hub_x_3'],
    ]);
    expect(collisions).toHaveLength(2);
    expect(describeCollision(collisions[0]!)).toBe(
      'MCP tool name "git_hub_x" is taken by tool "hub_x" of MCP server "git"; tool "x" of server "git_hub" is exposed as "git_hub_x_2".',
    );
  });

  it('keeps suffixed names within 64 characters and unique', () => {
    const tool = 't'.repeat(80);
    const { named } = exposeToolNames([
      { server: 'a', tool },
      { server: 'a', tool: `${tool}!` },
    ]);
    expect(named[0]!.name).toHaveLength(64);
    expect(named[1]!.name).toHaveLength(64);
    expect(named[1]!.name.endsWith('_2')).toBe(true);
    expect(new Set(named.map((t) => t.name)).size).toBe(2);
  });

  it('never gives out a reserved (built-in) name', () => {
    const { named, collisions } = exposeToolNames([{ server: 'x', tool: 'y' }], ['x_y']);
    expect(named[0]!.name).toBe('x_y_2');
    expect(describeCollision(collisions[0]!)).toContain('the built-in tool "x_y"');
  });
});
