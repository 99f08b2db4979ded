/**
 * Whether a background response's runner is gone, as a server reading the response judges it: a
 * dead process of this machine is (the response is marked failed at once); a process of the same
 * host name in another pid namespace (a container sharing the host's network) is judged by its
 * heartbeat alone, since its pid means another process here.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readlinkSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { currentResponse } from '../../src/server/openai/background-responses.ts';
import { SqliteResponseStore } from '../../src/server/openai/stored-responses.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A process that exited: its pid names nobody here (pids are not reused this soon). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.on('exit', resolve));
  return child.pid as number;
}

async function storeWith(runner: string): Promise<SqliteResponseStore> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bg-runner-'));
  dirs.push(dir);
  const store = new SqliteResponseStore(path.join(dir, 'responses.sqlite'));
  const response = { id: 'resp_runner0001', object: 'response', status: 'in_progress', background: true, output: [] };
  await store.save({ id: 'resp_runner0001', owner: 'open', createdAt: Date.now(), response, input: [], output: [] }, { run: { runner, beat: Date.now(), streamed: false } });
  return store;
}

describe.runIf(process.platform === 'linux')('a background response whose runner has a dead pid', () => {
  const here = `${os.hostname()}#${readlinkSync('/proc/self/ns/pid')}`;

  it('of this machine and pid namespace: failed at once', async () => {
    const store = await storeWith(`${here}\n${await deadPid()}\nabcdef`);
    expect(await currentResponse(store, 'resp_runner0001', 'open')).toMatchObject({ status: 'failed' });
    await store.close();
  });

  it('of the same host name, not of this pid namespace: still running while its heartbeat is fresh', async () => {
    // Named by its host name alone, as a container sharing the host's network would have been
    // named before (its pid is another process's here); another namespace's name differs the same way.
    const store = await storeWith(`${os.hostname()}\n${await deadPid()}\nabcdef`);
    expect(await currentResponse(store, 'resp_runner0001', 'open')).toMatchObject({ status: 'in_progress' });
    await store.close();
  });
});
