/**
 * A webhook or callback URL is refused unless it is http(s), and when it points back at this server
 * (a loop that would make the server call itself for every event).
 */
import { HttpError } from '../http-error.ts';
import type { ServerContext } from '../route.ts';

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\]|::1|0\.0\.0\.0|\[::\])$/i;

/** The reason `raw` cannot be a webhook target of a server reachable at `self` (`http://host:port`), or undefined. */
export function webhookUrlProblem(raw: string, self: URL): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'not a URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `expected an http(s) URL, found ${url.protocol.replace(':', '')}:`;
  if (url.username || url.password) return 'credentials in the URL are not allowed (sign with a secret instead)';
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  const selfPort = self.port || (self.protocol === 'https:' ? '443' : '80');
  const sameHost = url.hostname.toLowerCase() === self.hostname.toLowerCase() || (LOOPBACK.test(url.hostname) && LOOPBACK.test(self.hostname));
  if (sameHost && port === selfPort) return 'it points back at this server';
  return undefined;
}

export function checkWebhookUrl(raw: string, field: string, c: ServerContext): void {
  const problem = webhookUrlProblem(raw, new URL(c.get('state').url ?? c.req.url));
  if (problem) throw new HttpError(400, 'BAD_REQUEST', `${field}: ${problem}.`, { hint: 'Give an http(s) URL of a receiver other than this server.', details: { field } });
}
