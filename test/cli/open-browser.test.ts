/**
 * The browser opener's command line (src/cli/open-browser.ts): an OAuth authorization URL comes
 * from a remote server's metadata, so it is opened only when it is http(s), and never through a
 * shell (Windows' `cmd /c start` read `&` as a command separator).
 */
import { describe, expect, it } from 'vitest';
import { hasDisplay, openerCommand } from '../../src/cli/open-browser.ts';

const AUTH = 'https://auth.example.com/authorize?response_type=code&client_id=abc&state=x%26y&redirect_uri=http%3A%2F%2F127.0.0.1%3A19876%2Fcb';

describe('openerCommand', () => {
  it('passes the whole URL as one argument, on every platform', () => {
    expect(openerCommand(AUTH, 'win32')).toEqual(['rundll32', ['url.dll,FileProtocolHandler', AUTH]]);
    expect(openerCommand(AUTH, 'darwin')).toEqual(['open', [AUTH]]);
    expect(openerCommand(AUTH, 'linux')).toEqual(['xdg-open', [AUTH]]);
    // What a hostile metadata document could name: a query that would be a second command to cmd.
    expect(openerCommand('https://evil.example/a?x&calc.exe', 'win32')).toEqual(['rundll32', ['url.dll,FileProtocolHandler', 'https://evil.example/a?x&calc.exe']]);
  });

  it('opens nothing but http(s) URLs', () => {
    for (const url of ['file:///etc/passwd', 'javascript:alert(1)', '--help', 'ms-settings:', 'C:\\Windows\\System32\\calc.exe', '']) expect(openerCommand(url, 'win32'), url).toBeUndefined();
  });

  it('a display: none in CI or over SSH without X', () => {
    expect(hasDisplay({ CI: '1', DISPLAY: ':0' }, 'linux')).toBe(false);
    expect(hasDisplay({ DISPLAY: ':0' }, 'linux')).toBe(true);
    expect(hasDisplay({}, 'linux')).toBe(false);
    expect(hasDisplay({ SSH_CONNECTION: 'x' }, 'darwin')).toBe(false);
  });
});
