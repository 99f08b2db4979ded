import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { maskSecret } from '../../src/config/secrets.ts';
import { isPantheonError } from '../../src/errors.ts';
import { parseGroups } from '../../src/doctor/run-doctor.ts';
import { CHECK_GROUPS } from '../../src/doctor/types.ts';
import { SECRET, check, closedPort, doctorTree, hangingServer, type DoctorTree } from './helper.ts';

describe('parseGroups', () => {
  it('takes repeated and comma-separated names, in the printed order', () => {
    expect(parseGroups(undefined)).toEqual([...CHECK_GROUPS]);
    expect(parseGroups(['runtime', 'models,config'])).toEqual(['config', 'models', 'runtime']);
    expect(parseGroups([' Auth '])).toEqual(['auth']);
  });

  it('refuses an unknown name with the list and a suggestion (a usage error: exit 2)', () => {
    let caught: unknown;
    try {
      parseGroups(['config', 'modles']);
    } catch (error) {
      caught = error;
    }
    expect(isPantheonError(caught)).toBe(true);
    if (!isPantheonError(caught)) return;
    expect(caught.code).toBe('USAGE');
    expect(caught.exitCode).toBe(2);
    expect(caught.message).toBe('--check: unknown check "modles"; did you mean "models"?');
    expect(caught.hint).toBe('Checks: config, auth, models, mcp, cache, runtime.');
  });
});

describe('runDoctor', () => {
  let tree: DoctorTree;

  beforeEach(async () => {
    tree = await doctorTree();
  });
  afterEach(async () => {
    await tree.remove();
  });

  it('runs only the groups asked for', async () => {
    const report = await tree.doctor({ groups: ['runtime'] });
    expect(report.checks.map((c) => `${c.group}/${c.name}`)).toEqual(['runtime/node']);
    expect(check(report, 'runtime', 'node').message).toBe(`Node ${process.versions.node} (${process.execPath})`);
  });

  it('keeps going when the config is invalid: the config fails, groups needing it are skipped', async () => {
    tree.write('opencode.json', '{ "model": 42 }');
    const report = await tree.doctor();
    expect(check(report, 'config', 'valid').status).toBe('fail');
    expect(check(report, 'models', 'providers').status).toBe('skip');
    expect(check(report, 'mcp', 'servers').status).toBe('skip');
    expect(check(report, 'auth', 'credentials').status).toBe('skip');
    expect(check(report, 'runtime', 'node').status).toBe('ok');
    expect(report.ok).toBe(false);
    expect([...new Set(report.checks.map((c) => c.group))]).toEqual([...CHECK_GROUPS]);
  });

  it('bounds the whole run: a probe still running at the bound fails and the run returns', async () => {
    const hang = await hangingServer();
    try {
      tree.write('opencode.json', { provider: { p: { options: { baseURL: hang.url, apiKey: SECRET } } }, model: 'p/m' });
      const started = performance.now();
      // The bound leaves the runtime checks time to finish even on a loaded machine; the probe never can.
      const report = await tree.doctor({ groups: ['models', 'runtime'], probeTimeoutMs: 60_000, totalTimeoutMs: 2000 });
      const elapsed = performance.now() - started;
      const late = report.checks.find((c) => c.group === 'models');
      expect(late?.status).toBe('fail');
      expect(late?.message).toMatch(/did not finish within doctor's bound of 2(\.0)? s|stopped: doctor's time bound was reached/);
      expect(check(report, 'runtime', 'node').status).toBe('ok');
      expect(elapsed).toBeLessThan(2000 + 5000); // the bound, not the 60 s probe timeout
    } finally {
      await hang.close();
    }
  });

  it('scrubs keys from every message, even one that echoes a URL holding the key', async () => {
    const port = await closedPort();
    tree.write('opencode.json', { provider: { p: { options: { baseURL: `http://127.0.0.1:${port}/${SECRET}/v1`, apiKey: SECRET } } }, model: 'p/m' });
    const report = await tree.doctor({ groups: ['models'] });
    const probe = check(report, 'models', 'p');
    expect(probe.message).toBe(`unreachable: connection refused (http://127.0.0.1:${port}/${maskSecret(SECRET)}/v1)`);
    expect(JSON.stringify(report)).not.toContain(SECRET);
  });

  it('produces the documented JSON shape', async () => {
    tree.write('opencode.json', { model: 'nvidia-nim/qwen' });
    const report = JSON.parse(JSON.stringify(await tree.doctor({ groups: ['config', 'runtime'] }))) as Record<string, unknown>;
    expect(Object.keys(report).sort()).toEqual(['checks', 'fixed', 'ok']);
    expect(report.ok).toBe(false);
    expect(report.fixed).toEqual([]);
    for (const c of report.checks as Record<string, unknown>[]) {
      expect(['config', 'runtime']).toContain(c.group);
      expect(typeof c.name).toBe('string');
      expect(['ok', 'warn', 'fail', 'skip']).toContain(c.status);
      expect(typeof c.message).toBe('string');
      if (c.status === 'ok') expect(c.hint).toBeUndefined();
      else if (c.status !== 'skip') expect(typeof c.hint).toBe('string');
    }
  });
});
