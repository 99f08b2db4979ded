/**
 * HTTP Basic credentials as an `Authorization` value: for a URL that carries a user and password
 * (`https://user:token@host/…`, which fetch refuses and a list of head fields does not turn into a
 * header by itself) and for credentials given apart.
 */

/** `Basic <base64 of user:password>`. */
export function basicAuth(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

/** The `Authorization` value of `url`'s user and password (percent-decoded, as node:http decodes them), or undefined when it has neither. */
export function urlBasicAuth(url: URL): string | undefined {
  if (!url.username && !url.password) return undefined;
  return basicAuth(decodeURIComponent(url.username), decodeURIComponent(url.password));
}

/**
 * `url` as fetch takes it, without its user and password (fetch refuses a URL with credentials, and
 * its error quotes the whole URL), and `headers` with the Basic `Authorization` they make: unless a
 * header of that name (in any case) is given, or the request is `authorized` otherwise (a key the
 * client sends its own way), as node:http gives a URL's credentials.
 */
export function fetchableUrl(url: URL, headers: Record<string, string> = {}, authorized = false): { href: string; headers: Record<string, string> } {
  const authorization = urlBasicAuth(url);
  if (!authorization) return { href: url.href, headers };
  const bare = withoutCredentials(url);
  const given = authorized || Object.keys(headers).some((name) => name.toLowerCase() === 'authorization');
  return { href: bare, headers: given ? headers : { authorization, ...headers } };
}

/** `url` without the user and password it may carry, as people and clients are shown it; a text that is no URL, as it is. */
export function withoutCredentials(url: URL | string): string {
  const parsed = typeof url === 'string' ? URL.parse(url) : new URL(url.href);
  if (!parsed) return url as string;
  if (!parsed.username && !parsed.password) return typeof url === 'string' ? url : parsed.href;
  parsed.username = '';
  parsed.password = '';
  return parsed.href;
}

/** Whether request headers carry an Authorization (any case). */
export function hasAuthorization(headers: Record<string, string>): boolean {
  return Object.keys(headers).some((h) => h.toLowerCase() === 'authorization');
}
