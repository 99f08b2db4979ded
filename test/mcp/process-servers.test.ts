import { describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/schema-types.ts';
import { mcpManagerFor, shutdownAllMcp } from '../../src/mcp/process-servers.ts';
import { eventually, everythingStdio, isAlive } from './helpers.ts';

describe('process-wide MCP managers', () => {
  it('one manager per config, so a server starts once per process; shutdownAllMcp stops them all', async () => {
    const config: Config = { mcp: { everything: everythingStdio() } };
    const manager = mcpManagerFor(config);
    expect(mcpManagerFor(config)).toBe(manager);
    expect(mcpManagerFor({ mcp: { everything: everythingStdio() } })).not.toBe(manager);
    const [first] = await manager.start();
    const [again] = await mcpManagerFor(config).start();
    expect(again!.pid).toBe(first!.pid);
    await shutdownAllMcp();
    await eventually(() => !isAlive(first!.pid!), 10_000, 'the server to stop');
    const fresh = mcpManagerFor(config);
    expect(fresh).not.toBe(manager);
    expect(fresh.status()[0]!.state).toBe('idle');
  });
});
