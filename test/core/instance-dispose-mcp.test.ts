/**
 * An instance let go (`POST /instance/dispose`, `/global/dispose`) while a `POST /mcp` for it is under
 * way: the server added must not outlive the instance (before, a manager made for the instance after
 * it was closed started the server, which ran until the process exited). The steps are the route's,
 * in the order a race gives them.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { McpConfig } from '../../src/config/schema-types.ts';
import { Instances } from '../../src/core/instances.ts';
import { mcpServersOf } from '../../src/core/mcp-servers.ts';
import { SHUT_DOWN } from '../../src/mcp/manager.ts';
import { MemoryLedger } from '../../src/scheduler/ledger-memory.ts';
import { eventually, isAlive, MEMORY, tempDir } from '../mcp/helpers.ts';

const MEM: McpConfig = { type: 'local', command: [process.execPath, MEMORY], timeout: 30_000 };

let dir: string;
let instances: Instances;

beforeEach(async () => {
  dir = await tempDir('pantheon-dispose-');
  await fs.mkdir(path.join(dir, '.git'));
  await fs.writeFile(path.join(dir, 'opencode.json'), '{}');
  const env = { HOME: dir, XDG_CONFIG_HOME: path.join(dir, 'c'), XDG_DATA_HOME: path.join(dir, 'd'), XDG_CACHE_HOME: path.join(dir, 'k'), PATH: process.env.PATH ?? '' };
  instances = new Instances({ cwd: dir, env, ledger: new MemoryLedger() });
});

afterEach(async () => {
  await instances.close();
  await fs.rm(dir, { recursive: true, force: true });
});

describe('an instance let go while POST /mcp adds a server to it', () => {
  it('let go while the MCP servers are being made: the server added does not start', async () => {
    const instance = await instances.get();
    const making = mcpServersOf(instance);
    expect(await instances.dispose(dir)).toBe(true);
    const mcp = await making;
    const [status] = (await mcp.manager.add('mem', MEM)).filter((s) => s.name === 'mem');
    expect(status).toMatchObject({ state: 'failed', reason: SHUT_DOWN });
    if (status?.pid !== undefined) expect(isAlive(status.pid)).toBe(false);
  });

  it('let go before the MCP servers are made: the server added does not start', async () => {
    const instance = await instances.get();
    expect(await instances.dispose(dir)).toBe(true);
    const mcp = await mcpServersOf(instance);
    const [status] = await mcp.manager.add('mem', MEM);
    expect(status).toMatchObject({ state: 'failed', reason: SHUT_DOWN });
  });

  it('let go while the server added starts: its process is gone once the dispose is done', async () => {
    const instance = await instances.get();
    const mcp = await mcpServersOf(instance);
    const adding = mcp.manager.add('mem', MEM);
    await eventually(() => mcp.manager.status(['mem'])[0]?.state === 'starting', 10_000, 'the start');
    await instances.dispose(dir);
    await adding;
    const [status] = mcp.manager.status(['mem']);
    expect(status?.state).not.toBe('connected');
    if (status?.pid !== undefined) expect(isAlive(status.pid)).toBe(false);
  });
});
