/**
 * User names and passwords inside URLs (`redis://user:password@host`) are secrets: every message,
 * listing and event shows them as `***`, even when the URL is mistyped (`redis//…@`, `mysql://…@`)
 * or cannot be parsed at all; so are the values of query parameters named as credentials
 * (`?key=…`, `&access_token=…`).
 */

const SCHEME = /^[a-z][a-z0-9+.-]*:?\/{0,2}/i;
/** `scheme://userinfo@` anywhere in a text; the user info stops at whitespace, quotes, `/`, `?` and `#`. */
const USERINFO = /\b([a-z][a-z0-9+.-]*:?\/\/)([^\s@/?#"'<>]+)@/gi;

/** A whole value that names a store (`state.store`, `cache.store`): everything between its scheme and its last `@` becomes `***`. */
export function redactStoreUrl(value: string): string {
  const at = value.lastIndexOf('@');
  if (at < 0) return value;
  const scheme = SCHEME.exec(value)?.[0] ?? '';
  return `${scheme}***${value.slice(at)}`;
}

/** The same value without its credentials at all (`redis://host:6379`), for descriptions. */
export function stripStoreCredentials(value: string): string {
  const at = value.lastIndexOf('@');
  if (at < 0) return value;
  const scheme = SCHEME.exec(value)?.[0] ?? '';
  return `${scheme}${value.slice(at + 1)}`;
}

/** A query parameter whose name says it is a credential (`?key=…`, `&access_token=…`, `&sig=…`): its value stops at `&`, `#`, whitespace and quotes. */
const QUERY_SECRET = /([?&][^=&#\s"'<>]*(?:key|token|secret|passw|auth|sig|credential)[^=&#\s"'<>]*=)[^&#\s"'<>]+/gi;

/** Any text, with the user info of every URL in it and the values of its credential query parameters replaced by `***`. */
export function redactUrlCredentials(text: string): string {
  const out = text.includes('@') ? text.replace(USERINFO, '$1***@') : text;
  return out.includes('=') ? out.replace(QUERY_SECRET, '$1***') : out;
}

/** True for config keys whose whole value is a store URL. */
export function isStoreKey(key: string | number | undefined): boolean {
  return key === 'store';
}
