/**
 * Stands in for `@vercel/oidc` in the CLI bundle (scripts/build-cli.ts). The `ai` package imports
 * its gateway provider, which imports `@vercel/oidc` (file system, OAuth and token helpers) when the
 * bundle loads; Pantheon hands the SDK its own provider models and never calls the Vercel gateway,
 * so the real package would only cost start-up time (~5 % of a `run`'s CPU).
 */
export function getContext(): { headers?: Record<string, string> } {
  return {};
}

export function getVercelOidcToken(): Promise<string> {
  return Promise.reject(new Error('Vercel OIDC tokens are not available in Pantheon: the AI SDK gateway provider is not used.'));
}
