/**
 * Servers added, connected and disconnected while a long-lived process runs (what OpenCode's
 * `POST /mcp`, `/mcp/{name}/connect` and `/disconnect` do), against real servers: a disconnect
 * stops the process and withdraws the tools, a call in flight ends with a tool error, a start in
 * flight is cancelled; callers at the same time share one start.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Config, McpConfig } from '../../src/config/schema-types.ts';
import { toolsForAgent } from '../../src/mcp/agent-tools.ts';
import { McpManager } from '../../src/mcp/manager.ts';
import { MEMORY, eventually, everythingStdio, fixture, isAlive, tempDir } from './helpers.ts';

const LONG = 'trigger-long-running-operation';
const memory = (extra: Partial<McpConfig> = {}): McpConfig => ({ type: 'local', command: [process.execPath, MEMORY], timeout: 30_000, ...extra });

describe('connecting and disconnecting MCP servers while the process runs', () => {
  const managers: McpManager[] = [];
  const make = (servers: Record<string, McpConfig>) => {
    const m = new McpManager(servers);
    managers.push(m);
    return m;
  };
  afterEach(async () => {
    await Promise.all(managers.splice(0).map((m) => m.shutdown()));
  });

  it('a disconnect stops the process and withdraws the tools; a connect starts a new one and brings them back', async () => {
    const m = make({ mem: memory(), other: memory() });
    const [first] = await m.start(['mem']);
    expect(first).toMatchObject({ state: 'connected' });
    const before = (await m.exposedTools()).filter((t) => t.server === 'mem').map((t) => t.name);
    expect(before).toContain('mem_read_graph');

    expect(await m.disconnect('mem')).toBe(true);
    expect(isAlive(first!.pid!)).toBe(false);
    expect(m.status(['mem'])[0]).toMatchObject({ state: 'disabled', reason: 'disconnected', toolCount: 0 });
    expect(m.enabledNames()).toEqual(['other']);
    expect((await m.exposedTools()).map((t) => t.server)).not.toContain('mem');
    // Asked for by name, a disconnected server is not started again.
    expect(await m.exposedTools(['mem'])).toEqual([]);
    expect(await m.callTool('mem', 'read_graph', {})).toEqual({ isError: true, text: 'error: MCP server "mem" was disconnected; connect it again to use its tools.', truncated: false });

    expect(await m.connect('mem')).toBe(true);
    const [again] = m.status(['mem']);
    expect(again).toMatchObject({ state: 'connected' });
    expect(again!.pid).not.toBe(first!.pid);
    expect(isAlive(again!.pid!)).toBe(true);
    expect((await m.exposedTools()).filter((t) => t.server === 'mem').map((t) => t.name)).toEqual(before);
    expect(await m.callTool('mem', 'read_graph', {})).toMatchObject({ isError: false });
  });

  it('unknown names: false, nothing changes', async () => {
    const m = make({ mem: memory() });
    expect(await m.connect('nope')).toBe(false);
    expect(await m.disconnect('nope')).toBe(false);
    expect(m.names()).toEqual(['mem']);
  });

  it('two connects at the same time start one process; a connected server is left as it is', async () => {
    const m = make({ mem: memory({ enabled: false }) });
    expect(m.status()[0]).toMatchObject({ state: 'disabled', reason: 'enabled: false' });
    expect(await Promise.all([m.connect('mem'), m.connect('mem'), m.connect('mem')])).toEqual([true, true, true]);
    const [status] = m.status();
    expect(status).toMatchObject({ state: 'connected', restarts: 0 });
    expect(await m.connect('mem')).toBe(true);
    expect(m.status()[0]!.pid).toBe(status!.pid);
  });

  it('a disconnect during a call ends it at once with a tool error that says so', async () => {
    const m = make({ everything: everythingStdio() });
    const [status] = await m.start();
    let progressed!: () => void;
    const inCall = new Promise<void>((resolve) => (progressed = resolve));
    // 60 s of work: the call can only end early because of the disconnect.
    const call = m.callTool('everything', LONG, { duration: 60, steps: 600 }, { onProgress: () => progressed() });
    await inCall;
    await m.disconnect('everything');
    expect(await call).toEqual({ isError: true, text: `error: MCP server "everything" was disconnected during the call to "${LONG}"; connect it again to use its tools.`, truncated: false });
    expect(isAlive(status!.pid!)).toBe(false);
  });

  it('a disconnect while the server starts cancels the start: no process is left, and it stays disconnected', async () => {
    const dir = await tempDir();
    const pidFile = path.join(dir, 'pid');
    const m = make({ hang: { type: 'local', command: [process.execPath, fixture('hang-server.mjs'), '--stubborn'], environment: { PID_FILE: pidFile }, timeout: 30_000 } });
    const connecting = m.connect('hang');
    await eventually(async () => (await readFile(pidFile, 'utf8').catch(() => '')) !== '', 10_000, 'the server to be spawned');
    const pid = Number(await readFile(pidFile, 'utf8'));
    await m.disconnect('hang');
    expect(isAlive(pid)).toBe(false);
    expect(await connecting).toBe(true);
    expect(m.status()[0]).toMatchObject({ state: 'disabled', reason: 'disconnected' });
  });

  it('a connect asked for before a disconnect does not undo it', async () => {
    const dir = await tempDir();
    const pidFile = path.join(dir, 'pid');
    const m = make({ hang: { type: 'local', command: [process.execPath, fixture('hang-server.mjs'), '--stubborn'], environment: { PID_FILE: pidFile }, timeout: 30_000 } });
    const first = m.connect('hang');
    await eventually(async () => (await readFile(pidFile, 'utf8').catch(() => '')) !== '', 10_000, 'the server to be spawned');
    // A second connect waits for the first one's start; the disconnect comes after both.
    const second = m.connect('hang');
    await m.disconnect('hang');
    expect(await Promise.all([first, second])).toEqual([true, true]);
    expect(m.status()[0]).toMatchObject({ state: 'disabled', reason: 'disconnected' });
  });

  it('a server added while the process runs starts and its tools are offered to agents; one added again replaces it', async () => {
    const m = make({});
    const config = {} as Config;
    expect(await toolsForAgent(config, undefined, { manager: m })).toEqual({});
    const statuses = await m.add('added', memory());
    expect(statuses).toEqual([expect.objectContaining({ name: 'added', state: 'connected' })]);
    const pid = statuses[0]!.pid!;
    expect(Object.keys(await toolsForAgent(config, undefined, { manager: m }))).toContain('added_read_graph');

    const replaced = await m.add('added', memory({ enabled: false }));
    expect(replaced).toEqual([expect.objectContaining({ name: 'added', state: 'disabled', reason: 'enabled: false' })]);
    expect(isAlive(pid)).toBe(false);
    expect(await toolsForAgent(config, undefined, { manager: m })).toEqual({});

    // A server disabled in the config and connected since is offered too (as OpenCode offers every connected server's tools).
    await m.connect('added');
    expect(Object.keys(await toolsForAgent(config, undefined, { manager: m }))).toContain('added_read_graph');
  });
});
