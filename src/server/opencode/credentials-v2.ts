/**
 * OpenCode's v2 credentials (`/api/integration/{id}/connect/key`, `/api/credential/{id}`) over the
 * store every Pantheon process reads: OpenCode's auth.json, as `PUT /auth/{providerID}` and
 * `opencode auth login` write it. auth.json holds one key per provider, so a provider has at most one
 * credential, named `cred_<providerID>` (connecting again replaces it, as in OpenCode), and its label
 * is kept in the entry's `metadata` (OpenCode's string record of an API key's entry), `default` when
 * none was given. Keys are never answered back.
 */
import { keyProblem } from '../../auth/key.ts';
import { readAuthStoreFile, removeEntry, saveApiKey, storedApiKey, updateEntry, type AuthEntry } from '../../auth/store.ts';
import { HttpError } from '../http-error.ts';
import type { ServerContext } from '../route.ts';

/** What a provider id looks like (models.dev's and the config's); anything else is refused before the store is touched. */
export const PROVIDER_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/** OpenCode's label of a credential connected without one. */
export const DEFAULT_LABEL = 'default';
/** The longest label kept. */
export const MAX_LABEL_CHARS = 200;
const PREFIX = 'cred_';
const LABEL_HINT = 'Give a short one-line name, or "" for the default.';
// C0 and C1 control characters, DEL, and the line and paragraph separators.
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/**
 * Tells the project's event streams that a provider's stored key changed, as OpenCode does for its
 * v2 credentials: `integration.connection.updated` (`{integrationID}`; left out when nothing was
 * there to change) then `integration.updated` (`{}`). Never the key.
 */
export function announceCredentialChange(c: ServerContext, projectRoot: string, integrationID: string, connectionChanged = true): void {
  const events = c.get('state').events;
  if (connectionChanged) events.publish(projectRoot, { type: 'integration.connection.updated', properties: { integrationID } });
  events.publish(projectRoot, { type: 'integration.updated', properties: {} });
}

/** The credential id of a provider's auth.json key. */
export function credentialId(providerId: string): string {
  return `${PREFIX}${providerId}`;
}

/** A connection of v2's IntegrationInfo for a provider's stored API key, if it has one. */
export function credentialConnection(entries: Record<string, AuthEntry>, providerId: string): { type: 'credential'; id: string; label: string } | undefined {
  if (storedApiKey(entries, providerId) === undefined) return undefined;
  return { type: 'credential', id: credentialId(providerId), label: labelOf(entries[providerId]) };
}

function labelOf(entry: AuthEntry | undefined): string {
  const metadata = entry?.metadata;
  const label = metadata !== null && typeof metadata === 'object' ? (metadata as Record<string, unknown>).label : undefined;
  return typeof label === 'string' && label !== '' ? label : DEFAULT_LABEL;
}

/** The provider a credential id names; a 400 naming the parameter when it is not one of ours. */
export function providerOfCredential(id: string): string {
  const provider = id.startsWith(PREFIX) ? id.slice(PREFIX.length) : '';
  if (!PROVIDER_ID.test(provider)) {
    throw new HttpError(400, 'BAD_REQUEST', `path parameter "credentialID": expected a credential id of the form "cred_<providerID>" (as GET /api/integration lists them), not ${JSON.stringify(shortText(id))}.`, {
      hint: 'GET /api/integration lists each stored key’s id (its `connections` of type "credential").',
      details: { field: 'credentialID', kind: 'Path' },
    });
  }
  return provider;
}

/** A label as given: at most MAX_LABEL_CHARS characters, no control characters; `""` means the default. */
export function checkLabel(label: string): string {
  if (label.length > MAX_LABEL_CHARS) throw new HttpError(400, 'BAD_REQUEST', `body field "label": expected at most ${MAX_LABEL_CHARS} characters, found ${label.length}.`, { hint: LABEL_HINT, details: { field: 'label', kind: 'Body' } });
  if (CONTROL.test(label)) throw new HttpError(400, 'BAD_REQUEST', 'body field "label": expected one line of text without control characters.', { hint: LABEL_HINT, details: { field: 'label', kind: 'Body' } });
  return label;
}

function shortText(text: string): string {
  return text.length > 120 ? `${text.slice(0, 120)}…` : text;
}

/** The metadata of an entry with its label set (`""`: the default, so none kept). */
function withLabel(entry: AuthEntry | undefined, label: string): Record<string, string> {
  const { label: _old, ...rest } = (entry?.metadata !== null && typeof entry?.metadata === 'object' ? entry.metadata : {}) as Record<string, string>;
  return label === '' ? rest : { ...rest, label };
}

/** Stores a provider's API key (replacing its credential) with its label; the key is checked as `opencode auth login` checks it. */
export async function connectKey(file: string, providerId: string, key: string, label: string | undefined): Promise<void> {
  // The same check as `opencode auth login`'s: one printable word, never quoted back.
  const problem = keyProblem(key);
  if (problem !== undefined) throw new HttpError(400, 'BAD_REQUEST', `body field "key": ${problem}`, { hint: 'Send the provider’s API key as one word of printable characters.', details: { field: 'key', kind: 'Body' } });
  const metadata: Record<string, string> = label === undefined || label === '' ? {} : { label: checkLabel(label) };
  await saveApiKey(file, providerId, key.trim(), metadata);
}

function notFound(id: string, providerId: string): HttpError {
  return new HttpError(404, 'NOT_FOUND', `No credential ${JSON.stringify(shortText(id))}: no API key of provider "${providerId}" is stored.`, {
    hint: 'GET /api/integration lists the credentials (`connections` of type "credential"); connect one with POST /api/integration/{id}/connect/key.',
  });
}

/** Sets a stored key's label; a 404 when the provider has no stored API key. */
export async function relabel(file: string, id: string, label: string): Promise<void> {
  const providerId = providerOfCredential(id);
  checkLabel(label);
  const done = await updateEntry(file, providerId, (entry) => {
    if (entry?.type !== 'api' || typeof entry.key !== 'string' || entry.key === '') return undefined;
    const { metadata: _old, ...rest } = entry;
    const metadata = withLabel(entry, label);
    return Object.keys(metadata).length ? { ...rest, metadata } : rest;
  });
  if (!done) throw notFound(id, providerId);
}

/** Removes a stored API key (its whole entry, as `DELETE /auth/{providerID}`); a 404 when there is none. */
export async function removeCredential(file: string, id: string): Promise<void> {
  const providerId = providerOfCredential(id);
  // Only an API key is a credential here: an OAuth login of OpenCode's is left to OpenCode.
  if (storedApiKey(readAuthStoreFile(file).entries, providerId) === undefined) throw notFound(id, providerId);
  await removeEntry(file, providerId);
}

/** What to do instead of an OAuth login, for every OAuth route's refusal. */
export const OAUTH_HINT = 'Store the provider’s API key with PUT /auth/{providerID} or POST /api/integration/{id}/connect/key, or run `opencode auth login <provider>`.';

/** The sentence v2's OAuth routes answer: they have no OAuth connections (the built-in logins run through v1's routes and the CLI). */
export function noOAuth(route: string): string {
  return `${route}: OpenCode's v2 API has no OAuth connections here; Pantheon connects providers by API key (GitHub Copilot's and ChatGPT's logins run through POST /provider/{providerID}/oauth/authorize or \`opencode auth login\`).`;
}

/** The sentence v1's OAuth routes answer for a provider that no built-in or project plugin logs in to. */
export function noOAuthFor(route: string, providerID: string): string {
  return `${route}: "${providerID}" has no OAuth login here (the built-in ones are github-copilot's and openai's, and a project plugin's auth hook can add one); Pantheon connects it by API key.`;
}
