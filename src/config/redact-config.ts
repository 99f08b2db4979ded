/**
 * The merged config with every secret redacted outright (`***`, as OpenCode's `debug config` prints
 * them), for `opencode debug config`: what maskConfig masks (keys, secret headers, credential
 * variables, URL credentials), an MCP server's `environment` value shaped like a key, and every
 * value that came from `{env:…}`, `${…}` or `{file:…}`, shown as the reference its file wrote
 * (`{env:GITHUB_TOKEN}`) instead of what it resolved to. Any secret left is masked in the text.
 */
import { parse, type ParseError } from 'jsonc-parser';
import { isPlainObject } from './jsonc.ts';
import type { ConfigLayer } from './layer.ts';
import { maskConfig } from './mask.ts';
import { parseYaml } from './read-layer.ts';
import { emptyRecord } from './merge.ts';
import type { Config } from './schema-types.ts';
import { configSecrets, isSecretHeader, maskSecret, secretMasker } from './secrets.ts';

export const REDACTED = '***';

const REFERENCE = /\{env:[^}]*\}|\{file:[^}]*\}|\$\{[^}]*\}/;

type Path = readonly (string | number)[];

function at(value: unknown, path: Path): unknown {
  let here = value;
  for (const key of path) {
    if (Array.isArray(here) && typeof key === 'number') here = here[key];
    else if (isPlainObject(here) && typeof key === 'string' && Object.hasOwn(here, key)) here = here[key];
    else return undefined;
  }
  return here;
}

/** A layer's text as written (JSONC, else YAML); undefined for a layer whose data is not its text's top level, or text that does not parse. */
async function rawOf(layer: ConfigLayer): Promise<unknown> {
  if (layer.text === undefined || layer.sourcePaths !== undefined || layer.kind.startsWith('markdown')) return undefined;
  const errors: ParseError[] = [];
  const raw = parse(layer.text, errors, { allowTrailingComma: true }) as unknown;
  if (errors.length === 0) return raw;
  try {
    return await parseYaml(layer.text, layer.file ?? layer.label);
  } catch {
    return undefined;
  }
}

/** The strings of a layer's text that hold a reference, by JSON path (joined with NUL), with what each resolved to. */
async function references(layer: ConfigLayer, found: Map<string, { raw: string; resolved: unknown }>): Promise<void> {
  const raw = await rawOf(layer);
  const visit = (value: unknown, path: (string | number)[]): void => {
    if (typeof value === 'string') {
      if (REFERENCE.test(value)) found.set(path.join('\u0000'), { raw: value, resolved: at(layer.data, path) });
    } else if (Array.isArray(value)) value.forEach((item, i) => visit(item, [...path, i]));
    else if (isPlainObject(value)) for (const [key, child] of Object.entries(value)) visit(child, [...path, key]);
  };
  visit(raw, []);
}

function redact(original: unknown, masked: unknown, path: (string | number)[], refs: Map<string, { raw: string; resolved: unknown }>): unknown {
  if (typeof original === 'string') {
    if (typeof masked === 'string' && masked !== original && masked === maskSecret(original)) return REDACTED;
    const environment = path.length === 4 && path[0] === 'mcp' && path[2] === 'environment';
    if (environment && isSecretHeader(String(path[3]), original)) return REDACTED;
    const ref = refs.get(path.join('\u0000'));
    if (ref && ref.resolved === original) return ref.raw;
    return masked;
  }
  if (Array.isArray(original)) return original.map((item, i) => redact(item, Array.isArray(masked) ? masked[i] : undefined, [...path, i], refs));
  if (isPlainObject(original)) {
    const out = emptyRecord();
    for (const [key, child] of Object.entries(original)) out[key] = redact(child, isPlainObject(masked) ? masked[key] : undefined, [...path, key], refs);
    return out;
  }
  return masked;
}

/** The config as `debug config` prints it (see above). */
export async function redactConfig(config: Readonly<Config>, layers: readonly ConfigLayer[]): Promise<Record<string, unknown>> {
  const refs = new Map<string, { raw: string; resolved: unknown }>();
  for (const layer of layers) await references(layer, refs);
  const out = redact(config, maskConfig(config), [], refs) as Record<string, unknown>;
  // Belt and braces: a secret the walk did not recognise where it sits (quoted in a prompt, a URL) is masked wherever it appears.
  const mask = secretMasker(configSecrets(config as Config));
  const leaves = (value: unknown): unknown => {
    if (typeof value === 'string') return mask(value);
    if (Array.isArray(value)) return value.map(leaves);
    if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([key, child]) => [key, leaves(child)]));
    return value;
  };
  return leaves(out) as Record<string, unknown>;
}
