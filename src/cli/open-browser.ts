/** Opening a URL in the user's browser, when there is one to show it (the dashboard, MCP OAuth sign-in). */
import { spawn } from 'node:child_process';
import { printErr } from './print.ts';

/** Whether a browser can be shown: a desktop session (not SSH without X forwarding, not CI). */
export function hasDisplay(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): boolean {
  if (env.CI) return false;
  if (platform === 'darwin' || platform === 'win32') return !env.SSH_CONNECTION;
  return Boolean(env.DISPLAY || env.WAYLAND_DISPLAY);
}

/** Opens `url` with the platform's opener; a failure is one line on stderr (the URL was printed already or is named). */
export function openBrowser(url: string): void {
  const [command, args] = process.platform === 'darwin' ? ['open', [url]] : process.platform === 'win32' ? ['cmd', ['/c', 'start', '""', url]] : ['xdg-open', [url]];
  try {
    const child = spawn(command, args, { stdio: 'ignore', detached: true });
    child.on('error', () => printErr(`could not open a browser (${command}); open ${url} yourself\n`));
    child.unref();
  } catch {
    printErr(`could not open a browser; open ${url} yourself\n`);
  }
}
