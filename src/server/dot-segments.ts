/**
 * Dot segments in a request's path. Hono's Request is made by WHATWG URL parsing (@hono/node-server),
 * which resolves `.` and `..` segments — `%2e` counted as a dot, `\` as a slash — before any route
 * is matched: `/%2e%2e/` and `/dashboard/%2e%2e/` reached `/` and answered the dashboard's HTML,
 * `/x/%2e%2e/health` answered `/health`. No route of the server has such a segment, so a path with
 * one, as the client wrote it, is answered as an unknown route (404) rather than as the route it
 * would resolve to.
 */

/** What separates segments once a URL parser has been at a path: `/`, `\`, and their percent-encodings. */
const SEPARATOR = /\/|\\|%2f|%5c/i;

/** Whether the request target's path (before `?`, as received) has a `.` or `..` segment, plain or percent-encoded. */
export function hasDotSegment(target: string): boolean {
  const q = target.indexOf('?');
  const path = q < 0 ? target : target.slice(0, q);
  if (!path.includes('.') && !/%2e/i.test(path)) return false;
  return path.split(SEPARATOR).some((segment) => {
    const dots = segment.replace(/%2e/gi, '.');
    return dots === '.' || dots === '..';
  });
}

/** The path as received, for a message: before `?`, at most 200 characters. */
export function pathAsSent(target: string): string {
  const q = target.indexOf('?');
  const path = q < 0 ? target : target.slice(0, q);
  return path.length > 200 ? `${path.slice(0, 200)}…` : path;
}
