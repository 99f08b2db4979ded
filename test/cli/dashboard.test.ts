import { afterEach, describe, expect, it } from 'vitest';
import { hasStack, sandbox, type Sandbox } from './cli-helper.ts';
import { serve, type Served } from '../server/serve-helper.ts';
import { hasDisplay } from '../../src/cli/dashboard-action.ts';

let sb: Sandbox | undefined;
let s: Served | undefined;
afterEach(async () => {
  await s?.stop();
  await sb?.remove();
  s = undefined;
  sb = undefined;
});

describe('opencode dashboard --attach', () => {
  it('prints the dashboard URL of a running server and exits 0; opens no browser without a display', async () => {
    sb = await sandbox();
    s = await serve(sb);
    const r = await sb.run(['dashboard', '--attach', `${s.url}/some/path`]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`opencode dashboard at ${s.url}/\n`);
    expect(r.stderr).toBe('');
  });

  it('says what is wrong with a bad URL (exit 2), a server that needs a password (exit 2) and no server (exit 1)', async () => {
    sb = await sandbox();
    const bad = await sb.run(['dashboard', '--attach', 'not a url']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--attach: expected a server URL such as http://127.0.0.1:4096, found "not a url"');
    const withPassword = await sb.run(['dashboard', '--attach', 'http://opencode:secret@127.0.0.1:9']);
    expect(withPassword.code).toBe(2);
    expect(withPassword.stderr).not.toContain('secret');
    s = await serve(sb, [], { OPENCODE_SERVER_PASSWORD: 'pw' });
    const locked = await sb.run(['dashboard', '--attach', s.url]);
    expect(locked.code).toBe(2);
    expect(locked.stderr).toContain('needs a password');
    const unlocked = await sb.run(['dashboard', '--attach', s.url], { env: { OPENCODE_SERVER_PASSWORD: 'pw' } });
    expect(unlocked.code, unlocked.stderr).toBe(0);
    const port = new URL(s.url).port;
    await s.stop();
    s = undefined;
    const gone = await sb.run(['dashboard', '--attach', `http://127.0.0.1:${port}`]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain(`No Pantheon server at http://127.0.0.1:${port}`);
    for (const r of [bad, withPassword, locked, gone]) expect(hasStack(r.stderr)).toBe(false);
  });

  it('opens a browser only with a display, never in CI', () => {
    expect(hasDisplay({}, 'linux')).toBe(false);
    expect(hasDisplay({ DISPLAY: ':0' }, 'linux')).toBe(true);
    expect(hasDisplay({ WAYLAND_DISPLAY: 'wayland-0', CI: 'true' }, 'linux')).toBe(false);
    expect(hasDisplay({}, 'darwin')).toBe(true);
    expect(hasDisplay({ SSH_CONNECTION: '1 2 3 4' }, 'darwin')).toBe(false);
  });
});
