import { existsSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { project } from './helpers.ts';

/** Alive unless gone or a zombie (a zombie has exited; it only waits to be reaped). */
/** Resolves once `pid` is gone (a SIGKILL lands within ms, but not synchronously), or after `ms` with the last answer. */
async function goneWithin(pid: number, ms = 2000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (isAlive(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return true;
}

function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

async function waitForFile(file: string): Promise<string> {
  for (let i = 0; i < 1000; i++) {
    if (existsSync(file)) {
      const text = (await fs.readFile(file, 'utf8')).trim();
      if (text !== '') return text;
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`${file} never appeared`);
}

describe('bash', () => {
  it('runs in the project root and returns stdout and stderr', async () => {
    const p = await project({ 'sub/x.txt': '' });
    expect(await p.run('bash', { command: 'pwd' })).toBe(p.root);
    expect(await p.run('bash', { command: 'pwd', workdir: 'sub' })).toBe(path.join(p.root, 'sub'));
    const both = await p.run('bash', { command: 'echo to-out; echo to-err >&2' });
    expect(both.split('\n').sort()).toEqual(['to-err', 'to-out']);
    expect(await p.run('bash', { command: 'true' })).toBe('(no output)');
  });

  it('reports a non-zero exit code', async () => {
    const p = await project();
    expect(await p.run('bash', { command: 'echo failing; exit 3' })).toBe('failing\n\n(exit code 3)');
  });

  it('uses the environment it is given', async () => {
    const p = await project();
    expect(await p.run('bash', { command: 'echo "$GREETING"' }, { env: { PATH: process.env.PATH, GREETING: 'hello there' } })).toBe('hello there');
  });

  it('keeps the start and the end of long output, with a note', async () => {
    const p = await project();
    const out = await p.run('bash', { command: 'seq 1 30000' });
    expect(out.startsWith('1\n2\n3\n')).toBe(true);
    expect(out).toContain('\n29999\n30000\n');
    expect(out).toMatch(/… \[\d+ bytes omitted\] …/);
    expect(out).toMatch(/\(Output cut: [\d.]+ KB left out of the middle\. Redirect the output to a file and read it with read and offset\/limit/);
    expect(Buffer.byteLength(out)).toBeLessThan(31 * 1024);
  });

  it('on timeout kills the whole process group, subshells included', async () => {
    const p = await project();
    const command = 'sleep 30 & echo $! > bg.pid; (sleep 30 & echo $! > inner.pid; wait) & echo $! > sub.pid; wait';
    const started = Date.now();
    const out = await p.run('bash', { command, timeout: 1000 });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(out).toBe('(no output)\n\n(Timed out after 1000 ms: the command and everything it started were killed.)');
    for (const name of ['bg.pid', 'sub.pid', 'inner.pid']) {
      const pid = Number(await fs.readFile(path.join(p.root, name), 'utf8'));
      expect(pid).toBeGreaterThan(0);
      expect(await goneWithin(pid), name).toBe(true);
    }
  });

  it('on abort kills the process group and reports the cancel', async () => {
    const p = await project();
    const controller = new AbortController();
    const call = p.fail('bash', { command: 'sleep 30 & echo $! > bg.pid; wait' }, { signal: controller.signal });
    const pid = Number(await waitForFile(path.join(p.root, 'bg.pid')));
    controller.abort();
    expect(await call).toBe('cancelled: the command and everything it started were killed.');
    expect(await goneWithin(pid)).toBe(true);
  });

  it('returns when the shell exits even if a background job holds the output', async () => {
    const p = await project();
    const out = await p.run('bash', { command: 'sleep 30 & echo $!' });
    const pid = Number(out.split('\n')[0]);
    try {
      expect(out).toContain('(The shell exited; processes it started in the background are still running and their output is not shown.)');
    } finally {
      process.kill(pid, 'SIGKILL');
    }
  });

  it('checks the timeout and the arguments', async () => {
    const p = await project();
    expect(await p.fail('bash', { command: 'true', timeout: 600_001 })).toMatch(/"timeout" must be <= 600000/);
    expect(await p.fail('bash', { cmd: 'ls' })).toMatch(/missing required argument "command"; unknown argument "cmd"/);
    expect(await p.fail('bash', { command: 'true', workdir: 'nope' })).toBe('workdir nope is not a folder.');
  });

  it('follows bash permission patterns, command by command', async () => {
    const p = await project();
    const permission = { bash: { '*': 'deny' as const, 'echo *': 'allow' as const, 'rm *': 'deny' as const } };
    expect(await p.run('bash', { command: 'echo ok' }, { permission })).toBe('ok');
    expect(await p.fail('bash', { command: 'echo ok && rm -rf sub' }, { permission })).toBe(
      'permission denied: bash `echo ok && rm -rf sub` (rule "rm *": deny for `rm -rf sub`)',
    );
    expect(await p.fail('bash', { command: 'ls' }, { permission })).toBe('permission denied: bash `ls` (rule "*": deny)');
    expect(p.denied.map(([tool]) => tool)).toEqual(['bash', 'bash']);
  });

  it('asks with the command and its description on a TTY', async () => {
    const p = await project();
    const questions: string[] = [];
    const ctx = { permission: {}, interactive: true, confirm: async (q: string) => (questions.push(q), false) };
    expect(await p.fail('bash', { command: 'make', description: 'build it' }, ctx)).toBe('permission denied: bash `make` (bash: ask by default; declined by the user)');
    expect(questions).toEqual(['Run `make` (build it)?']);
  });
});
