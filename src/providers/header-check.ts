/**
 * HTTP header values from the config, and a provider's key, checked before a request is built:
 * fetch refuses a value with a character outside Latin-1 or a control character, and its error
 * quotes the whole value (which may be a credential). This names the header (or where the key came
 * from) and the character, never the value.
 */
import { PantheonError } from '../errors.ts';
import type { Credential } from './credentials.ts';

/** The first character HTTP does not allow in a header value: any control but tab, or one above U+00FF. */
function badCharacter(value: string): { index: number; code: number } | undefined {
  for (let i = 0; i < value.length; i++) {
    const code = value.codePointAt(i) ?? 0;
    if ((code < 0x20 && code !== 0x09) || code === 0x7f || code > 0xff) return { index: i, code };
  }
  return undefined;
}

/** Throws CONFIG_INVALID for the first header of `headers` that fetch would refuse. */
export function checkHeaders(headers: Record<string, unknown>, where: string): void {
  for (const [name, value] of Object.entries(headers)) {
    const shownName = JSON.stringify(name.length > 40 ? `${name.slice(0, 39)}…` : name);
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
      throw new PantheonError('CONFIG_INVALID', `${where}.headers: ${shownName} is not a valid HTTP header name.`, {
        hint: 'Header names are letters, digits and - (e.g. "X-Title").',
      });
    }
    const bad = typeof value === 'string' ? badCharacter(value) : undefined;
    if (!bad) continue;
    const code = `U+${bad.code.toString(16).toUpperCase().padStart(4, '0')}`;
    throw new PantheonError('CONFIG_INVALID', `${where}.headers[${shownName}]: the value has a character HTTP does not allow (${code} at character ${bad.index + 1}).`, {
      hint: 'Header values are Latin-1 text without control characters; encode anything else (e.g. percent-encoding or base64).',
    });
  }
}

/**
 * Throws CONFIG_INVALID when a provider's key (sent in a header) has a character HTTP does not
 * allow: a curly quote or a line break pasted with it. Names where the key came from, never the key.
 */
export function checkKey(credential: Credential, providerId: string): void {
  const bad = credential.key === undefined ? undefined : badCharacter(credential.key);
  if (!bad) return;
  const where =
    credential.source === 'env'
      ? `the environment variable ${credential.from ?? ''} (the key of provider "${providerId}")`
      : credential.source === 'auth.json'
        ? `the key of provider "${providerId}" in ${credential.from ?? 'auth.json'}`
        : `provider.${providerId}.options.apiKey`;
  const code = `U+${bad.code.toString(16).toUpperCase().padStart(4, '0')}`;
  throw new PantheonError('CONFIG_INVALID', `${where}: the key has a character HTTP does not allow (${code} at character ${bad.index + 1}).`, {
    hint: `Copy the key again as plain text (a quote or a line break often comes with it from a web page or a file); \`opencode auth login ${providerId}\` checks a key as it saves it.`,
  });
}
