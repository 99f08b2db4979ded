/**
 * A webhook or callback URL is refused unless it is http(s), and when it points back at this server
 * (a loop that would make the server call itself for every event) by any spelling of its address.
 * A name that only DNS says is this machine gets through here; the server refuses the delivery
 * when it arrives (webhook-loop.ts).
 */
import net from 'node:net';
import { HttpError } from '../http-error.ts';
import type { ServerContext } from '../route.ts';

/** This machine's addresses by any spelling: 127/8, 0.0.0.0, ::1, ::, and their IPv4-mapped IPv6 forms (BlockList matches those too). */
const LOCAL_ADDRESSES = new net.BlockList();
LOCAL_ADDRESSES.addSubnet('127.0.0.0', 8, 'ipv4');
LOCAL_ADDRESSES.addAddress('0.0.0.0', 'ipv4');
LOCAL_ADDRESSES.addAddress('::1', 'ipv6');
LOCAL_ADDRESSES.addAddress('::', 'ipv6');

/** A URL's host as compared: without IPv6 brackets or a final dot, lower case. */
const bareHost = (hostname: string) => hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '').toLowerCase();

/** Whether a host names this machine whatever the bind: localhost (and names under it), or a loopback or unspecified address. */
function isThisMachine(hostname: string): boolean {
  const host = bareHost(hostname);
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  const family = net.isIP(host);
  return family !== 0 && LOCAL_ADDRESSES.check(host, family === 4 ? 'ipv4' : 'ipv6');
}

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
  const sameHost = bareHost(url.hostname) === bareHost(self.hostname) || (isThisMachine(url.hostname) && isThisMachine(self.hostname));
  if (sameHost && port === selfPort) return 'it points back at this server';
  return undefined;
}

export function checkWebhookUrl(raw: string, field: string, c: ServerContext): void {
  const problem = webhookUrlProblem(raw, new URL(c.get('state').url ?? c.req.url));
  if (problem) throw new HttpError(400, 'BAD_REQUEST', `${field}: ${problem}.`, { hint: 'Give an http(s) URL of a receiver other than this server.', details: { field } });
}
