/**
 * The environment a local MCP server is started with: a safe-listed copy of the user's
 * environment with the server's own `environment` merged over it. Never the whole environment,
 * so provider API keys and other secrets of the parent do not leak into third-party servers.
 */

/** Variables passed through by exact name. */
export const SAFE_ENV_NAMES: readonly string[] = [
  // identity, shell and terminal
  'PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'TERM', 'COLORTERM', 'NO_COLOR',
  // locale and time
  'LANG', 'LANGUAGE', 'TZ',
  // temporary and per-user folders
  'TMPDIR', 'TMP', 'TEMP', 'XDG_CONFIG_HOME', 'XDG_DATA_HOME', 'XDG_CACHE_HOME', 'XDG_STATE_HOME', 'XDG_RUNTIME_DIR',
  // network: proxies and extra CA certificates, so servers work behind a corporate proxy
  'HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'ALL_PROXY', 'http_proxy', 'https_proxy', 'no_proxy', 'all_proxy',
  'NODE_EXTRA_CA_CERTS', 'SSL_CERT_FILE', 'SSL_CERT_DIR',
  // Windows essentials
  'SYSTEMROOT', 'SYSTEMDRIVE', 'WINDIR', 'COMSPEC', 'PATHEXT', 'APPDATA', 'LOCALAPPDATA', 'PROGRAMDATA',
  'PROGRAMFILES', 'PROGRAMFILES(X86)', 'USERPROFILE', 'USERNAME', 'HOMEDRIVE', 'HOMEPATH', 'PROCESSOR_ARCHITECTURE',
];

/** Variables passed through by prefix: the locale categories. */
export const SAFE_ENV_PREFIXES: readonly string[] = ['LC_'];

function isSafeName(name: string): boolean {
  const upper = name.toUpperCase();
  return SAFE_ENV_NAMES.some((n) => n.toUpperCase() === upper) || SAFE_ENV_PREFIXES.some((p) => name.startsWith(p));
}

/**
 * The safe-listed part of `parent` (exported shell functions, values starting with `()`, are
 * dropped), with `own` (the server's configured `environment`) merged over it.
 */
export function serverEnvironment(
  own: Readonly<Record<string, string>> | undefined,
  parent: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(parent)) {
    if (value === undefined || value.startsWith('()') || !isSafeName(name)) continue;
    env[name] = value;
  }
  return { ...env, ...own };
}
