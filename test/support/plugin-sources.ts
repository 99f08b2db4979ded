/**
 * Source text shared by the tests' plugin files (written into a sandbox's `.opencode/plugin/`).
 */

/**
 * An `auth` hook's `loader` (as the text of an object method) whose fetch sends the stored login's
 * `access` token as a Bearer key, and `x-served-by: <servedBy>` when given, so that a scripted
 * provider that requires the token shows the request went through the plugin.
 */
export function tokenLoader(servedBy?: string): string {
  const mark = servedBy === undefined ? '' : `\n          headers.set("x-served-by", ${JSON.stringify(servedBy)})`;
  return `async loader(getAuth) {
      return {
        apiKey: "",
        async fetch(input, init) {
          const auth = await getAuth()
          const headers = new Headers(init && init.headers)
          headers.set("authorization", "Bearer " + auth.access)${mark}
          return fetch(input, { ...init, headers })
        },
      }
    },`;
}
