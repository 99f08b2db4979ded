/**
 * A provider's base URL (`options.baseURL`, or OpenCode's `api`), checked where it is read: an
 * http(s) URL whose user name and password decode. OpenCode loads any string there, so a config
 * with a bad one loads (with a warning); a run that needs the provider then stops with one sentence
 * naming the field instead of failing each attempt as a network error, and `doctor` says the same.
 */
import { formatFound } from '../config/found-value.ts';
import { formatJsonPath, type JsonPath } from '../config/json-path.ts';
import type { Config } from '../config/schema-types.ts';
import { PantheonError } from '../errors.ts';

export const BASE_URL_HINT = 'Give the API’s address with its scheme, e.g. "https://integrate.api.nvidia.com/v1"; write a "%" inside a user name or password as "%25".';

/** A `%` not followed by two hex digits. */
const BAD_ESCAPE = /%(?![0-9A-Fa-f]{2})/;

/** What is wrong with `value` as a base URL (`expected …`), or undefined when a request can be sent to it. */
export function baseURLProblem(value: string): string | undefined {
  const url = URL.parse(value);
  if (!url) return 'expected an http(s) URL such as "https://integrate.api.nvidia.com/v1"';
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'expected an http(s) URL';
  if (BAD_ESCAPE.test(url.username) || BAD_ESCAPE.test(url.password)) return 'expected a user name and password whose "%" each start an escape such as "%25"';
  // Paths are added after the base (`<baseURL>/chat/completions`): a query in it would swallow them.
  if (url.search || url.hash) return 'expected no query string or fragment (query parameters go in options.queryParams)';
  return undefined;
}

/** The configured base URL of provider `id` and the path of the field that sets it (`options.baseURL` first, as requests use it). */
export function configuredBaseURL(config: Config, id: string): { value: string; path: JsonPath } | undefined {
  const declared = config.provider?.[id];
  const options = declared?.options?.baseURL;
  if (options !== undefined) return { value: options, path: ['provider', id, 'options', 'baseURL'] };
  if (declared?.api !== undefined) return { value: declared.api, path: ['provider', id, 'api'] };
  return undefined;
}

/** `expected …, found "…"` for a configured base URL that is wrong (its credentials shown as `***`), or undefined. An empty one is left to the checks that require one. */
export function baseURLFinding(value: string, path: JsonPath): string | undefined {
  const problem = value === '' ? undefined : baseURLProblem(value);
  return problem && `${problem}, found ${formatFound(value, path)}`;
}

/** Throws CONFIG_INVALID (`provider.<id>.options.baseURL: expected …`) when provider `id`'s configured base URL is wrong or empty. */
export function checkBaseURL(config: Config, id: string): void {
  const configured = configuredBaseURL(config, id);
  // An empty one is most often an unset {env:} variable (the load warned of it): a request needs one.
  const finding = configured && (configured.value === '' ? 'expected an http(s) URL, found "" (is its {env:} variable set?)' : baseURLFinding(configured.value, configured.path));
  if (finding) throw new PantheonError('CONFIG_INVALID', `${formatJsonPath(configured.path)}: ${finding}.`, { hint: BASE_URL_HINT });
}

/** `<baseURL>/models` with the provider's query parameters (doctor's probe, `auth login`'s check). */
export function modelsUrl(baseURL: string, queryParams: Record<string, string> = {}): URL {
  const url = new URL(`${baseURL.replace(/\/+$/, '')}/models`);
  for (const [name, value] of Object.entries(queryParams)) url.searchParams.set(name, value);
  return url;
}
