/** Starting once, dying and restarting once, and stopping with nothing left behind. */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { McpConfig } from '../../src/config/schema-types.ts';
import { McpManager } from '../../src/mcp/manager.ts';
import type { McpWarning } from '../../src/mcp/types.ts';
import { EVERYTHING, eventually, everythingStdio, fixture, isAlive, tempDir } from './helpers.ts';

const LONG = 'trigger-long-running-operation';

describe('MCP server lifecycle', () => {
  const managers: McpManager[] = [];
  const make = (servers: Record<string, McpConfig>, warnings: McpWarning[] = []) => {
    const m = new McpManager(servers, { onWarning: (w) => warnings.push(w) });
    managers.push(m);
    return m;
  };
  afterEach(async () => {
    await Promise.all(managers.splice(0).map((m) => m.shutdown()));
  });

  it('starts a server once, however many callers ask at the same time', async () => {
    const m = make({ everything: everythingStdio() });
    const [a, b, tools] = await Promise.all([m.start(['everything']), m.start(), m.exposedTools(['everything'])]);
    expect(a[0]!.pid).toEqual(b[0]!.pid);
    expect(tools.length).toBe(a[0]!.toolCount);
    expect((await m.start())[0]!.pid).toBe(a[0]!.pid);
  });

  it('starts nothing until asked, and only what is asked for', async () => {
    const m = make({ one: everythingStdio(), two: everythingStdio() });
    expect(m.status().map((s) => s.state)).toEqual(['idle', 'idle']);
    await m.start(['two']);
    expect(m.status().map((s) => s.state)).toEqual(['idle', 'connected']);
  });

  it('a server killed in the middle of a call: tool error, restarted once on the next call, then it stays down', async () => {
    const warnings: McpWarning[] = [];
    const m = make({ everything: everythingStdio({ timeout: 10_000 }) }, warnings);
    const [first] = await m.start();
    let progressed!: () => void;
    const inCall = new Promise<void>((resolve) => (progressed = resolve));
    const call = m.callTool('everything', LONG, { duration: 5, steps: 50 }, { onProgress: () => progressed() });
    await inCall;
    process.kill(first!.pid!, 'SIGKILL');
    expect(await call).toEqual({
      isError: true,
      text: `error: MCP server "everything" was killed by SIGKILL during the call to "${LONG}"; it will be restarted on the next call.`,
      truncated: false,
    });
    expect(warnings.at(-1)).toEqual({ code: 'MCP_SERVER_EXITED', server: 'everything', message: 'MCP server "everything" was killed by SIGKILL; it will be restarted on its next call.' });
    expect(m.status()[0]).toMatchObject({ state: 'exited', reason: 'was killed by SIGKILL', restarts: 0 });

    expect(await m.callTool('everything', 'echo', { message: 'back' })).toMatchObject({ isError: false, text: 'Echo: back' });
    const [second] = m.status();
    expect(second).toMatchObject({ state: 'connected', restarts: 1 });
    expect(second!.pid).not.toBe(first!.pid);

    process.kill(second!.pid!, 'SIGKILL');
    await eventually(() => m.status()[0]!.state === 'exited', 10_000, 'the second death to be noticed');
    expect(warnings.at(-1)!.message).toBe('MCP server "everything" was killed by SIGKILL; it was restarted once already and stays down.');
    expect(await m.callTool('everything', 'echo', { message: 'again' })).toEqual({
      isError: true,
      text: 'error: MCP server "everything" is not available: was killed by SIGKILL.',
      truncated: false,
    });
    expect(await m.exposedTools()).toEqual([]);
  });

  it('shutdown stops every server process, the child of a wrapper (like npx) included', async () => {
    const dir = await tempDir();
    const pidFile = path.join(dir, 'pids');
    const m = make({
      wrapped: { type: 'local', command: [process.execPath, fixture('wrapper.mjs'), process.execPath, EVERYTHING, 'stdio'], environment: { WRAPPER_PID_FILE: pidFile } },
      plain: everythingStdio(),
    });
    const statuses = await m.start();
    expect(statuses.map((s) => s.state)).toEqual(['connected', 'connected']);
    const [wrapper, server] = (await readFile(pidFile, 'utf8')).split(' ').map(Number) as [number, number];
    expect(statuses[0]!.pid).toBe(wrapper);
    const pids = [wrapper, server, statuses[1]!.pid!];
    expect(pids.every(isAlive)).toBe(true);
    await m.shutdown();
    await eventually(() => !pids.some(isAlive), 10_000, 'every server process to be gone');
    expect(m.status().map((s) => s.state)).toEqual(['stopped', 'stopped']);
  });

  it('a wrapper and its child that both ignore SIGTERM and the end of stdin are killed together after a failed start', async () => {
    const dir = await tempDir();
    const wrapperFile = path.join(dir, 'wrapper');
    const m = make({
      stubborn: {
        type: 'local',
        command: [process.execPath, fixture('wrapper.mjs'), process.execPath, fixture('hang-server.mjs'), '--stubborn'],
        environment: { WRAPPER_PID_FILE: wrapperFile },
        // The timeout must end after the wrapper has started its child and written both pids: a Node
        // process took up to 0.4 s to start at load 9 and more under heavier load, so not 600 ms but 2 s.
        timeout: 2000,
      },
    });
    const [status] = await m.start();
    expect(status).toMatchObject({ state: 'failed', reason: 'no answer to initialize/tools/list within 2000 ms' });
    const pids = (await readFile(wrapperFile, 'utf8')).split(' ').map(Number);
    expect(pids).toHaveLength(2);
    await eventually(() => !pids.some(isAlive), 10_000, `processes ${pids.join(', ')} to be gone`);
  });

  it('shutdown while a server is still starting cancels the start and leaves no process', async () => {
    const dir = await tempDir();
    const pidFile = path.join(dir, 'pid');
    const m = make({ hang: { type: 'local', command: [process.execPath, fixture('hang-server.mjs'), '--stubborn'], environment: { PID_FILE: pidFile }, timeout: 30_000 } });
    const starting = m.start();
    await eventually(async () => (await readFile(pidFile, 'utf8').catch(() => '')) !== '', 10_000, 'the server to be spawned');
    const pid = Number(await readFile(pidFile, 'utf8'));
    await m.shutdown();
    expect((await starting)[0]).toMatchObject({ state: 'failed', reason: 'start cancelled: shutting down' });
    await eventually(() => !isAlive(pid), 10_000, 'the starting server to be gone');
  });

  it.each(['sigint', 'exit'])('a parent that ends (%s) leaves no server behind', async (mode) => {
    const parent = spawn(process.execPath, [fixture('parent.ts'), mode], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    parent.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
    const exited = new Promise<number | null>((resolve) => parent.once('exit', (code) => resolve(code)));
    const pids = await new Promise<number[]>((resolve, reject) => {
      parent.stdout.setEncoding('utf8').on('data', (c: string) => {
        out += c;
        const line = out.split('\n').find((l) => l.startsWith('{'));
        if (line) resolve((JSON.parse(line) as { pids: number[] }).pids);
      });
      void exited.then((code) => reject(new Error(`parent exited (${String(code)}) early: ${err}`)));
    });
    expect(pids).toHaveLength(2);
    if (mode === 'sigint') parent.kill('SIGINT');
    expect(await exited).toBe(mode === 'sigint' ? 130 : 0);
    await eventually(() => !pids.some(isAlive), 10_000, `servers ${pids.join(', ')} to be gone`);
  });
});
