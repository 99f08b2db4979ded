/**
 * `opencode dashboard`: prints the dashboard's URL, and opens a browser when there is a display.
 * With `--attach URL` it checks that a server answers there (with OPENCODE_SERVER_PASSWORD when set)
 * and exits; without, it starts the server as `opencode serve` does and keeps it running.
 */
import { basicAuth } from '../basic-auth.ts';
import { PantheonError } from '../errors.ts';
import type { DashboardArgs } from './commands/dashboard.ts';
import { hasDisplay, openBrowser } from './open-browser.ts';
import { serveAction } from './serve-action.ts';

export { hasDisplay };
import { printOut } from './print.ts';

/** The server's base URL from `--attach`: http(s) only, without credentials, path or query. */
export function attachUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw new PantheonError('USAGE', `--attach: expected a server URL such as http://127.0.0.1:4096, found "${value.slice(0, 200)}".`, { hint: '`opencode serve` prints its URL when it starts.' });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new PantheonError('USAGE', `--attach: expected an http:// or https:// URL, found "${url.protocol}".`);
  if (url.username || url.password) throw new PantheonError('USAGE', '--attach: put the password in OPENCODE_SERVER_PASSWORD, not in the URL.', { hint: 'The URL is printed; a password in it would be too.' });
  return url.origin;
}

async function checkServer(base: string): Promise<void> {
  const password = process.env.OPENCODE_SERVER_PASSWORD;
  const headers: Record<string, string> = password ? { authorization: basicAuth(process.env.OPENCODE_SERVER_USERNAME || 'opencode', password) } : {};
  let res: Response;
  try {
    res = await fetch(`${base}/api/state`, { headers, signal: AbortSignal.timeout(5000) });
  } catch (error) {
    const why = error instanceof Error && error.name === 'TimeoutError' ? 'no answer within 5 s' : 'nothing answers there';
    throw new PantheonError('SERVER_UNREACHABLE', `No Pantheon server at ${base} (${why}).`, { hint: 'Start one with `opencode serve`, or run `opencode dashboard` without --attach.' });
  }
  await res.body?.cancel();
  if (res.status === 401) throw new PantheonError('SERVER_AUTH', `The server at ${base} needs a password.`, { hint: 'Set OPENCODE_SERVER_PASSWORD (and OPENCODE_SERVER_USERNAME if it is not "opencode").' });
  if (!res.ok) throw new PantheonError('SERVER_UNREACHABLE', `The server at ${base} has no dashboard (GET /api/state answered ${res.status}).`, { hint: 'Is it a Pantheon `opencode serve` of version 0.3 or later?' });
}

function announce(url: string, open: boolean | undefined): void {
  printOut(`opencode dashboard at ${url}\n`);
  if (open !== false && hasDisplay()) openBrowser(url);
}

export async function dashboardAction(args: DashboardArgs): Promise<void> {
  if (args.attach !== undefined) {
    const base = attachUrl(String(args.attach));
    await checkServer(base);
    announce(`${base}/`, args.open);
    return;
  }
  await serveAction({ ...(args.port !== undefined ? { port: args.port } : {}), ...(args.hostname !== undefined ? { hostname: args.hostname } : {}), ...(args.config ? { config: args.config } : {}), debug: args.debug }, { ready: (url) => announce(`${url}/`, args.open) });
}
