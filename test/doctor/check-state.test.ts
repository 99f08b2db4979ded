import fs from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteLedger, defaultLedgerPath } from '../../src/scheduler/ledger-sqlite.ts';
import { check, doctorTree, type DoctorTree } from './helper.ts';

const DAY = 86_400_000;
const mode = (file: string): number => fs.statSync(file).mode & 0o777;

describe('doctor cache and state', () => {
  let tree: DoctorTree;

  beforeEach(async () => {
    tree = await doctorTree();
  });
  afterEach(async () => {
    await tree.remove();
  });

  it('is fine on a fresh machine, and --fix creates the folders', async () => {
    const report = await tree.doctor({ groups: ['cache'] });
    const state = path.join(tree.dataHome, 'pantheon');
    const cache = path.join(tree.cacheHome, 'pantheon');
    expect(check(report, 'cache', 'cache store')).toMatchObject({ status: 'ok', message: `${cache} does not exist yet (the first run creates it)` });
    expect(check(report, 'cache', 'state folder')).toMatchObject({ status: 'ok', message: `${state} does not exist yet (the first run creates it)` });
    expect(check(report, 'cache', 'ledger').message).toMatch(/^no ledger yet at .*ledger\.sqlite/);
    expect(check(report, 'cache', 'cooldowns')).toMatchObject({ status: 'ok', message: 'none active' });
    expect(fs.existsSync(state)).toBe(false);

    const fixed = await tree.doctor({ groups: ['cache'], fix: true });
    expect(fixed.fixed).toEqual([`created state folder ${state} (0700)`, `created cache folder ${cache} (0700)`]);
    expect(mode(state)).toBe(0o700);
    expect(check(fixed, 'cache', 'state folder')).toMatchObject({ status: 'ok', message: `${state} is writable` });
    expect(fs.readdirSync(state)).toEqual([]);
  });

  it('warns about a state folder others can enter, and --fix makes it 0700', async () => {
    const state = path.join(tree.dataHome, 'pantheon');
    fs.mkdirSync(state, { recursive: true });
    fs.chmodSync(state, 0o755);
    const report = await tree.doctor({ groups: ['cache'] });
    expect(check(report, 'cache', 'state folder')).toMatchObject({ status: 'warn', message: `${state} is 0755, not 0700` });
    const fixed = await tree.doctor({ groups: ['cache'], fix: true });
    expect(fixed.fixed).toContain(`state folder ${state}: mode 0755 → 0700`);
    expect(mode(state)).toBe(0o700);
  });

  it('fails a state folder it cannot write to', async () => {
    fs.mkdirSync(tree.dataHome, { recursive: true });
    fs.writeFileSync(path.join(tree.dataHome, 'pantheon'), 'not a folder');
    const report = await tree.doctor({ groups: ['cache'] });
    expect(check(report, 'cache', 'state folder')).toMatchObject({ status: 'fail', message: `${path.join(tree.dataHome, 'pantheon')} is a file, not a folder`, hint: expect.stringMatching(/^Move .* away/) });
    expect(report.ok).toBe(false);
  });

  it('describes memory and disabled caches without touching disk', async () => {
    tree.write('opencode.json', { cache: { store: 'memory' } });
    expect(check(await tree.doctor({ groups: ['cache'] }), 'cache', 'cache store').message).toBe('in memory (nothing kept between runs)');
    tree.write('opencode.json', { cache: { enabled: false } });
    expect(check(await tree.doctor({ groups: ['cache'] }), 'cache', 'cache store').message).toBe('cache disabled (cache.enabled is false)');
  });

  it('lists active cooldowns and how long they last', async () => {
    const ledger = new SqliteLedger({ path: defaultLedgerPath(tree.env) });
    const { coolingUntil } = await ledger.recordFailure('model:p/m1', 1, 60_000);
    await ledger.close();
    const report = await tree.doctor({ groups: ['cache'], now: () => (coolingUntil as number) - 42_000 });
    expect(check(report, 'cache', 'ledger').status).toBe('ok');
    const cooldowns = check(report, 'cache', 'cooldowns');
    expect(cooldowns.status).toBe('warn');
    expect(cooldowns.message).toBe('1 model is cooling down: p/m1 for 42 s more (1 failure in a row)');
    expect(report.ok).toBe(true);
  });

  it('fails an unreadable ledger', async () => {
    const file = defaultLedgerPath(tree.env);
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    fs.writeFileSync(file, 'this is not a database, it is just text long enough to be read as a header');
    const report = await tree.doctor({ groups: ['cache'] });
    const ledger = check(report, 'cache', 'ledger');
    expect(ledger.status).toBe('fail');
    expect(ledger.message).toContain(file);
    expect(ledger.hint).toContain('Delete');
  });

  it('--fix removes expired ledger rows and keeps live ones', async () => {
    const file = defaultLedgerPath(tree.env);
    const request = { windows: [{ key: 'provider:p', maxRequests: 100, windowMs: 60_000 }], tokens: [], concurrency: [], leaseMs: 1000 };
    // The live row first: a ledger prunes on its first reservation, by its own clock.
    const live = new SqliteLedger({ path: file });
    await live.tryReserve(request);
    await live.close();
    const old = new SqliteLedger({ path: file, now: () => Date.now() - 3 * DAY });
    await old.tryReserve(request);
    await old.close();
    const count = (): number => {
      const db = new DatabaseSync(file);
      try {
        return (db.prepare('SELECT COUNT(*) AS n FROM starts').get() as { n: number }).n;
      } finally {
        db.close();
      }
    };
    expect(count()).toBe(2);
    const report = await tree.doctor({ groups: ['cache'], fix: true });
    expect(report.fixed).toContain(`removed expired entries from the rate-limit ledger ${file}`);
    expect(count()).toBe(1);
  });
});
