import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redactStoreUrl, redactUrlCredentials, stripStoreCredentials } from '../../src/config/url-credentials.ts';
import { describeRedisUrl } from '../../src/cache/redis-store.ts';
import { freePort } from '../support/redis-server.ts';
import { sandbox, type Sandbox } from '../cli/cli-helper.ts';

const PW = 'hunter2-Sup3rSecret';

describe('store URLs never show their credentials', () => {
  it('redacts user info of well-formed, mistyped and unparseable URLs', () => {
    expect(redactStoreUrl(`redis://alice:${PW}@10.0.0.5:6379/2`)).toBe('redis://***@10.0.0.5:6379/2');
    expect(redactStoreUrl(`redis//alice:${PW}@h:6379`)).toBe('redis//***@h:6379');
    expect(redactStoreUrl(`mysql://alice:${PW}@h`)).toBe('mysql://***@h');
    expect(redactStoreUrl(`redis://u:pa/ss@wo@rd@h`)).toBe('redis://***@h');
    expect(redactStoreUrl('sqlite')).toBe('sqlite');
    expect(stripStoreCredentials(`rediss://:${PW}@[bad`)).toBe('rediss://[bad');
    expect(describeRedisUrl(`redis://u:pa/ss${PW}@h:1`)).not.toContain(PW);
    expect(redactUrlCredentials(`see redis://:${PW}@h:1 and https://bob:${PW}@x.example/p`)).toBe('see redis://***@h:1 and https://***@x.example/p');
  });
});

describe('mistyped state.store and cache.store through the CLI', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await sandbox();
  });
  afterAll(async () => {
    await sb.remove();
  });

  const cases = [`redis//alice:${PW}@h:6379`, `mysql://alice:${PW}@h`, `redis:/alice:${PW}@h`];
  for (const store of cases) {
    it(`config validate, doctor and run with state.store ${JSON.stringify(store.replace(PW, '…'))}: exit 2, no password`, async () => {
      sb.write('opencode.json', { state: { store } });
      for (const args of [['config', 'validate'], ['run', '-m', 'p/m', 'hi'], ['config', 'validate', '--json']]) {
        const r = await sb.run(args);
        expect(r.code, args.join(' ')).toBe(2);
        expect(r.stdout + r.stderr).toContain('***@h');
        expect(r.stdout + r.stderr).not.toContain(PW);
      }
      const doctor = await sb.run(['doctor']);
      expect(doctor.stdout).toMatch(/state\.store/);
      expect(doctor.stdout + doctor.stderr).not.toContain(PW);
    });
  }

  it('a well-formed URL: config show masks it; doctor and run name the host without the password', async () => {
    const port = await freePort();
    sb.write('opencode.json', { state: { store: `redis://alice:${PW}@127.0.0.1:${port}` }, cache: { store: `redis://bob:${PW}@127.0.0.1:${port}` } });
    const shown = await sb.run(['config', 'show', '--json']);
    expect(shown.code).toBe(0);
    expect(shown.stdout).not.toContain(PW);
    expect(shown.stdout).toContain(`"redis://***@127.0.0.1:${port}"`);
    const text = await sb.run(['config', 'show']);
    expect(text.stdout + text.stderr).not.toContain(PW);
    const doctor = await sb.run(['doctor', '--check', 'cache', '--json']);
    expect(doctor.stdout).toContain(`redis://127.0.0.1:${port}`);
    expect(doctor.stdout + doctor.stderr).not.toContain(PW);
    const run = await sb.run(['run', '-m', 'p/m', '--format', 'json', 'hi']);
    expect(run.code).toBe(2);
    expect(run.stdout + run.stderr).toContain(`The state store redis://127.0.0.1:${port} cannot be reached`);
    expect(run.stdout + run.stderr).not.toContain(PW);
  });

  it('an unparseable Redis URL with onUnavailable "local": the warning event names it without the password', async () => {
    sb.write('opencode.json', { state: { store: `redis://alice:${PW}@[bad`, onUnavailable: 'local' } });
    const doctor = await sb.run(['doctor', '--check', 'cache']);
    expect(doctor.stdout + doctor.stderr).not.toContain(PW);
    expect(doctor.stdout).toMatch(/state store .*redis:\/\/\[bad/);
  });
});
