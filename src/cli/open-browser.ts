/** Opening a URL in the user's browser, when there is one to show it (the dashboard, MCP OAuth sign-in). */
import { spawn } from 'node:child_process';
import { printErr } from './print.ts';

/** Whether a browser can be shown: a desktop session (not SSH without X forwarding, not CI). */
export function hasDisplay(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): boolean {
  if (env.CI) return false;
  if (platform === 'darwin' || platform === 'win32') return !env.SSH_CONNECTION;
  return Boolean(env.DISPLAY || env.WAYLAND_DISPLAY);
}

/**
 * The opener's command line for a URL: only http(s) URLs (the URL may come from a remote server's
 * OAuth metadata), never through a shell (Windows' `cmd /c start` would read `&` in a query as a
 * command separator: cut URLs, and commands run).
 */
export function openerCommand(url: string, platform: NodeJS.Platform = process.platform): [string, string[]] | undefined {
  const parsed = URL.parse(url);
  if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) return undefined;
  const href = parsed.href;
  if (platform === 'darwin') return ['open', [href]];
  if (platform === 'win32') return ['rundll32', ['url.dll,FileProtocolHandler', href]];
  return ['xdg-open', [href]];
}

/** Opens `url` with the platform's opener; a failure is one line on stderr (the URL was printed already or is named). */
export function openBrowser(url: string): void {
  const opener = openerCommand(url);
  if (!opener) {
    printErr(`not opening ${url} in a browser: only http(s) URLs are opened; open it yourself if you trust it\n`);
    return;
  }
  const [command, args] = opener;
  try {
    const child = spawn(command, args, { stdio: 'ignore', detached: true });
    child.on('error', () => printErr(`could not open a browser (${command}); open ${url} yourself\n`));
    child.unref();
  } catch {
    printErr(`could not open a browser; open ${url} yourself\n`);
  }
}
