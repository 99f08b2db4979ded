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
 * `url` as fetch takes it: without its user and password, which come back as the Basic
 * `Authorization` they make (none when it has neither). fetch refuses a URL with credentials, and
 * its error quotes the whole URL.
 */
export function fetchableUrl(url: URL): { href: string; authorization?: string } {
  const authorization = urlBasicAuth(url);
  if (!authorization) return { href: url.href };
  const bare = new URL(url.href);
  bare.username = '';
  bare.password = '';
  return { href: bare.href, authorization };
}
