import { existsSync, readFileSync, statSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { bashFacts, tailCut } from '../../src/tools/bash.ts';
import { runShell } from '../../src/tools/run-shell.ts';
import { newToolOutputFile, sweepToolOutput, toolOutputDir } from '../../src/tools/tool-output.ts';
import { project } from './helpers.ts';

// Saved outputs go to $XDG_DATA_HOME/pantheon/tool-output: a temp folder here, not the user's.
let dataHome = '';
beforeAll(async () => {
  dataHome = await fs.mkdtemp(path.join(os.tmpdir(), 'bash-data-'));
  vi.stubEnv('XDG_DATA_HOME', dataHome);
});
afterAll(async () => {
  vi.unstubAllEnvs();
  await fs.rm(dataHome, { recursive: true, force: true });
});

const seq = (from: number, to: number): string => Array.from({ length: to - from + 1 }, (_, i) => String(from + i)).join('\n');
const SAVED = /^\.\.\.output truncated\.\.\.\n\nFull output saved to: (\S+)\n\n/;

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

  it('answers long output with its last 2000 lines after a note naming the file that holds all of it', async () => {
    const p = await project();
    const out = await p.run('bash', { command: 'seq 1 30000; exit 4' });
    const saved = SAVED.exec(out);
    expect(saved, out.slice(0, 200)).not.toBeNull();
    const file = (saved as RegExpExecArray)[1] as string;
    expect(path.dirname(file)).toBe(toolOutputDir());
    expect(out).toBe(`${saved?.[0]}${seq(28_001, 30_000)}\n\n(exit code 4)`);
    expect(readFileSync(file, 'utf8')).toBe(`${seq(1, 30_000)}\n`);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(toolOutputDir()).mode & 0o777).toBe(0o700);
    expect(bashFacts(out)).toEqual({ exit: 4, truncated: true, outputPath: file });
  });

  it('cuts by bytes as well: long lines leave fewer than 2000, within 51 200 bytes', async () => {
    const p = await project();
    const out = await p.run('bash', { command: `for i in $(seq 1 300); do printf "%0999d\\n" $i; done` });
    const saved = SAVED.exec(out);
    expect(saved).not.toBeNull();
    const body = out.slice(saved?.[0].length);
    expect(body.split('\n')).toHaveLength(51);
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(51_200);
    expect(body.endsWith(`${'0'.repeat(996)}300`)).toBe(true);
    expect(readFileSync((saved as RegExpExecArray)[1] as string, 'utf8').split('\n')).toHaveLength(301);
  });

  it('saves output cut by lines alone (short lines, under the byte bound) as well', async () => {
    const p = await project();
    const out = await p.run('bash', { command: 'seq 1 2500' });
    const saved = SAVED.exec(out);
    expect(saved).not.toBeNull();
    expect(out.slice(saved?.[0].length)).toBe(seq(501, 2500));
    expect(readFileSync((saved as RegExpExecArray)[1] as string, 'utf8')).toBe(`${seq(1, 2500)}\n`);
    expect(bashFacts(await p.run('bash', { command: 'seq 1 2000' }))).toEqual({ exit: 0, truncated: false });
  });

  it('caps the saved file and says so', async () => {
    const result = await runShell('head -c 300000 /dev/zero | tr "\\0" x', { cwd: os.tmpdir(), timeoutMs: 60_000, tailBytes: 1000, spillAfterBytes: 1000, spill: newToolOutputFile, spillCapBytes: 100_000 });
    expect(result.totalBytes).toBe(300_000);
    expect(result.file?.bytes).toBe(100_000);
    expect(statSync(result.file?.path as string).size).toBe(100_000);
    expect(result.output).toBe('x'.repeat(1000));
  });

  it('removes saved outputs older than 7 days, and nothing else', async () => {
    const dir = toolOutputDir();
    await fs.mkdir(dir, { recursive: true });
    const old = path.join(dir, 'tool_old');
    const fresh = path.join(dir, 'tool_fresh');
    const other = path.join(dir, 'notes.txt');
    for (const file of [old, fresh, other]) await fs.writeFile(file, 'x');
    const now = Date.now();
    const eightDaysAgo = new Date(now - 8 * 24 * 3600 * 1000);
    await fs.utimes(old, eightDaysAgo, eightDaysAgo);
    await fs.utimes(other, eightDaysAgo, eightDaysAgo);
    expect(await sweepToolOutput(now)).toBe(1);
    expect([existsSync(old), existsSync(fresh), existsSync(other)]).toEqual([false, true, true]);
  });

  it("tailCut keeps OpenCode's end: whole lines, or the end of one long line from a character's start", () => {
    expect(tailCut('a\nb\nc', 2, 100)).toEqual({ text: 'b\nc', cut: true });
    expect(tailCut('a\nb', 2, 100)).toEqual({ text: 'a\nb', cut: false });
    expect(tailCut(`x\n${'é'.repeat(10)}`, 5, 5)).toEqual({ text: 'éé', cut: true });
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
