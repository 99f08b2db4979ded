import { describe, expect, it } from 'vitest';
import { serverConfig, splitCommand } from '../../src/mcp/server-config.ts';

describe('mcp entries in the shorthands OpenCode lets through', () => {
  it('splits a command written as one string as a shell would (no expansion)', () => {
    expect(splitCommand('npx -y @modelcontextprotocol/server-memory')).toEqual(['npx', '-y', '@modelcontextprotocol/server-memory']);
    expect(splitCommand(`  node "my server.js" --name 'a b' x\\ y ""  `)).toEqual(['node', 'my server.js', '--name', 'a b', 'x y', '']);
    expect(splitCommand('echo $HOME')).toEqual(['echo', '$HOME']);
  });

  it('gives an entry without type the kind its keys name', () => {
    expect(serverConfig({ command: 'npx srv', enabled: true })).toEqual({ type: 'local', command: ['npx', 'srv'], enabled: true });
    expect(serverConfig({ url: 'https://x.test/mcp', enabled: true })).toEqual({ type: 'remote', url: 'https://x.test/mcp', enabled: true });
    expect(serverConfig({ type: 'local', command: ['a', 'b'] })).toEqual({ type: 'local', command: ['a', 'b'] });
  });
});
