/**
 * HTTP Basic credentials as an `Authorization` value: for a URL that carries a user and password
 * (`https://user:token@host/…`, which fetch and a list of head fields do not turn into a header by
 * themselves) and for credentials given apart.
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
