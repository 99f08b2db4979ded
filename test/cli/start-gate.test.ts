import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { gatedRun } from '../../src/cli/bundle-cache.ts';
import { enterStartGate, gateSlots, startGateDir, type StartGatePass } from '../../src/cli/start-gate.ts';
import { startScriptedServer, type ScriptedServer } from '../support/openai-server.ts';
import { SECRET, providerConfig, sandbox, type Sandbox } from './cli-helper.ts';

const GATE = path.resolve(import.meta.dirname, '..', '..', 'src', 'cli', 'start-gate.ts');
/** Long enough that no slot in these tests goes stale while held, whatever the load. */
const HOLD = 120_000;

/** A pid no process has: one that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  await new Promise((resolve) => child.on('close', resolve));
  return child.pid as number;
}

describe('the start-up gate (src/cli/start-gate.ts)', () => {
  let dir: string;
  const passes: StartGatePass[] = [];
  const slotFiles = () => (fs.existsSync(dir) ? fs.readdirSync(dir).sort() : []);
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pantheon-gate-'));
  });
  afterEach(() => {
    for (const p of passes.splice(0)) p.release();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('lets as many in as it has slots; the next one gets none without waiting, or the first slot given back', async () => {
    const a = await enterStartGate({ dir, slots: 2, holdMs: HOLD });
    const b = await enterStartGate({ dir, slots: 2, holdMs: HOLD });
    passes.push(a, b);
    expect([a.slot, b.slot].map((f) => path.basename(f ?? ''))).toEqual(['slot-0', 'slot-1']);
    expect(fs.readFileSync(a.slot as string, 'latin1')).toMatch(new RegExp(`^${process.pid} \\d+$`));
    // Both slots held by a live process, recently: a waiter with no time to wait goes on without one.
    expect((await enterStartGate({ dir, slots: 2, holdMs: HOLD, waitMs: 0 })).slot).toBeUndefined();
    // One that waits gets the slot given back, woken by the folder's change (the poll is a minute).
    const waiting = enterStartGate({ dir, slots: 2, holdMs: HOLD, waitMs: HOLD, pollMs: 60_000 });
    b.release();
    const c = await waiting;
    passes.push(c);
    expect(path.basename(c.slot ?? '')).toBe('slot-1');
    expect(slotFiles()).toEqual(['slot-0', 'slot-1']);
    a.release();
    a.release();
    expect(slotFiles()).toEqual(['slot-1']);
  });

  it('takes over a slot whose holder has exited or has held it too long, and never removes a slot it does not hold', async () => {
    fs.writeFileSync(path.join(dir, 'slot-0'), `${await deadPid()} ${Date.now()}`);
    fs.writeFileSync(path.join(dir, 'slot-1'), `${process.ppid} ${Date.now() - 5_000}`);
    const a = await enterStartGate({ dir, slots: 2, holdMs: 1_000, waitMs: 0 });
    const b = await enterStartGate({ dir, slots: 2, holdMs: 1_000, waitMs: 0 });
    passes.push(a, b);
    expect([a.slot, b.slot].map((f) => path.basename(f ?? ''))).toEqual(['slot-0', 'slot-1']);
    // Taken over by another process after this one's hold ran out: giving it back leaves it alone.
    const other = `${process.ppid} ${Date.now()}`;
    fs.writeFileSync(a.slot as string, other);
    a.release();
    expect(fs.readFileSync(path.join(dir, 'slot-0'), 'latin1')).toBe(other);
  });

  it('gives the slot back by itself after its hold time', async () => {
    const a = await enterStartGate({ dir, slots: 1, holdMs: 50 });
    passes.push(a);
    expect(slotFiles()).toEqual(['slot-0']);
    const b = await enterStartGate({ dir, slots: 1, holdMs: HOLD, waitMs: HOLD });
    passes.push(b);
    expect(b.slot).toBe(a.slot);
    expect(fs.readFileSync(b.slot as string, 'latin1').startsWith(`${process.pid} `)).toBe(true);
  });

  it('finds a slot gone stale while it waits, with no change of the folder to wake it (the poll)', async () => {
    // Held by a live process (not this one) since now: stale only once the hold has run out.
    fs.writeFileSync(path.join(dir, 'slot-0'), `${process.ppid} ${Date.now()}`);
    const a = await enterStartGate({ dir, slots: 1, holdMs: 300, waitMs: HOLD });
    passes.push(a);
    expect(path.basename(a.slot ?? '')).toBe('slot-0');
    expect(fs.readFileSync(a.slot as string, 'latin1').startsWith(`${process.pid} `)).toBe(true);
  });

  it('is off with PANTHEON_START_GATE=off, and takes its width from it or the cores', async () => {
    expect(gateSlots({ PANTHEON_START_GATE: 'off' })).toBe(0);
    expect(gateSlots({ PANTHEON_START_GATE: '3' })).toBe(3);
    expect(gateSlots({})).toBe(os.availableParallelism());
    expect(gateSlots({ PANTHEON_START_GATE: ' ' })).toBe(os.availableParallelism());
    // A value that is neither: one warning naming the variable, what was expected and found; the cores are used.
    for (const bad of ['lots', '2.5', '-1', '1025', '00']) {
      const warned: string[] = [];
      expect(gateSlots({ PANTHEON_START_GATE: bad }, (line) => warned.push(line))).toBe(os.availableParallelism());
      expect(warned).toEqual([expect.stringMatching(new RegExp(`^warning: PANTHEON_START_GATE: expected "off" or a whole number .*found "${bad.replace('.', '\\.')}"; using \\d+ \\(this machine's cores\\)\\.\\nhint: `))]);
    }
    const none = await enterStartGate({ dir: path.join(dir, 'off'), env: { PANTHEON_START_GATE: 'off' } });
    expect(none.slot).toBeUndefined();
    expect(fs.existsSync(path.join(dir, 'off'))).toBe(false);
    expect(startGateDir({ XDG_RUNTIME_DIR: '/run/user/7' })).toBe(path.join('/run/user/7', 'pantheon', 'start-gate'));
    expect(startGateDir({})).toContain(os.tmpdir());
  });

  it('goes on without a slot when the folder cannot be used', async () => {
    const file = path.join(dir, 'a-file');
    fs.writeFileSync(file, '');
    expect((await enterStartGate({ dir: path.join(file, 'gate'), slots: 1 })).slot).toBeUndefined();
  });

  it('lets one process in at a time across processes (width 1): their turns never overlap', async () => {
    const log = path.join(dir, '..', `${path.basename(dir)}.log`);
    const child = `
      const { enterStartGate } = await import(${JSON.stringify(GATE)});
      const fs = await import('node:fs');
      const pass = await enterStartGate({ dir: ${JSON.stringify(dir)}, slots: 1, holdMs: ${HOLD}, waitMs: ${HOLD} });
      if (!pass.slot) throw new Error('no slot');
      fs.appendFileSync(${JSON.stringify(log)}, 'in ' + process.pid + '\\n');
      // Some work inside the turn, so that overlapping turns would show.
      let x = 0; for (let i = 0; i < 2e6; i++) x += i;
      fs.appendFileSync(${JSON.stringify(log)}, 'out ' + process.pid + '\\n');
      pass.release();
    `;
    try {
      const children = Array.from({ length: 4 }, () => spawn(process.execPath, ['--input-type=module', '-e', child], { stdio: ['ignore', 'ignore', 'pipe'] }));
      const codes = await Promise.all(
        children.map(
          (c) =>
            new Promise<string>((resolve) => {
              let err = '';
              c.stderr?.on('data', (d: Buffer) => (err += d.toString()));
              c.on('close', (code) => resolve(`${String(code)}${err}`));
            }),
        ),
      );
      expect(codes).toEqual(['0', '0', '0', '0']);
      const lines = fs.readFileSync(log, 'utf8').trim().split('\n');
      expect(lines).toHaveLength(8);
      for (let i = 0; i < lines.length; i += 2) {
        const pid = lines[i]?.split(' ')[1];
        expect([lines[i], lines[i + 1]]).toEqual([`in ${pid}`, `out ${pid}`]);
      }
      expect(slotFiles()).toEqual([]);
    } finally {
      fs.rmSync(log, { force: true });
    }
  });

  it('gates a local run only', () => {
    expect(gatedRun(['run', 'hi'])).toBe(true);
    expect(gatedRun(['--debug', 'run', '--agent', 'oracle', 'hi'])).toBe(true);
    expect(gatedRun(['run', '--attach', 'http://127.0.0.1:4096', 'hi'])).toBe(false);
    expect(gatedRun(['run', '--help'])).toBe(false);
    expect(gatedRun(['serve'])).toBe(false);
    expect(gatedRun(['workflow', 'run', 'feature'])).toBe(false);
  });
});

describe('opencode run through the start-up gate', () => {
  let server: ScriptedServer;
  let sb: Sandbox;
  const gateDir = () => startGateDir(sb.env);
  const slotFiles = () => (fs.existsSync(gateDir()) ? fs.readdirSync(gateDir()).sort() : []);

  beforeAll(async () => {
    server = await startScriptedServer({ apiKey: SECRET });
    sb = await sandbox();
    sb.write('opencode.json', { ...providerConfig(server, { m: {} }), model: 'p/m' });
  });
  afterAll(async () => {
    await server.close();
    await sb.remove();
  });

  it('takes a slot and gives it back; a slot left by a process that is gone does not hold it up', async () => {
    fs.mkdirSync(gateDir(), { recursive: true });
    fs.writeFileSync(path.join(gateDir(), 'slot-0'), `${await deadPid()} ${Date.now()}`);
    const r = await sb.run(['run', '--no-cache', 'through the gate'], { env: { PANTHEON_START_GATE: '1' } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('echo: through the gate\n');
    expect(slotFiles()).toEqual([]);
  });

  it('goes on when every slot stays held by a live process (after the hold time)', async () => {
    fs.mkdirSync(gateDir(), { recursive: true });
    fs.writeFileSync(path.join(gateDir(), 'slot-0'), `${process.pid} ${Date.now()}`);
    const r = await sb.run(['run', '--no-cache', 'still runs'], { env: { PANTHEON_START_GATE: '1' } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('echo: still runs\n');
    // The held slot went stale and the run took it over, then gave it back.
    expect(slotFiles()).toEqual([]);
  });

  it('runs with one warning when PANTHEON_START_GATE is neither off nor a number, the value shown safe for a terminal', async () => {
    const r = await sb.run(['run', '--no-cache', 'bad gate'], { env: { PANTHEON_START_GATE: `lots\u001b[2J${'x'.repeat(100)}` } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('echo: bad gate\n');
    expect(r.stderr).toContain(`warning: PANTHEON_START_GATE: expected "off" or a whole number of runs that load at once (1 to 1024), found "lots\\x1b[2J${'x'.repeat(32)}…"`);
    expect(r.stderr).not.toContain('\u001b');
    expect(r.stderr.match(/PANTHEON_START_GATE/g)).toHaveLength(1);
  });

  it('writes nothing with PANTHEON_START_GATE=off', async () => {
    fs.rmSync(path.dirname(gateDir()), { recursive: true, force: true });
    const r = await sb.run(['run', '--no-cache', 'no gate'], { env: { PANTHEON_START_GATE: 'off' } });
    expect(r.code, r.stderr).toBe(0);
    expect(fs.existsSync(path.dirname(gateDir()))).toBe(false);
  });
});
